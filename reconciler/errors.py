"""Errors meant for users: each renders as one clear line, never a traceback."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix (bad input, bad flags, a refusal). Printed as one line."""

    exit_code = 1


class PolarAPIError(UserError):
    """Polar (or the emulator) answered with an error; the message is Polar's own, in one line."""

    def __init__(self, message: str, status: int | None = None, body: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
