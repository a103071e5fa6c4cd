"""`polar-meters test` and `plan --events` warn about events that Polar's quantities (SQL) and
its billing (Python) count differently, naming the event's line and the clause."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.e2e import Api
from tests.support.inproc import invoke

METERS = """\
version: 1
meters:
  big-calls:
    name: Big calls
    filter:
      conjunction: and
      clauses:
        - {property: name, operator: eq, value: api_call}
        - {property: size, operator: gt, value: 3}
    aggregation: {func: count}
tests:
  sizes:
    events: events.jsonl
    expect:
      big-calls: {total: 2}
"""
EVENTS = [
    {"name": "api_call", "timestamp": "2026-01-01T00:00:00Z", "external_customer_id": "c",
     "metadata": {"size": 5}},
    {"name": "api_call", "timestamp": "2026-01-01T00:00:01Z", "external_customer_id": "c",
     "metadata": {"size": "5"}},
    {"name": "api_call", "timestamp": "2026-01-01T00:00:02Z", "external_customer_id": "c",
     "metadata": {"size": 1}},
]


def _write(tmp_path: Path) -> Path:
    (tmp_path / "meters.yaml").write_text(METERS)
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    return tmp_path / "meters.yaml"


def test_meter_test_counts_as_quantities_and_warns_of_billing(tmp_path: Path) -> None:
    meters = _write(tmp_path)
    run = invoke("test", str(meters))
    assert run.code == 0, run.out + run.err
    assert "PASS sizes" in run.out  # "5" > "3" as text: Polar's quantities count it
    assert run.err.splitlines() == [
        (f"warning: {tmp_path}/events.jsonl:2: meter big-calls: counted by Polar's quantities "
         "but not by its billing (clause filter.clauses[1]: size gt 3)")
    ]


def test_plan_events_warns_too(emu, tmp_path: Path) -> None:
    meters = _write(tmp_path)
    run = invoke("plan", "--events", str(tmp_path / "events.jsonl"), str(meters),
                 env=Api(emu).env)
    assert run.code == 0, run.out + run.err
    assert "big-calls: total 2, matched 2 events (new meter)" in run.out
    assert (f"warning: {tmp_path}/events.jsonl:2: meter big-calls: counted by Polar's "
            "quantities but not by its billing (clause filter.clauses[1]: size gt 3)") in run.err
