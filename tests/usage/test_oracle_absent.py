"""Without PostgreSQL the oracle suite passes but says it did not run; under CI it fails.
Both as `make test` runs it (pytest-xdist workers, the line passed on to the controller) and
in one process (a single test file run by hand)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.paths import ROOT

WORKERS = ["-n", "1"]  # one pytest-xdist worker: the controller prints the summary
ONE_PROCESS = ["-p", "no:xdist"]


def _run(ci: bool, mode: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["ORACLE_HIDE_POSTGRES"] = "1"
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *mode,
         "tests/usage/test_oracle.py::test_notes_examples_match_on_postgresql"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("mode", [WORKERS, ONE_PROCESS], ids=["xdist", "one-process"])
def test_without_postgresql_it_passes_and_says_so(mode: list[str]) -> None:
    run = _run(ci=False, mode=mode)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("WARNING: the PostgreSQL oracle suite did not run") == 1, run.stdout
    assert "skipped" not in run.stdout


def test_without_postgresql_under_ci_it_fails() -> None:
    run = _run(ci=True, mode=WORKERS)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "CI=true but PostgreSQL's server is not installed" in run.stdout
