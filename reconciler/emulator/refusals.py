"""What the emulated Polar refuses, as typed exceptions: the adapters (app.py) turn them into
Polar's answers, so the core never speaks HTTP."""

from __future__ import annotations

from typing import Any, Literal

from reconciler.errors import UserError


class EmulatorError(Exception):
    """A refusal Polar would answer with an error status."""


class NotFound(EmulatorError):
    """The meter does not exist, or belongs to another organization."""


class RequestValidationError(EmulatorError):
    """A 422: `detail` holds pydantic-style items."""

    def __init__(self, detail: list[dict[str, Any]]) -> None:
        super().__init__(detail)
        self.detail = detail


class PolarRequestValidationError(RequestValidationError):
    """A 422 from Polar's own rules (not the schema): Polar names it differently in the body."""


class Unauthorized(EmulatorError):
    """No token (`missing_token`) or one Polar does not know (`invalid_token`)."""

    def __init__(self, kind: Literal["missing_token", "invalid_token"]) -> None:
        super().__init__(kind)
        self.kind = kind


class Forbidden(EmulatorError):
    """The token holds none of the scopes the operation accepts."""

    def __init__(self, required_scopes: frozenset[str]) -> None:
        super().__init__(" ".join(sorted(required_scopes)))
        self.required_scopes = required_scopes


class StateFileError(UserError):
    """The state file cannot be read or written."""


def field_error(kind: str, field_name: str, msg: str, value: Any) -> PolarRequestValidationError:
    """One of Polar's own 422s on a body field."""
    return PolarRequestValidationError(
        [{"type": kind, "loc": ["body", field_name], "msg": msg, "input": value}]
    )
