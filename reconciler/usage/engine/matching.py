"""Does a meter's filter match an event? Polar's rules (NOTES.md, "Events, quantities", checked
against server/polar/meter/filter.py, whose SQL form computes quantities and event lists):

- ``name`` and ``source`` compare with string values only, ``timestamp`` (epoch seconds)
  with integer values only; any other property is a dotted path into the event's metadata.
- A missing metadata key (or a nested object at the path) never matches, ``ne`` included.
- ``eq``/``ne``/``gt``/``gte``/``lt``/``lte``: types must agree (string with string, number
  with integer, boolean with boolean); a type mismatch makes the clause false. Strings
  compare by code point (Polar's database collation may order some strings differently).
- ``like``/``not_like``: case-sensitive substring / not substring of the property's text,
  ``%`` and ``_`` literal. Polar compares texts whatever the types: a number's text (15 is
  ``"15"``), a boolean property's JSON text (``"true"``), a boolean value as ``"t"``/``"f"``
  (its SQL rendering). ``timestamp`` with ``like`` still needs an integer value.
- An empty group matches everything, for ``and`` and ``or`` alike.

A meter matches an event when its filter does *and* the event carries what its aggregation
reads (:func:`meter_matches`): Polar adds that clause to every query of a meter's events.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from reconciler.model import strip_metadata_prefix
from reconciler.usage.engine.events import Event

_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "gte": operator.ge,
    "lt": operator.lt, "lte": operator.le,
}


def lookup(metadata: dict[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` in ``metadata``; None when any part is missing."""
    value: Any = metadata
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
        if value is None:
            return None
    return value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "str"
    return "other"


def _property_text(value: Any) -> str:
    """What PostgreSQL's ``->>`` gives for a JSON value (the text of a non-string)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")  # JSONB keeps plain decimal text
    return json.dumps(value)


def _value_text(value: str | int | bool) -> str:
    """A clause value as Polar renders it for ``like`` (SQL booleans print as t/f)."""
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def clause_matches(clause: dict[str, Any], event: Event) -> bool:
    """Whether one clause (``property``, ``operator``, ``value``) holds for ``event``."""
    prop = strip_metadata_prefix(clause["property"])
    op, expected = clause["operator"], clause["value"]
    if prop in ("name", "source"):
        if not isinstance(expected, str):
            return False
        actual: Any = event.name if prop == "name" else event.source
    elif prop == "timestamp":
        if _kind(expected) != "number":
            return False
        actual = event.epoch
    else:
        actual = lookup(event.metadata, prop)
        if actual is None or _kind(actual) == "other":
            return False
    if op in ("like", "not_like"):
        found = _value_text(expected) in _property_text(actual)
        return found if op == "like" else not found
    compare = _ORDER.get(op)
    if compare is None or _kind(actual) != _kind(expected):
        return False
    try:
        return bool(compare(actual, expected))
    except TypeError:
        return False


def matches(filter_: dict[str, Any], event: Event) -> bool:
    """Whether ``filter_`` (a group: conjunction and clauses, nested) matches ``event``."""
    clauses = filter_.get("clauses") or ()
    if not clauses:
        return True
    results = (
        matches(item, event) if "clauses" in item else clause_matches(item, event)
        for item in clauses
    )
    if filter_.get("conjunction") == "or":
        return any(results)
    return all(results)
