"""Validate JSON against a schema of Polar's published (trimmed) OpenAPI document."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema

from tests.support.paths import SPEC


@cache
def _spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text())


def validate_against(schema_name: str, instance: Any) -> None:
    """Raise jsonschema.ValidationError unless `instance` fits components.schemas[schema_name]."""
    spec = _spec()
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
    jsonschema.Draft202012Validator(schema).validate(instance)
