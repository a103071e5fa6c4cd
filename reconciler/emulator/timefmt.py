"""Times the way Polar's answers write them (pydantic's JSON of a UTC datetime), and the
moments of the emulator's state file, read with the project's one timestamp parser."""

from __future__ import annotations

from datetime import datetime

from reconciler.timestamps import json_timestamp as timestamp
from reconciler.timestamps import parse_timestamp

__all__ = ["moment", "optional_moment", "optional_timestamp", "timestamp"]


def moment(text: str) -> datetime:
    """A moment of the state file (always written with its offset)."""
    return parse_timestamp(text)


def optional_moment(text: str | None) -> datetime | None:
    return None if text is None else parse_timestamp(text)


def optional_timestamp(value: datetime | None) -> str | None:
    return None if value is None else timestamp(value)
