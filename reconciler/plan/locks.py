"""Locked meters: Polar freezes a meter's filter and aggregation once it has billed events.

Polar sets the lock when its billing job (every 15 minutes, spread by up to 3 more) turns
matching events into billing entries, or at create when events already match; matching
events alone do not lock. So what polar-meters knows of a meter is one of:

- ``confirmed``: Polar refused a body holding ``filter`` (422 ``forbidden``: the lock probe,
  ``PATCH {"filter": null}``, which changes nothing on a meter that is not locked);
- ``predicted``: not refused (or the token may not ask), but events match it: Polar will
  lock it at its next billing run, if it has not already;
- ``unknown``: neither question could be answered;
- None: not locked and no matching event.

Planning is pure, so the questions go to Polar before it: :func:`lock_candidates` says which
meters a plan of DESIRED against REMOTE would change the filter or aggregation of; the
pipeline asks Polar about those (:func:`lock_state` sums up the answers); :func:`with_locks`
turns the states into the plan's problems (Polar will refuse) and caveats (it may).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace

from reconciler.model import DesiredMeter, RemoteMeter
from reconciler.plan.diff import diff_specs
from reconciler.plan.types import Action, LockState
from reconciler.polar.identity import Match, match_meters

LOCK_SENSITIVE = ("filter", "aggregation")

#: What polar-meters knows of each meter asked about (None: not locked, no event matches).
Locks = Mapping[str, "LockState | None"]

#: The apply option that sends a change to a meter whose lock is only predicted.
ALLOW_PREDICTED = "--allow-predicted-lock-change"


def lock_state(refused: bool | None, events: bool | None) -> LockState | None:
    """REFUSED: the lock probe's answer (True 422 forbidden, False accepted, None not
    known); EVENTS: whether events match the meter (None: they cannot be read)."""
    if refused:
        return "confirmed"
    if events:
        return "predicted"
    return "unknown" if events is None else None


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


def _with_caveat(action: Action, caveat: str) -> str:
    return f"{action.caveat}; {caveat}" if action.caveat else caveat


def lock_messages(what: str) -> dict[LockState, str]:
    """What each lock state means for a change of WHAT (``filter``, ``filter and
    aggregation``)."""
    return {
        "confirmed": (
            "the meter is locked (Polar answered 422 forbidden: it is already aggregating "
            f"events), so Polar refuses any change of its {what}; define a new meter under a new key with "
            f"the new {what}, and archive this one (archived: true) once nothing bills from it"
        ),
        "predicted": (
            "has matched events: Polar will lock this meter at its next billing run (within "
            f"about 18 minutes) if not already; apply refuses this {what} change unless "
            f"{ALLOW_PREDICTED} is given (then a refusal is reported and the rest applied)"
        ),
        "unknown": (
            f"may be refused if the meter is locked (its {what} would be frozen); "
            "polar-meters could not ask Polar about its lock or read its events to tell"
        ),
    }


def _without_lock(action: Action, what: str) -> Action:
    """ACTION without what an earlier lock answer added (a saved plan asked again)."""
    messages = lock_messages(what)
    caveat = action.caveat
    for message in messages.values():
        caveat = caveat and caveat.replace(f"; {message}", "").replace(message, "")
    problem = None if action.problem == messages["confirmed"] else action.problem
    return replace(action, caveat=caveat or None, problem=problem, lock=None)


def with_lock(action: Action, locks: Locks) -> Action:
    """ACTION with what polar-meters knows of its meter's lock."""
    fields = sorted(action.changed_fields.intersection(LOCK_SENSITIVE))
    if not action.meter_id or not fields or action.meter_id not in locks:
        return action
    state = locks[action.meter_id]
    action = _without_lock(action, " and ".join(fields))
    if state is None:
        return replace(action, lock=None, locked=False)
    message = lock_messages(" and ".join(fields))[state]
    locked = {"confirmed": True, "predicted": True, "unknown": None}[state]
    if state == "confirmed":
        return replace(action, lock=state, locked=locked, problem=message)
    return replace(action, lock=state, locked=locked, caveat=_with_caveat(action, message))


def with_locks(actions: Sequence[Action], locks: Locks) -> list[Action]:
    return [with_lock(a, locks) for a in actions]


def predicted_locks(actions: Sequence[Action]) -> list[Action]:
    """The actions changing the filter or aggregation of a meter whose lock is predicted."""
    return [a for a in actions if a.lock == "predicted" and not a.problem]
