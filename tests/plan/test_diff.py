"""The equality short-circuit before deepdiff finds no less than deepdiff does."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.plan.diff import deepdiff_changes, diff_specs, identical


def spec(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "API calls",
        "unit": "scalar",
        "custom_label": None,
        "custom_multiplier": None,
        "filter": {"conjunction": "and", "clauses": [
            {"property": "name", "operator": "eq", "value": "api_call"},
        ]},
        "aggregation": {"func": "count"},
        "metadata": {"team": "ai", "billable": True},
        "archived": False,
    }
    return {**base, **changes}


def test_identical_specs_have_no_changes() -> None:
    assert identical(spec(), spec())
    assert diff_specs(spec(), spec()) == []


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({"billable": True}, {"billable": 1}),  # equal in Python, not to Polar
        ({"billable": 1}, {"billable": 1.0}),
        ({"n": float("nan")}, {"n": float("nan")}),
    ],
)
def test_equal_but_differently_typed_values_still_go_to_deepdiff(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    assert not identical(spec(metadata=before), spec(metadata=after))
    assert diff_specs(spec(metadata=before), spec(metadata=after))


def test_keys_in_another_order_are_left_to_deepdiff() -> None:
    before, after = spec(metadata={"a": 1, "b": 2}), spec(metadata={"b": 2, "a": 1})
    assert not identical(before, after)
    assert diff_specs(before, after) == []


scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([1.0, 2.5]),
                    st.sampled_from(["a", "b", ""]))
clauses = st.lists(st.fixed_dictionaries(
    {"property": st.sampled_from(["x", "y"]), "operator": st.just("eq"), "value": scalars}),
    max_size=3)
specs = st.fixed_dictionaries({
    "name": st.sampled_from(["A", "B"]),
    "unit": st.sampled_from(["scalar", "token"]),
    "custom_label": st.none() | st.just("req"),
    "custom_multiplier": st.none() | st.sampled_from([1000, 1000.0]),
    "filter": st.fixed_dictionaries({"conjunction": st.sampled_from(["and", "or"]),
                                     "clauses": clauses}),
    "aggregation": st.sampled_from([{"func": "count"}, {"func": "sum", "property": "t"}]),
    "metadata": st.dictionaries(st.sampled_from(["k", "m"]), scalars, max_size=2),
    "archived": st.booleans(),
}, optional={"extra": scalars})


@settings(max_examples=300, deadline=None)
@given(specs, specs)
def test_diff_specs_finds_what_deepdiff_over_the_whole_specs_finds(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    assert diff_specs(before, after) == deepdiff_changes(before, after)
