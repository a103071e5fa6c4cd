"""The one timestamp parser (and the one JSON format for a moment).

Polar reads date-times as pydantic does: RFC 3339 text (``2026-10-01T08:00:00Z``, a space,
``t`` or ``_`` instead of ``T``, fractions up to microseconds, an offset ``Z``/``+02:00``/
``+0200``/``+02``) or a date alone (its midnight), and where it accepts numbers, Unix time
(seconds; beyond ±2e10, milliseconds). Each caller says what a text without an offset means:
refused (Polar's AwareDatetime: events, quantities' query) or read in a given zone (the
command line's ``--start``, a state file written in UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Any

_TEXT = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[Tt _]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?"
    r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?"
)
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
#: pydantic reads a Unix time beyond this (in absolute value) as milliseconds.
_MILLISECONDS_FROM = 2e10

#: Kinds of :class:`TimestampError`.
WRONG_TYPE, BAD_FORMAT, NO_TIMEZONE = "type", "format", "timezone"


class TimestampError(ValueError):
    """Not a timestamp under the caller's policy; ``kind`` says why (type, format,
    timezone) and the message says it in words."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _from_epoch(number: float) -> datetime:
    seconds = number / 1000 if abs(number) > _MILLISECONDS_FROM else number
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise TimestampError(BAD_FORMAT, f"{number!r} is out of range for a Unix time") from None


def _from_text(text: str) -> datetime:
    if not _TEXT.fullmatch(text):
        raise TimestampError(BAD_FORMAT, f"{text!r} is not an ISO 8601 date-time")
    normal = text.replace("z", "Z").replace(",", ".")
    if len(normal) > 10:
        normal = normal[:10] + "T" + normal[11:]
    head, dot, rest = normal.partition(".")
    if dot:  # Python reads at most 6 fraction digits; pydantic truncates the rest
        digits = re.match(r"\d+", rest)
        assert digits is not None
        fraction = digits.group()
        normal = f"{head}.{fraction[:6].ljust(6, '0')}{rest[len(fraction):]}"
    try:
        return datetime.fromisoformat(normal)
    except ValueError:
        raise TimestampError(BAD_FORMAT, f"{text!r} is not a valid date-time") from None


def parse_timestamp(value: Any, naive: tzinfo | None = None, epoch: bool = False) -> datetime:
    """A timezone-aware datetime from ``value`` (a string; a number or a digit string too
    with ``epoch``; a datetime passes). Without an offset: in ``naive``, or refused when it
    is None. Raises :class:`TimestampError`."""
    if isinstance(value, datetime):
        moment = value
    elif epoch and isinstance(value, int | float) and not isinstance(value, bool):
        return _from_epoch(value)
    elif isinstance(value, str):
        text = value.strip()
        if epoch and _NUMBER.fullmatch(text):
            return _from_epoch(float(text))
        moment = _from_text(text)
    else:
        raise TimestampError(WRONG_TYPE, "a timestamp must be an ISO 8601 date-time string")
    if moment.tzinfo is not None:
        return moment
    if naive is None:
        raise TimestampError(
            NO_TIMEZONE, f"{value!r} has no timezone: add Z or an offset such as +02:00"
        )
    return moment.replace(tzinfo=naive)


def json_timestamp(moment: datetime) -> str:
    """A moment in JSON output, always this one way (as Polar's answers write them):
    UTC, microseconds only when not zero, then ``Z``: ``2026-10-01T08:00:00Z``."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
