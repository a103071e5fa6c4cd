"""The JSON Schema of meter files (``schemas/meters.schema.json``) and its two validators.

The schema ships inside the package as ``reconciler/meters.schema.json`` (a link to the
file under ``schemas/`` that editors point at). Both are read once and cached. It is the only
copy of the configuration's rules; two validators read it:

- :func:`fast_validator` (jsonschema-rs, compiled Rust) says whether a document is valid and
  where its errors are: every run asks it, and for a valid file nothing else is needed.
- :func:`validator` (jsonschema) words the errors of the parts found invalid: its errors
  carry what :mod:`schema_errors` turns into the messages users read.

Patterns follow ECMA 262 as the JSON Schema specification says: ``$`` ends the text (in
Python's ``re`` it also matches before a final newline, so ``"m\\n"`` would pass as a key).
jsonschema is given that meaning too, so the two agree (``tests/config/test_schema_agreement``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # both are imported when first needed
    import jsonschema_rs
    from jsonschema import Draft7Validator, ValidationError


@lru_cache(maxsize=1)
def schema_text() -> str:
    """The schema file's exact text."""
    return (files("reconciler") / "meters.schema.json").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The schema as a dict (do not mutate: it is shared)."""
    return json.loads(schema_text())


def meter_key_max_length() -> int:
    """The longest meter key the schema allows (``import`` derives keys within it)."""
    return int(schema()["properties"]["meters"]["propertyNames"]["maxLength"])


@lru_cache(maxsize=1)
def fast_validator() -> jsonschema_rs.Draft7Validator:
    """jsonschema-rs' Draft 7 validator for whole files, compiled once."""
    import jsonschema_rs

    return jsonschema_rs.Draft7Validator(schema())


@lru_cache(maxsize=1)
def validator() -> Draft7Validator:
    """jsonschema's Draft 7 validator for whole files (ECMA ``$`` in patterns), compiled once."""
    return ecma_validator(schema())


def ecma_validator(document: dict[str, Any]) -> Draft7Validator:
    """A jsonschema Draft 7 validator of ``document`` with ECMA's ``$`` (for the project
    file's schema too)."""
    from jsonschema import Draft7Validator, validators

    ecma = validators.extend(Draft7Validator, {"pattern": _ecma_pattern})
    return ecma(document)


def _ecma_pattern(
    validator: Draft7Validator, pattern: str, instance: Any, _schema: Any
) -> Iterator[ValidationError]:
    from jsonschema import ValidationError

    if validator.is_type(instance, "string") and not _compiled(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    """``pattern`` for Python's ``re`` with ECMA's ``$``: an unescaped ``$`` outside a
    character class ends the text (``\\Z``)."""
    out, escaped, in_class = [], False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            out.append(r"\Z")
            continue
        out.append(char)
    return re.compile("".join(out))
