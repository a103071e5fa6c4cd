"""Driving the real CLI as a subprocess against a running emulator."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.paths import EXAMPLES, ROOT

#: One meter using most of the format: nested filter, custom unit, metadata.
API_CALLS_YAML = """\
version: 1
meters:
  api-calls:
    name: API calls
    filter:
      conjunction: and
      clauses:
        - {property: name, operator: eq, value: api_call}
        - conjunction: or
          clauses:
            - {property: tier, operator: eq, value: pro}
            - {property: tier, operator: ne, value: 3}
    aggregation: {func: sum, property: tokens}
    unit: custom
    custom_label: request
    custom_multiplier: 1000
    metadata: {team: ai, cost_center: 42}
"""


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, stdin: str = "") -> Run:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("POLAR_")}
    full_env.update(env or {})
    full_env.setdefault("NO_COLOR", "1")
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        input=stdin,
        capture_output=True,
        check=False,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=60,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


class Api:
    """Direct calls to the emulator, as a Polar user editing in the dashboard would."""

    def __init__(self, emu: Any) -> None:
        self.emu = emu
        self.http = httpx.Client(
            base_url=emu.url, headers={"Authorization": f"Bearer {emu.token}"}, timeout=10
        )

    @property
    def env(self) -> dict[str, str]:
        return {"POLAR_SERVER": self.emu.url, "POLAR_ACCESS_TOKEN": self.emu.token}

    def meters(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            r = self.http.get("/v1/meters/", params={"limit": 100, "page": page})
            r.raise_for_status()
            out += r.json()["items"]
            if page >= r.json()["pagination"]["max_page"]:
                return out
            page += 1

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        r = self.http.post("/v1/meters/", json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def update(self, meter_id: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self.http.patch(f"/v1/meters/{meter_id}", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def lock(self, meter_id: str) -> None:
        r = self.http.post(f"/_emulator/meters/{meter_id}/lock")
        assert r.status_code < 300, r.text

    def requests(self) -> list[dict[str, Any]]:
        r = self.http.get("/_emulator/requests")
        r.raise_for_status()
        return r.json()

    def clear_requests(self) -> None:
        self.http.delete("/_emulator/requests").raise_for_status()

    def writes(self) -> list[dict[str, Any]]:
        return [r for r in self.requests() if r["method"] in ("POST", "PATCH")]


def copy_examples(dest: Path) -> Path:
    """examples/meters/ as dest/meters, beside dest/events (their tests' events files)."""
    target = dest / "meters"
    shutil.copytree(EXAMPLES, target)
    shutil.copytree(EXAMPLES.parent / "events", dest / "events")
    return target


def read_terminal(leader: int) -> str:
    """Everything a child wrote to the pseudo-terminal whose leader side is ``leader``, until
    it closed its side (then ``leader`` is closed too)."""
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return b"".join(chunks).decode()


RUN_COMMAND = "from reconciler.cli.emulator import command; command(prog_name='polar-meters emulator')"


def start_command(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-c", RUN_COMMAND, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
