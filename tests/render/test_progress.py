"""A counter on a terminal while Polar's meters are read (and lock lookups made), wiped when
the work ends; nothing at all when standard error is not a terminal."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.emulator.core import Emulator
from reconciler.emulator.faults import FaultPolicy
from reconciler.emulator.server import start_background
from reconciler.model import TAG_KEY
from reconciler.render import progress
from reconciler.render.progress import Progress
from tests.conftest import RunningEmulator
from tests.support.e2e import API_CALLS_YAML, read_terminal
from tests.support.inproc import invoke

LATENCY_MS = 300  # 3 pages: the first, then two at once, 0.6 s in all (the counter waits 0.5 s)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_nothing_is_drawn_before_the_delay_nor_off_a_terminal() -> None:
    screen = Terminal()
    with Progress("Reading", "pages", screen) as counter:
        counter(1, 3)
    assert screen.getvalue() == ""
    piped = io.StringIO()
    with Progress("Reading", "pages", piped) as counter:
        counter.started -= 10
        counter(3, 3)
    assert piped.getvalue() == ""


def test_the_last_count_is_drawn_then_wiped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "DELAY", 0.0)
    screen = Terminal()
    with Progress("Reading Polar's meters", "pages", screen) as counter:
        counter(1, 100)
        counter(2, 100)  # within INTERVAL of the first: not drawn
        counter(100, 100)  # the last: always drawn
        counter(100, 100)  # already on screen
    text = screen.getvalue()
    assert text.count("\r") == 4  # 2 draws, then the wipe: back, spaces, back
    assert "\rReading Polar's meters: 1/100 pages" in text and "2/100" not in text
    width = len("Reading Polar's meters: 100/100 pages")
    assert text.endswith("\r" + " " * width + "\r") and "\x1b" not in text
    counter(5, 100)  # a late call, after the end
    assert screen.getvalue() == text


@pytest.fixture
def slow_emu() -> Iterator[RunningEmulator]:
    core = Emulator()
    for index in range(250):  # three pages of meters not managed here
        core.create_meter({
            "name": f"Other {index}",
            "filter": {"conjunction": "and", "clauses": []},
            "aggregation": {"func": "count"},
        })
    with start_background(core, faults=FaultPolicy(latency_ms=LATENCY_MS)) as server:
        yield RunningEmulator(server.url, core.token, core.organization_id, core)


def env_for(emu: RunningEmulator) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLAR_")}
    env.update(POLAR_SERVER=emu.url, POLAR_ACCESS_TOKEN=emu.token, NO_COLOR="1")
    return env


def plan_on_terminal(emu: RunningEmulator, config: Path, *options: str) -> tuple[str, str]:
    """(what the terminal on standard error showed, standard output) of a plan."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "reconciler", *options, "plan", str(config)],
                            stdout=subprocess.PIPE, stderr=follower, env=env_for(emu))
    os.close(follower)
    screen = read_terminal(leader)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    return screen, out.decode()


def test_plan_counts_pages_on_a_terminal_and_leaves_stdout_clean(
    slow_emu: RunningEmulator, tmp_path: Path
) -> None:
    config = tmp_path / "meters.yaml"
    config.write_text(API_CALLS_YAML)
    screen, text = plan_on_terminal(slow_emu, config)
    drawn = "Reading Polar's meters: 3/3 pages"
    assert f"\r{drawn}" in screen, screen
    assert screen.endswith("\r" + " " * len(drawn) + "\r") and "\x1b" not in screen
    assert "api-calls" in text and "250 not managed here" in text and "\r" not in text


def test_no_counter_over_debug_lines(slow_emu: RunningEmulator, tmp_path: Path) -> None:
    config = tmp_path / "meters.yaml"
    config.write_text(API_CALLS_YAML)
    screen, text = plan_on_terminal(slow_emu, config, "--debug")
    assert screen.count("debug: GET /v1/meters/") == 3 and "Reading" not in screen, screen
    assert "api-calls" in text


def test_plan_piped_shows_no_counter(slow_emu: RunningEmulator, tmp_path: Path) -> None:
    config = tmp_path / "meters.yaml"
    config.write_text(API_CALLS_YAML)
    run = invoke("plan", str(config), env={"POLAR_SERVER": slow_emu.url,
                                           "POLAR_ACCESS_TOKEN": slow_emu.token})
    assert run.code == 0, run.text
    assert "Reading" not in run.err and "\r" not in run.text


def test_plan_counts_lock_lookups_on_a_terminal(tmp_path: Path) -> None:
    core = Emulator()
    keys = [f"m{index}" for index in range(8)]  # two rounds of 4 lookups (parallelism 4)
    for key in keys:
        core.create_meter({
            "name": f"Meter {key}",
            "filter": {"conjunction": "and", "clauses": []},
            "aggregation": {"func": "count"},
            "metadata": {TAG_KEY: key},
        })
    config = tmp_path / "meters.yaml"
    config.write_text("version: 1\nmeters:\n" + "".join(
        f"  {key}:\n    name: Meter {key}\n    filter: {{conjunction: and, clauses: "
        "[{property: name, operator: eq, value: x}]}\n    aggregation: {func: count}\n"
        for key in keys))
    with start_background(core, faults=FaultPolicy(latency_ms=LATENCY_MS)) as server:
        emu = RunningEmulator(server.url, core.token, core.organization_id, core)
        screen, text = plan_on_terminal(emu, config)
    drawn = "Asking Polar which changed meters are locked: 8/8 meters"
    assert f"\r{drawn}" in screen, screen
    assert screen.endswith("\r" + " " * len(drawn) + "\r")
    assert "Plan: 0 to create, 8 to update" in text and "\r" not in text
