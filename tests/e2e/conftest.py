"""The e2e tests' fixture for environments: one emulator serving two organizations, and a
project file (polar-meters.yaml) naming them in the test's directory, its working directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.environments import TwoOrgs, two_orgs, write_project


@pytest.fixture
def orgs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TwoOrgs]:
    monkeypatch.chdir(tmp_path)
    with two_orgs() as running:
        write_project(tmp_path, running.url)
        yield running
