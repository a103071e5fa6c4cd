"""One event validator (reconciler/usage/ingest.py): the emulator's ingest and the offline
paths (`polar-meters test`, `plan --events`, through parse_event) refuse the same events, for
the same field, and accept the same ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator.core import Emulator
from reconciler.emulator.inprocess import transport
from reconciler.usage.engine import EventError, parse_event
from tests.support.inproc import invoke

CUSTOMER = {"external_customer_id": "acme"}
LLM = {"vendor": "openai", "model": "gpt-4o", "input_tokens": 1, "output_tokens": 2,
       "total_tokens": 3}
T = "2026-01-01T00:00:00Z"

#: (event, the field Polar names, the error type)
REFUSED: list[tuple[dict[str, Any], str, str]] = [
    ({"name": "api_call", "timestamp": "2026-01-01T00:00:00"}, "timestamp", "timezone_aware"),
    ({"name": "x", "timestamp": "2999-01-01T00:00:00Z"}, "timestamp", "value_error"),
    ({"name": "x" * 129, "timestamp": T}, "name", "string_too_long"),
    ({"name": "a\x00b", "timestamp": T}, "name", "value_error"),
    ({"name": "x", "timestamp": T, "metadata": {"note": "a\x00"}}, "metadata", "value_error"),
    ({"name": "x", "timestamp": T, "metadata": {"_llm": {"total_tokens": 3}}},
     "metadata._llm.vendor", "missing"),
    ({"name": "x", "timestamp": T, "metadata": {"_llm": {**LLM, "model": None}}},
     "metadata._llm.model", "string_type"),
    ({"name": "x", "timestamp": T, "metadata": {"_cost": {"amount": 1}}},
     "metadata._cost.currency", "missing"),
    ({"name": "x", "timestamp": T, "metadata": {"_cost": {"amount": 1, "currency": "eur"}}},
     "metadata._cost.currency", "enum"),
    ({"name": "x", "timestamp": T,
      "metadata": {"_cost": {"amount": "0.1234567890123", "currency": "usd"}}},
     "metadata._cost.amount", "decimal_max_places"),
    ({"name": "x", "timestamp": T, "metadata": {"_cost": {"amount": 123456, "currency": "usd"}}},
     "metadata._cost.amount", "decimal_whole_digits"),
    ({"name": "x", "timestamp": T, "metadata": {"k": ""}}, "metadata.k.constrained-str", "string_too_short"),
    ({"name": "x", "timestamp": T, "metadata": {"k": [1]}}, "metadata.k.constrained-str", "string_type"),
]
ACCEPTED: list[dict[str, Any]] = [
    {"name": "x", "timestamp": "2026-01-01T00:00:00+09:30"},
    {"name": "x", "timestamp": T, "metadata": {"_llm": LLM, "n": 1.5, "ok": True}},
    {"name": "x", "timestamp": T,
     "metadata": {"_cost": {"amount": "0.123456789012", "currency": "usd"}}},
    {"name": "x" * 128},
]


@pytest.fixture
def polar() -> httpx.Client:
    emulator = Emulator()
    return httpx.Client(base_url="http://polar.local", transport=transport(emulator),
                        headers={"Authorization": f"Bearer {emulator.token}"})


def _ingest(polar: httpx.Client, event: dict[str, Any]) -> httpx.Response:
    return polar.post("/v1/events/ingest", json={"events": [{**event, **CUSTOMER}]})


@pytest.mark.parametrize(("event", "where", "kind"), REFUSED)
def test_refused_alike(polar: httpx.Client, event: dict[str, Any], where: str, kind: str) -> None:
    answer = _ingest(polar, event)
    assert answer.status_code == 422, answer.text
    found = {(".".join(map(str, e["loc"][4:])), e["type"]) for e in answer.json()["detail"]}
    assert (where, kind) in found
    with pytest.raises(EventError, match=rf"^{where}: "):
        parse_event({**event, **CUSTOMER})


@pytest.mark.parametrize("event", ACCEPTED)
def test_accepted_alike(polar: httpx.Client, event: dict[str, Any]) -> None:
    answer = _ingest(polar, event)
    assert answer.status_code == 200, answer.text
    assert answer.json()["inserted"] == 1
    assert parse_event({**event, **CUSTOMER}).name == event["name"]


METERS = """\
version: 1
meters:
  calls:
    name: API calls
    filter: {conjunction: and, clauses: [{property: name, operator: eq, value: api_call}]}
    aggregation: {func: count}
tests:
  calls:
    events: events.jsonl
    expect: {calls: {total: 1}}
"""


def test_polar_meters_test_refuses_an_event_without_a_timezone(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(METERS)
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"name": "api_call", "timestamp": "2026-01-01T00:00:00"}) + "\n")
    run = invoke("test", str(tmp_path / "m.yaml"))
    assert run.code == 1 and "Traceback" not in run.err
    assert f"{events}:1:1: bad event: timestamp: Input should have timezone info" in run.err
    events.write_text(json.dumps({"name": "api_call", "timestamp": T}) + "\n")
    assert invoke("test", str(tmp_path / "m.yaml")).code == 0
