"""Polar's meter semantics, evaluated locally: which events a meter matches, what its
aggregation makes of them, and its quantities over time. One engine for the emulator,
`polar-meters test` and `plan --events`, so they cannot disagree.

Filters and aggregations are in Polar's API shape (as in the model's specs); events are
:class:`~reconciler.usage.engine.events.Event` values (see :func:`events.parse_event`).
"""

from reconciler.usage.engine.aggregation import (
    aggregate,
    aggregation_value,
    applies,
    combine,
    meter_matches,
)
from reconciler.usage.engine.events import Event, EventError, parse_event
from reconciler.usage.engine.matching import clause_matches, matches
from reconciler.usage.engine.quantities import (
    Bucket,
    Quantities,
    quantities,
    series,
    truncate,
    within_limits,
)

__all__ = [
    "Bucket", "Event", "EventError", "Quantities", "aggregate",
    "aggregation_value", "applies", "clause_matches", "combine", "matches", "meter_matches",
    "parse_event", "quantities", "series", "truncate", "within_limits",
]
