"""The equality short-circuit before deepdiff finds no less than deepdiff does."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.diff import diff_specs, identical


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
