"""reconciler/render/meters_yaml.py: the YAML import writes."""

from __future__ import annotations

from reconciler.config.schema import meter_key_max_length
from reconciler.config.schema_errors import schema_findings
from reconciler.render.meters_yaml import derive_key


def test_import_keys_transliterate() -> None:
    assert derive_key("Ünïcode meter — café", set()) == "unicode-meter-cafe"
    assert derive_key("Größe (GB)", set()) == "grosse-gb"
    assert derive_key("日本", set()) == "meter"
    assert derive_key("Café", {"cafe"}) == "cafe-2"


def test_import_keys_fit_the_schemas_key_rule() -> None:
    """The key length is the schema's (one copy of the rule), a suffix included."""
    most = meter_key_max_length()
    name = "Tokens" * 20
    first = derive_key(name, set())
    second = derive_key(name, {first})
    assert len(first) == most and len(second) <= most and second.endswith("-2")
    meter = {"name": "Meter", "filter": {"conjunction": "and", "clauses": [
        {"property": "name", "operator": "eq", "value": "e"}]}, "aggregation": {"func": "count"}}
    document = {"version": 1, "meters": {first: meter, second: meter}}
    assert list(schema_findings(document)) == []
    assert [d.text for d in schema_findings({"version": 1, "meters": {first + "x": meter}})] == [
        f"meters.{first}x: key too long: {most + 1} characters, at most {most}"]
