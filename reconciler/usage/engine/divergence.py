"""Events that Polar's two paths count differently: its quantities (SQL, what the dashboard and
customer meters show) and its billing job (Python, what is billed and what locks a meter).
Such an event shows in one and not the other, so a meter test or a plan preview warns.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reconciler.model import NodePath, clause_text, format_path
from reconciler.usage.engine.aggregation import applies
from reconciler.usage.engine.billing import (
    billing_applies,
    billing_clause_matches,
    billing_matches,
)
from reconciler.usage.engine.events import Event
from reconciler.usage.engine.matching import clause_matches, matches


@dataclass(frozen=True)
class Divergence:
    """``quantities``: whether the SQL path counts the event; ``billing``: whether the billing
    job does; ``clause``: the first clause (or the aggregation) they decide differently."""

    quantities: bool
    billing: bool
    clause: str

    def message(self) -> str:
        counted, not_counted = ("Polar's quantities", "its billing") if self.quantities else (
            "Polar's billing", "its quantities")
        return f"counted by {counted} but not by {not_counted} ({self.clause})"


def _leaves(
    filter_: dict[str, Any], path: NodePath
) -> Iterator[tuple[NodePath, dict[str, Any]]]:
    for index, item in enumerate(filter_.get("clauses") or ()):
        here = (*path, "clauses", index)
        if "clauses" in item:
            yield from _leaves(item, here)
        else:
            yield here, item


def _first_differing(filter_: dict[str, Any], event: Event) -> str:
    for path, clause in _leaves(filter_, ("filter",)):
        if clause_matches(clause, event) != billing_clause_matches(clause, event):
            return f"clause {format_path(path)}: {clause_text(clause)}"
    return "filter"  # not reached: the paths differ only at a clause


def divergence(
    filter_: dict[str, Any], aggregation: dict[str, Any], event: Event
) -> Divergence | None:
    """How the two paths differ on ``event`` for this meter; None when they agree."""
    sql_filter, billing_filter = matches(filter_, event), billing_matches(filter_, event)
    sql = sql_filter and applies(aggregation, event)
    billing = billing_filter and billing_applies(aggregation, event)
    if sql == billing:
        return None
    if sql_filter != billing_filter:
        return Divergence(sql, billing, _first_differing(filter_, event))
    prop = aggregation.get("property")
    return Divergence(sql, billing, f"aggregation: {aggregation['func']} of {prop}")
