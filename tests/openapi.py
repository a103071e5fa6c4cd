"""Validate JSON against a schema of Polar's published (trimmed) OpenAPI document."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SPEC = Path(__file__).resolve().parents[2] / "shared" / "polar-api" / "meters-trimmed.2026-10.openapi.json"


@cache
def _spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text())


def validate_against(schema_name: str, instance: Any) -> None:
    """Raise jsonschema.ValidationError unless `instance` fits components.schemas[schema_name]."""
    spec = _spec()
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
    jsonschema.Draft202012Validator(schema).validate(instance)
