"""Does a meter's filter match an event? Polar's SQL path (server/polar/meter/filter.py
``FilterClause.get_sql_clause``), which computes quantities, customer meters and the lock
check at create. Written from NOTES.md, "What a filter matches", and proved against
PostgreSQL by tests/usage/test_oracle.py.

- ``name`` and ``source`` (event columns): a string value only (else false); compared as text.
- ``timestamp``: an integer value only (a boolean is one, to Python); the event's epoch as
  ``CAST(EXTRACT(epoch FROM timestamp) AS BIGINT)``, which rounds half away from zero.
  ``like``/``not_like`` compare its decimal text. A boolean with any other operator makes
  Polar's query fail (``bigint = boolean``, a 500); here the clause is false.
- Anything else is a dotted path into the metadata (JSONB). A missing key (or JSON null, or a
  path through a non-object) never matches, ``ne`` and ``not_like`` included.
  - ``like``/``not_like``: (not) a case-sensitive substring of the property's JSON text
    (``->>``: a string as it is, a number's digits, ``true``, an object's JSON), the value as
    text (``t``/``f`` for booleans); ``%`` and ``_`` are literal.
  - a string property: compared as text with the value's text (``5`` → ``"5"``, ``true`` →
    ``"t"``): ``n gt 3`` holds for ``"5"`` and ``"abc"``; order is the database's collation
    (PostgreSQL's ``C``: code points; a database under another collation may order some
    strings otherwise).
  - a number property: cast to a float and compared with an integer or boolean value (as
    1/0); a string value: false.
  - a boolean property: compared with a boolean value (false < true); any other value: false.
  - an object or array: false.
- An empty group matches everything, for ``and`` and ``or`` alike.

A meter matches an event when its filter does *and* the event carries what its aggregation
reads (:func:`~reconciler.usage.engine.aggregation.meter_matches`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from reconciler.model import strip_metadata_prefix
from reconciler.rules import LIKE_OPERATORS
from reconciler.usage.engine.events import Event
from reconciler.usage.engine.jsontext import jsonb_text

ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "gte": operator.ge,
    "lt": operator.lt, "lte": operator.le,
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


def sql_epoch(moment: datetime) -> int:
    """``CAST(EXTRACT(epoch FROM moment) AS BIGINT)``: the exact epoch, rounded half away
    from zero."""
    delta = moment - _EPOCH
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    seconds, rest = divmod(abs(micros), 1_000_000)
    rounded = seconds + (1 if rest >= 500_000 else 0)
    return rounded if micros >= 0 else -rounded


def value_text(value: str | int | bool) -> str:
    """A clause value as Polar binds it as text (SQL booleans print as t/f)."""
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _like(op: str, text: str, value: Any) -> bool:
    found = value_text(value) in text
    return found if op == "like" else not found


def _compare(op: str, actual: Any, expected: Any) -> bool:
    compare = ORDER.get(op)
    return compare is not None and bool(compare(actual, expected))


def _metadata_clause(op: str, actual: Any, expected: Any) -> bool:
    if op in LIKE_OPERATORS:
        return _like(op, jsonb_text(actual), expected)
    if isinstance(actual, str):
        return _compare(op, actual, value_text(expected))
    if _is_number(actual):
        if isinstance(expected, str):
            return False
        try:
            return _compare(op, float(actual), int(expected))
        except OverflowError:  # beyond a float: PostgreSQL refuses the cast
            return False
    if isinstance(actual, bool):
        return isinstance(expected, bool) and _compare(op, actual, expected)
    return False  # an object or an array: no branch of Polar's CASE


def clause_matches(clause: dict[str, Any], event: Event) -> bool:
    """Whether one clause (``property``, ``operator``, ``value``) holds for ``event``."""
    prop = strip_metadata_prefix(clause["property"])
    op, expected = clause["operator"], clause["value"]
    if prop in ("name", "source"):
        if not isinstance(expected, str):
            return False
        actual = event.name if prop == "name" else event.source
        return _like(op, actual, expected) if op in LIKE_OPERATORS else _compare(op, actual, expected)
    if prop == "timestamp":
        if not isinstance(expected, int):
            return False
        epoch = sql_epoch(event.timestamp)
        if op in LIKE_OPERATORS:
            return _like(op, str(epoch), expected)
        return not isinstance(expected, bool) and _compare(op, epoch, expected)
    actual = lookup(event.metadata, prop)
    return actual is not None and _metadata_clause(op, actual, expected)


def evaluate(
    filter_: dict[str, Any], event: Event, clause: Callable[[dict[str, Any], Event], bool]
) -> bool:
    """A filter group (conjunction and clauses, nested) with ``clause`` for its leaves."""
    clauses = filter_.get("clauses") or ()
    if not clauses:
        return True
    results = (
        evaluate(item, event, clause) if "clauses" in item else clause(item, event)
        for item in clauses
    )
    if filter_.get("conjunction") == "or":
        return any(results)
    return all(results)


def matches(filter_: dict[str, Any], event: Event) -> bool:
    """Whether ``filter_`` matches ``event`` on Polar's SQL path."""
    return evaluate(filter_, event, clause_matches)
