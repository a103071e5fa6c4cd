"""Without PostgreSQL the oracle suite passes but says it did not run; under CI it fails."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.paths import ROOT


def _run(ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["ORACLE_HIDE_POSTGRES"] = "1"
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/usage/test_oracle.py::test_notes_examples_match_on_postgresql"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_without_postgresql_it_passes_and_says_so() -> None:
    run = _run(ci=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "WARNING: the PostgreSQL oracle suite did not run" in run.stdout
    assert "skipped" not in run.stdout


def test_without_postgresql_under_ci_it_fails() -> None:
    run = _run(ci=True)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "CI=true but PostgreSQL's server is not installed" in run.stdout
