"""What an aggregation makes of the events a meter matched, on Polar's SQL path (as in
server/polar/meter/aggregation.py, ``get_sql_column``/``get_sql_clause``):

- count counts events;
- sum/max/min/avg take an event's number at ``property`` (a dotted metadata path whose JSON
  type is number, cast to a float; or ``timestamp``, its epoch as a BIGINT, cast). Booleans
  and numbers written as strings are not numbers; ``name``/``source`` never hold one. An
  event without a number there is not the meter's at all (:func:`applies`);
- unique counts the distinct JSONB values at ``property`` in the metadata (even for
  ``name``: Polar reads ``metadata.name`` there), 1 and 1.0 being one value.

Nothing to aggregate gives 0 (Polar's COALESCE).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reconciler.model import strip_metadata_prefix
from reconciler.rules import AGGREGATION_FUNCTIONS
from reconciler.usage.engine.events import Event
from reconciler.usage.engine.jsontext import jsonb_key
from reconciler.usage.engine.matching import lookup, matches, sql_epoch

FUNCTIONS = AGGREGATION_FUNCTIONS


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def aggregation_value(aggregation: dict[str, Any], event: Event) -> Any:
    """The value an event contributes under ``aggregation``; None when it contributes none
    (count: always 1)."""
    func = aggregation["func"]
    if func == "count":
        return 1
    prop = strip_metadata_prefix(aggregation["property"])
    if func == "unique":
        return lookup(event.metadata, prop)
    if prop == "timestamp":
        return float(sql_epoch(event.timestamp))
    if prop in ("name", "source"):
        return None
    value = lookup(event.metadata, prop)
    if not _is_number(value):
        return None
    try:
        return float(value)
    except OverflowError:  # beyond a float: PostgreSQL refuses the cast
        return None


def applies(aggregation: dict[str, Any], event: Event) -> bool:
    """Polar's aggregation clause: a sum/max/min/avg meter only takes events holding a
    number at its property; count and unique take every event its filter matched."""
    if aggregation["func"] in ("count", "unique"):
        return True
    return aggregation_value(aggregation, event) is not None


def meter_matches(filter_: dict[str, Any], aggregation: dict[str, Any], event: Event) -> bool:
    """Whether a meter (its filter and aggregation) counts ``event``: what locks a meter,
    lists an event under ``GET /v1/events/?meter_id=``, and feeds its quantities."""
    return matches(filter_, event) and applies(aggregation, event)


def combine(func: str, values: list[Any]) -> int | float:
    """SQL's aggregate ``func`` over values (None already left out); 0 when there are none
    (count: how many values; unique: how many distinct)."""
    if func == "count":
        return len(values)
    if func == "unique":
        return len({jsonb_key(v) for v in values})
    if not values:
        return 0
    if func == "sum":
        return sum(values)
    if func == "max":
        return max(values)
    if func == "min":
        return min(values)
    if func == "avg":
        return sum(values) / len(values)
    raise ValueError(f"unknown aggregation function {func!r}")


def aggregate(aggregation: dict[str, Any], events: Iterable[Event]) -> int | float:
    """The aggregation over ``events`` (already matched by the meter)."""
    values = [v for v in (aggregation_value(aggregation, e) for e in events) if v is not None]
    return combine(aggregation["func"], values)
