"""Polar's rules live once, in reconciler/rules.py; the configuration's schema restates some of
them, and must say exactly what rules.py says."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler import rules
from reconciler.emulator import validation
from reconciler.rules import schema_differences, with_rules

SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "meters.schema.json"


def _committed() -> dict:
    return json.loads(SCHEMA.read_text(encoding="utf-8"))


def test_committed_schema_equals_its_generation_from_rules() -> None:
    committed = _committed()
    assert schema_differences(committed) == []
    assert with_rules(committed) == committed


def test_a_changed_rule_is_a_difference() -> None:
    changed = _committed()
    changed["definitions"]["clause"]["properties"]["value"]["maxLength"] = 999
    assert schema_differences(changed) == [
        "/definitions/clause/properties/value/maxLength: 999, but reconciler/rules.py says 1000"
    ]
    assert with_rules(changed) == _committed()


def test_a_moved_place_is_reported_missing() -> None:
    moved = _committed()
    del moved["definitions"]["metadata"]["allOf"]
    assert any(line.startswith("/definitions/metadata/allOf/0/maxProperties: missing")
               for line in schema_differences(moved))


def test_emulator_refuses_what_the_rules_refuse() -> None:
    clause = {"property": "n", "operator": "eq", "value": "x" * rules.CLAUSE_STRING_MAX}
    assert validation.filter_clause(clause, ("body",), False)["value"] == clause["value"]
    too_long = {**clause, "value": "x" * (rules.CLAUSE_STRING_MAX + 1)}
    try:
        validation.filter_clause(too_long, ("body",), False)
    except validation.Invalid as exc:
        assert list(exc.errors[0]["loc"][-2:]) == ["value", "constrained-str"]
    else:
        raise AssertionError("a clause value over the limit was accepted")


PROJECT_SCHEMA = SCHEMA.with_name("project.schema.json")


def test_committed_project_schema_says_what_the_rules_say() -> None:
    committed = json.loads(PROJECT_SCHEMA.read_text(encoding="utf-8"))
    assert schema_differences(committed, rules.PROJECT_SCHEMA_RULES) == []
    assert with_rules(committed, rules.PROJECT_SCHEMA_RULES) == committed


def test_one_uuid_rule_for_the_schemas_and_the_pins() -> None:
    """The id pattern the schemas check is the one identity and saved plans use."""
    from reconciler.polar.identity import UUID

    sample = "2f1c3a9e-8d4b-4c1e-9f7a-5b6d2e8c0a13"
    assert UUID.fullmatch(sample) and not UUID.fullmatch(sample.replace("-4c1e-", "-1c1e-"))
    changed = _committed()
    changed["definitions"]["meter"]["properties"]["id"]["pattern"] = "^.*$"
    assert schema_differences(changed) == [
        ("/definitions/meter/properties/id/pattern: '^.*$', but reconciler/rules.py says "
         f"{rules.UUID4_PATTERN!r}")]
