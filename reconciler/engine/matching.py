"""Does a meter's filter match an event? Polar's rules (NOTES.md, "Events, quantities"):

- ``name`` and ``source`` compare with string values only, ``timestamp`` (epoch seconds)
  with integer values only; any other property is a dotted path into the event's metadata.
- A missing metadata key never matches, ``ne`` included.
- Types must agree (string with string, number with integer, boolean with boolean); a type
  mismatch makes the clause false, whatever the operator.
- ``like``/``not_like``: case-sensitive substring / not substring, ``%`` and ``_`` literal.
- An empty group matches everything, for ``and`` and ``or`` alike.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from reconciler.engine.events import Event
from reconciler.model import strip_metadata_prefix

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


def clause_matches(clause: dict[str, Any], event: Event) -> bool:
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
        if actual is None:
            return False
    if op == "like":
        return isinstance(actual, str) and isinstance(expected, str) and expected in actual
    if op == "not_like":
        return isinstance(actual, str) and isinstance(expected, str) and expected not in actual
    if _kind(actual) != _kind(expected) or _kind(actual) == "other":
        return False
    compare = _ORDER.get(op)
    if compare is None:
        return False
    try:
        return bool(compare(actual, expected))
    except TypeError:
        return False


def matches(filter_: dict[str, Any], event: Event) -> bool:
    """Whether ``filter_`` (a group: conjunction and clauses, nested) matches ``event``."""
    results = (
        matches(item, event) if "clauses" in item else clause_matches(item, event)
        for item in filter_.get("clauses") or ()
    )
    if not filter_.get("clauses"):
        return True
    if filter_.get("conjunction") == "or":
        return any(results)
    return all(results)
