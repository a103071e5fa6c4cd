"""What the lock answers mean (issue 14): confirmed only by a refusal, predicted by events."""

from __future__ import annotations

import pytest

from reconciler.plan.locks import lock_state, predicted_locks, with_locks
from tests.support.builders import desired, plan, remote


@pytest.mark.parametrize(
    ("refused", "events", "state"),
    [
        (True, None, "confirmed"), (True, False, "confirmed"),  # a 422 forbidden is the proof
        (False, True, "predicted"), (None, True, "predicted"),  # events match: it will lock
        (False, None, "unknown"), (None, None, "unknown"),
        (False, False, None), (None, False, None),
    ],
)
def test_lock_state(refused: bool | None, events: bool | None, state: str | None) -> None:
    assert lock_state(refused, events) == state


def test_asking_again_replaces_the_earlier_answer() -> None:
    r = remote("a")
    p = plan([desired("a", aggregation={"func": "count"})], [r], locks={r.id: "predicted"})
    [action] = p.actions
    assert action.lock == "predicted" and predicted_locks(p.actions) == [action]
    [again] = with_locks(p.actions, {r.id: "predicted"})
    assert again.caveat == action.caveat  # said once, not twice
    [confirmed] = with_locks(p.actions, {r.id: "confirmed"})
    assert confirmed.problem and confirmed.caveat is None and confirmed.lock == "confirmed"
    [free] = with_locks([confirmed], {r.id: None})
    assert free.problem is None and free.caveat is None and free.lock is None
