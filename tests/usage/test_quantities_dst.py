"""Hour buckets across DST changes in zones with 30- and 45-minute offsets: PostgreSQL's
date_trunc('hour') keeps each moment's own offset (measured on PostgreSQL 15; the oracle suite
checks the same on generated cases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reconciler.usage.engine import Event, quantities, truncate


def utc(hour: int, minute: int = 0, day: int = 4) -> datetime:
    return datetime(2026, 4, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(("zone", "start", "expected"), [
    # Lord Howe: 2026-04-05 02:00 +11:00 becomes 01:30 +10:30 (at 15:00 UTC)
    ("Australia/Lord_Howe", utc(13), [utc(13), utc(14), utc(14, 30), utc(15, 30), utc(16, 30)]),
    # Chatham: 2026-04-05 03:45 +13:45 becomes 02:45 +12:45 (at 14:00 UTC)
    ("Pacific/Chatham", utc(12), [utc(11, 15), utc(12, 15), utc(13, 15), utc(14, 15),
                                  utc(15, 15)]),
])
def test_each_hour_truncates_as_postgresql(zone: str, start: datetime,
                                           expected: list[datetime]) -> None:
    points = [start + timedelta(hours=h) for h in range(5)]
    assert [truncate(p, "hour", ZoneInfo(zone)) for p in points] == expected


def test_events_fall_in_the_right_hour_across_chatham_dst_end() -> None:
    zone = ZoneInfo("Pacific/Chatham")
    # 03:35 +13:45 and 02:55 +12:45 share the hour of 02:00/03:00 that the series point at
    # 14:00 UTC (02:45 +12:45) truncates to; 03:05 +12:45 is the next point's (measured so
    # on PostgreSQL 15)
    at = [utc(13, 50), utc(14, 10), utc(14, 20)]
    events = [Event("api_call", t, {}, "user", None, "c") for t in at]
    result = quantities({"func": "count"}, events, utc(12), utc(16), "hour", zone)
    assert [(b.timestamp, b.quantity) for b in result.buckets] == [
        (utc(12), 0), (utc(13), 0), (utc(14), 2), (utc(15), 1), (utc(16), 0)]
    assert result.total == 3
