"""Filters diffed as trees (issue 16): one change per edit, at its path; nothing missed."""

from __future__ import annotations

from typing import Any

import pytest
from deepdiff import DeepDiff
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.plan.diff import ABSENT, FieldChange, diff_specs, identical, same


def clause(prop: str, value: Any, op: str = "eq") -> dict[str, Any]:
    return {"property": prop, "operator": op, "value": value}


def group(*clauses: dict[str, Any], conjunction: str = "and") -> dict[str, Any]:
    return {"conjunction": conjunction, "clauses": list(clauses)}


NAME, STATUS, REGION = clause("name", "api_call"), clause("status", 500, "lt"), clause("region", "eu")
TIERS = group(clause("tier", "pro"), clause("tier", "team"), conjunction="or")


def spec(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "API calls",
        "unit": "scalar",
        "custom_label": None,
        "custom_multiplier": None,
        "filter": group(NAME, STATUS, TIERS),
        "aggregation": {"func": "count"},
        "metadata": {"team": "ai", "billable": True},
        "archived": False,
    }
    return {**base, **changes}


def filter_diff(after: dict[str, Any]) -> list[tuple[str, str, Any, Any, str | None]]:
    return [(c.kind, c.path, c.before, c.after, c.moved_from)
            for c in diff_specs(spec(), spec(filter=after))]


def test_identical_specs_have_no_changes() -> None:
    assert identical(spec(), spec())
    assert diff_specs(spec(), spec()) == []


def test_a_clause_inserted_before_a_nested_group_is_one_addition() -> None:
    assert filter_diff(group(NAME, STATUS, REGION, TIERS)) == [
        ("add", "filter.clauses[2]", ABSENT, REGION, None)]


def test_a_removed_clause_is_one_removal() -> None:
    assert filter_diff(group(NAME, TIERS)) == [("remove", "filter.clauses[1]", STATUS, ABSENT, None)]


def test_a_moved_group_is_one_move() -> None:
    assert filter_diff(group(TIERS, NAME, STATUS)) == [
        ("move", "filter.clauses[0]", TIERS, TIERS, "filter.clauses[2]")]


def test_a_clause_moved_into_the_group_is_one_move() -> None:
    moved = group(clause("tier", "pro"), clause("tier", "team"), STATUS, conjunction="or")
    assert filter_diff(group(NAME, moved)) == [
        ("move", "filter.clauses[1].clauses[2]", STATUS, STATUS, "filter.clauses[1]")]


def test_a_nested_edit_is_one_change_at_its_path() -> None:
    edited = group(clause("tier", "pro"), clause("tier", "enterprise"), conjunction="or")
    assert filter_diff(group(NAME, STATUS, edited)) == [
        ("change", "filter.clauses[2].clauses[1].value", "team", "enterprise", None)]


def test_a_nested_edit_beside_an_insertion() -> None:
    edited = group(clause("tier", "pro"), clause("tier", "team", "ne"), conjunction="or")
    assert filter_diff(group(NAME, REGION, STATUS, edited)) == [
        ("add", "filter.clauses[1]", ABSENT, REGION, None),
        ("change", "filter.clauses[3].clauses[1].operator", "eq", "ne", None),
    ]


def test_a_changed_value_and_a_changed_conjunction() -> None:
    assert filter_diff(group(NAME, clause("status", 400, "lt"), TIERS, conjunction="or")) == [
        ("change", "filter.conjunction", "and", "or", None),
        ("change", "filter.clauses[1].value", 500, 400, None),
    ]
    nested = group(clause("tier", "pro"), clause("tier", "team"), conjunction="and")
    assert filter_diff(group(NAME, STATUS, nested)) == [
        ("change", "filter.clauses[2].conjunction", "or", "and", None)]


def test_a_clause_replaced_by_another_is_one_change() -> None:
    other = clause("region", "us", "ne")
    assert filter_diff(group(NAME, other, TIERS)) == [
        ("change", "filter.clauses[1]", STATUS, other, None)]


def test_other_fields_change_at_their_paths() -> None:
    after = spec(name="API requests", metadata={"team": "ml"}, custom_label="call")
    assert [(c.kind, c.path) for c in diff_specs(spec(), after)] == [
        ("change", "name"), ("change", "custom_label"), ("change", "metadata.team"),
        ("remove", "metadata.billable")]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({"billable": True}, {"billable": 1}),  # equal in Python, not to Polar
        ({"billable": 1}, {"billable": 1.0}),
        ({"n": float("nan")}, {"n": float("nan")}),
    ],
)
def test_equal_but_differently_typed_values_are_changes(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    assert not identical(spec(metadata=before), spec(metadata=after))
    assert [c.path for c in diff_specs(spec(metadata=before), spec(metadata=after))] == [
        "metadata." + next(iter(before))]


def test_keys_in_another_order_are_no_change() -> None:
    before, after = spec(metadata={"a": 1, "b": 2}), spec(metadata={"b": 2, "a": 1})
    assert not identical(before, after)
    assert diff_specs(before, after) == []


# -- properties over generated specs ----------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([1.0, 2.5]),
                    st.sampled_from(["a", "b", ""]))
leaf = st.fixed_dictionaries({"property": st.sampled_from(["x", "y"]),
                              "operator": st.sampled_from(["eq", "ne"]), "value": scalars})
filters = st.recursive(
    st.fixed_dictionaries({"conjunction": st.sampled_from(["and", "or"]),
                           "clauses": st.lists(leaf, max_size=3)}),
    lambda inner: st.fixed_dictionaries({"conjunction": st.sampled_from(["and", "or"]),
                                         "clauses": st.lists(leaf | inner, max_size=4)}),
    max_leaves=8,
)
specs = st.fixed_dictionaries({
    "name": st.sampled_from(["A", "B"]),
    "unit": st.sampled_from(["scalar", "token"]),
    "custom_label": st.none() | st.just("req"),
    "custom_multiplier": st.none() | st.sampled_from([1000, 1000.0]),
    "filter": filters,
    "aggregation": st.sampled_from([{"func": "count"}, {"func": "sum", "property": "t"}]),
    "metadata": st.dictionaries(st.sampled_from(["k", "m"]), scalars, max_size=2),
    "archived": st.booleans(),
}, optional={"extra": scalars})


def at(value: Any, path: str) -> Any:
    """The value a change's path names (paths as format_path writes them)."""
    import re

    for name, index in re.findall(r"([A-Za-z_]+)|\[(\d+)\]", path):
        value = value[name] if name else value[int(index)]
    return value


@settings(max_examples=300, deadline=None)
@given(specs, specs)
def test_no_change_exactly_when_deepdiff_finds_none(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert (diff_specs(before, after) == []) == (not DeepDiff(before, after))


def _holds(before: dict[str, Any], after: dict[str, Any], change: FieldChange) -> None:
    if change.kind == "remove":
        assert same(at(before, change.path), change.before)
        return
    assert same(at(after, change.path), change.after)
    if change.kind == "move":
        assert same(at(before, str(change.moved_from)), change.after)
    elif change.kind == "change":
        assert not same(change.before, change.after)


@settings(max_examples=300, deadline=None)
@given(specs, specs)
def test_each_change_names_what_is_at_its_path(before: dict[str, Any], after: dict[str, Any]) -> None:
    for change in diff_specs(before, after):
        _holds(before, after, change)


@settings(max_examples=200, deadline=None)
@given(specs, st.data())
def test_one_inserted_clause_is_one_addition(before: dict[str, Any], data: st.DataObject) -> None:
    clauses = before["filter"]["clauses"]
    new = clause("fresh", data.draw(scalars))
    index = data.draw(st.integers(0, len(clauses)))
    after = {**before, "filter": {**before["filter"],
                                  "clauses": [*clauses[:index], new, *clauses[index:]]}}
    [change] = diff_specs(before, after)
    assert change.kind == "add" and same(change.after, new)


def test_an_insert_among_repeated_clauses_is_one_addition_not_a_move() -> None:
    """difflib's longest block can align repeated clauses crosswise and report a needless
    move; the alignment is a longest common subsequence, so the insert is the only change."""
    same_clause = clause("y", False, "ne")
    before = spec(filter={"conjunction": "and", "clauses": [same_clause] * 3})
    new = clause("fresh", 1)
    after = spec(filter={"conjunction": "and",
                         "clauses": [same_clause, new, same_clause, same_clause]})
    [change] = diff_specs(before, after)
    assert change.kind == "add" and change.path == "filter.clauses[1]" and same(change.after, new)
