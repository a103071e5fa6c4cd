"""Shared fixtures: `emu`, a Polar emulator answering on a free local port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from reconciler.emulator.core import Emulator
from reconciler.emulator.server import start_background


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
