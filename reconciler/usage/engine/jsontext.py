"""Event metadata values as PostgreSQL's JSONB holds them: their text (what ``->>`` gives)
and their equality (what ``COUNT(DISTINCT ...)`` counts as one value).

Polar stores an event's metadata in a JSONB column, written from Python's ``json.dumps``:
JSONB keeps a number as a ``numeric`` (``1.0`` stays ``1.0``, ``1e20`` becomes
``100000000000000000000``), orders an object's keys by length and then bytes, and prints
objects as ``{"k": v, "kk": w}`` and arrays as ``[1, 2]``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def number_text(value: float) -> str:
    """A JSON number as PostgreSQL's numeric prints it (plain decimal digits)."""
    if isinstance(value, int):
        return str(value)
    return format(Decimal(repr(value)), "f")


def _key_order(key: str) -> tuple[int, bytes]:
    raw = key.encode("utf-8")
    return len(raw), raw


def jsonb_text(value: Any) -> str:
    """``->>``'s text of a JSON value: a string as it is, anything else its JSONB output."""
    if isinstance(value, str):
        return value
    return _jsonb_out(value)


def _jsonb_out(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return number_text(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: _key_order(item[0]))
        inner = ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {_jsonb_out(v)}" for k, v in items)
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_jsonb_out(v) for v in value) + "]"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def as_stored(value: Any) -> Any:
    """The value as Python reads it back from the JSONB column (keys in JSONB's order,
    ``1e20`` an integer): what Polar's billing job compares."""
    if isinstance(value, dict | list | float):
        return json.loads(_jsonb_out(value))
    return value


def jsonb_key(value: Any) -> Any:
    """A hashable key equal for exactly the values JSONB finds equal (``1`` and ``1.0`` are
    one number; ``"1"`` is another value; objects and arrays compare by content)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, int | float):
        return ("number", Decimal(repr(value) if isinstance(value, float) else value))  # by value
    if isinstance(value, dict):
        return ("object", frozenset((k, jsonb_key(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("array", tuple(jsonb_key(v) for v in value))
    raise TypeError(f"not a JSON value: {type(value).__name__}")
