"""What an aggregation makes of the events a filter matched (Polar's rules):
count counts events; sum/max/min/avg take only events whose property is a number (booleans
excluded); unique counts the distinct values present. Nothing to aggregate gives 0."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from reconciler.engine.events import Event
from reconciler.engine.matching import lookup
from reconciler.model import strip_metadata_prefix


def aggregation_value(aggregation: dict[str, Any], event: Event) -> Any:
    """The value an event contributes under ``aggregation``; None when it contributes none
    (count: always 1)."""
    func = aggregation["func"]
    if func == "count":
        return 1
    prop = strip_metadata_prefix(aggregation["property"])
    if prop == "timestamp":
        value: Any = event.epoch
    elif prop in ("name", "source"):
        value = event.name if prop == "name" else event.source
    else:
        value = lookup(event.metadata, prop)
    if func == "unique":
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _distinct(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON numbers: 1 and 1.0 are one value
    return json.dumps(value, sort_keys=True)


def aggregate(aggregation: dict[str, Any], events: Iterable[Event]) -> int | float:
    """The aggregation over ``events`` (already filtered by the meter)."""
    func = aggregation["func"]
    values = [v for v in (aggregation_value(aggregation, e) for e in events) if v is not None]
    if func == "count":
        return len(values)
    if func == "unique":
        return len({_distinct(v) for v in values})
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
