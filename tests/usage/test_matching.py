"""What a filter matches, on Polar's two paths (NOTES.md, "What a filter matches"): the SQL
path (quantities, customer meters) and the billing job's Python comparisons."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from reconciler.usage.engine import (
    Event,
    aggregate,
    billing_clause_matches,
    billing_meter_matches,
    clause_matches,
    divergence,
    meter_matches,
)

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def event(at: datetime = T0, **metadata: Any) -> Event:
    return Event(name="api_call", timestamp=at, metadata=metadata, external_customer_id="c")


def clause(prop: str, op: str, value: Any) -> dict[str, Any]:
    return {"property": prop, "operator": op, "value": value}


# (property value, operator, clause value, SQL path, billing path)
CASES = [
    ("5", "eq", 5, True, False),  # n eq 5 matches "5": text against text
    ("5", "gt", 3, True, False),  # text "5" > "3"; Python: TypeError, false
    ("abc", "gt", 3, True, False),  # "abc" > "3" as text
    ("abc", "ne", 5, True, True),  # "abc" <> "5"; Python "abc" != 5
    ("10", "ne", 5, True, True),
    ("10", "gt", 9, False, False),  # text: "10" < "9"
    ("5", "ne", 5, False, True),  # "5" = "5" as text; Python "5" != 5
    ("t", "eq", True, True, False),  # flag eq true matches "t"
    ("true", "eq", True, False, False),  # the value's text is "t", not "true"
    (1, "eq", True, True, True),  # n eq true matches 1 (booleans as 0/1 against numbers)
    (0, "eq", False, True, True),
    (2, "gt", True, True, True),
    (5, "eq", "5", False, False),  # a number property against a string value: false
    (5, "ne", "5", False, True),  # Python: 5 != "5"
    (5.0, "eq", 5, True, True),
    (5.5, "gt", 5, True, True),
    (True, "eq", 1, False, True),  # a boolean property takes only a boolean value
    (True, "eq", True, True, True),
    (True, "gt", False, True, True),
    (False, "lt", True, True, True),
    ({"model": "gpt-4o"}, "like", "gpt", True, True),  # an object's JSON text
    ({"model": "gpt-4o"}, "like", '"model": "gpt', True, False),  # Python prints 'model'
    ({"model": "gpt-4o"}, "eq", "x", False, False),
    ({"model": "gpt-4o"}, "ne", "x", False, True),  # no CASE branch in SQL; Python dict != str
    (15, "like", "5", True, True),
    (True, "like", "tr", True, False),  # JSON text "true"; Python str(True) is "True"
    (True, "like", "Tru", False, True),
    ("x42y", "like", 42, True, True),
    ("at", "like", True, True, False),  # SQL binds true as "t"; Python "True"
    (1.0, "like", "1.0", True, True),
    (1e20, "like", "100000000000000000000", True, True),  # JSONB keeps plain digits
]


@pytest.mark.parametrize(("actual", "op", "value", "sql", "billing"), CASES)
def test_each_path_clause_by_clause(actual: Any, op: str, value: Any, sql: bool,
                                    billing: bool) -> None:
    ev = event(k=actual)
    assert clause_matches(clause("k", op, value), ev) is sql
    assert billing_clause_matches(clause("k", op, value), ev) is billing


@pytest.mark.parametrize("op", ["eq", "ne", "gt", "gte", "lt", "lte", "like", "not_like"])
def test_a_missing_key_never_matches_on_either_path(op: str) -> None:
    for path in ("k", "k.deeper", "other"):
        assert clause_matches(clause(path, op, "x"), event(other2=1)) is False
        assert billing_clause_matches(clause(path, op, "x"), event(other2=1)) is False


def test_timestamp_rounds_on_the_sql_path_and_truncates_on_billing() -> None:
    late = event(at=datetime(2026, 5, 1, 12, 0, 0, 600000, tzinfo=UTC))
    epoch = int(T0.timestamp())
    assert clause_matches(clause("timestamp", "eq", epoch + 1), late)
    assert billing_clause_matches(clause("timestamp", "eq", epoch), late)
    assert not clause_matches(clause("timestamp", "eq", "x"), late)
    assert clause_matches(clause("timestamp", "like", str(epoch + 1)[:4]), late) is False
    assert clause_matches(clause("timestamp", "like", int(str(epoch)[:4])), late)


def test_event_columns_take_only_strings() -> None:
    ev = event()
    assert clause_matches(clause("name", "eq", "api_call"), ev)
    assert clause_matches(clause("metadata.name", "like", "api"), ev)  # the prefix is stripped
    assert not clause_matches(clause("name", "eq", 5), ev)
    assert clause_matches(clause("source", "gt", "system"), ev)  # "user" > "system"


def test_number_aggregations_take_json_numbers_only_as_floats() -> None:
    count = {"func": "count"}
    total = {"func": "sum", "property": "n"}
    events = [event(n=2), event(n="3"), event(n=True), event(n=1.5)]
    assert [meter_matches({"conjunction": "and", "clauses": []}, total, e) for e in events] == [
        True, False, False, True]
    assert aggregate(total, [events[0], events[3]]) == 3.5
    assert aggregate(count, events) == 4
    unique = {"func": "unique", "property": "n"}
    assert aggregate(unique, [event(n=1), event(n=1.0), event(n="1"), event()]) == 2


def test_name_source_aggregations_differ_between_paths() -> None:
    everything = {"conjunction": "and", "clauses": []}
    by_name = {"func": "sum", "property": "name"}
    assert not meter_matches(everything, by_name, event())
    assert billing_meter_matches(everything, by_name, event())


def test_divergence_names_the_clause() -> None:
    filter_ = {"conjunction": "and", "clauses": [
        clause("name", "eq", "api_call"),
        {"conjunction": "or", "clauses": [clause("tier", "eq", "x"), clause("n", "gt", 3)]},
    ]}
    count = {"func": "count"}
    found = divergence(filter_, count, event(n="5"))
    assert found is not None
    assert (found.quantities, found.billing) == (True, False)
    assert found.clause == 'clause filter.clauses[1].clauses[1]: n gt 3'
    assert found.message() == (
        "counted by Polar's quantities but not by its billing "
        "(clause filter.clauses[1].clauses[1]: n gt 3)")
    assert divergence(filter_, count, event(n=5)) is None
    assert divergence(filter_, count, event(n="1")) is None
