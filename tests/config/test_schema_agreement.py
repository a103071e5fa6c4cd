"""The two validators of meters.schema.json agree: jsonschema-rs (which decides what is
valid) and jsonschema (which words the findings).

``schema_findings`` asks jsonschema only about the meters jsonschema-rs found invalid, so what
must hold is: both say valid/invalid alike, on random documents broken in random places
(wrong types, unknown or missing fields, bad enums, values at and past every limit, nested
groups) and on every file of the bad-config corpus, and the findings are jsonschema's own.

jsonschema reports the meters of a file in the order of a ``set`` of their keys (an order
that depends on the set), so findings are compared meter by meter, each meter's in order.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from reconciler.config.schema import fast_validator, validator
from reconciler.config.schema_errors import (
    VALID,
    reference_findings,
    schema_findings,
    suspect_part,
)
from reconciler.config.yamlnodes import load_yaml
from reconciler.model import Diagnostic
from tests.support.paths import ROOT
from tests.support.strategies import (
    GOOD_METER,
    UUID,
    documents_with_tests,
    meter_documents,
    mutated,
    odd_values,
)

pytestmark = pytest.mark.equivalence

CORPUS = sorted((ROOT / "tests" / "bad_configs").rglob("*.y*ml")) + sorted(
    (ROOT / "examples" / "meters").glob("*.yaml"))


def by_meter(findings: list[Diagnostic]) -> list[Diagnostic]:
    """Findings about the top level first, then each meter's, each group in its order."""

    def group(finding: Diagnostic) -> tuple[int, str]:
        path = finding.path or ()
        if len(path) > 1 and path[0] == "meters":
            return 1, str(path[1])
        return 0, ""

    return sorted(findings, key=group)


def assert_agree(document: Any) -> None:
    reference_valid = next(validator().iter_errors(document), None) is None
    assert fast_validator().is_valid(document) == reference_valid
    assert (suspect_part(document) is VALID) == reference_valid
    assert by_meter(list(schema_findings(document))) == by_meter(
        list(reference_findings(document)))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(meter_documents())
def test_agree_on_random_documents(document: Any) -> None:
    assert_agree(document)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(odd_values().flatmap(lambda value: mutated({"version": 1, "meters": {"m": value}})))
def test_agree_on_odd_meters(document: Any) -> None:
    assert_agree(document)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents_with_tests())
def test_agree_with_tests(document: Any) -> None:
    assert_agree(document)


GOOD = GOOD_METER


@pytest.mark.parametrize(
    "document",
    [
        None, [], "meters", {}, {"version": 1}, {"meters": {}}, {"version": 1, "meters": []},
        {"version": 1.0, "meters": {}}, {"version": True, "meters": {}},
        {"version": "1", "meters": {}}, {"version": 1, "meters": {}, "extra": 1},
        {"version": 1, "meters": {"a\n": None}}, {"version": 1, "meters": {"a\n": GOOD}},
        {"version": 1, "meters": {"m": {**GOOD, "custom_multiplier": 2.0}}},
        {"version": 1, "meters": {"m": {**GOOD, "unit": "custom", "custom_label": "r"}}},
        {"version": 1, "meters": {"m": {**GOOD, "id": UUID + "\n"}}},
        {"version": 1, "meters": {"m": GOOD}, "organization_id": UUID + "\n"},
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
def test_agree_on_odd_top_levels(document: Any) -> None:
    assert_agree(document)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_agree_on_the_bad_configs_and_examples(path: Path) -> None:
    assert_agree(load_yaml(path.read_bytes()).value)


def test_the_corpus_holds_invalid_files() -> None:
    """The corpus test above proves something only if jsonschema finds problems there."""
    invalid = [p for p in CORPUS
               if next(validator().iter_errors(load_yaml(p.read_bytes()).value), None)]
    assert len(invalid) >= 10


def test_a_trailing_newline_never_passes_a_pattern() -> None:
    """ECMA ``$`` (the JSON Schema meaning) for both validators: Python's ``re`` alone lets
    ``"a\\n"`` through ``^[a-z0-9][a-z0-9_-]*$``."""
    document = {"version": 1, "meters": {"a\n": copy.deepcopy(GOOD)}}
    assert not fast_validator().is_valid(document)
    assert [f.message for f in schema_findings(document)] == [(
        "bad key: meter keys are lowercase letters, digits, '-' and '_', starting with a letter "
        "or digit")]


def test_only_the_meters_with_errors_go_to_jsonschema() -> None:
    document: dict[str, Any] = {
        "version": 1, "meters": {f"m{i}": copy.deepcopy(GOOD) for i in range(100)}
    }
    assert suspect_part(document) is VALID
    document["meters"]["m7"]["unit"] = "custm"
    document["meters"]["Bad"] = copy.deepcopy(GOOD)
    assert suspect_part(document) == {
        "version": 1, "meters": {"m7": document["meters"]["m7"], "Bad": GOOD}
    }
    assert_agree(document)


def test_an_error_outside_meters_sends_the_whole_document() -> None:
    document = {"version": 2, "meters": {"m": copy.deepcopy(GOOD)}}
    assert suspect_part(document) is document
