"""Events as Polar stores them, parsed from its ingest shape (JSON objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reconciler.rules import EVENT_NAME_MAX, EVENT_SOURCES
from reconciler.timestamps import TimestampError
from reconciler.timestamps import parse_timestamp as parse_moment


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


def parse_timestamp(value: Any) -> datetime:
    """An ISO 8601 timestamp with a timezone, as Polar's ingest requires."""
    try:
        return parse_moment(value)
    except TimestampError as exc:
        raise EventError(f"timestamp {exc}") from None


def _check_metadata(metadata: Any, path: str = "metadata") -> dict[str, Any]:
    if not isinstance(metadata, dict):
        raise EventError(f"{path} must be a mapping")
    for key, value in metadata.items():
        if not isinstance(key, str):
            raise EventError(f"{path} keys must be strings")
        if isinstance(value, dict):
            _check_metadata(value, f"{path}.{key}")
        elif not isinstance(value, str | int | float | bool):
            raise EventError(f"{path}.{key} must be a string, number or boolean")
    return metadata


def parse_event(data: Any, now: datetime | None = None) -> Event:
    """An :class:`Event` from Polar's ingest shape (``name``, ``timestamp``, ``customer_id``
    or ``external_customer_id``, ``metadata``, optional ``source``)."""
    if not isinstance(data, dict):
        raise EventError("an event must be a mapping")
    unknown = set(data) - {"name", "timestamp", "metadata", "source", "customer_id",
                           "external_customer_id", "organization_id", "external_id"}
    if unknown:
        raise EventError(f"unknown event field {sorted(unknown)[0]!r}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise EventError("name is required and must be a non-empty string")
    if len(name) > EVENT_NAME_MAX:
        raise EventError(f"name is longer than {EVENT_NAME_MAX} characters")
    source = data.get("source", "user")
    if source not in EVENT_SOURCES:
        raise EventError("source must be 'system' or 'user'")
    if "timestamp" in data and data["timestamp"] is not None:
        timestamp = parse_timestamp(data["timestamp"])
    else:
        timestamp = now or datetime.now(UTC)
    customer_id = data.get("customer_id")
    external = data.get("external_customer_id")
    for label, value in (("customer_id", customer_id), ("external_customer_id", external)):
        if value is not None and not isinstance(value, str):
            raise EventError(f"{label} must be a string")
    metadata = _check_metadata(data.get("metadata") or {})
    return Event(name=name, timestamp=timestamp, metadata=metadata, source=source,
                 customer_id=customer_id, external_customer_id=external)
