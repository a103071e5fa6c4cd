"""When a meter locks (issue 14): a billing pass locks it, not the ingest itself; by default
the request that brings matching events (or a credit) runs that pass at once."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.emulator.billing import BillingTimer, billing_pass
from reconciler.emulator.core import Emulator
from reconciler.emulator.inprocess import transport
from tests.support.e2e import start_command

T = "2026-01-01T00:00:00Z"
CALLS = {"conjunction": "and", "clauses": [{"property": "name", "operator": "eq", "value": "api_call"}]}
OTHER = {"conjunction": "and", "clauses": [{"property": "name", "operator": "eq", "value": "other"}]}
METER = {"name": "API calls", "filter": CALLS, "aggregation": {"func": "count"}}
CUSTOMER = "7d3e2c1b-5a4f-4e8d-9c7b-6a5f4e3d2c1b"


def client(emulator: Emulator) -> httpx.Client:
    return httpx.Client(base_url="http://polar.local", transport=transport(emulator),
                        headers={"Authorization": f"Bearer {emulator.token}"})


@pytest.fixture
def billed() -> Iterator[tuple[Emulator, httpx.Client]]:
    emulator = Emulator(billing_interval=900)
    with client(emulator) as http:
        yield emulator, http


def ingest(http: httpx.Client, *events: dict[str, Any]) -> None:
    body = {"events": [{"timestamp": T, "external_customer_id": "acme", **e} for e in events]}
    assert http.post("/v1/events/ingest", json=body).status_code == 200


def change_filter(http: httpx.Client, meter_id: str, filter_: dict[str, Any]) -> httpx.Response:
    return http.patch(f"/v1/meters/{meter_id}", json={"filter": filter_})


def test_ingest_does_not_lock_a_billing_pass_does(billed: tuple[Emulator, httpx.Client]) -> None:
    emulator, http = billed
    meter = http.post("/v1/meters/", json=METER).json()
    ingest(http, {"name": "api_call"})
    assert not emulator.is_locked(meter["id"])
    assert change_filter(http, meter["id"], OTHER).status_code == 200  # not locked yet
    ingest(http, {"name": "other"})
    passed = http.post("/_emulator/billing")
    assert passed.status_code == 200 and passed.json() == {"locked": [meter["id"]]}
    refused = change_filter(http, meter["id"], CALLS)
    assert refused.status_code == 422 and refused.json()["detail"][0]["type"] == "forbidden"
    assert http.post("/_emulator/billing").json() == {"locked": []}  # nothing new
    assert http.get("/_emulator/billing").status_code == 405


def test_by_default_the_same_request_locks() -> None:
    emulator = Emulator()
    with client(emulator) as http:
        meter = http.post("/v1/meters/", json=METER).json()
        ingest(http, {"name": "api_call"})
        assert emulator.is_locked(meter["id"])


def test_billing_compares_as_python_does(billed: tuple[Emulator, httpx.Client]) -> None:
    """"5" is not 5 on the billing path, whatever quantities' SQL counts."""
    emulator, http = billed
    five = {"conjunction": "and", "clauses": [{"property": "n", "operator": "eq", "value": 5}]}
    meter = http.post("/v1/meters/", json={**METER, "filter": five}).json()
    ingest(http, {"name": "api_call", "metadata": {"n": "5"}})
    assert billing_pass(emulator) == []
    ingest(http, {"name": "api_call", "metadata": {"n": 5}})
    assert billing_pass(emulator) == [meter["id"]]


def test_billing_takes_true_as_1(billed: tuple[Emulator, httpx.Client]) -> None:
    """Python's `True == 1`: a boolean clause bills an event carrying 1."""
    emulator, http = billed
    flag = {"conjunction": "and", "clauses": [{"property": "flag", "operator": "eq",
                                               "value": True}]}
    meter = http.post("/v1/meters/", json={**METER, "filter": flag}).json()
    ingest(http, {"name": "api_call", "metadata": {"flag": 1}})
    assert billing_pass(emulator) == [meter["id"]]


@pytest.mark.parametrize("kind", ["credit", "reset"])
def test_credits_and_resets_lock(billed: tuple[Emulator, httpx.Client], kind: str) -> None:
    emulator, http = billed
    meter = http.post("/v1/meters/", json=METER).json()
    body = {"meter_id": meter["id"], "customer_id": CUSTOMER, "units": 10}
    assert http.post(f"/_emulator/customer-meters/{kind}", json=body).status_code == 200
    assert not emulator.is_locked(meter["id"])
    assert billing_pass(emulator) == [meter["id"]]


def test_a_reset_starts_the_customer_meter_again() -> None:
    emulator = Emulator()
    with client(emulator) as http:
        meter = http.post("/v1/meters/", json=METER).json()
        body = {"meter_id": meter["id"], "customer_id": CUSTOMER}
        http.post("/_emulator/customer-meters/credit", json={**body, "units": 10})
        ingest(http, {"name": "api_call", "customer_id": CUSTOMER, "external_customer_id": None})
        reset = http.post("/_emulator/customer-meters/reset", json=body).json()
        assert (reset["consumed_units"], reset["credited_units"]) == (0, 0)
        assert emulator.is_locked(meter["id"])


def test_create_locks_when_events_already_match(billed: tuple[Emulator, httpx.Client]) -> None:
    emulator, http = billed
    ingest(http, {"name": "api_call"})
    meter = http.post("/v1/meters/", json=METER).json()
    assert emulator.is_locked(meter["id"])


def test_the_timer_runs_passes() -> None:
    emulator = Emulator(billing_interval=0.05)
    with client(emulator) as http:
        meter = http.post("/v1/meters/", json=METER).json()
        ingest(http, {"name": "api_call"})
        timer = BillingTimer(emulator, 0.05).start()
        try:
            deadline = time.monotonic() + 10
            while not emulator.is_locked(meter["id"]) and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            timer.stop()
    assert emulator.is_locked(meter["id"])


def test_command_billing_interval() -> None:
    process = start_command("--port", "0", "--billing-interval", "3600")
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(8)]
        url, token = lines[0].split()[-1], lines[2].split()[-1]
        assert lines[7] == "Billing: a pass every 3600 s locks the meters events match\n"
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http:
            meter = http.post("/v1/meters/", json=METER).json()
            ingest(http, {"name": "api_call"})
            assert change_filter(http, meter["id"], CALLS).status_code == 200
            assert http.post("/_emulator/billing").json() == {"locked": [meter["id"]]}
            assert change_filter(http, meter["id"], CALLS).status_code == 422
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0 and "Traceback" not in err
