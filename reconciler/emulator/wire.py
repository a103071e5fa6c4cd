"""The HTTP shapes the adapters exchange with the app: a request, a response, and Polar's
error answers (the bodies and headers its FastAPI app sends)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.emulator.fields import Detail
from reconciler.emulator.refusals import Forbidden, Unauthorized

if TYPE_CHECKING:
    from reconciler.emulator.core import Emulator

REALM = "polar"
INVALID_TOKEN = (
    "The access token provided is expired, revoked, malformed, or invalid for other reasons."
)
INSUFFICIENT_SCOPE = "The request requires higher privileges than provided by the access token."


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Request:
    emulator: Emulator
    method: str
    path: str  # percent-decoded
    query: list[tuple[str, str]]
    headers: Mapping[str, str]  # names in lowercase
    body: bytes
    json: Any = None  # the parsed body (None when empty), for POST and PATCH


def encode(content: Any, compact: bool = True) -> bytes:
    separators = (",", ":") if compact else (", ", ": ")
    try:
        return json.dumps(content, ensure_ascii=False, separators=separators).encode()
    except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape: keep the JSON valid
        return json.dumps(content, separators=separators).encode()


def json_response(status: int, content: Any, headers: dict[str, str] | None = None) -> Response:
    all_headers = {"content-type": "application/json", **(headers or {})}
    return Response(status, all_headers, encode(content))


def not_found_route() -> Response:
    return json_response(404, {"detail": "Not Found"})


def method_not_allowed(allow: str) -> Response:
    return json_response(405, {"detail": "Method Not Allowed"}, {"allow": allow})


def resource_not_found() -> Response:
    return json_response(404, {"error": "ResourceNotFound", "detail": "Not found"})


def validation_error(errors: list[Detail], name: str = "RequestValidationError") -> Response:
    return json_response(422, {"error": name, "detail": errors})


def auth_error(exc: Unauthorized | Forbidden) -> Response:
    if isinstance(exc, Unauthorized) and exc.kind == "missing_token":
        return json_response(
            401, {"error": "Unauthorized", "detail": "Unauthorized"},
            {"www-authenticate": f'Bearer realm="{REALM}"'},
        )
    if isinstance(exc, Forbidden):
        status, error, description = 403, "insufficient_scope", INSUFFICIENT_SCOPE
        extra = f'scope="{" ".join(sorted(exc.required_scopes))}", '
    else:
        status, error, description = 401, "invalid_token", INVALID_TOKEN
        extra = ""
    headers = {
        "content-type": "application/json",
        "cache-control": "no-store",
        "pragma": "no-cache",
        "www-authenticate": (
            f'Bearer realm="{REALM}", {extra}error="{error}", error_description="{description}"'
        ),
    }
    body = encode({"error": error, "error_description": description}, compact=False)
    return Response(status, headers, body)


def bearer(headers: Mapping[str, str]) -> str | None:
    """Polar's get_bearer_token: `Bearer <ascii token>`, anything else is no token at all."""
    scheme, _, value = headers.get("authorization", "").partition(" ")
    value = value.strip()
    if not scheme or not value or scheme.lower() != "bearer" or not value.isascii():
        return None
    return value
