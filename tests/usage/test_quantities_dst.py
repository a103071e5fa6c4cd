"""Hour buckets across DST changes in zones with 30- and 45-minute offsets: PostgreSQL's
date_trunc('hour') keeps each moment's own offset (measured on PostgreSQL 15; the oracle suite
checks the same on generated cases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reconciler.usage.engine import Event, quantities, truncate
from reconciler.usage.engine.quantities import series


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


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(("zone", "start", "end", "expected"), [
    # Chatham, 5 April: 03:15 occurs at +13:45 and again at +12:45; a day's step from 03:15
    # the day before lands on the second (the offset after the change)
    ("Pacific/Chatham", "2026-04-04T03:15+13:45", "2026-04-05T03:15+12:45",
     ["2026-04-03T13:30Z", "2026-04-04T14:30Z"]),
    # ... and a step onto the first 03:15 is past the end, so the series stops
    ("Pacific/Chatham", "2026-04-04T03:15+13:45", "2026-04-05T03:15+13:45",
     ["2026-04-03T13:30Z"]),
    # Paris, 25 October: 02:30 is read at +01:00, after the change
    ("Europe/Paris", "2026-10-24T02:30+02:00", "2026-10-26T00:00+01:00",
     ["2026-10-24T00:30Z", "2026-10-25T01:30Z"]),
    # Paris, 29 March: 02:30 does not exist; it is read at +01:00, before the change
    ("Europe/Paris", "2026-03-28T02:30+01:00", "2026-03-30T00:00+02:00",
     ["2026-03-28T01:30Z", "2026-03-29T01:30Z"]),
    # Havana, 1 November: midnight occurs twice (01:00 goes back to 00:00)
    ("America/Havana", "2026-10-31T00:00-04:00", "2026-11-02T00:00-05:00",
     ["2026-10-31T04:00Z", "2026-11-01T05:00Z", "2026-11-02T05:00Z"]),
])
def test_each_day_step_lands_as_postgresql(zone: str, start: str, end: str,
                                           expected: list[str]) -> None:
    """generate_series(start, end, '1 day'), measured on PostgreSQL 15 (the oracle suite's
    test_dst_edges_on_postgresql runs the same on a real one)."""
    points = series(at(start), at(end), "day", ZoneInfo(zone))
    assert points == [at(t) for t in expected]


@pytest.mark.parametrize(("zone", "moment", "interval", "expected"), [
    # Havana's repeated midnight is read after the change: an event in the first hour of
    # 1 November (at -04:00) belongs to a day that starts after it
    ("America/Havana", "2026-11-01T04:30Z", "day", "2026-11-01T05:00Z"),
    ("America/Havana", "2026-11-01T05:30Z", "day", "2026-11-01T05:00Z"),
    ("America/Havana", "2026-11-01T04:30Z", "month", "2026-11-01T05:00Z"),
    ("America/Havana", "2026-11-01T04:30Z", "week", "2026-10-26T04:00Z"),
    # Havana's skipped midnight (8 March) is read before the change
    ("America/Havana", "2026-03-08T06:30Z", "day", "2026-03-08T05:00Z"),
])
def test_days_start_as_postgresql_reads_their_midnight(zone: str, moment: str, interval: str,
                                                       expected: str) -> None:
    assert truncate(at(moment), interval, ZoneInfo(zone)) == at(expected)
