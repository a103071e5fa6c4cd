"""reconciler.usage.engine: Polar's matching, aggregation and quantity rules, evaluated locally."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from reconciler.usage.engine import (
    Event,
    aggregate,
    clause_matches,
    matches,
    meter_matches,
    quantities,
    series,
    truncate,
    within_limits,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def event(name: str = "api_call", source: str = "user", at: datetime = T0, **metadata: Any) -> Event:
    return Event(name=name, timestamp=at, metadata=metadata, source=source, external_customer_id="c")


def clause(prop: str, op: str, value: Any) -> dict[str, Any]:
    return {"property": prop, "operator": op, "value": value}


def holds(prop: str, op: str, value: Any, ev: Event) -> bool:
    return clause_matches(clause(prop, op, value), ev)


@pytest.mark.parametrize(("op", "value", "expected"), [
    ("eq", 5, True), ("eq", 6, False), ("ne", 6, True), ("ne", 5, False),
    ("gt", 4, True), ("gt", 5, False), ("gte", 5, True), ("gte", 6, False),
    ("lt", 6, True), ("lt", 5, False), ("lte", 5, True), ("lte", 4, False),
    ("like", 5, True), ("like", 6, False), ("not_like", 6, True), ("not_like", 5, False),
])
def test_each_operator_on_a_number(op: str, value: int, expected: bool) -> None:
    assert holds("n", op, value, event(n=5)) is expected


@pytest.mark.parametrize(("op", "value", "expected"), [
    ("eq", "pro", True), ("ne", "pro", False), ("gt", "a", True), ("lt", "a", False),
    ("like", "r", True), ("like", "R", False), ("not_like", "x", True), ("not_like", "pr", False),
    ("like", "%", False), ("like", "p_o", False),  # % and _ are literal
])
def test_each_operator_on_a_string(op: str, value: str, expected: bool) -> None:
    assert holds("tier", op, value, event(tier="pro")) is expected


def test_like_compares_texts_as_polar_does() -> None:
    assert holds("n", "like", "5", event(n=15))  # the number's text
    assert holds("code", "like", 42, event(code="x42y"))  # the value's text
    assert holds("flag", "like", "ru", event(flag=True))  # JSON text "true"
    assert holds("ratio", "like", "0.5", event(ratio=0.5))
    assert not holds("n", "not_like", "1", event(n=15))


def test_a_missing_key_never_matches_ne_and_not_like_included() -> None:
    ev = event(other=1)
    for op, value in [("eq", 1), ("ne", 1), ("ne", "x"), ("not_like", "x"), ("lt", 9)]:
        assert holds("absent", op, value, ev) is False
    assert holds("nested.absent", "ne", 1, event(nested={"x": 1})) is False
    assert holds("nested", "ne", 1, event(nested={"x": 1})) is False  # an object is no value


def test_name_source_and_timestamp_properties() -> None:
    ev = event(name="llm", source="system", name_meta="ignored")
    assert holds("name", "eq", "llm", ev) and not holds("name", "eq", "api", ev)
    assert holds("name", "like", "l", ev) and not holds("name", "eq", 1, ev)
    assert holds("source", "eq", "system", ev) and not holds("source", "ne", "system", ev)
    epoch = int(T0.timestamp())
    assert holds("timestamp", "eq", epoch, ev) and holds("timestamp", "lt", epoch + 1, ev)
    assert not holds("timestamp", "eq", str(epoch), ev)  # a string for timestamp: false
    assert not holds("timestamp", "eq", True, ev)
    assert holds("metadata.name", "eq", "llm", ev)  # the prefix is stripped: the event's name


def test_metadata_prefix_and_dotted_paths() -> None:
    ev = event(_llm={"total_tokens": 120, "model": "gpt"}, tier="pro")
    assert holds("_llm.total_tokens", "gte", 100, ev)
    assert holds("metadata._llm.model", "eq", "gpt", ev)
    assert holds("metadata.tier", "eq", "pro", ev)
    assert not holds("_llm.total_tokens.deeper", "eq", 1, ev)


def test_nested_groups_and_empty_groups() -> None:
    ev = event(tier="pro", n=3)
    pro = clause("tier", "eq", "pro")
    free = clause("tier", "eq", "free")
    assert matches({"conjunction": "and", "clauses": []}, ev)
    assert matches({"conjunction": "or", "clauses": []}, ev)
    assert not matches({"conjunction": "and", "clauses": [pro, free]}, ev)
    assert matches({"conjunction": "or", "clauses": [free, pro]}, ev)
    nested = {"conjunction": "and", "clauses": [
        clause("name", "eq", "api_call"),
        {"conjunction": "or", "clauses": [free, {"conjunction": "and", "clauses": [
            pro, clause("n", "lt", 5)]}]},
    ]}
    assert matches(nested, ev) and not matches(nested, event(tier="pro", n=7))
    assert matches({"conjunction": "and", "clauses": [{"conjunction": "or", "clauses": []}]}, ev)


def test_every_aggregation() -> None:
    events = [event(n=2), event(n=5.5), event(n=True), event(n="7"), event(other=1), event(n=2)]
    assert aggregate({"func": "count"}, events) == 6
    assert aggregate({"func": "sum", "property": "n"}, events) == 9.5  # booleans and text left out
    assert aggregate({"func": "max", "property": "metadata.n"}, events) == 5.5
    assert aggregate({"func": "min", "property": "n"}, events) == 2
    assert aggregate({"func": "avg", "property": "n"}, events) == pytest.approx(9.5 / 3)
    # unique over mixed values: 2 (twice), 5.5, True, "7": 4 distinct; 1 and 1.0 are one
    assert aggregate({"func": "unique", "property": "n"}, events) == 4
    assert aggregate({"func": "unique", "property": "v"}, [event(v=1), event(v=1.0), event(v="1")]) == 2
    for func in ("sum", "max", "min", "avg", "unique"):
        assert aggregate({"func": func, "property": "n"}, []) == 0
    assert aggregate({"func": "sum", "property": "timestamp"}, [event()]) == int(T0.timestamp())


def test_unique_reads_metadata_even_for_name() -> None:
    events = [event(name="a", name_=1), event(name="b")]
    assert aggregate({"func": "unique", "property": "name"}, events) == 0


def test_a_meter_counts_only_events_holding_its_number() -> None:
    everything = {"conjunction": "and", "clauses": []}
    assert meter_matches(everything, {"func": "count"}, event())
    assert meter_matches(everything, {"func": "unique", "property": "x"}, event())
    assert meter_matches(everything, {"func": "sum", "property": "n"}, event(n=1))
    assert not meter_matches(everything, {"func": "sum", "property": "n"}, event(n=True))
    assert not meter_matches(everything, {"func": "sum", "property": "n"}, event(n="1"))
    assert not meter_matches(everything, {"func": "max", "property": "name"}, event())
    assert meter_matches(everything, {"func": "avg", "property": "timestamp"}, event())


# -- quantities ------------------------------------------------------------------------------

PARIS = ZoneInfo("Europe/Paris")


def test_day_buckets_follow_the_time_zone_across_dst() -> None:
    start = datetime(2024, 3, 30, tzinfo=PARIS)
    end = datetime(2024, 4, 1, tzinfo=PARIS)
    points = series(start, end, "day", PARIS)
    assert [p.astimezone(PARIS).hour for p in points] == [0, 0, 0]
    assert points[2] - points[1] == timedelta(hours=23)  # the spring-forward day
    # 23:30 UTC on the 30th is already the 31st in Paris
    late = event(at=datetime(2024, 3, 30, 23, 30, tzinfo=UTC))
    result = quantities({"func": "count"}, [late], start, end, "day", PARIS)
    assert [b.quantity for b in result.buckets] == [0, 1, 0]
    in_utc = quantities({"func": "count"}, [late], start, end, "day", UTC)
    assert [b.timestamp.hour for b in in_utc.buckets] == [23, 23]  # Paris midnight, in UTC
    assert [b.quantity for b in in_utc.buckets] == [0, 1]  # the 30th, counted in UTC


def test_buckets_hold_whole_periods_and_weeks_start_on_monday() -> None:
    assert truncate(datetime(2024, 5, 1, 15, tzinfo=UTC), "week", UTC) == datetime(2024, 4, 29, tzinfo=UTC)
    assert truncate(datetime(2024, 5, 17, 15, tzinfo=UTC), "month", UTC) == datetime(2024, 5, 1, tzinfo=UTC)
    before_start = event(at=datetime(2024, 5, 1, 1, tzinfo=UTC))
    result = quantities({"func": "count"}, [before_start], datetime(2024, 5, 1, 12, tzinfo=UTC),
                        datetime(2024, 5, 2, 12, tzinfo=UTC), "day")
    assert [b.quantity for b in result.buckets] == [1, 0]


def test_month_steps_from_the_31st() -> None:
    points = series(datetime(2024, 1, 31, tzinfo=UTC), datetime(2024, 4, 30, tzinfo=UTC), "month", UTC)
    assert [p.day for p in points] == [31, 29, 29, 29]


@pytest.mark.parametrize(("interval", "days"), [
    ("hour", 7), ("day", 366), ("week", 371), ("month", 1460), ("year", 3650)])
def test_span_limits(interval: str, days: int) -> None:
    start = datetime(2024, 1, 1, 23, tzinfo=UTC)
    assert within_limits(start, start + timedelta(days=days), interval)
    assert not within_limits(start, start + timedelta(days=days + 1), interval)
    assert not within_limits(start, start - timedelta(seconds=1), interval)


def test_totals_per_aggregation() -> None:
    day1, day2 = datetime(2024, 5, 1, 10, tzinfo=UTC), datetime(2024, 5, 2, 10, tzinfo=UTC)
    events = [event(at=day1, n=1, u="a"), event(at=day1, n=3, u="b"), event(at=day2, n=10, u="a")]
    old = event(at=datetime(2024, 1, 1, tzinfo=UTC), n=100, u="z")  # outside the buckets

    def run(func: str) -> tuple[list[float], float]:
        agg = {"func": func} if func == "count" else {"func": func, "property": "u" if func == "unique" else "n"}
        result = quantities(agg, [*events, old], day1, day2 + timedelta(days=1), "day")
        return [b.quantity for b in result.buckets], result.total

    assert run("count") == ([2, 1, 0], 3)  # sum of buckets
    assert run("sum") == ([4, 10, 0], 14)
    assert run("max") == ([3, 10, 0], 10)  # max of buckets
    assert run("min") == ([1, 10, 0], 1)  # min of the non-empty buckets, not the empty 0
    assert run("avg") == ([2, 10, 0], 114 / 4)  # over every event given
    assert run("unique") == ([2, 1, 0], 3)


def test_customer_aggregation_combines_per_customer_quantities() -> None:
    day = datetime(2024, 5, 1, tzinfo=UTC)
    events = [Event("x", day, {"n": 1}, customer_id=c) for c in ("a", "a", "b")]
    result = quantities({"func": "count"}, events, day, day, "day", customer_aggregation="max")
    assert [b.quantity for b in result.buckets] == [2]
    result = quantities({"func": "count"}, events, day, day, "day", customer_aggregation="avg")
    assert [b.quantity for b in result.buckets] == [1.5]
