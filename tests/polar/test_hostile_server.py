"""A server that tries to hang or exhaust polar-meters: 2 GB answers, an endless chunked
stream, one byte every 5 s, a gzip bomb, a lying total_count, JSON nested 100,000 deep.

Each case runs the real CLI in its own process against a raw socket server on 127.0.0.1 and
checks that it ends within the deadline (POLAR_METERS_TIMEOUT, set low here) with a
one-line error, its peak memory (ru_maxrss from wait4) close to that of a plain plan.
"""

from __future__ import annotations

import json
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.polar.retry import BACKOFF_ENV
from reconciler.polar.wire import TIMEOUT_ENV
from tests.support.e2e import API_CALLS_YAML
from tests.support.paths import ROOT

DEADLINE = 2.0  # seconds, for every request of these runs
#: Interpreter start-up and a plan on a busy two-core machine, beside the deadline.
SLACK = 6.0
#: Above a plain plan's peak: the answer limit (8 MiB) held twice, and the parsed JSON.
MEMORY_SLACK_KB = 60 * 1024

Behaviour = Callable[[socket.socket], None]


def _head(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode()


def empty_listing(sock: socket.socket) -> None:
    body = json.dumps({"items": [], "pagination": {"total_count": 0, "max_page": 0}}).encode()
    sock.sendall(_head("200 OK", {"content-type": "application/json",
                                  "content-length": str(len(body))}) + body)


def two_gigabytes(sock: socket.socket) -> None:
    sock.sendall(_head("200 OK", {"content-type": "application/json",
                                  "content-length": str(2 * 1024**3)}))
    block = b" " * 65536
    for _ in range(2 * 1024**3 // len(block)):
        sock.sendall(block)


def endless_chunks(sock: socket.socket) -> None:
    sock.sendall(_head("200 OK", {"content-type": "application/json",
                                  "transfer-encoding": "chunked"}))
    chunk = b"10000\r\n" + b"[" * 65536 + b"\r\n"
    while True:
        sock.sendall(chunk)


def one_byte_every_5_s(sock: socket.socket) -> None:
    for byte in _head("200 OK", {"content-length": "2"}) + b"{}":
        sock.sendall(bytes([byte]))
        time.sleep(5)


def _bomb() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip
    zeros = b"\0" * (1024 * 1024)
    return b"".join([*(packer.compress(zeros) for _ in range(1024)), packer.flush()])


BOMB = _bomb()  # 1 GiB of zeros in about 1 MB


def gzip_bomb(sock: socket.socket) -> None:
    sock.sendall(_head("200 OK", {"content-type": "application/json",
                                  "content-encoding": "gzip",
                                  "content-length": str(len(BOMB))}) + BOMB)


def lying_total_count(sock: socket.socket) -> None:
    body = json.dumps({"items": [], "pagination": {"total_count": 10**9,
                                                   "max_page": 10**7}}).encode()
    sock.sendall(_head("200 OK", {"content-type": "application/json",
                                  "content-length": str(len(body))}) + body)


def deeply_nested(sock: socket.socket) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    sock.sendall(_head("200 OK", {"content-type": "application/json",
                                  "content-length": str(len(body))}) + body)


@contextmanager
def hostile(behaviour: Behaviour) -> Iterator[str]:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data = b""
            while b"\r\n\r\n" not in data:
                more = self.request.recv(65536)
                if not more:
                    return
                data += more
            try:
                behaviour(self.request)
            except OSError:
                pass  # the client hung up: what it should do

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Ended:
    code: int
    err: str
    seconds: float
    peak_kb: int


def plan(url: str, config: Path) -> Ended:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLAR_")}
    env.update({"POLAR_SERVER": url, "POLAR_ACCESS_TOKEN": "polar_oat_hostile",
                TIMEOUT_ENV: str(DEADLINE), BACKOFF_ENV: "0.01:0.02", "NO_COLOR": "1"})
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "plan", str(config)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    err = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return Ended(process.returncode, err, time.monotonic() - started, usage.ru_maxrss)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "meters.yaml"
    path.write_text(API_CALLS_YAML)
    return path


@pytest.fixture(scope="module")
def plain_peak_kb(config: Path) -> int:
    with hostile(empty_listing) as url:
        ended = plan(url, config)
    assert ended.code == 0, ended.err
    return ended.peak_kb


CASES = {
    "2 GB": (two_gigabytes, "larger than 8 MiB"),
    "endless chunked stream": (endless_chunks, "larger than 8 MiB"),
    "one byte every 5 s": (one_byte_every_5_s, f"Polar did not answer within {DEADLINE:g} s"),
    "gzip bomb": (gzip_bomb, "larger than 8 MiB"),
    "lying total_count": (lying_total_count, "Polar counts 1,000,000,000 meters"),
    "JSON nested 100,000 deep": (deeply_nested, "nested deeper than any of its answers"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_server_ends_the_run_in_time_in_one_line(
    case: str, config: Path, plain_peak_kb: int
) -> None:
    behaviour, expected = CASES[case]
    with hostile(behaviour) as url:
        ended = plan(url, config)
    assert ended.code == 1, ended.err
    [line] = ended.err.splitlines()
    assert line.startswith("Error: GET /v1/meters/: ") and expected in line, line
    assert ended.seconds < DEADLINE + SLACK, ended.seconds
    assert ended.peak_kb < plain_peak_kb + MEMORY_SLACK_KB, (ended.peak_kb, plain_peak_kb)
