"""Hypothesis strategies shared by the tests: configuration documents, filters, YAML values."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from reconciler.model import TAG_KEY

_AMBIGUOUS = {"yes", "no", "on", "off", "y", "n", "true", "false", "null", "~"}


words = st.from_regex(r"[A-Za-z][A-Za-z0-9 ._/-]{0,20}[A-Za-z0-9]", fullmatch=True).filter(
    lambda s: s.lower() not in _AMBIGUOUS
)


identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True).filter(
    lambda s: s not in _AMBIGUOUS and s != TAG_KEY
)


int32 = st.integers(-(2**31), 2**31 - 1)


@st.composite
def clauses(draw: Any) -> dict[str, Any]:
    value = draw(st.one_of(words, int32, st.booleans()))
    if isinstance(value, bool):
        operators = ["eq", "ne"]
    elif isinstance(value, int):
        operators = ["eq", "ne", "gt", "gte", "lt", "lte"]
    else:
        operators = ["eq", "ne", "like", "not_like"]
    operator = draw(st.sampled_from(operators))
    return {"property": draw(identifiers), "operator": operator, "value": value}


groups = st.recursive(
    st.builds(lambda c, cs: {"conjunction": c, "clauses": cs},
              st.sampled_from(["and", "or"]), st.lists(clauses(), max_size=3)),
    lambda inner: st.builds(lambda c, cs: {"conjunction": c, "clauses": cs},
                            st.sampled_from(["and", "or"]),
                            st.lists(st.one_of(clauses(), inner), max_size=3)),
    max_leaves=8,
)


aggregations = st.one_of(
    st.just({"func": "count"}),
    st.builds(lambda f, p: {"func": f, "property": p},
              st.sampled_from(["sum", "max", "min", "avg", "unique"]), identifiers),
)


metadata_values = st.one_of(words, st.integers(), st.booleans(),
                            st.floats(allow_nan=False, allow_infinity=False))


@st.composite
def meters(draw: Any) -> dict[str, Any]:
    meter: dict[str, Any] = {
        "name": draw(words.filter(lambda s: len(s) >= 3)),
        "filter": draw(groups),
        "aggregation": draw(aggregations),
    }
    unit = draw(st.sampled_from([None, "scalar", "token", "custom"]))
    if unit:
        meter["unit"] = unit
    if unit == "custom":
        meter["custom_label"] = draw(words)
    if draw(st.booleans()):
        meter["custom_multiplier"] = draw(st.integers(1, 10**6))
    if draw(st.booleans()):
        meter["metadata"] = draw(st.dictionaries(identifiers, metadata_values, max_size=6))
    if draw(st.booleans()):
        meter["id"] = str(draw(st.uuids(version=4)))
    if draw(st.booleans()):
        meter["archived"] = draw(st.booleans())
    return meter


yaml_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
)


yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
