"""Dates and times given on the command line, for Polar's quantities."""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reconciler.errors import UserError
from reconciler.rules import EARLIEST_QUANTITIES, MAX_SPAN_DAYS
from reconciler.timestamps import TimestampError, parse_timestamp
from reconciler.usage.engine import within_limits


def parse_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"--timezone: unknown time zone {name!r}: give an IANA name such as UTC or "
            "Europe/Paris"
        ) from None


def parse_moment(text: str, zone: tzinfo, option: str) -> datetime:
    """``YYYY-MM-DD`` (the start of that day in ``zone``) or an ISO 8601 timestamp (without
    an offset, in ``zone``)."""
    try:
        return parse_timestamp(text, naive=zone)
    except TimestampError:
        raise UserError(
            f"{option}: {text!r} is not a date (2026-10-01) or an ISO 8601 timestamp "
            "(2026-10-01T00:00:00Z)"
        ) from None


def check_range(start: datetime, end: datetime, interval: str) -> None:
    """Polar's rules for a quantities request, as clear errors before any request."""
    if start < EARLIEST_QUANTITIES:
        raise UserError("--start: Polar keeps no usage before 2023-01-01")
    if start > end:
        raise UserError(f"--start ({start.isoformat()}) is after --end ({end.isoformat()})")
    if not within_limits(start, end, interval):
        days = end.toordinal() - start.toordinal()
        raise UserError(
            f"--interval {interval} covers at most {MAX_SPAN_DAYS[interval]} days, and "
            f"--start to --end spans {days}: choose a longer interval or a shorter range"
        )
