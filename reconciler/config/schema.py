"""The JSON Schema of meter files (``schemas/meters.schema.json``) and its compiled validator.

The schema ships inside the package as ``reconciler/meters.schema.json`` (a link to the
file under ``schemas/`` that editors point at). Both are read once and cached.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jsonschema is imported when a file needs it: most runs never do
    from jsonschema import Draft7Validator


@lru_cache(maxsize=1)
def schema_text() -> str:
    """The schema file's exact text."""
    return (files("reconciler") / "meters.schema.json").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The schema as a dict (do not mutate: it is shared)."""
    return json.loads(schema_text())


@lru_cache(maxsize=1)
def validator() -> Draft7Validator:
    """A Draft 7 validator for whole files, compiled once."""
    from jsonschema import Draft7Validator

    return Draft7Validator(schema())

