"""Does a meter match an event on Polar's Python path? The billing job (``FilterClause.matches``
and the aggregations' ``matches`` in server/polar/meter/) turns matching events into meter
events, billing entries and a meter's lock, with plain Python comparisons:

- ``name``/``source``: a string value only; ``timestamp``: an integer value only (a boolean
  counts as one), against ``int(timestamp)`` (truncated, not rounded).
- metadata: a missing key (or null) never matches; otherwise Python's ``==``, ``!=``, ``<``…
  on the values as they are: ``True == 1``, ``"5" != 5`` (so ``ne`` holds), ``"5" > 3`` is a
  TypeError and so false; ``like`` is ``str(value) in str(actual)`` (``str(True)`` is
  ``"True"``, a dict prints as Python's repr).
- sum/max/min/avg take an event whose value at the property is a number (not a boolean), or
  any event for ``name``, ``source`` and ``timestamp``; count and unique take every event.

The same event can therefore be counted in the dashboard (the SQL path,
:mod:`~reconciler.usage.engine.matching`) and not billed, or the reverse.
"""

from __future__ import annotations

from typing import Any

from reconciler.model import strip_metadata_prefix
from reconciler.rules import EVENT_COLUMNS, NUMBER_FUNCTIONS
from reconciler.usage.engine.events import Event
from reconciler.usage.engine.jsontext import as_stored
from reconciler.usage.engine.matching import ORDER, evaluate, lookup


def _compare(op: str, actual: Any, expected: Any) -> bool:
    try:
        if op == "like":
            return str(expected) in str(actual)
        if op == "not_like":
            return str(expected) not in str(actual)
        compare = ORDER.get(op)
        return compare is not None and bool(compare(actual, expected))
    except TypeError:
        return False


def billing_clause_matches(clause: dict[str, Any], event: Event) -> bool:
    """Whether one clause holds for ``event`` under Python's comparisons."""
    prop = strip_metadata_prefix(clause["property"])
    op, expected = clause["operator"], clause["value"]
    actual: Any
    if prop in ("name", "source"):
        if not isinstance(expected, str):
            return False
        actual = event.name if prop == "name" else event.source
    elif prop == "timestamp":
        if not isinstance(expected, int):
            return False
        actual = event.epoch
    else:
        actual = as_stored(lookup(event.metadata, prop))
        if actual is None:
            return False
    return _compare(op, actual, expected)


def billing_matches(filter_: dict[str, Any], event: Event) -> bool:
    """Whether ``filter_`` matches ``event`` on Polar's Python (billing) path."""
    return evaluate(filter_, event, billing_clause_matches)


def billing_applies(aggregation: dict[str, Any], event: Event) -> bool:
    """The aggregation's own condition on the Python path."""
    if aggregation["func"] not in NUMBER_FUNCTIONS:
        return True
    prop = strip_metadata_prefix(aggregation["property"])
    if prop in EVENT_COLUMNS:
        return True
    value = lookup(event.metadata, prop)
    return isinstance(value, int | float) and not isinstance(value, bool)


def billing_meter_matches(
    filter_: dict[str, Any], aggregation: dict[str, Any], event: Event
) -> bool:
    """Whether Polar's billing job makes a meter event of ``event`` for this meter."""
    return billing_matches(filter_, event) and billing_applies(aggregation, event)
