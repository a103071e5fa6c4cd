"""jsonschema's errors, rewritten as located, human diagnostics.

Each error becomes one :class:`~reconciler.model.Diagnostic` at the path of the node it is about: a missing field
at the mapping that lacks it, an unknown field or a bad key at the key itself. The schema's
own ``errorMessage`` / ``patternErrorMessage`` (the annotations editors show too) win over the
generic wording.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from jsonschema_rs import ValidationErrorKind

from reconciler.config.findings import describe_value, quote
from reconciler.config.schema import fast_validator, validator
from reconciler.model import Diagnostic

if TYPE_CHECKING:  # only files with schema problems need jsonschema (imported by validator())
    from jsonschema import Draft7Validator, ValidationError

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


def schema_findings(document: Any) -> Iterator[Diagnostic]:
    """Every schema violation in a whole file's document.

    A value of the wrong type gets that one error: what else its schema says about it
    (an enum, a length) would only repeat the problem.

    jsonschema-rs decides what is valid (a valid document, the common case, is done there);
    jsonschema words the findings of the invalid part, so they are exactly its findings.
    """
    suspect = suspect_part(document)
    if suspect is not VALID:
        yield from reference_findings(suspect)


class _Valid:
    def __repr__(self) -> str:
        return "VALID"


#: What :func:`suspect_part` returns for a valid document (None is a document too).
VALID: Any = _Valid()


def suspect_part(document: Any) -> Any:
    """:data:`VALID` when ``document`` is valid; otherwise what jsonschema must look at.

    That is ``document`` itself, or, when every error is inside ``meters`` (a mapping), a
    shallow copy whose ``meters`` keeps only the meters with errors (in their key or their
    value). The meters left out are valid: the schema relates no meter to another, so
    jsonschema finds in the copy exactly what it finds in the whole.
    """
    try:
        errors = list(fast_validator().iter_errors(document))
    except ValueError:  # a value JSON cannot hold (YAML never gives one): jsonschema decides
        return document
    if not errors:
        return VALID
    meters = document.get("meters") if isinstance(document, dict) else None
    if not isinstance(meters, dict):
        return document
    suspects: set[str | int] = set()
    for error in errors:
        path = list(error.instance_path)
        if len(path) >= 2 and path[0] == "meters":
            suspects.add(path[1])
        elif path == ["meters"] and isinstance(error.kind, ValidationErrorKind.PropertyNames):
            suspects.add(str(error.kind.error.instance))
        else:
            return document
    return {**document, "meters": {k: v for k, v in meters.items() if _named(k, suspects)}}


def _named(key: Any, names: set[str | int]) -> bool:
    """Whether ``key`` is among ``names`` from jsonschema-rs paths, which give a key of
    digits as a number ("09" as 9): such keys are all taken, which only costs time."""
    if key in names:
        return True
    return isinstance(key, str) and key.isascii() and key.isdigit() and int(key) in names


def reference_findings(
    document: Any, against: Draft7Validator | None = None
) -> Iterator[Diagnostic]:
    """:func:`schema_findings` from jsonschema alone, for the whole document (``against``:
    another schema's validator, e.g. the project file's)."""
    errors = list((against or validator()).iter_errors(document))
    mistyped = {tuple(e.absolute_path) for e in errors if e.validator == "type"}
    for error in errors:
        if error.validator == "type" or tuple(error.absolute_path) not in mistyped:
            yield from _translate(error)


def _translate(error: ValidationError) -> Iterator[Diagnostic]:
    path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance: Any = error.instance  # typed "Any | Unset": always set on a reported error
    kind = error.validator
    if len(error.schema_path) >= 2 and list(error.schema_path)[-2] == "propertyNames":
        yield Diagnostic("error", _key_message(kind, error, schema), path=(*path, instance),
                         at_key=True)
        return
    if kind == "required":
        required: Any = error.validator_value
        missing = [p for p in required if p not in instance]
        for name in missing:
            message = schema.get("errorMessage") or f"missing required field {name!r}"
            yield Diagnostic("error", message, path=path, at_key=True)
        return
    if kind == "additionalProperties":
        known = list(schema.get("properties", {}))
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        unknown = [k for k in instance
                   if k not in known and not any(p.search(k) for p in patterns)]
        for name in unknown:
            yield Diagnostic("error", f"unknown field {quote(name)}{_suggest(name, known)}",
                             path=(*path, name), at_key=True)
        return
    message = schema.get("errorMessage") or _message(kind, error, schema)
    if kind == "maxProperties":
        message += f" (it has {len(instance)})"
    at_key = kind == "not" or isinstance(instance, (dict, list))
    yield Diagnostic("error", message, path=path, at_key=at_key)


#: Wording by keyword: {shown} the value, {limit} the schema's bound, {length} a string's length.
_TEMPLATES = {
    "const": "must be {limit}, not {shown}",
    "minLength": "{shown} is too short: at least {limit} characters",
    "maxLength": "is too long: {length} characters, at most {limit}",
    "minimum": "{shown} is too small: at least {limit}",
    "maximum": "{shown} is too large: at most {limit}",
    "exclusiveMinimum": "must be greater than {limit}, not {shown}",
    "maxProperties": "has too many entries: at most {limit}",
}


def _message(kind: Any, error: ValidationError, schema: dict[str, Any]) -> str:
    value: Any = error.instance
    limit: Any = error.validator_value
    shown = describe_value(value)
    if kind == "enum":
        choices = [str(c) for c in limit]
        guess = _suggest(value, choices) if isinstance(value, str) else ""
        return f"{shown} is not one of {', '.join(choices)}{guess}"
    if kind == "type":
        wanted = [limit] if isinstance(limit, str) else list(limit)
        names = [_TYPE_NAMES.get(t, t) for t in wanted]
        expected = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        return f"expected {expected}, not {shown}"
    if kind == "minLength" and limit == 1:
        return "must not be empty"
    if kind == "pattern":
        hint = schema.get("patternErrorMessage")
        return f"{hint} (not {shown})" if hint else f"{shown} does not match {limit}"
    if kind in _TEMPLATES:
        length = len(value) if isinstance(value, str) else 0
        return _TEMPLATES[kind].format(shown=shown, limit=describe_value(limit), length=length)
    return " ".join(error.message.split())


def _key_message(kind: Any, error: ValidationError, schema: dict[str, Any]) -> str:
    """About a mapping key; the finding's path already ends with the key itself."""
    key: Any = error.instance
    limit = error.validator_value
    if kind == "maxLength":
        return f"key too long: {len(key)} characters, at most {limit}"
    if kind == "minLength":
        return "keys must not be empty"
    if kind == "pattern" and "patternErrorMessage" in schema:
        return f"bad key: {schema['patternErrorMessage']}"
    return f"bad key: {' '.join(error.message.split())}"


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
