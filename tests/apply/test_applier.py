"""reconciler/apply/applier.py: actions run in parallel, results reported in plan order."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from reconciler.apply.applier import Outcome, apply_plan
from tests.support.builders import desired, plan


class SlowFirstPolar:
    """Answers creates; the first one slowly, so the others complete before it."""

    parallelism = 4

    def __init__(self) -> None:
        self.completed: list[str] = []
        self.lock = threading.Lock()

    def find_by_key(self, key: str) -> list[dict[str, Any]]:
        return []

    def send(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        key = (body or {})["metadata"]["polar_meters_key"]
        time.sleep(0.5 if key == "k0" else 0.01)
        with self.lock:
            self.completed.append(key)
        return {"id": str(uuid.uuid4()), **(body or {}), "created_at": "2026-01-01T00:00:00Z",
                "archived_at": None}

    def cancel(self) -> None:
        pass


def test_results_are_reported_in_plan_order() -> None:
    p = plan([desired(f"k{i}", name=f"Meter {i}") for i in range(8)], [])
    client = SlowFirstPolar()
    reported: list[str] = []
    result = apply_plan(p, client, on_outcome=lambda o: reported.append(o.action.key))  # type: ignore[arg-type]
    assert result.ok
    assert client.completed[0] != "k0"  # they did complete out of order
    assert reported == [f"k{i}" for i in range(8)]
    assert all(isinstance(o, Outcome) for o in result.outcomes)
