"""Times the way Polar's answers write them (pydantic's JSON of a UTC datetime)."""

from __future__ import annotations

from datetime import UTC, datetime


def timestamp(moment: datetime) -> str:
    """A UTC time the way pydantic writes it: microseconds only when non-zero, then `Z`."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
