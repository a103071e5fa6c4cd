"""The differential oracle: generated events and meters, each filter run as Polar's SQL on a
real PostgreSQL (tests/support/polar_sql.py), and the engine must agree on the matched events,
every bucket of the quantities and their total, across time zones with DST changes and
30/45-minute offsets. `make oracle` runs just this; `.ci/run` installs PostgreSQL.

Without PostgreSQL the test passes and the run's summary says the oracle did not run; under
CI=true it fails.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from reconciler.rules import AGGREGATION_FUNCTIONS
from reconciler.usage.engine import Event, meter_matches, quantities, truncate
from reconciler.usage.engine.quantities import series
from tests.support import postgres
from tests.support.polar_sql import TABLE, meter_where, quantities_sql
from tests.support.strategies import (
    ORACLE_EPOCHS,
    oracle_aggregations,
    oracle_filters,
    oracle_metadata,
)

pytestmark = pytest.mark.oracle

ZONES = ("UTC", "Europe/Paris", "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kathmandu",
         "America/Havana")
#: Twelve days around each DST change of 2026 in those zones: Paris (29 March, 25 October),
#: Lord Howe and Chatham (falling back 5 April, springing forward late September: 30- and
#: 45-minute steps), Havana (8 March, midnight skipped; 1 November, from 01:00 back to a
#: midnight that so occurs twice). A series stepping onto a repeated wall time, or a day
#: starting at one, takes the later offset (tests/usage/test_quantities_dst.py).
WINDOW = datetime.fromtimestamp(ORACLE_EPOCHS[0], UTC)
WINDOWS = (WINDOW, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 9, 22, tzinfo=UTC),
           datetime(2026, 10, 22, tzinfo=UTC))
#: ``ORACLE_EXAMPLES=N make oracle`` explores N random examples (a new seed each run)
#: instead of the fixed 300 that ``make test`` runs.
EXAMPLES = os.environ.get("ORACLE_EXAMPLES")
SPAN = {"hour": 3, "day": 12, "week": 20, "month": 70, "year": 800}


@pytest.fixture(scope="module")
def connection() -> Iterator[Any]:
    bindir = postgres.find_bindir()
    if bindir is None:
        yield None
        return
    import psycopg

    with postgres.cluster(bindir) as host:
        conn = None
        for _ in range(100):
            try:
                conn = psycopg.connect(host=host, port=postgres.PORT, user=postgres.USER,
                                       dbname="postgres", autocommit=True)
                break
            except psycopg.OperationalError:
                import time

                time.sleep(0.1)
        assert conn is not None, "could not connect to the oracle's PostgreSQL"
        with conn:
            conn.execute(TABLE)
            yield conn


def _unavailable() -> None:
    reason = "PostgreSQL's server is not installed (.ci/run installs it: apt-get install postgresql)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    postgres.NOT_RUN.append(reason)




@functools.cache
def transitions(zone: str, window: datetime) -> list[datetime]:
    """The moments in the 12 days from ``window`` where ``zone``'s offset changes (a scan
    of 1,152 quarter hours: once per place, not per example)."""
    tz, found = ZoneInfo(zone), []
    step = timedelta(minutes=15)
    for i in range(12 * 96):
        at = window + i * step
        if (at + step).astimezone(tz).utcoffset() != at.astimezone(tz).utcoffset():
            found.append(at + step)
    return found


#: (zone, window) pairs: every zone in the main window, and each zone in a window where it
#: changes its offset.
PLACES = [(zone, WINDOW) for zone in ZONES] + [
    (zone, window) for window in WINDOWS[1:] for zone in ZONES if transitions(zone, window)]


def moments(window: datetime, anchors: list[datetime]) -> st.SearchStrategy[datetime]:
    """Times in the 12 days from ``window``, often within two hours of a DST change."""
    micros = st.sampled_from([0, 0, 499999, 500000, 600000])
    anywhere = st.builds(lambda s, m: window + timedelta(seconds=s, microseconds=m),
                         st.integers(0, 12 * 86400), micros)
    if not anchors:
        return anywhere
    near = st.builds(lambda a, s, m: a + timedelta(seconds=s, microseconds=m),
                     st.sampled_from(anchors), st.integers(-7200, 7200), micros)
    return st.one_of(anywhere, near)


def starts(window: datetime, anchors: list[datetime]) -> st.SearchStrategy[datetime]:
    """A series' start: on the hour in the window, or some days (whole, plus up to 90
    minutes either way) before a DST change, so that a day's step lands in or near it."""
    anywhere = st.builds(lambda h: window + timedelta(hours=h), st.integers(-30, 11 * 24))
    if not anchors:
        return anywhere
    before = st.builds(lambda a, d, m: a - timedelta(days=d, minutes=m),
                       st.sampled_from(anchors), st.integers(0, 3), st.integers(-75, 75))
    return st.one_of(anywhere, before)

#: (customer_id, external_customer_id): Polar groups per-customer aggregation by the event's
#: own customer id, else its external id text; it never links a customer's two identifiers
#: (so the same customer under both forms two groups: the emulator's tests show that part).
CUSTOMERS = [(None, "acme"), ("2a6c1f04-3a51-4f6e-9c39-4f1b0c5e8a11", None), (None, "zeta"),
             ("7f3e2b9c-5d14-4c8a-b6e2-0a9d8c7b6e55", None)]


def events_lists(window: datetime, anchors: list[datetime]) -> st.SearchStrategy[list[Event]]:
    return st.lists(
        st.builds(lambda name, source, at, metadata, customer: Event(name, at, metadata, source,
                                                                     *customer),
                  st.sampled_from(["api_call", "llm", "api"]), st.sampled_from(["user", "system"]),
                  moments(window, anchors), oracle_metadata(), st.sampled_from(CUSTOMERS)),
        max_size=8,
    )


customer_aggregations = st.one_of(st.none(), st.sampled_from(AGGREGATION_FUNCTIONS))


def _load(conn: Any, events: list[Event]) -> None:
    from psycopg.types.json import Jsonb

    conn.execute("TRUNCATE events")
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO events VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(i, e.name, e.source, e.timestamp, Jsonb(e.metadata), e.customer_id,
              e.external_customer_id) for i, e in enumerate(events)])


def _same(a: float, b: float) -> bool:
    return math.isclose(float(a), float(b), rel_tol=1e-13, abs_tol=1e-9)


def _check(conn: Any, events: list[Event], filter_: dict[str, Any], aggregation: dict[str, Any],
           zone: str, interval: str, start: datetime, days: int,
           customer_aggregation: str | None = None) -> None:
    _load(conn, events)
    where, params = meter_where(filter_, aggregation)
    rows = conn.execute(f"SELECT id FROM events WHERE {where} ORDER BY id", params).fetchall()
    matched = [i for i, e in enumerate(events) if meter_matches(filter_, aggregation, e)]
    assert [r[0] for r in rows] == matched, (filter_, aggregation)
    end = start + timedelta(days=days)
    conn.execute(f"SET TIME ZONE '{zone}'")
    sql, params = quantities_sql(filter_, aggregation, interval, customer_aggregation)
    expected = conn.execute(sql, [start, end, *params]).fetchall()
    result = quantities(aggregation, [events[i] for i in matched], start, end, interval,
                        ZoneInfo(zone), customer_aggregation)
    # (in UTC: an aware time in a fold never equals one of another zone, PEP 495)
    assert [b.timestamp for b in result.buckets] == [r[0].astimezone(UTC) for r in expected]
    for bucket, row in zip(result.buckets, expected, strict=True):
        assert _same(bucket.quantity, row[1]), (bucket, row, filter_, aggregation,
                                                customer_aggregation)
    assert _same(result.total, expected[-1][2] if expected else 0), (
        filter_, aggregation, customer_aggregation)


def test_engine_agrees_with_postgresql(connection: Any) -> None:
    if connection is None:
        _unavailable()
        return

    @settings(max_examples=int(EXAMPLES or 300), deadline=None, derandomize=EXAMPLES is None,
              database=None)
    @given(filter_=oracle_filters, aggregation=oracle_aggregations, place=st.sampled_from(PLACES),
           interval=st.sampled_from(list(SPAN)), customer_aggregation=customer_aggregations,
           data=st.data())
    def check(filter_: dict[str, Any], aggregation: dict[str, Any], place: tuple[str, datetime],
              interval: str, customer_aggregation: str | None, data: st.DataObject) -> None:
        zone, window = place
        anchors = transitions(zone, window)
        events = data.draw(events_lists(window, anchors), label="events")
        start = data.draw(starts(window, anchors), label="start")
        days = data.draw(st.integers(0, SPAN[interval] if interval != "hour" else 6), label="days")
        note(f"events={events!r} start={start!r} days={days!r}")
        _check(connection, events, filter_, aggregation, zone, interval, start, days,
               customer_aggregation)

    check()


NOTES_CASES = [  # NOTES.md's measured examples, each must match on PostgreSQL and here
    ({"n": "5"}, {"property": "n", "operator": "eq", "value": 5}),
    ({"n": "5"}, {"property": "n", "operator": "gt", "value": 3}),
    ({"n": "abc"}, {"property": "n", "operator": "gt", "value": 3}),
    ({"n": "abc"}, {"property": "n", "operator": "ne", "value": 5}),
    ({"n": "10"}, {"property": "n", "operator": "ne", "value": 5}),
    ({"flag": "t"}, {"property": "flag", "operator": "eq", "value": True}),
    ({"n": 1}, {"property": "n", "operator": "eq", "value": True}),
    ({"_llm": {"model": "gpt-4o"}}, {"property": "_llm", "operator": "like", "value": "gpt"}),
]


@pytest.mark.parametrize(("metadata", "clause"), NOTES_CASES)
def test_notes_examples_match_on_postgresql(connection: Any, metadata: dict[str, Any],
                                            clause: dict[str, Any]) -> None:
    if connection is None:
        _unavailable()
        return
    filter_ = {"conjunction": "and", "clauses": [clause]}
    ev = Event("api_call", WINDOW, metadata, "user", None, "c")
    assert meter_matches(filter_, {"func": "count"}, ev)
    _check(connection, [ev], filter_, {"func": "count"}, "UTC", "day", WINDOW, 1)


def test_customer_aggregation_groups_by_either_identifier_on_postgresql(connection: Any) -> None:
    """Two customer ids and one external id on the same day: three groups, whatever customer
    the external id belongs to."""
    if connection is None:
        _unavailable()
        return
    ids = [c for c, _ in CUSTOMERS if c is not None]
    events = [Event("api_call", WINDOW, {}, "user", ids[0], None),
              Event("api_call", WINDOW, {}, "user", ids[0], None),
              Event("api_call", WINDOW, {}, "user", ids[1], None),
              Event("api_call", WINDOW, {}, "user", None, "acme")]
    every = {"conjunction": "and", "clauses": []}
    for function, expected in (("count", 3), ("max", 2), ("sum", 4), ("unique", 2)):
        result = quantities({"func": "count"}, events, WINDOW, WINDOW, "day", UTC, function)
        assert result.buckets[0].quantity == expected, function
        _check(connection, events, every, {"func": "count"}, "UTC", "day", WINDOW, 0, function)


#: Series and truncations at DST changes, as tests/usage/test_quantities_dst.py expects them
#: (each measured on PostgreSQL 15): here the same against this machine's PostgreSQL.
DST_SERIES = [("Pacific/Chatham", "2026-04-04T03:15+13:45", "2026-04-05T03:15+12:45", "day"),
              ("Pacific/Chatham", "2026-04-04T03:15+13:45", "2026-04-05T03:15+13:45", "day"),
              ("Europe/Paris", "2026-10-24T02:30+02:00", "2026-10-26T00:00+01:00", "day"),
              ("Europe/Paris", "2026-03-28T02:30+01:00", "2026-03-30T00:00+02:00", "day"),
              ("America/Havana", "2026-10-31T00:00-04:00", "2026-11-02T00:00-05:00", "day"),
              ("America/Havana", "2026-10-01T00:00-04:00", "2026-12-01T00:00-05:00", "month"),
              ("Australia/Lord_Howe", "2026-03-29T01:45+11:00", "2026-04-12T00:00+10:30", "week")]
DST_TRUNCATIONS = [("America/Havana", "2026-11-01T04:30Z"), ("America/Havana", "2026-11-01T05:30Z"),
                   ("America/Havana", "2026-03-08T06:30Z"), ("Pacific/Chatham", "2026-04-04T14:10Z"),
                   ("Australia/Lord_Howe", "2026-04-04T15:10Z")]


@pytest.mark.parametrize(("zone", "start", "end", "interval"), DST_SERIES)
def test_dst_series_on_postgresql(connection: Any, zone: str, start: str, end: str,
                                  interval: str) -> None:
    if connection is None:
        _unavailable()
        return
    first, last = datetime.fromisoformat(start), datetime.fromisoformat(end)
    connection.execute(f"SET TIME ZONE '{zone}'")
    rows = connection.execute(
        f"SELECT generate_series(%s::timestamptz, %s::timestamptz, '1 {interval}'::interval)",
        [first, last]).fetchall()
    assert series(first, last, interval, ZoneInfo(zone)) == [r[0].astimezone(UTC) for r in rows]


@pytest.mark.parametrize(("zone", "moment"), DST_TRUNCATIONS)
@pytest.mark.parametrize("interval", ["hour", "day", "week", "month", "year"])
def test_dst_truncation_on_postgresql(connection: Any, zone: str, moment: str,
                                      interval: str) -> None:
    if connection is None:
        _unavailable()
        return
    at = datetime.fromisoformat(moment)
    connection.execute(f"SET TIME ZONE '{zone}'")
    (row,) = connection.execute(f"SELECT date_trunc('{interval}', %s::timestamptz)",
                                [at]).fetchall()
    assert truncate(at, interval, ZoneInfo(zone)) == row[0].astimezone(UTC)
