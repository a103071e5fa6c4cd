"""A fast answer to "is this document valid under meters.schema.json?", for the common case.

jsonschema needs about 0.9 ms per meter here (9 s for 10,000 meters). Valid documents are by
far the most common, and for them the only answer needed is "yes". This module gives it with
plain Python written for exactly the keywords the schema uses, reading the schema's limits,
enums and patterns from the schema itself. It never words a finding: :func:`suspect_part`
returns what jsonschema must still look at (the document, or a copy holding only the meters
not accepted here), and ``schema_errors`` asks jsonschema for that part's findings. So the
messages are jsonschema's, always; this module only has to be right about "valid".

It is written for one version of the schema's constraints: :data:`SHAPE_DIGEST` is a digest of
the schema without its annotations (titles, descriptions, error messages). When the schema's
constraints change, the digest differs, the fast path turns itself off (every document goes to
jsonschema, correct but slow) and the tests fail until this module is brought up to date.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from reconciler.config.schema import schema

#: Keys that describe or word, but do not constrain: left out of the shape digest.
ANNOTATIONS = frozenset(
    {"$schema", "$id", "title", "description", "default", "examples", "errorMessage",
     "patternErrorMessage"}
)
#: The digest of the constraints this module implements (see :func:`shape_digest`).
SHAPE_DIGEST = "sha256:256fb62922eff6741312c5f1e1d9cf448eb0e5187d9fcf382dfa6cea38197729"


def shape_digest(document: Any) -> str:
    """A digest of a schema's constraints: the schema without :data:`ANNOTATIONS`."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ANNOTATIONS}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    text = json.dumps(strip(document), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def enabled() -> bool:
    """Whether the fast path is on: the shipped schema is the one this module was written for."""
    return _checker() is not None


class _Valid:
    def __repr__(self) -> str:
        return "VALID"


#: What :func:`suspect_part` returns for a valid document (None is a document too).
VALID: Any = _Valid()


def suspect_part(document: Any) -> Any:
    """:data:`VALID` when ``document`` is valid; otherwise what jsonschema must look at.

    That is ``document`` itself, or, when its top level is a mapping whose ``meters`` is a
    mapping, a shallow copy whose ``meters`` keeps only the meters (with their keys) not
    accepted here. The meters left out are valid, keys and values: the schema relates no
    meter to another, so jsonschema finds in the copy exactly what it finds in the whole.
    """
    check = _checker()
    if check is None:
        return document
    return check(document)


def is_valid(document: Any) -> bool:
    """Accepted here. Always invalid for jsonschema too; valid for it as well, except for
    documents YAML cannot give (e.g. keys that are not strings), which go to jsonschema."""
    return suspect_part(document) is VALID


@lru_cache(maxsize=1)
def _checker() -> Callable[[Any], Any] | None:
    current = schema()
    if shape_digest(current) != SHAPE_DIGEST:
        return None
    return _compile(current)


def _fields(definition: dict[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    """An object schema's known and required property names."""
    return frozenset(definition["properties"]), frozenset(definition.get("required", ()))


def _compile(top: dict[str, Any]) -> Callable[[Any], Any]:  # noqa: C901, PLR0915 - one schema
    """The checker for ``top``, whose constraints are those of :data:`SHAPE_DIGEST`.

    Types are tested with ``type(x) is …``: stricter than jsonschema for subclasses (then the
    document goes to jsonschema, which is only slower). Draft 7 "integer" accepts integral
    floats (1.0), and "number" and "integer" never accept booleans; both are followed here.
    """
    defs = top["definitions"]
    top_fields, top_required = _fields(top)
    top_props = top["properties"]
    version = top_props["version"]["const"]
    organization = re.compile(top_props["organization_id"]["pattern"]).search
    key_rules = top_props["meters"]["propertyNames"]
    key_max, key_pattern = key_rules["maxLength"], re.compile(key_rules["pattern"]).search

    meter = defs["meter"]
    meter_fields, meter_required = _fields(meter)
    props = meter["properties"]
    name_min = props["name"]["minLength"]
    units = frozenset(props["unit"]["enum"])
    label_min = props["custom_label"]["minLength"]
    multiplier_above = props["custom_multiplier"]["exclusiveMinimum"]
    meter_id = re.compile(props["id"]["pattern"]).search
    label_unit = meter["allOf"][0]["if"]["properties"]["unit"]["const"]  # needs a label
    unlabelled_units = frozenset(meter["allOf"][1]["if"]["properties"]["unit"]["enum"])

    group_fields, group_required = _fields(defs["filter"])
    conjunctions = frozenset(defs["filter"]["properties"]["conjunction"]["enum"])
    clause = defs["clause"]
    clause_fields, clause_required = _fields(clause)
    clause_property_min = clause["properties"]["property"]["minLength"]
    operators = frozenset(clause["properties"]["operator"]["enum"])
    value = clause["properties"]["value"]
    value_max_length, value_min, value_max = value["maxLength"], value["minimum"], value["maximum"]

    aggregation = defs["aggregation"]
    aggregation_fields, aggregation_required = _fields(aggregation)
    functions = frozenset(aggregation["properties"]["func"]["enum"])
    aggregation_property_min = aggregation["properties"]["property"]["minLength"]
    propertyless = aggregation["allOf"][0]["if"]["properties"]["func"]["const"]
    property_functions = frozenset(aggregation["allOf"][1]["if"]["properties"]["func"]["enum"])

    tests_rules = top_props["tests"]
    test_name_min = tests_rules["propertyNames"]["minLength"]
    test_name_max = tests_rules["propertyNames"]["maxLength"]
    test = defs["test"]
    test_fields, test_required = _fields(test)
    events_min = test["properties"]["events"]["minLength"]
    expect_min = test["properties"]["expect"]["minProperties"]
    expectation = defs["expectation"]
    expectation_fields, _ = _fields(expectation)
    expectation_min = expectation["minProperties"]
    matched_min = expectation["properties"]["matched"]["minimum"]

    metadata = defs["metadata"]
    metadata_key_min = metadata["propertyNames"]["minLength"]
    metadata_key_max = metadata["propertyNames"]["maxLength"]
    metadata_value_min = metadata["additionalProperties"]["minLength"]
    metadata_value_max = metadata["additionalProperties"]["maxLength"]
    metadata_most = metadata["allOf"][0]["maxProperties"]

    def filter_ok(root: Any) -> bool:
        groups = [root]  # a stack, not recursion: groups nest to any depth
        while groups:
            group = groups.pop()
            if type(group) is not dict:
                return False
            keys = group.keys()
            if not (keys <= group_fields and keys >= group_required):
                return False
            conjunction, clauses = group["conjunction"], group["clauses"]
            if type(conjunction) is not str or conjunction not in conjunctions:
                return False
            if type(clauses) is not list:
                return False
            for item in clauses:
                if type(item) is not dict:
                    return False
                if "clauses" in item or "conjunction" in item:  # clauseOrGroup's "if"
                    groups.append(item)
                    continue
                keys = item.keys()
                if not (keys <= clause_fields and keys >= clause_required):
                    return False
                prop, operator, val = item["property"], item["operator"], item["value"]
                if type(prop) is not str or len(prop) < clause_property_min:
                    return False
                if type(operator) is not str or operator not in operators:
                    return False
                kind = type(val)
                if kind is str:
                    if len(val) > value_max_length:
                        return False
                elif kind is int or (kind is float and val.is_integer()):
                    if not value_min <= val <= value_max:
                        return False
                elif kind is not bool:
                    return False
        return True

    def aggregation_ok(agg: Any) -> bool:
        if type(agg) is not dict:
            return False
        keys = agg.keys()
        if not (keys <= aggregation_fields and keys >= aggregation_required):
            return False
        func = agg["func"]
        if type(func) is not str or func not in functions:
            return False
        if "property" in agg:
            prop = agg["property"]
            return type(prop) is str and len(prop) >= aggregation_property_min and (
                func != propertyless
            )
        return func not in property_functions

    def metadata_ok(data: Any) -> bool:
        if type(data) is not dict or len(data) > metadata_most:
            return False
        for key, val in data.items():
            if type(key) is not str or not metadata_key_min <= len(key) <= metadata_key_max:
                return False
            kind = type(val)
            if kind is str:
                if not metadata_value_min <= len(val) <= metadata_value_max:
                    return False
            elif kind is not int and kind is not float and kind is not bool:
                return False
        return True

    def expectation_ok(data: Any) -> bool:
        if type(data) is not dict or len(data) < expectation_min:
            return False
        if not data.keys() <= expectation_fields:
            return False
        if "total" in data and type(data["total"]) is not int and type(data["total"]) is not float:
            return False
        if "matched" in data:
            count = data["matched"]
            kind = type(count)
            if not (kind is int or (kind is float and count.is_integer())):
                return False
            if count < matched_min:
                return False
        return True

    def tests_ok(tests: Any) -> bool:
        if type(tests) is not dict:
            return False
        for name, data in tests.items():
            if type(name) is not str or not test_name_min <= len(name) <= test_name_max:
                return False
            if type(data) is not dict:
                return False
            keys = data.keys()
            if not (keys <= test_fields and keys >= test_required):
                return False
            events, expect = data["events"], data["expect"]
            if type(events) is str:
                if len(events) < events_min:
                    return False
            elif type(events) is not list or any(type(e) is not dict for e in events):
                return False
            if type(expect) is not dict or len(expect) < expect_min:
                return False
            if not all(expectation_ok(e) for e in expect.values()):
                return False
        return True

    def meter_ok(data: Any) -> bool:
        if type(data) is not dict:
            return False
        keys = data.keys()
        if not (keys <= meter_fields and keys >= meter_required):
            return False
        name = data["name"]
        if type(name) is not str or len(name) < name_min:
            return False
        if not filter_ok(data["filter"]) or not aggregation_ok(data["aggregation"]):
            return False
        unit = data.get("unit")
        if "unit" in data and (type(unit) is not str or unit not in units):
            return False
        if "custom_label" in data:
            label = data["custom_label"]
            if type(label) is not str or len(label) < label_min:
                return False
            if "unit" not in data or unit in unlabelled_units:  # the "if" holds when absent
                return False
        elif unit == label_unit:
            return False
        if "custom_multiplier" in data:
            number = data["custom_multiplier"]
            kind = type(number)
            if not (kind is int or (kind is float and number.is_integer())):
                return False
            if not number > multiplier_above:
                return False
        if "metadata" in data and not metadata_ok(data["metadata"]):
            return False
        if "id" in data:
            pinned = data["id"]
            if type(pinned) is not str or not meter_id(pinned):
                return False
        return "archived" not in data or type(data["archived"]) is bool

    def top_ok(document: dict[str, Any]) -> bool:
        keys = document.keys()
        if not (keys <= top_fields and keys >= top_required):
            return False
        given = document["version"]
        if not ((type(given) is int or type(given) is float) and given == version):
            return False
        if "organization_id" in document:
            org = document["organization_id"]
            if type(org) is not str or not organization(org):
                return False
        return "tests" not in document or tests_ok(document["tests"])

    def check(document: Any) -> Any:
        if type(document) is not dict:
            return document
        meters = document.get("meters")
        if type(meters) is not dict:
            return document
        suspects = {
            key: data
            for key, data in meters.items()
            if not (type(key) is str and len(key) <= key_max and key_pattern(key)
                    and meter_ok(data))
        }
        if not suspects and top_ok(document):
            return VALID
        return {**document, "meters": suspects}

    return check
