"""How many requests a plan makes (issue 6): one list request per 100 meters, and a lock
lookup only for meters whose filter or aggregation changes. Counted, not timed."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from reconciler.model import TAG_KEY
from tests.conftest import RunningEmulator
from tests.support.e2e import Api
from tests.support.inproc import invoke

METERS = 1000


def body(index: int) -> dict[str, Any]:
    return {
        "name": f"Meter {index}",
        "filter": {"conjunction": "and", "clauses": [
            {"property": "name", "operator": "eq", "value": f"event_{index % 7}"},
        ]},
        "aggregation": {"func": "sum", "property": "tokens"},
        "metadata": {TAG_KEY: f"meter-{index:04d}", "team": "bench"},
    }


def meter_yaml(index: int, *, renamed: bool = False, refiltered: bool = False) -> str:
    name = f"Meter {index}" + (" (new)" if renamed else "")
    event = "other_event" if refiltered else f"event_{index % 7}"
    return (
        f"  meter-{index:04d}:\n"
        f"    name: {name}\n"
        "    filter:\n"
        "      conjunction: and\n"
        f"      clauses: [{{property: name, operator: eq, value: {event}}}]\n"
        "    aggregation: {func: sum, property: tokens}\n"
        "    metadata: {team: bench}\n"
    )


def seed(emu: RunningEmulator) -> list[str]:
    """1,000 managed meters, straight into the emulator's core (no HTTP)."""
    return [emu.core.create_meter(body(i))["id"] for i in range(METERS)]


def write_config(tmp_path: Path, renamed: set[int], refiltered: set[int]) -> Path:
    text = "version: 1\nmeters:\n" + "".join(
        meter_yaml(i, renamed=i in renamed, refiltered=i in refiltered) for i in range(METERS)
    )
    path = tmp_path / "meters.yaml"
    path.write_text(text)
    return path


def plan(emu: RunningEmulator, config: Path) -> list[dict[str, Any]]:
    api = Api(emu)
    api.clear_requests()
    run = invoke("plan", "--detailed-exitcode", str(config), env=api.env)
    assert run.code == 2, run.text
    return api.requests()


def test_plan_of_1000_meters_reads_them_in_at_most_11_requests(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    seed(emu)
    requests = plan(emu, write_config(tmp_path, renamed={3, 500, 999}, refiltered=set()))
    assert len(requests) <= math.ceil(METERS / 100) + 1, [r["path"] for r in requests]
    pages = sorted(int(dict(r["query"])["page"]) for r in requests)
    assert pages == list(range(1, 11))  # each page once; none read twice
    assert all(dict(r["query"])["limit"] == "100" for r in requests)


def test_lock_lookups_only_for_meters_whose_filter_changes(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    ids = seed(emu)
    requests = plan(emu, write_config(tmp_path, renamed={1, 2}, refiltered={10, 20}))
    lookups = [r for r in requests if r["path"] == "/v1/events/"]
    assert sorted(dict(r["query"])["meter_id"] for r in lookups) == sorted([ids[10], ids[20]])
    probes = [r for r in requests if r["method"] == "PATCH"]  # the lock probe: changes nothing
    assert sorted(r["path"] for r in probes) == sorted(f"/v1/meters/{ids[i]}" for i in (10, 20))
    assert all(r["body"] == {"filter": None} for r in probes)
    # the live review asks for the event names first: there are none, so it asks no more
    names = [r for r in requests if r["path"] == "/v1/events/names"]
    assert len(names) == 1
    assert len(requests) - len(lookups) - len(probes) - len(names) == math.ceil(METERS / 100)
