"""Shared fixtures: `emu`, a Polar emulator answering on a free local port; the summary line
saying the PostgreSQL oracle did not run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from reconciler.emulator.core import Emulator
from reconciler.emulator.server import start_background
from tests.support import postgres


@dataclass(frozen=True)
class RunningEmulator:
    url: str  # e.g. http://127.0.0.1:43121
    token: str  # an organization token holding every scope
    organization_id: str
    core: Emulator  # the same emulator, for direct calls (lock, add_token, ...)


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    core = Emulator()
    server = start_background(core, "127.0.0.1", 0)
    try:
        yield RunningEmulator(server.url, core.token, core.organization_id, core)
    finally:
        server.close()


# -- the oracle's "did not run" line, from pytest-xdist's workers too ---------------------------
# Under `make test` (pytest-xdist) the tests run in worker processes: each worker hands its
# reasons to the controller (workeroutput), which prints them in the summary. This lives in
# the root conftest because the controller loads only it, not tests/usage/'s.

def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a worker
        workeroutput["oracle_not_run"] = list(postgres.NOT_RUN)


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: unknown when it is not loaded
def pytest_testnodedown(node: Any, error: object) -> None:
    postgres.NOT_RUN.extend(getattr(node, "workeroutput", {}).get("oracle_not_run", []))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for reason in dict.fromkeys(postgres.NOT_RUN):
        terminalreporter.write_line(
            f"WARNING: the PostgreSQL oracle suite did not run: {reason}", yellow=True, bold=True)
