"""The fast schema check (schema_fast) against jsonschema, the reference: same findings.

``schema_findings`` skips jsonschema for what ``schema_fast`` accepts, so the one thing to
prove is that it accepts exactly the valid: random valid documents, broken in random places
(wrong types, unknown or missing fields, bad enums, values at and past every limit, nested
groups), must give jsonschema's own findings.

jsonschema reports the meters of a file in the order of a ``set`` of their keys (an order
that depends on the set), so findings are compared meter by meter, each meter's in order.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.config import schema_fast
from reconciler.config.findings import Finding
from reconciler.config.schema import schema, validator
from reconciler.config.schema_errors import reference_findings, schema_findings
from reconciler.config.yamlnodes import load_yaml
from reconciler.model import TAG_KEY
from tests.support.paths import ROOT
from tests.support.strategies import groups, meters

UUID = "2f1c3a9e-8d4b-4c1e-9f7a-5b6d2e8c0a13"
GOOD = {"name": "Good", "filter": {"conjunction": "and", "clauses": []},
        "aggregation": {"func": "count"}}

#: Values next to every limit and of every kind; mutations put them anywhere.
ODD_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 1.0, 0.0, -1.0, 2.5, math.inf, -math.inf, math.nan,
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
FIELD_NAMES = sorted(
    {"version", "organization_id", "meters", "colour", "unti", "agregation", "", "x" * 40,
     "x" * 41, TAG_KEY, "Upper", "a b"}
    | {name for d in schema()["definitions"].values() for name in d.get("properties", {})}
)
METER_KEYS = ["m", "api-calls", "x" * 40, "x" * 41, "Api", "-a", "_a", "a\n", "", "a b", "0"]


def fresh(value: Any) -> Any:
    """A copy to mutate: strategies may hand out the same object again (st.just)."""
    return copy.deepcopy(value)


def odd_values() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(ODD_VALUES), st.integers(), st.floats(), st.text(max_size=4), groups,
        st.dictionaries(st.sampled_from(FIELD_NAMES), st.sampled_from(ODD_VALUES), max_size=3),
    ).map(fresh)


def nodes(value: Any) -> list[Any]:
    """Every mapping and list in ``value``."""
    found, stack = [], [value]
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


def by_meter(findings: list[Finding]) -> list[Finding]:
    """Findings about the top level first, then each meter's, each group in its order."""

    def group(finding: Finding) -> tuple[int, str]:
        path = finding.path
        if len(path) > 1 and path[0] == "meters":
            return 1, str(path[1])
        return 0, ""

    return sorted(findings, key=group)


def assert_same_findings(document: Any) -> None:
    fast = list(schema_findings(document))
    reference = list(reference_findings(document))
    assert by_meter(fast) == by_meter(reference)
    valid = next(validator().iter_errors(document), None) is None
    if valid and any(any(not isinstance(k, str) for k in n) for n in nodes(document)
                     if isinstance(n, dict)):
        return  # YAML never gives such keys: schema_fast leaves them to jsonschema
    assert schema_fast.is_valid(document) == valid


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(meter_documents())
def test_same_findings_as_jsonschema(document: Any) -> None:
    assert_same_findings(document)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(odd_values().flatmap(lambda value: mutated({"version": 1, "meters": {"m": value}})))
def test_same_findings_for_odd_meters(document: Any) -> None:
    assert_same_findings(document)


@st.composite
def documents_with_tests(draw: Any) -> Any:
    """A valid document with a `tests:` section, broken in a few random places."""
    expectation = st.fixed_dictionaries(
        {}, optional={"total": st.one_of(st.integers(), st.floats(allow_nan=False)),
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
    document = {"version": 1, "meters": {"m": fresh(GOOD)}, "tests": draw(tests)}
    return draw(mutated(document))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents_with_tests())
def test_same_findings_with_tests(document: Any) -> None:
    assert_same_findings(document)


@pytest.mark.parametrize(
    "document",
    [
        None, [], "meters", {}, {"version": 1}, {"meters": {}}, {"version": 1, "meters": []},
        {"version": 1.0, "meters": {}}, {"version": True, "meters": {}},
        {"version": "1", "meters": {}}, {"version": 1, "meters": {}, "extra": 1},
        {"version": 1, "meters": {"a\n": None}}, {"version": 1, "meters": {1: {}}},
        {"version": 1, "meters": {"a\n": GOOD}}, {"version": 1, "meters": {1: GOOD}},
        {"version": 1, "meters": {"m": {**GOOD, "custom_multiplier": 2.0}}},
        {"version": 1, "meters": {"m": {**GOOD, "unit": "custom", "custom_label": "r"}}},
        {"version": 1, "meters": {"m": {**GOOD, "id": UUID + "\n"}}},
        {"version": 1, "meters": {"m": GOOD}, "tests": {"t": {"events": [], "expect": {
            "m": {"total": 1, "matched": 1.0}}}}},
        {"version": 1, "meters": {"m": GOOD}, "tests": {"t": {"events": "", "expect": {
            "m": {"total": True}}}}},
        {"version": 1, "meters": {"m": GOOD}, "tests": {"t": {"events": "e.jsonl", "expect": {
            "m": {}}}}},
        {"version": 1, "meters": {"m": GOOD}, "tests": {"": {"events": [1], "expect": {}}}},
        {"version": 1, "meters": {"m": GOOD}, "tests": []},
    ],
)
def test_same_findings_for_odd_top_levels(document: Any) -> None:
    assert_same_findings(document)


@pytest.mark.parametrize(
    "path", sorted((ROOT / "tests" / "bad_configs").rglob("*.yaml")) + sorted(
        (ROOT / "examples" / "meters").glob("*.yaml")), ids=lambda p: p.name
)
def test_same_findings_for_the_test_and_example_files(path: Path) -> None:
    document = load_yaml(path.read_bytes()).value
    assert_same_findings(document)


def test_only_the_meters_not_accepted_go_to_jsonschema() -> None:
    document = {"version": 1, "meters": {f"m{i}": copy.deepcopy(GOOD) for i in range(100)}}
    assert schema_fast.suspect_part(document) is schema_fast.VALID
    document["meters"]["m7"]["unit"] = "custm"
    document["meters"]["Bad"] = copy.deepcopy(GOOD)
    assert schema_fast.suspect_part(document) == {
        "version": 1, "meters": {"m7": document["meters"]["m7"], "Bad": GOOD}
    }
    assert_same_findings(document)


def test_written_for_the_shipped_schema() -> None:
    """Failing? The schema's constraints changed: update schema_fast for them (the tests
    above tell where it disagrees with jsonschema), then SHAPE_DIGEST to this digest."""
    assert schema_fast.shape_digest(schema()) == schema_fast.SHAPE_DIGEST
    assert schema_fast.enabled()


def test_off_for_another_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema_fast, "SHAPE_DIGEST", "sha256:other")
    schema_fast._checker.cache_clear()
    try:
        assert not schema_fast.enabled()
        document = {"version": 1, "meters": {}}
        assert schema_fast.suspect_part(document) is document
        assert list(schema_findings({"version": 2, "meters": {}})) == list(
            reference_findings({"version": 2, "meters": {}})
        )
    finally:
        monkeypatch.undo()
        schema_fast._checker.cache_clear()
    assert schema_fast.enabled()
