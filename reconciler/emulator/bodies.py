"""Request bodies as FastAPI reads them: JSON only when declared so, Polar's 422 for JSON
that does not parse, 400 for bytes it cannot decode."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.emulator.fields import Detail, Invalid
from reconciler.emulator.wire import Response, json_response, validation_error


class _NonFinite(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NonFinite(name)


def read_json(headers: Mapping[str, str], body: bytes) -> Any:
    """The body as FastAPI reads it: None when empty, text when not declared JSON."""
    if not body:
        return None
    declared = headers.get("content-type")
    if declared:
        maintype, _, subtype = declared.split(";")[0].strip().lower().partition("/")
        if maintype != "application" or not (subtype == "json" or subtype.endswith("+json")):
            return body.decode("utf-8", "replace")
    text = body.decode(json.detect_encoding(body), "surrogatepass")
    return json.loads(text, parse_constant=_refuse_constant)


def parse_body(headers: Mapping[str, str], body: bytes) -> tuple[Any, Response | None]:
    """The parsed body, or the answer that refuses it."""
    try:
        return read_json(headers, body), None
    except json.JSONDecodeError as exc:
        position, reason = exc.pos, exc.msg
    except _NonFinite as exc:  # NaN/Infinity: Polar could neither store nor echo them
        text = body.decode("utf-8", "replace")
        position, reason = max(text.find(str(exc)), 0), "Expecting value"
    except (UnicodeDecodeError, LookupError, ValueError, RecursionError):
        # an integer of 5000 digits, JSON nested deeper than Python's parser goes
        return None, json_response(400, {"detail": "There was an error parsing the body"})
    error = {"type": "json_invalid", "loc": ["body", position], "msg": "JSON decode error",
             "input": {}, "ctx": {"error": reason}}
    return None, validation_error([error])


def json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except (ValueError, RecursionError):
        return None


def missing_body() -> list[Detail]:
    return [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]


def body_errors(check: Callable[[Any], Any], body: Any) -> list[Detail]:
    if body is None:
        return missing_body()
    try:
        check(body)
    except Invalid as exc:
        return exc.errors
    return []


#: Polar's (Starlette's) limit on a request body.
MAX_BODY = 10 * 1024 * 1024


def length_refusal(
    method: str, headers: Mapping[str, str], require_length: bool = True
) -> Response | None:
    """What Polar answers before reading a body: 411 for a POST/PATCH without a length
    (chunked), 400 for a length that is not a number, 413 over 10 MiB; None to read on.
    `headers` names in lowercase; `require_length` false: no 411 (emulator-only paths)."""
    declared = headers.get("content-length")
    if declared is None:
        if require_length and method in ("POST", "PATCH"):
            return json_response(411, {"error": "LengthRequired",
                                       "detail": "A Content-Length header is required."})
        return None
    text = declared.strip()
    if not text.isascii() or not text.isdigit():
        return json_response(400, {"error": "BadRequest",
                                   "detail": "Invalid Content-Length header."})
    if int(text) > MAX_BODY:
        return json_response(413, {"error": "RequestBodyTooLarge",
                                   "detail": "The request body is too large (over 10 MiB)."})
    return None
