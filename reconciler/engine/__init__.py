"""Polar's meter semantics, evaluated locally: which events a filter matches and what an
aggregation makes of them. One engine for the emulator, `polar-meters test` and
`plan --events`, so they cannot disagree.

Filters and aggregations are in Polar's API shape (as in the model's specs); events are
:class:`~reconciler.engine.events.Event` values (see :func:`events.parse_event`).
"""

from reconciler.engine.aggregation import aggregate, aggregation_value
from reconciler.engine.events import Event, EventError, parse_event
from reconciler.engine.matching import matches

__all__ = ["Event", "EventError", "aggregate", "aggregation_value", "matches", "parse_event"]
