"""Polar's meter semantics, evaluated locally: which events a meter matches, what its
aggregation makes of them, and its quantities over time. One engine for the emulator,
`polar-meters test` and `plan --events`, so they cannot disagree.

Two paths, as inside Polar: :func:`matches`/:func:`meter_matches` are its SQL path (quantities,
customer meters, the lock check at create); :func:`billing_matches`/:func:`billing_meter_matches`
its billing job's Python comparisons (billing entries, the lock); :func:`divergence` says
where an event falls differently.

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
from reconciler.usage.engine.billing import (
    billing_applies,
    billing_clause_matches,
    billing_matches,
    billing_meter_matches,
)
from reconciler.usage.engine.divergence import Divergence, divergence
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
    "Bucket",
    "Divergence",
    "Event",
    "EventError",
    "Quantities",
    "aggregate",
    "aggregation_value",
    "applies",
    "billing_applies",
    "billing_clause_matches",
    "billing_matches",
    "billing_meter_matches",
    "clause_matches",
    "combine",
    "divergence",
    "matches",
    "meter_matches",
    "parse_event",
    "quantities",
    "series",
    "truncate",
    "within_limits",
]
