"""Errors meant for users: each renders as one clear line, never a traceback."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.model import Diagnostic


class UserError(Exception):
    """A problem the user can fix (bad input, bad flags, a refusal). Printed as one line."""

    exit_code = 1


class Interrupted(UserError):
    """Ctrl-C (or SIGTERM) where nothing was sent yet: one line, exit 130."""

    exit_code = 130


class PolarAPIError(UserError):
    """Polar (or the emulator) answered with an error; the message is Polar's own, in one line."""

    def __init__(self, message: str, status: int | None = None, body: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


#: Problems (or meters in a list) shown at the most in one error; the rest are counted.
MOST_SHOWN = 20


class PlanError(UserError):
    """The configuration and Polar's meters cannot be matched unambiguously.

    One problem is one line; several are a line each under a heading, the first
    :data:`MOST_SHOWN` of them (a wrong token or organization can make hundreds, one line
    of them all would be unreadable).
    """

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        #: each problem with the configuration line it is about (GitHub annotations)
        self.diagnostics = list(diagnostics)
        problems = [d.text for d in self.diagnostics]
        if len(problems) == 1:
            super().__init__(f"cannot plan: {problems[0]}")
            return
        lines = [f"cannot plan, {len(problems)} problems:"]
        lines += [f"  - {problem}" for problem in problems[:MOST_SHOWN]]
        if len(problems) > MOST_SHOWN:
            lines.append(f"  - and {len(problems) - MOST_SHOWN} more")
        super().__init__("\n".join(lines))


class InvalidConfiguration(UserError):
    """The configuration has errors; each was reported (located) before this is raised, so
    the command's error line adds nothing to them."""

    reported = True
