"""A meter's quantities over time, bucketed as Polar's ``GET /v1/meters/{id}/quantities``
computes them (server/polar/meter/service.py ``get_quantities``, kit/time_queries.py):

- The series runs from ``start`` by steps of one ``interval`` while it stays <= ``end``
  (PostgreSQL's ``generate_series`` in the request's time zone: an hour is 60 minutes, a day
  or week follows the calendar, so a day across a DST change lasts 23 or 25 hours, a month
  from the 31st lands on the last day of the next one and stays on that day). A step that
  lands on a wall time a DST change repeats takes the later offset, one it skips the
  earlier (:func:`local_time`), as do midnights when a day is truncated.
- Each point's quantity aggregates the events whose timestamp truncates (in that zone) to
  the same hour/day/week (Monday)/month/year as the point. Events are not cut at ``start``
  or ``end``: the first and last buckets hold their whole period.
- With ``customer_aggregation``, a bucket first aggregates each customer's events, then
  combines those per-customer quantities with that function.
- ``total``: count/sum meters add their buckets; max/min meters take the max/min of the
  non-empty buckets; avg/unique meters aggregate every event given, whatever its time.
- Span limits: at most 7 days by the hour, 366 by the day, 371 by the week, 1460 by the
  month, 3650 by the year, counted between the two timestamps' own calendar dates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from reconciler.rules import MAX_SPAN_DAYS
from reconciler.usage.engine.aggregation import aggregation_value, combine
from reconciler.usage.engine.events import Event


def within_limits(start: datetime, end: datetime, interval: str) -> bool:
    """Polar's ``is_under_limits``: start not after end, and the span (in calendar days,
    each timestamp's date read in its own offset) within the interval's maximum."""
    if start > end:
        return False
    return end.toordinal() - start.toordinal() <= MAX_SPAN_DAYS[interval]


def local_time(wall: datetime, zone: tzinfo) -> datetime:
    """A naive wall time in ``zone`` as PostgreSQL reads it (``DetermineTimeZoneOffset``):
    a time that a fall-back change makes occur twice takes the offset after the change
    (PEP 495's ``fold=1``), a time that a spring-forward change skips takes the offset
    before it (``fold=0``)."""
    before, after = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    if before.utcoffset() == after.utcoffset():
        return before
    twice = after.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall
    return after if twice else before


def truncate(moment: datetime, interval: str, zone: tzinfo) -> datetime:
    """``date_trunc(interval, moment)`` in ``zone``, as a UTC time."""
    local = moment.astimezone(zone)
    if interval == "hour":
        # PostgreSQL truncates the wall time and keeps the moment's own offset (it finds
        # the offset again only from a day up): in Pacific/Chatham, 02:45 at +12:45 goes to
        # 02:00 at +12:45, although 02:00 that night was at +13:45.
        offset = local.utcoffset()
        assert offset is not None
        wall = local.replace(tzinfo=None, minute=0, second=0, microsecond=0)
        return (wall - offset).replace(tzinfo=UTC)
    wall = local.replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    if interval == "week":
        wall -= timedelta(days=wall.weekday())
    elif interval == "month":
        wall = wall.replace(day=1)
    elif interval == "year":
        wall = wall.replace(month=1, day=1)
    return local_time(wall, zone).astimezone(UTC)


def _add_months(local: datetime, months: int) -> datetime:
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    next_first = datetime(year + month // 12, month % 12 + 1, 1)
    last_day = (next_first - timedelta(days=1)).day
    return local.replace(year=year, month=month, day=min(local.day, last_day))


def _step(point: datetime, interval: str, zone: tzinfo) -> datetime:
    if interval == "hour":
        return point + timedelta(hours=1)
    wall = point.astimezone(zone).replace(tzinfo=None)
    if interval in ("day", "week"):
        wall += timedelta(days=1 if interval == "day" else 7)
    else:
        wall = _add_months(wall, 1 if interval == "month" else 12)
    return local_time(wall, zone).astimezone(UTC)


def series(start: datetime, end: datetime, interval: str, zone: tzinfo) -> list[datetime]:
    """``generate_series(start, end, '1 interval')`` in ``zone``, as UTC times."""
    points: list[datetime] = []
    point = start.astimezone(UTC)
    while point <= end:
        points.append(point)
        point = _step(point, interval, zone)
    return points


@dataclass(frozen=True)
class Bucket:
    timestamp: datetime  # UTC
    quantity: int | float


@dataclass(frozen=True)
class Quantities:
    buckets: list[Bucket]
    total: int | float


def default_customer(event: Event) -> str | None:
    """The customer an event counts for when nothing resolves it further."""
    return event.customer_id or event.external_customer_id


def _bucket_quantity(
    aggregation: dict[str, Any], events: list[Event], customer_aggregation: str | None,
    customer_of: Callable[[Event], str | None],
) -> int | float:
    func = aggregation["func"]
    if customer_aggregation is None:
        return combine(func, [v for e in events if (v := aggregation_value(aggregation, e)) is not None])
    per_customer: dict[str | None, list[Any]] = {}
    for event in events:
        values = per_customer.setdefault(customer_of(event), [])
        value = aggregation_value(aggregation, event)
        if value is not None:
            values.append(value)
    return combine(customer_aggregation, [combine(func, v) for v in per_customer.values()])


def quantities(
    aggregation: dict[str, Any],
    events: Iterable[Event],
    start: datetime,
    end: datetime,
    interval: str,
    zone: tzinfo = UTC,
    customer_aggregation: str | None = None,
    customer_of: Callable[[Event], str | None] = default_customer,
) -> Quantities:
    """The buckets and total of a meter with ``aggregation`` over ``events`` (those the
    meter matches, already narrowed to the customers and metadata asked for)."""
    chosen = list(events)
    grouped: dict[datetime, list[Event]] = {}
    for event in chosen:
        grouped.setdefault(truncate(event.timestamp, interval, zone), []).append(event)
    buckets: list[Bucket] = []
    filled: list[int | float] = []
    for point in series(start, end, interval, zone):
        group = grouped.get(truncate(point, interval, zone))
        quantity = (
            _bucket_quantity(aggregation, group, customer_aggregation, customer_of) if group else 0
        )
        if group:
            filled.append(quantity)
        buckets.append(Bucket(point, quantity))
    func = aggregation["func"]
    if func in ("count", "sum"):
        total: int | float = sum(filled)
    elif func in ("max", "min"):
        total = combine(func, filled)
    else:
        total = combine(func, [v for e in chosen if (v := aggregation_value(aggregation, e)) is not None])
    return Quantities(buckets, total)
