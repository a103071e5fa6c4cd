"""Review against real data: what each new or changed filter does to the organization's
recent events, as Polar itself counts them (README, "Review against real data").

Planning is pure, so the questions go to Polar before it, as lock lookups do (locks.py):
:func:`live_questions` says which meters to ask about (a pure function of the desired and
remote meters); the pipeline asks Polar (polar/events.py) and passes the
:class:`LiveAnswers` to make_plan, which turns them into the plan's :class:`LiveReview`
(impact.py). Rendering only renders it; the plan document carries it as ``live``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler.model import DesiredMeter, RemoteMeter
from reconciler.plan.diff import same
from reconciler.polar.identity import Match, match_meters
from reconciler.usage.engine import Event

#: --window: the review's span, in days, by name.
WINDOWS = {"7d": 7, "30d": 30, "90d": 90}
DEFAULT_WINDOW = "30d"
#: --live-limit: how many new or changed filters a plan checks at most.
DEFAULT_LIMIT = 50
#: --live-threshold: a change that drops or adds more than this share of events is flagged.
DEFAULT_THRESHOLD = 10.0
#: The events read to check that they carry the aggregation's property (one page).
SAMPLE_SIZE = 100

QuestionKind = Literal["create", "change"]


@dataclass(frozen=True)
class LiveOptions:
    window: str = DEFAULT_WINDOW
    limit: int = DEFAULT_LIMIT
    threshold: float = DEFAULT_THRESHOLD

    @property
    def days(self) -> int:
        return WINDOWS[self.window]


@dataclass(frozen=True)
class Question:
    """What to ask Polar about one meter: the events its new filter matches, and for a
    changed filter those the old one matched and both do."""

    key: str
    kind: QuestionKind
    after: dict[str, Any]  # the new filter
    aggregation: dict[str, Any]  # the new aggregation
    before: dict[str, Any] | None = None  # the old filter, when it changes

    def both(self) -> dict[str, Any]:
        """Events the old and the new filter match: the two under one `and` group."""
        return {"conjunction": "and", "clauses": [self.before or {}, self.after]}


@dataclass(frozen=True)
class Counts:
    """Polar's answers for one question: ``pagination.total_count`` of each filter over the
    window, and the first page of the new filter's events (most recent first)."""

    after: int
    before: int | None = None
    both: int | None = None
    sample: tuple[Event, ...] = ()


@dataclass(frozen=True)
class LiveAnswers:
    """What Polar said, for make_plan. ``names``: every event name Polar has seen (None when
    it could not be read); ``unavailable``: why nothing was asked (a token without
    events:read…)."""

    options: LiveOptions
    start: str  # the window, as sent (UTC)
    end: str
    questions: tuple[Question, ...] = ()
    counts: dict[str, Counts] = field(default_factory=dict)
    names: frozenset[str] | None = None
    skipped: int = 0  # questions beyond --live-limit, not asked
    unavailable: str | None = None


@dataclass(frozen=True)
class MeterImpact:
    """One meter's figures over the window (``before``/``kept``/``dropped``/``added`` only
    for a changed filter) and what they warn of."""

    key: str
    kind: QuestionKind
    matches: int
    before: int | None = None
    kept: int | None = None
    dropped: int | None = None
    added: int | None = None
    flagged: bool = False  # drops or adds more than the threshold
    warnings: tuple[str, ...] = ()

    def document(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "matches": self.matches,
                "before": self.before, "kept": self.kept, "dropped": self.dropped,
                "added": self.added, "flagged": self.flagged, "warnings": list(self.warnings)}


@dataclass(frozen=True)
class LiveReview:
    window: str
    start: str
    end: str
    threshold: float
    meters: tuple[MeterImpact, ...] = ()
    skipped: int = 0
    unavailable: str | None = None

    @property
    def days(self) -> int:
        return WINDOWS.get(self.window, 0)

    def impact(self, key: str) -> MeterImpact | None:
        return next((m for m in self.meters if m.key == key), None)

    @property
    def flagged(self) -> list[MeterImpact]:
        return [m for m in self.meters if m.flagged]

    def document(self) -> dict[str, Any]:
        return {"window": self.window, "start": self.start, "end": self.end,
                "threshold_percent": self.threshold, "checked": len(self.meters),
                "skipped": self.skipped, "unavailable": self.unavailable,
                "meters": [m.document() for m in self.meters]}


def review_from_document(doc: Any) -> LiveReview | None:
    """A saved plan's ``live`` (null when the plan made no live review)."""
    if doc is None:
        return None
    meters = tuple(
        MeterImpact(key=m["key"], kind=m["kind"], matches=int(m["matches"]),
                    before=m.get("before"), kept=m.get("kept"), dropped=m.get("dropped"),
                    added=m.get("added"), flagged=bool(m.get("flagged")),
                    warnings=tuple(str(w) for w in m.get("warnings") or ()))
        for m in doc.get("meters") or ()
    )
    return LiveReview(window=str(doc["window"]), start=str(doc["start"]), end=str(doc["end"]),
                      threshold=float(doc["threshold_percent"]), meters=meters,
                      skipped=int(doc.get("skipped") or 0), unavailable=doc.get("unavailable"))


def _question(d: DesiredMeter, before: dict[str, Any] | None) -> Question | None:
    after, aggregation = d.spec.get("filter"), d.spec.get("aggregation")
    if d.spec.get("archived") or not isinstance(after, dict) or not isinstance(aggregation, dict):
        return None
    if before is None:
        return Question(d.key, "create", after, aggregation)
    old_filter, old_aggregation = before.get("filter"), before.get("aggregation")
    filter_changed = not same(old_filter, after)
    if not filter_changed and same(old_aggregation, aggregation):
        return None
    return Question(d.key, "change", after, aggregation, old_filter if filter_changed else None)


def live_questions(
    desired: Sequence[DesiredMeter], remote: Sequence[RemoteMeter],
    configured: Collection[str] | None = None, matched: Mapping[str, Match] | None = None,
) -> list[Question]:
    """The meters a plan of DESIRED against REMOTE creates, or changes the filter or
    aggregation of (active ones only), in the configuration's order. Raises PlanError when
    the meters cannot be matched. MATCHED: the matching, when the caller has made it."""
    if matched is None:
        matched = match_meters(desired, remote, configured)
    out = []
    for d in desired:
        match = matched.get(d.key)
        question = _question(d, match.meter.spec if match else None)
        if question is not None:
            out.append(question)
    return out
