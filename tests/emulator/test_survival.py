"""The emulator survives what it is sent (issue 15): a state file of another shape, deeply
nested JSON, idle connections, too many connections, a journal that would grow without end,
and two processes sharing one state file."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from click.testing import CliRunner

from reconciler.cli.emulator import command
from reconciler.emulator.core import Emulator, StateFileError
from reconciler.emulator.inprocess import transport
from reconciler.emulator.server import make_server, start_background
from tests.support.builders import METER

SHAPES: list[Any] = [
    {"format": 1, "meters": [{"id": 1}]},
    {"format": 1, "meters": "many"},
    {"format": 1, "events": [{"name": "x"}]},
    {"format": 1, "extra_tokens": ["polar_oat_x"]},
]


@pytest.mark.parametrize("content", SHAPES)
def test_a_state_file_of_another_shape_is_one_line(tmp_path: Path, content: Any) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps(content))
    with pytest.raises(StateFileError, match="not an emulator state file of the expected shape"):
        Emulator(state_path=state)
    result = CliRunner().invoke(command, ["--port", "0", "--state", str(state)])
    assert result.exit_code == 1 and result.exception is None or isinstance(
        result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in result.output


def test_deeply_nested_json_is_a_clean_answer() -> None:
    emulator = Emulator()
    with httpx.Client(base_url="http://polar.local", transport=transport(emulator),
                      headers={"Authorization": f"Bearer {emulator.token}",
                               "Content-Type": "application/json"}) as http:
        for path in ("/v1/meters/", "/v1/events/ingest", "/_emulator/customer-meters/credit"):
            answer = http.post(path, content="[" * 100_000)
            assert answer.status_code in (400, 422), (path, answer.status_code)
        deep: dict[str, Any] = {"conjunction": "and", "clauses": []}
        for _ in range(300):
            deep = {"conjunction": "and", "clauses": [deep]}
        assert http.post("/v1/meters/", json={**METER, "filter": deep}).status_code in (201, 422)


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def test_idle_connections_are_let_go() -> None:
    with start_background(Emulator()) as running:
        running.server.idle_timeout = 0.3
        idle = _connect(running.url)
        started = time.monotonic()
        assert idle.recv(100) == b""  # the server closed it
        assert time.monotonic() - started < 5
        idle.close()


def test_connections_beyond_the_bound_get_a_503() -> None:
    emulator = Emulator()
    server = make_server(emulator, max_connections=2)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        url = server.url
        held = [_connect(url), _connect(url)]
        time.sleep(0.2)
        extra = _connect(url)
        answer = b""
        while chunk := extra.recv(1000):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 503") and b"Too many connections" in answer
        for sock in [*held, extra]:
            sock.close()
        time.sleep(0.2)
        ok = httpx.get(f"{url}/v1/meters/", headers={"Authorization": f"Bearer {emulator.token}"})
        assert ok.status_code == 200  # slots come back
    finally:
        server.shutdown()
        server.server_close()


def test_the_request_journal_is_capped_and_delete_frees_it() -> None:
    emulator = Emulator(journal_capacity=5)
    with httpx.Client(base_url="http://polar.local", transport=transport(emulator),
                      headers={"Authorization": f"Bearer {emulator.token}"}) as http:
        for page in range(1, 9):
            http.get("/v1/meters/", params={"page": page})
        kept = http.get("/_emulator/requests").json()
        assert [dict(e["query"])["page"] for e in kept] == ["4", "5", "6", "7", "8"]
        assert http.delete("/_emulator/requests").status_code == 204
        assert http.get("/_emulator/requests").json() == [] and len(emulator.journal) == 0


WRITER = """
import sys
from reconciler.emulator.core import Emulator
emulator = Emulator(state_path=sys.argv[1])
for i in range(40):
    emulator.create_meter({"name": f"{sys.argv[2]} {i}", "filter": {"conjunction": "and",
                           "clauses": []}, "aggregation": {"func": "count"}})
"""


def test_two_processes_sharing_a_state_file_lose_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    Emulator(state_path=state)  # one organization and token for both
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(state), name])
               for name in ("first", "second")]
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    names = {m["name"] for m in Emulator(state_path=state).list_meters(limit=100).items}
    assert len(names) == 80
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]  # no temporary file


def test_an_emulator_sees_what_another_process_wrote(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    served = Emulator(state_path=state)
    other = Emulator(state_path=state)
    made = other.create_meter(METER)
    assert served.get_meter(made["id"])["name"] == METER["name"]
    served.update_meter(made["id"], {"name": "Renamed"})
    assert other.get_meter(made["id"])["name"] == "Renamed"
