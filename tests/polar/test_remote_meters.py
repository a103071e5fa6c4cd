"""Meters read from Polar: the one-pass reader (remote_from_api) gives exactly what
normalize_spec gives, key order included, whatever form Polar sends them in."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model import TAG_KEY, normalize_spec, remote_from_api
from tests.support.strategies import meters


def _polar_form(draw: Any, value: Any) -> Any:
    """What Polar may send for a normalised value: prefixes, 1.0 for 1, keys in any order,
    fields it adds."""
    if isinstance(value, dict):
        items = [(k, _polar_form(draw, v)) for k, v in value.items()]
        if draw(st.booleans()):
            items.reverse()
        out = dict(items)
        if "property" in out and isinstance(out["property"], str) and draw(st.booleans()):
            out["property"] = "metadata." + out["property"]
        if draw(st.booleans()) and "clauses" not in out:
            out["extra"] = "ignored"
        return out
    if isinstance(value, list):
        return [_polar_form(draw, v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and draw(st.booleans()):
        return float(value)
    return value


@st.composite
def polar_meters(draw: Any) -> dict[str, Any]:
    meter = draw(meters())
    metadata = dict(meter.get("metadata", {}))
    if draw(st.booleans()):
        metadata[TAG_KEY] = "some-key"
    return {
        "metadata": metadata,
        "created_at": "2026-01-01T00:00:00Z",
        "modified_at": draw(st.sampled_from([None, "2026-01-02T00:00:00Z"])),
        "id": "7a8e2f4c-1b3d-4e5f-9a6b-0c1d2e3f4a5b",
        "name": meter["name"],
        "unit": meter.get("unit") or draw(st.sampled_from(["scalar", ""])),
        "custom_label": meter.get("custom_label"),
        "custom_multiplier": meter.get("custom_multiplier"),
        "filter": _polar_form(draw, meter["filter"]),
        "aggregation": _polar_form(draw, meter["aggregation"]),
        "organization_id": "5f0c3b1e-2d4a-4c6b-8e9f-1a2b3c4d5e6f",
        "archived_at": draw(st.sampled_from([None, "2026-01-03T00:00:00Z"])),
    }


@pytest.mark.equivalence
@settings(max_examples=300, deadline=None)
@given(polar_meters())
def test_the_fast_reader_normalises_as_normalize_spec_does(item: dict[str, Any]) -> None:
    before = copy.deepcopy(item)
    meter = remote_from_api(item)
    expected = normalize_spec(before)
    assert meter.spec == expected
    assert json.dumps(meter.spec) == json.dumps(expected)  # the same key order everywhere
    assert item == before and json.dumps(item) == json.dumps(before)  # the answer untouched
    assert meter.raw is item
    assert meter.key == ("some-key" if TAG_KEY in item["metadata"] else None)
