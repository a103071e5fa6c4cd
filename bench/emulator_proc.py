"""The emulator as a subprocess (`polar-meters emulator`), so that its CPU is not the
measured command's, and a few calls to its /_emulator/ endpoints."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.workload import ORGANIZATION, TOKEN

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Emulator:
    url: str
    token: str
    process: subprocess.Popen[str]

    def _http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60,
                            headers={"Authorization": f"Bearer {self.token}"})

    def requests(self) -> list[dict[str, Any]]:
        """What Polar's paths received since the last `clear()`."""
        with self._http() as http:
            response = http.get("/_emulator/requests")
            response.raise_for_status()
            return list(response.json())

    def faults(self) -> dict[str, Any]:
        with self._http() as http:
            response = http.get("/_emulator/faults")
            response.raise_for_status()
            return dict(response.json())

    def clear(self) -> None:
        with self._http() as http:
            http.delete("/_emulator/requests").raise_for_status()
            http.delete("/_emulator/faults").raise_for_status()


@contextmanager
def running(state_file: Path | None, *options: str) -> Iterator[Emulator]:
    """`polar-meters emulator --port 0 [--state FILE] OPTIONS…` until the block ends.

    Without a state file the emulator starts empty and keeps its meters in memory (with one,
    it rewrites the whole file after every write: fine for a plan, slow for 1,000 creates).
    """
    state = ["--state", str(state_file)] if state_file is not None else []
    command = [sys.executable, "-m", "reconciler", "emulator", "--port", "0",
               "--token", TOKEN, "--organization-id", ORGANIZATION, *state, *options]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = _listening_url(process)
        yield Emulator(url, TOKEN, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _listening_url(process: subprocess.Popen[str], timeout: float = 120.0) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise SystemExit(f"the emulator stopped before listening (exit {process.wait()})")
        if "listening on " in line:
            return line.rsplit("listening on ", 1)[1].strip()
    raise SystemExit("the emulator did not start listening in time")
