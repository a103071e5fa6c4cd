"""Locked meters: Polar freezes a meter's filter and aggregation once it has processed events.

Planning is pure, so the question goes to Polar before it: :func:`lock_candidates` says which
meters a plan of DESIRED against REMOTE would change the filter or aggregation of (a pure
function of both); the pipeline asks Polar about those; :func:`with_locks` turns the answers
into the plan's problems (Polar will refuse) and caveats (it may: the answer is unknown).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace

from reconciler.model import DesiredMeter, RemoteMeter
from reconciler.plan.diff import diff_specs
from reconciler.plan.types import Action
from reconciler.polar.identity import Match, match_meters

LOCK_SENSITIVE = ("filter", "aggregation")

#: What Polar says of each meter asked about: True locked, False not, None unknown.
Locks = Mapping[str, "bool | None"]


def lock_candidates(
    desired: Sequence[DesiredMeter], remote: Sequence[RemoteMeter],
    configured: Collection[str] | None = None, matched: Mapping[str, Match] | None = None,
) -> list[str]:
    """Ids of existing meters whose filter or aggregation the plan will change, in the
    configuration's order. Raises PlanError when the meters cannot be matched. MATCHED: the
    matching of DESIRED against REMOTE when the caller has made it already (the pipeline
    passes the same to make_plan: matching 10,000 meters twice cost 0.05 s)."""
    if matched is None:
        matched = match_meters(desired, remote, configured)
    ids = []
    for d in desired:
        if d.key not in matched:
            continue
        m = matched[d.key].meter
        before = {f: m.spec.get(f) for f in LOCK_SENSITIVE}
        after = {f: d.spec.get(f) for f in LOCK_SENSITIVE}
        if diff_specs(before, after):
            ids.append(m.id)
    return ids


def with_lock(action: Action, locks: Locks) -> Action:
    """ACTION with what Polar's lock answer for its meter means for it."""
    fields = sorted(action.changed_fields.intersection(LOCK_SENSITIVE))
    if not action.meter_id or not fields or action.meter_id not in locks:
        return action
    state = locks[action.meter_id]
    what = " and ".join(fields)
    if state:
        problem = (
            f"the meter has processed events, so Polar refuses any change of its {what}; "
            f"define a new meter under a new key with the new {what}, and archive this one "
            "(archived: true) once nothing bills from it"
        )
        return replace(action, locked=state, problem=problem)
    if state is None:
        caveat = (
            f"may be refused if the meter has processed events (its {what} would be "
            "frozen); polar-meters could not read its events to tell"
        )
        return replace(action, locked=state, caveat=f"{action.caveat}; {caveat}" if action.caveat else caveat)
    return replace(action, locked=state)


def with_locks(actions: Sequence[Action], locks: Locks) -> list[Action]:
    return [with_lock(a, locks) for a in actions]
