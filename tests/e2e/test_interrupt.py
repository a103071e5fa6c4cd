"""Ctrl-C during apply: no new request starts, those in flight finish and are reported, a
summary lists what was not started, exit 130; the next apply finishes the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.emulator.core import Emulator
from reconciler.emulator.faults import FaultPolicy
from reconciler.emulator.server import RunningServer, start_background
from reconciler.model import TAG_KEY
from tests.conftest import RunningEmulator
from tests.support.builders import meter_file
from tests.support.e2e import ROOT, Api, read_terminal
from tests.support.inproc import invoke

COUNT = 30


@pytest.fixture
def slow() -> Iterator[tuple[RunningServer, Api]]:
    core = Emulator()
    with start_background(core, faults=FaultPolicy(latency_ms=100)) as server:
        yield server, Api(RunningEmulator(server.url, core.token, core.organization_id, core))


def start_apply(api: Api, config: Path, *flags: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLAR_")}
    env.update(api.env, NO_COLOR="1")
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", *flags, "apply", "--auto-approve", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )


def read_until(process: subprocess.Popen[str], needle: str, times: int = 1) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 20
    while sum(needle in line for line in lines) < times:
        assert time.monotonic() < deadline, lines
        line = process.stdout.readline()
        assert line, lines  # the process ended first
        lines.append(line)
    return lines


# SIGTERM (what CI sends on cancel) is handled exactly as Ctrl-C (issue 15)
@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_stops_starting_requests(
    slow: tuple[RunningServer, Api], tmp_path: Path, sent: signal.Signals
) -> None:
    _, api = slow
    config = meter_file(tmp_path / "meters.yaml", COUNT)
    process = start_apply(api, config, "--parallelism", "2")
    before = read_until(process, ": created (", times=4)
    process.send_signal(sent)
    out, err = process.communicate(timeout=10)
    out = "".join(before) + out
    assert process.returncode == 130, out + err
    assert "Traceback" not in err
    created = out.count(": created (")
    assert 4 <= created <= 4 + 2  # at most the two in flight finished after Ctrl-C
    [summary] = [line for line in out.splitlines() if line.startswith("Interrupted: ")]
    done = f"Interrupted: {created} created, 0 updated, 0 adopted; not started: "
    assert summary.startswith(done)
    assert summary.endswith("Run apply again to finish.")
    assert len(summary.split("not started: ")[1].split(", ")) == COUNT - created
    # Every POST the emulator received is a meter reported created: none sent after.
    posts = [r for r in api.requests() if r["method"] == "POST"]
    assert len(posts) == created == len(api.meters())

    again = invoke("apply", "--auto-approve", str(config), env=api.env)
    assert again.code == 0, again.text
    keys = Counter(m["metadata"][TAG_KEY] for m in api.meters())
    assert len(keys) == COUNT and set(keys.values()) == {1}


def test_ctrl_c_during_a_rate_limit_pause_ends_at_once(tmp_path: Path) -> None:
    core = Emulator()
    # each create is preceded by its key's lookup (issue 15: overlapping runs): the list and
    # three lookup+create pairs, then 429, retry-after: 30
    faults = FaultPolicy(rate_limit=7, window_seconds=30)
    with start_background(core, faults=faults) as server:
        api = Api(RunningEmulator(server.url, core.token, core.organization_id, core))
        config = meter_file(tmp_path / "meters.yaml", 5)
        process = start_apply(api, config, "--parallelism", "1", "--debug")
        deadline = time.monotonic() + 20
        while faults.counters()["rate_limited"] == 0:  # every request now waits 30 s
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        time.sleep(0.2)
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=40)
        took = time.monotonic() - interrupted
        requests = faults.counters()["requests"]
        time.sleep(0.3)
        assert faults.counters()["requests"] == requests
    assert process.returncode == 130, out + err
    assert "Traceback" not in err
    assert took < 3, f"Ctrl-C took {took:.1f} s: it waited for the rate-limit pause"
    assert requests == 8  # the list, 3 lookups + creates, the one refused: none after Ctrl-C
    assert "Interrupted: 3 created" in out


@pytest.fixture
def slower() -> Iterator[Api]:
    core = Emulator()
    with start_background(core, faults=FaultPolicy(latency_ms=1500)) as server:
        yield Api(RunningEmulator(server.url, core.token, core.organization_id, core))


def test_a_second_interrupt_says_requests_in_flight_may_have_completed(slower: Api, tmp_path: Path) -> None:
    api = slower
    config = meter_file(tmp_path / "meters.yaml", COUNT)
    process = start_apply(api, config, "--parallelism", "2")
    before = read_until(process, ": created (", times=2)
    process.send_signal(signal.SIGINT)
    time.sleep(0.3)  # the requests in flight take 1.5 s: this one comes while waiting for them
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 130, "".join(before) + out + err
    assert "Traceback" not in err
    assert "requests that were in flight may have completed; the next apply will reconcile them" in err
    again = invoke("apply", "--auto-approve", str(config), env=api.env)
    assert again.code == 0, again.text
    keys = Counter(m["metadata"][TAG_KEY] for m in api.meters())
    assert len(keys) == COUNT and set(keys.values()) == {1}


def test_ctrl_c_at_the_confirmation_prompt_exits_130(emu: RunningEmulator, tmp_path: Path) -> None:
    import pty

    api = Api(emu)
    config = meter_file(tmp_path / "meters.yaml", 2)
    leader, follower = pty.openpty()  # a terminal, as a person at the prompt has
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLAR_")}
    env.update(api.env, NO_COLOR="1")
    process = subprocess.Popen([sys.executable, "-m", "reconciler", "apply", str(config)], stdin=follower,
                               stdout=follower, stderr=follower, env=env, cwd=ROOT)
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 30
    while b"Apply these changes?" not in seen:
        assert time.monotonic() < deadline and process.poll() is None, seen
        seen += os.read(leader, 4096)
    code = None
    for _ in range(4):  # a loaded machine can show the prompt before it reads
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=10)
            break
        except subprocess.TimeoutExpired:
            continue
    assert code == 130
    shown = (seen + read_terminal(leader).encode()).decode()
    assert "Traceback" not in shown and "apply cancelled; nothing was changed" in shown
    assert api.meters() == []


def test_ctrl_c_while_starting_is_one_line_and_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.abc

    from reconciler import __main__ as entry

    class Interrupting(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, path: object, target: object = None) -> None:
            if name == "reconciler.cli.main":
                raise KeyboardInterrupt

    monkeypatch.delitem(sys.modules, "reconciler.cli.main", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Interrupting(), *sys.meta_path])
    monkeypatch.setattr(signal, "signal", lambda *args: None)
    with pytest.raises(SystemExit) as exit_:
        entry.main()
    assert exit_.value.code == 130 and capsys.readouterr().err == "Interrupted.\n"
