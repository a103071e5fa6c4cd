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
    except (UnicodeDecodeError, LookupError, ValueError):  # e.g. an integer of 5000 digits
        return None, json_response(400, {"detail": "There was an error parsing the body"})
    error = {"type": "json_invalid", "loc": ["body", position], "msg": "JSON decode error",
             "input": {}, "ctx": {"error": reason}}
    return None, validation_error([error])


def json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
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
