"""Fault injection on the emulator's socket: errors, lost answers, Polar's 429, latency."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from reconciler.cli.emulator import command
from reconciler.emulator.core import Emulator
from reconciler.emulator.faults import FaultPolicy
from reconciler.emulator.server import RunningServer, start_background
from tests.support.builders import METER
from tests.support.e2e import start_command

OTHER_TOKEN = "polar_oat_other"


@contextmanager
def faulty(**policy: Any) -> Iterator[tuple[RunningServer, Emulator, httpx.Client]]:
    """An emulator with `FaultPolicy(**policy)` on a free port, and a client holding its token."""
    core = Emulator()
    core.add_token(OTHER_TOKEN, ["meters:read", "meters:write"])
    server = start_background(core, "127.0.0.1", 0, faults=FaultPolicy(**policy))
    client = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {core.token}"},
                          timeout=5)
    try:
        yield server, core, client
    finally:
        client.close()
        server.close()


def meters(core: Emulator) -> list[dict[str, Any]]:
    return core.list_meters(limit=100).to_json()["items"]


def statuses(client: httpx.Client, count: int) -> list[int]:
    return [client.get("/v1/meters/").status_code for _ in range(count)]


# -- server errors ------------------------------------------------------------------------------


def test_a_share_of_requests_fail_with_proxy_and_server_errors() -> None:
    with faulty(fail_rate=0.3, seed=11) as (_, _core, client):
        seen = Counter(statuses(client, 300))
        counters = client.get("/_emulator/faults").json()
    failed = seen[500] + seen[502] + seen[503]
    assert set(seen) == {200, 500, 502, 503}
    assert 0.22 * 300 <= failed <= 0.38 * 300
    assert counters["requests"] == 300 and counters["failed"] == failed
    assert counters["failed_by_status"] == {str(s): seen[s] for s in (500, 502, 503)}
    assert counters["dropped"] == counters["rate_limited"] == 0


def test_failures_look_like_a_server_and_its_proxy() -> None:
    with faulty(fail_rate=1.0, seed=1) as (_, _core, client):
        answers: dict[int, httpx.Response] = {}
        while len(answers) < 3:  # bounded: three statuses drawn at random, 1/3 each
            response = client.get("/v1/meters/")
            answers.setdefault(response.status_code, response)
            assert client.get("/_emulator/faults").json()["requests"] < 100
    assert answers[500].text == "Internal Server Error"
    assert answers[500].headers["content-type"].startswith("text/plain")
    for status, reason in ((502, "Bad Gateway"), (503, "Service Unavailable")):
        assert answers[status].headers["content-type"] == "text/html"
        assert f"<title>{status} {reason}</title>" in answers[status].text
    assert all("polar-version" not in r.headers for r in answers.values())


def test_a_failed_write_does_nothing() -> None:
    with faulty(fail_rate=1.0) as (_, core, client):
        assert client.post("/v1/meters/", json=METER).status_code in (500, 502, 503)
        assert client.get("/_emulator/requests").json() == []
    assert meters(core) == []


def test_the_same_seed_faults_the_same_requests() -> None:
    runs = []
    for seed in (7, 7, 8):
        with faulty(fail_rate=0.5, seed=seed) as (_, _core, client):
            first = statuses(client, 40)
            assert client.delete("/_emulator/faults").status_code == 204  # replays the draws
            runs.append((first, statuses(client, 40)))
    assert runs[0][0] == runs[0][1] == runs[1][0]
    assert runs[2][0] != runs[0][0]


# -- lost answers -------------------------------------------------------------------------------


def test_a_dropped_write_is_done_but_never_answered() -> None:
    with faulty(drop_rate=1.0) as (_, core, client):
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.post("/v1/meters/", json=METER)
        [meter] = meters(core)
        assert meter["name"] == "API calls"
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.patch(f"/v1/meters/{meter['id']}", json={"name": "Calls"})
        assert client.get(f"/v1/meters/{meter['id']}").json()["name"] == "Calls"  # reads pass
        refused = client.post("/v1/meters/", json={"name": "x"})  # nothing done: answered
        assert refused.status_code == 422
        counters = client.get("/_emulator/faults").json()
    assert counters["dropped"] == 2 and counters["requests"] == 4
    assert len(meters(core)) == 1


def test_a_share_of_writes_is_dropped() -> None:
    with faulty(drop_rate=0.5, seed=3) as (_, core, client):
        lost = 0
        for _ in range(40):
            try:
                assert client.post("/v1/meters/", json=METER).status_code == 201
            except (httpx.RemoteProtocolError, httpx.ReadError):
                lost += 1
        assert client.get("/_emulator/faults").json()["dropped"] == lost
    assert 10 <= lost <= 30
    assert len(meters(core)) == 40  # every write happened, answered or not


# -- rate limit ---------------------------------------------------------------------------------


def test_beyond_the_limit_polar_answers_429_with_an_empty_body() -> None:
    with faulty(rate_limit=3) as (_, _core, client):
        assert statuses(client, 3) == [200, 200, 200]
        limited = client.post("/v1/meters/", json=METER)
        counters = client.get("/_emulator/faults").json()
    assert limited.status_code == 429 and limited.content == b""
    assert limited.headers["retry-after"] == "60"  # the window's length, as Polar sends it
    assert limited.headers["polar-version"] == "2026-04"  # the limiter runs inside the version middleware
    assert "x-ratelimit-limit" not in limited.headers
    assert counters["rate_limited"] == 1 and counters["requests"] == 4


def test_each_token_has_its_own_window_and_anonymous_callers_share_one() -> None:
    with faulty(rate_limit=2) as (server, core, client):
        assert statuses(client, 3) == [200, 200, 429]
        other = {"Authorization": f"Bearer {OTHER_TOKEN}"}
        assert [client.get("/v1/meters/", headers=other).status_code for _ in range(3)] == [
            200, 200, 429]
        first, second = httpx.Client(base_url=server.url), httpx.Client(base_url=server.url)
        with first, second:
            assert [first.get("/v1/meters/").status_code, second.get("/v1/meters/").status_code,
                    first.get("/v1/meters/").status_code] == [401, 401, 429]
    assert meters(core) == []


def test_the_window_opens_at_the_first_request_and_refusals_do_not_count() -> None:
    now = [1000.0]
    with faulty(rate_limit=2, window_seconds=60, clock=lambda: now[0]) as (_, _core, client):
        assert statuses(client, 1) == [200]
        now[0] += 59.9
        assert statuses(client, 3) == [200, 429, 429]
        now[0] += 0.1  # 60 s after the first request: a new window
        assert statuses(client, 3) == [200, 200, 429]


def test_the_window_resets_in_real_time() -> None:
    with faulty(rate_limit=1, window_seconds=0.3) as (_, _core, client):
        assert statuses(client, 2) == [200, 429]
        assert client.get("/v1/meters/").headers["retry-after"] == "1"  # whole seconds, >= 1
        time.sleep(0.35)
        assert statuses(client, 2) == [200, 429]


# -- latency ------------------------------------------------------------------------------------


def timed(call: Any) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def test_latency_delays_every_answer_and_connections_wait_together() -> None:
    with faulty(latency_ms=200) as (server, core, client):
        assert timed(lambda: client.get("/v1/meters/")) >= 0.2
        assert timed(lambda: client.get("/_emulator/requests")) < 0.15
        headers = {"Authorization": f"Bearer {core.token}"}
        clients = [httpx.Client(base_url=server.url, headers=headers, timeout=5) for _ in range(6)]
        threads = [threading.Thread(target=own.get, args=("/v1/meters/",)) for own in clients]

        def all_at_once() -> None:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        elapsed = timed(all_at_once)
        for own in clients:
            own.close()
    assert 0.2 <= elapsed < 0.7  # one connection after another would take 1.2 s


# -- what is never faulted ----------------------------------------------------------------------


def test_emulator_endpoints_are_never_faulted_limited_or_counted() -> None:
    with faulty(fail_rate=1.0, drop_rate=1.0, rate_limit=1) as (_, _core, client):
        for _ in range(20):
            assert client.get("/_emulator/requests").status_code == 200
            assert client.get("/_emulator/faults").status_code == 200
        assert client.get("/_emulator/faults").json()["requests"] == 0
        assert client.get("/v1/meters/").status_code in (500, 502, 503)  # takes the one slot
        assert client.get("/v1/meters/").status_code == 429
        assert client.delete("/_emulator/requests").status_code == 204


def test_the_faults_endpoint() -> None:
    with faulty(rate_limit=5, seed=42, window_seconds=2) as (server, _core, client):
        client.get("/v1/meters/")
        shown = client.get("/_emulator/faults").json()
        assert shown == {
            "requests": 1, "failed": 0, "dropped": 0, "rate_limited": 0,
            "failed_by_status": {"500": 0, "502": 0, "503": 0},
            "policy": {"latency_ms": 0, "fail_rate": 0.0, "drop_rate": 0.0, "rate_limit": 5,
                       "window_seconds": 2, "seed": 42},
        }
        assert client.post("/_emulator/faults").status_code == 405
        assert client.delete("/_emulator/faults").status_code == 204
        assert server.faults.counters()["requests"] == 0
        assert httpx.get(f"{server.url}/_emulator/faults").status_code == 401


def test_no_faults_unless_asked() -> None:
    core = Emulator()
    with start_background(core) as server:
        policy = server.faults
        headers = {"Authorization": f"Bearer {core.token}"}
        assert httpx.get(f"{server.url}/v1/meters/", headers=headers).status_code == 200
    assert not policy.active and policy.describe() == "none"
    assert policy.counters()["requests"] == 1


@pytest.mark.parametrize("bad", [
    {"fail_rate": 1.5}, {"drop_rate": -0.1}, {"latency_ms": -1}, {"rate_limit": 0},
    {"window_seconds": 0},
])
def test_policy_refuses_nonsense(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        FaultPolicy(**bad)


def test_describe() -> None:
    policy = FaultPolicy(latency_ms=50, fail_rate=0.05, drop_rate=0.1, rate_limit=100, seed=9)
    assert policy.describe() == (
        "50 ms latency, 5% of requests fail (500/502/503), 10% of writes done but unanswered, "
        "100 requests per 60 s per token, then 429, seed 9"
    )


# -- the command --------------------------------------------------------------------------------

def test_command_flags_make_a_faulty_emulator() -> None:
    process = start_command("--port", "0", "--fail-rate", "1", "--seed", "5", "--rate-limit", "2",
                            "--rate-limit-window", "30", "--latency-ms", "10")
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(8)]
        url, token = lines[0].split()[-1], lines[2].split()[-1]
        assert lines[6] == (
            "Faults: 10 ms latency, 100% of requests fail (500/502/503), "
            "2 requests per 30 s per token, then 429, seed 5\n"
        )
        auth = {"Authorization": f"Bearer {token}"}
        # generous timeouts: a loaded machine slows the child, which must still answer
        get = partial(httpx.get, headers=auth, timeout=60)
        codes = [get(f"{url}/v1/meters/").status_code for _ in range(3)]
        shown = get(f"{url}/_emulator/faults").json()
    finally:
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
    assert set(codes[:2]) <= {500, 502, 503} and codes[2] == 429
    assert shown["policy"] == {"latency_ms": 10, "fail_rate": 1.0, "drop_rate": 0.0,
                               "rate_limit": 2, "window_seconds": 30.0, "seed": 5}
    assert process.returncode == 0 and "Traceback" not in err


@pytest.mark.parametrize("flags", [
    ["--fail-rate", "2"], ["--drop-rate", "-1"], ["--rate-limit", "0"], ["--latency-ms", "-5"],
    ["--rate-limit-window", "0"], ["--seed", "x"],
])
def test_command_refuses_bad_fault_flags(flags: list[str]) -> None:
    result = CliRunner().invoke(command, ["--port", "0", *flags])
    assert result.exit_code == 2 and flags[0] in result.output
