"""Applying a Plan: send each action's request, keep going past failures, report each.

Every action is independent (one meter each), so a failure leaves the others done and a
second apply, planning afresh, finishes the job without duplicates: a created meter carries
its key tag from the first request, so it is found by tag next time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.client import PolarClient
from reconciler.errors import PolarAPIError
from reconciler.plan import Action, Plan


@dataclass
class Outcome:
    action: Action
    ok: bool
    meter_id: str | None = None
    error: str | None = None
    response: dict[str, Any] | None = None


@dataclass
class ApplyResult:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def ok(self) -> bool:
        return not self.failed

    def count(self, kind: str) -> int:
        return sum(1 for o in self.outcomes if o.ok and o.action.kind == kind)


ARCHIVE_REFUSALS = {
    "attached to active products": (
        "Polar will not archive a meter that an active product's metered price uses: archive "
        "that price or product first, or keep the meter"
    ),
    "referenced by active benefits": (
        "Polar will not archive a meter that an active meter-credit benefit uses: delete or "
        "change that benefit first, or keep the meter"
    ),
}


def explain(action: Action, error: str) -> str:
    """Polar's message, plus what it means and what to do where polar-meters knows."""
    if action.kind == "archive":
        for needle, advice in ARCHIVE_REFUSALS.items():
            if needle in error:
                return f"{error} — {advice}"
    if "already aggregating events" in error:
        return (
            f"{error} — its filter and aggregation are frozen: define a new meter under a new "
            "key and archive this one"
        )
    return error


def apply_plan(
    plan: Plan,
    client: PolarClient,
    on_outcome: Callable[[Outcome], None] = lambda _: None,
) -> ApplyResult:
    result = ApplyResult()
    for action in plan.actions:
        req = action.request
        try:
            response = client.send(req.method, req.path, req.body)
        except PolarAPIError as exc:
            outcome = Outcome(
                action, ok=False, meter_id=action.meter_id, error=explain(action, str(exc))
            )
        else:
            meter_id = response.get("id") if isinstance(response, dict) else None
            outcome = Outcome(action, ok=True, meter_id=meter_id or action.meter_id, response=response)
        result.outcomes.append(outcome)
        on_outcome(outcome)
    return result
