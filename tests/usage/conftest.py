"""The oracle suite says, in the summary, when it could not run (no PostgreSQL here)."""

from __future__ import annotations

from typing import Any

from tests.support import postgres


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for reason in dict.fromkeys(postgres.NOT_RUN):
        terminalreporter.write_line(
            f"WARNING: the PostgreSQL oracle suite did not run: {reason}", yellow=True, bold=True)
