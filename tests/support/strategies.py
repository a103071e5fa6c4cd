"""Hypothesis strategies shared by the tests: configuration documents, filters, YAML values."""

from __future__ import annotations

import copy
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


# Configuration documents broken in random places: for comparing validators.

UUID = "2f1c3a9e-8d4b-4c1e-9f7a-5b6d2e8c0a13"
GOOD_METER = {"name": "Good", "filter": {"conjunction": "and", "clauses": []},
              "aggregation": {"func": "count"}}

#: Values next to every limit and of every kind; mutations put them anywhere.
ODD_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 1.0, 0.0, -1.0, 2.5,
    2**31 - 1, 2**31, -(2**31), -(2**31) - 1, float(2**31), 1e40,
    "", "a", "ab", "abc", "x" * 40, "x" * 41, "x" * 500, "x" * 501, "x" * 1000, "x" * 1001,
    "scalar", "token", "custom", "Custom", "count", "sum", "unique", "median",
    "and", "or", "xor", "eq", "not_like", "equals", "1",
    UUID, UUID.upper(), UUID + "\n", UUID[:-1], "1dbfc517-0bbf-5301-9ba8-555ca42b9737",
    [], {}, [1], {"a": 1}, ["a", "b"],
    {"conjunction": "and", "clauses": []}, {"clauses": []}, {"conjunction": "or"},
    {"property": "p", "operator": "eq", "value": 1}, {"property": "p", "operator": "eq"},
    {"property": "", "operator": "gt", "value": "x"}, {"func": "count"},
    {"func": "sum", "property": "tokens"}, {"func": "count", "property": "tokens"},
]
_SCHEMA_FIELDS = {
    "version", "organization_id", "meters", "tests", "name", "filter", "aggregation", "unit",
    "custom_label", "custom_multiplier", "metadata", "id", "archived", "conjunction",
    "clauses", "property", "operator", "value", "func", "events", "expect", "total", "matched",
}
FIELD_NAMES = sorted(
    {"colour", "unti", "agregation", "", "x" * 40, "x" * 41, TAG_KEY, "Upper", "a b", "x-extra"}
    | _SCHEMA_FIELDS
)
METER_KEYS = ["m", "api-calls", "x" * 40, "x" * 41, "Api", "-a", "_a", "a\n", "", "a b", "0"]


def fresh(value: Any) -> Any:
    """A copy to mutate: strategies may hand out the same object again (st.just)."""
    return copy.deepcopy(value)


def odd_values() -> st.SearchStrategy[Any]:
    """Any value YAML can give (finite numbers, string keys), many next to a limit."""
    finite = st.floats(allow_nan=False, allow_infinity=False)
    return st.one_of(
        st.sampled_from(ODD_VALUES), st.integers(), finite, st.text(max_size=4), groups,
        st.dictionaries(st.sampled_from(FIELD_NAMES), st.sampled_from(ODD_VALUES), max_size=3),
    ).map(fresh)


def nodes(value: Any) -> list[Any]:
    """Every mapping and list in ``value``."""
    found: list[Any] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.append(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            found.append(node)
            stack.extend(node)
    return found


@st.composite
def mutated(draw: Any, document: Any) -> Any:
    """``document`` with a few random changes, anywhere in it."""
    for _ in range(draw(st.integers(0, 3))):
        node = draw(st.sampled_from(nodes(document)))
        action = draw(st.sampled_from(["set", "delete", "add"]))
        if isinstance(node, dict):
            if action == "add" or not node:
                node[draw(st.sampled_from(FIELD_NAMES))] = draw(odd_values())
            elif action == "set":
                node[draw(st.sampled_from(sorted(node)))] = draw(odd_values())
            else:
                del node[draw(st.sampled_from(sorted(node)))]
        elif action == "add" or not node:
            node.append(draw(odd_values()))
        else:
            index = draw(st.integers(0, len(node) - 1))
            if action == "set":
                node[index] = draw(odd_values())
            else:
                del node[index]
    return document


@st.composite
def meter_documents(draw: Any) -> Any:
    """A file's document: valid, or broken in a few random places."""
    keys = draw(st.lists(st.one_of(st.sampled_from(METER_KEYS),
                                   st.from_regex(r"[a-z0-9][a-z0-9_-]{0,8}", fullmatch=True)),
                         min_size=0, max_size=4, unique=True))
    document: dict[str, Any] = {"version": 1, "meters": {k: fresh(draw(meters())) for k in keys}}
    if draw(st.booleans()):
        document["organization_id"] = "1dbfc517-0bbf-4301-9ba8-555ca42b9737"
    if draw(st.booleans()):  # fill a metadata up to the limit, or past it
        first = next(iter(document["meters"].values()), None)
        if first is not None:
            count = draw(st.sampled_from([48, 49, 50]))
            first["metadata"] = {f"k{i}": i for i in range(count)}
    return draw(mutated(document))


@st.composite
def documents_with_tests(draw: Any) -> Any:
    """A valid document with a `tests:` section, broken in a few random places."""
    expectation = st.fixed_dictionaries(
        {}, optional={"total": st.one_of(st.integers(), st.floats(allow_nan=False,
                                                                   allow_infinity=False)),
                      "matched": st.sampled_from([-1, 0, 1, 1.0, 2.5, True])}).filter(bool)
    events = st.one_of(st.sampled_from(["events.jsonl", "../e.json"]),
                       st.lists(st.just({"name": "e"}), max_size=2))
    test = st.fixed_dictionaries({
        "events": events,
        "expect": st.dictionaries(st.sampled_from(["m", "api-calls"]), expectation,
                                  min_size=1, max_size=2),
    })
    tests = st.dictionaries(st.sampled_from(["t", "a test", "x" * 100, "x" * 101]), test,
                            max_size=2)
    document = {"version": 1, "meters": {"m": fresh(GOOD_METER)}, "tests": draw(tests)}
    return draw(mutated(document))


# -- the oracle: events and meters whose SQL PostgreSQL evaluates (tests/usage/test_oracle.py) --

#: Texts that tell Polar's text comparisons apart: digits as strings, t/f, JSON-ish texts.
oracle_texts = st.one_of(
    st.sampled_from(["5", "10", "3", "-1", "1.5", "t", "f", "true", "abc", "", "gpt-4o", "é",
                     "a%b", "a_b", "a/b", '"q"']),
    st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=4),
)
oracle_ints = st.one_of(st.integers(-3, 12), st.sampled_from([2**31 - 1, -(2**31), 10**20]))
oracle_numbers = st.one_of(oracle_ints, st.sampled_from([1.5, 5.0, -0.5, 1e20, 0.1, 3.0]))
oracle_scalars = st.one_of(oracle_texts, oracle_numbers, st.booleans())
ORACLE_KEYS = ("n", "flag", "tier", "obj")
#: The oracle's events fall in these epoch seconds (2026-03-27 and 12 days on).
ORACLE_EPOCHS = (1774569600, 1774569600 + 12 * 86400)
ORACLE_PROPERTIES = ("n", "flag", "tier", "obj", "obj.model", "obj.n", "missing", "n.deeper",
                     "name", "source", "timestamp", "metadata.n", "metadata.name")


@st.composite
def oracle_metadata(draw: Any) -> dict[str, Any]:
    keys = draw(st.lists(st.sampled_from(ORACLE_KEYS), unique=True))
    found: dict[str, Any] = {}
    for key in keys:
        if key == "obj":
            found[key] = draw(st.dictionaries(st.sampled_from(["model", "n", "vendor_x"]),
                                              oracle_scalars, max_size=3))
        else:
            found[key] = draw(oracle_scalars)
    return found


@st.composite
def oracle_clauses(draw: Any) -> dict[str, Any]:
    prop = draw(st.sampled_from(ORACLE_PROPERTIES))
    operator = draw(st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte", "like", "not_like"]))
    value = draw(st.one_of(oracle_texts, st.integers(-3, 12), st.booleans(),
                           st.sampled_from([2**31 - 1, -(2**31)])))
    if prop == "timestamp" and isinstance(value, bool) and operator not in ("like", "not_like"):
        value = int(value)  # Polar's own query fails there (bigint = boolean): a 500
    if prop == "timestamp" and draw(st.booleans()):  # near the events' own epochs
        value = draw(st.integers(ORACLE_EPOCHS[0], ORACLE_EPOCHS[1]))
    return {"property": prop, "operator": operator, "value": value}


def _group(items: Any) -> Any:
    return st.builds(lambda c, cs: {"conjunction": c, "clauses": cs},
                     st.sampled_from(["and", "or"]), st.lists(items, max_size=3))


oracle_filters = st.recursive(_group(oracle_clauses()),
                              lambda inner: _group(st.one_of(oracle_clauses(), inner)),
                              max_leaves=5)
oracle_aggregations = st.one_of(
    st.just({"func": "count"}),
    st.builds(lambda f, p: {"func": f, "property": p},
              st.sampled_from(["sum", "max", "min", "avg", "unique"]),
              st.sampled_from(ORACLE_PROPERTIES)),
)
