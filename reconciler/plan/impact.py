"""What Polar's answers about recent events mean for each new or changed filter (pure):
keep/drop/add counts, the threshold flag, and the warnings (no event matched, an event name
never seen, an aggregation property no sampled event carries). See live.py."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from reconciler.model import strip_metadata_prefix
from reconciler.plan.live import Counts, LiveAnswers, LiveReview, MeterImpact, Question
from reconciler.usage.engine import aggregation_value
from reconciler.usage.engine.matching import lookup

#: Event names a warning suggests at most.
SUGGESTIONS = 3


def window_text(days: int) -> str:
    return f"{days} days"


def _clauses(filter_: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in filter_.get("clauses") or ():
        if isinstance(item, dict) and "clauses" in item:
            yield from _clauses(item)
        elif isinstance(item, dict):
            yield item


def name_warnings(filter_: dict[str, Any], names: frozenset[str]) -> list[str]:
    """A `name eq X` or `name like X` clause that no event name Polar has seen satisfies,
    with the closest seen names."""
    out: list[str] = []
    for clause in _clauses(filter_):
        value, op = clause.get("value"), clause.get("operator")
        if strip_metadata_prefix(str(clause.get("property"))) != "name" or not isinstance(value, str):
            continue
        if op == "eq" and value not in names:
            what = f"no event named `{value}` has been seen"
        elif op == "like" and not any(value in n for n in names):
            what = f"no event name containing `{value}` has been seen"
        else:
            continue
        close = difflib.get_close_matches(value, sorted(names), n=SUGGESTIONS)
        hint = " or ".join(f"`{n}`" for n in close)
        out.append(f"{what}{f' (did you mean {hint}?)' if close else ''}")
    return out


def _carries(aggregation: dict[str, Any], event: Any) -> bool:
    if aggregation["func"] == "unique":
        return lookup(event.metadata, strip_metadata_prefix(aggregation["property"])) is not None
    return aggregation_value(aggregation, event) is not None


def property_warning(aggregation: dict[str, Any], counts: Counts) -> str | None:
    """An aggregation property that none of the sampled matching events carries (for sum,
    max, min and avg: as a number)."""
    if aggregation.get("func") == "count" or "property" not in aggregation or not counts.sample:
        return None
    if any(_carries(aggregation, event) for event in counts.sample):
        return None
    names = sorted({event.name for event in counts.sample})
    shown = ", ".join(f"`{n}`" for n in names[:SUGGESTIONS])
    more = f" and {len(names) - SUGGESTIONS} more" if len(names) > SUGGESTIONS else ""
    number = "" if aggregation["func"] == "unique" else " as a number"
    prop = strip_metadata_prefix(aggregation["property"])
    return (f"none of {len(counts.sample)} recent {shown}{more} events carry `{prop}`{number}: "
            f"the {aggregation['func']} would be 0")


def _flagged(before: int, dropped: int, added: int, threshold: float) -> bool:
    if before == 0:
        return added > 0
    return max(dropped, added) * 100 > threshold * before


def impact(question: Question, counts: Counts, answers: LiveAnswers) -> MeterImpact:
    days = answers.options.days
    warnings: list[str] = []
    if counts.after == 0:
        warnings.append(f"matches no event in {window_text(days)}")
    if answers.names is not None:
        warnings += name_warnings(question.after, answers.names)
    missing = property_warning(question.aggregation, counts)
    if missing:
        warnings.append(missing)
    if question.before is None or counts.before is None or counts.both is None:
        return MeterImpact(question.key, question.kind, counts.after, warnings=tuple(warnings))
    dropped, added = counts.before - counts.both, counts.after - counts.both
    return MeterImpact(
        question.key, question.kind, counts.after, before=counts.before, kept=counts.both,
        dropped=dropped, added=added,
        flagged=_flagged(counts.before, dropped, added, answers.options.threshold),
        warnings=tuple(warnings),
    )


def review(answers: LiveAnswers) -> LiveReview:
    """The plan's live review from Polar's answers."""
    meters = tuple(
        impact(q, answers.counts[q.key], answers)
        for q in answers.questions if q.key in answers.counts
    )
    return LiveReview(
        window=answers.options.window, start=answers.start, end=answers.end,
        threshold=answers.options.threshold, meters=meters, skipped=answers.skipped,
        unavailable=answers.unavailable,
    )
