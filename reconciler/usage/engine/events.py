"""Events as Polar stores them, parsed from its ingest shape (JSON objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reconciler.rules import EVENT_SOURCES
from reconciler.usage import ingest


class EventError(ValueError):
    """An event that Polar would refuse; the message says which field and why."""


@dataclass(frozen=True)
class Event:
    name: str
    timestamp: datetime  # timezone-aware
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = "user"
    customer_id: str | None = None
    external_customer_id: str | None = None

    @property
    def epoch(self) -> int:
        return int(self.timestamp.timestamp())


def parse_event(data: Any, now: datetime | None = None) -> Event:
    """An :class:`Event` from Polar's ingest shape (``name``, ``timestamp``, ``customer_id``
    or ``external_customer_id``, ``metadata``, optional ``source``), checked by Polar's own
    ingest rules (reconciler/usage/ingest.py); a customer is optional offline."""
    if not isinstance(data, dict):
        raise EventError("an event must be a mapping")
    unknown = set(data) - {"name", "timestamp", "metadata", "source", "customer_id",
                           "external_customer_id", "organization_id", "external_id"}
    if unknown:
        raise EventError(f"unknown event field {min(unknown)!r}")
    source = data.get("source", "user")
    if source not in EVENT_SOURCES:
        raise EventError("source must be 'system' or 'user'")
    polar = {key: value for key, value in data.items() if key != "source"}
    if polar.get("metadata") is None:
        polar.pop("metadata", None)
    if polar.get("timestamp") is None:
        polar.pop("timestamp", None)
    moment = now or datetime.now(UTC)
    try:
        checked = ingest.event(polar, now=moment, customer_required=False)
    except ingest.Invalid as exc:  # Polar's 422 items: the first one, as a line
        raise EventError(ingest.describe(exc.errors)) from None
    return Event(name=checked["name"], timestamp=checked.get("timestamp") or moment,
                 metadata=checked["metadata"], source=source,
                 customer_id=checked.get("customer_id"),
                 external_customer_id=checked.get("external_customer_id"))
