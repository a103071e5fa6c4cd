"""A server that cannot be reached: on a terminal each retry shows on one updating line,
piped nothing but the error; nothing listening on this machine fails after one retry."""

from __future__ import annotations

import os
import pty
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.e2e import API_CALLS_YAML
from tests.support.inproc import invoke
from tests.support.paths import ROOT

REFUSED = "Error: GET /v1/meters/: cannot reach Polar (connection refused)"


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as sock:  # a port nothing listens on any more
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "meters.yaml"
    path.write_text(API_CALLS_YAML)
    return path


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLAR_")}
    env.update({"POLAR_ACCESS_TOKEN": "polar_oat_unreachable", "NO_COLOR": "1"})
    return env  # the default backoff: what a user waits


def test_piped_only_the_error_shows_after_one_retry(closed_port_url: str, config: Path) -> None:
    started = time.monotonic()
    run = invoke("--server", closed_port_url, "plan", str(config), env=_env())
    assert run.code == 1
    assert run.err == REFUSED + "\n"
    # one retry after 0.25-0.5 s, not five with 8-15 s of waits
    assert time.monotonic() - started < 6


def test_on_a_terminal_the_retry_shows_on_one_line(closed_port_url: str, config: Path) -> None:
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "--server", closed_port_url, "plan", str(config)],
        cwd=ROOT, env=_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=slave,
    )
    os.close(slave)
    said = b""
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        try:
            chunk = os.read(master, 4096) if ready else b""
        except OSError:  # the other end closed
            chunk = b""
        if not chunk:
            break
        said += chunk
    os.close(master)
    assert process.wait(timeout=30) == 1
    text = said.decode()
    retry = text.split("\r")[1]
    assert retry.startswith("GET /v1/meters/: cannot reach Polar (connection refused), "
                            "retrying in 0."), text
    assert retry.endswith(" s (2/6)") and "(3/6)" not in text, text
    # wiped before the error, which stands on its own line
    assert text.endswith("\r" + " " * len(retry) + "\r" + REFUSED + "\r\n"), repr(text)
