"""What a plan's filter and aggregation changes would make of sample events.

Pure, and separate from planning: from a finished :class:`~reconciler.plan.types.Plan` and sample
events, for each meter the plan creates (its new definition only) or updates/adopts with a
changed filter or aggregation (before and after), the total (as Polar's quantities total)
and how many events the meter matches. Evaluated with :mod:`reconciler.usage.engine`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.plan.types import Plan
from reconciler.usage.eventfile import SampleEvent
from reconciler.usage.metertest import evaluate

PREVIEWED = frozenset({"filter", "aggregation"})


@dataclass(frozen=True)
class Stat:
    total: int | float
    matched: int

    def document(self) -> dict[str, Any]:
        return {"total": self.total, "matched": self.matched}


@dataclass(frozen=True)
class MeterPreview:
    key: str
    action: str  # create | update | adopt
    after: Stat
    before: Stat | None = None  # None for a create
    #: The new definition's events that Polar's quantities and billing count differently.
    warnings: list[str] = field(default_factory=list)


@dataclass
class Preview:
    source: str  # the events file as given
    events: int
    meters: list[MeterPreview] = field(default_factory=list)

    def warnings(self) -> list[str]:
        """Every meter's divergent events (see :class:`MeterPreview`)."""
        return [line for meter in self.meters for line in meter.warnings]

    def document(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "events": self.events,
            "meters": [
                {
                    "key": m.key,
                    "action": m.action,
                    "before": m.before.document() if m.before else None,
                    "after": m.after.document(),
                }
                for m in self.meters
            ],
        }


def _stat(spec: dict[str, Any], events: list[SampleEvent]) -> Stat:
    result = evaluate(spec, events)
    return Stat(result.total, len(result.matched))


def make_preview(plan: Plan, events: list[SampleEvent], source: str) -> Preview:
    preview = Preview(source, len(events))
    for action in plan.actions:
        previewed = action.kind == "create" or (
            action.kind in ("update", "adopt") and action.changed_fields & PREVIEWED)
        if not previewed:
            continue
        result = evaluate(action.after, events)
        after = Stat(result.total, len(result.matched))
        before = _stat(action.before, events) if action.before and action.kind != "create" else None
        preview.meters.append(
            MeterPreview(action.key, action.kind, after, before, result.warnings(action.key))
        )
    return preview
