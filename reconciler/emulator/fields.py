"""Pydantic-style validation primitives, without pydantic.

Polar validates requests with pydantic (through FastAPI); the emulator must answer with the
same 422 items: `{"type", "loc", "msg", "input"(, "ctx")}`, every error of a body at once, in
the order pydantic finds them. Each validator here is `(value, loc, strict) -> value` and
raises `Invalid` with its items. `strict` mirrors pydantic's smart unions, which first try
every member strictly (no coercion) and only then leniently, reporting the lenient errors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

Loc = tuple[str | int, ...]
Detail = dict[str, Any]
Validator = Callable[[Any, Loc, bool], Any]


class Invalid(Exception):
    """One or more validation errors, as pydantic reports them."""

    def __init__(self, errors: list[Detail]) -> None:
        super().__init__(errors)
        self.errors = errors


def detail(kind: str, loc: Loc, msg: str, value: Any, ctx: dict[str, Any] | None = None) -> Detail:
    item: Detail = {"type": kind, "loc": list(loc), "msg": msg, "input": value}
    if ctx is not None:
        item["ctx"] = ctx
    return item


def fail(kind: str, loc: Loc, msg: str, value: Any, ctx: dict[str, Any] | None = None) -> NoReturn:
    raise Invalid([detail(kind, loc, msg, value, ctx)])


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# pydantic's wording for the errors that carry no context.
_INT_TYPE = "Input should be a valid integer"
_INT_PARSING = "Input should be a valid integer, unable to parse string as an integer"
_INT_SIZE = "Unable to parse input string as an integer, exceeded maximum size"
_INT_FRACTION = "Input should be a valid integer, got a number with a fractional part"
_FLOAT_TYPE = "Input should be a valid number"
_FLOAT_PARSING = "Input should be a valid number, unable to parse string as a number"
_FINITE = "Input should be a finite number"
_BOOL_TYPE = "Input should be a valid boolean"
_BOOL_PARSING = "Input should be a valid boolean, unable to interpret input"
NOT_AN_OBJECT = "Input should be a valid dictionary or object to extract fields from"


# -- scalars --------------------------------------------------------------------------------


def string(
    value: Any, loc: Loc, strict: bool = False, *, min_length: int | None = None,
    max_length: int | None = None,
) -> str:
    if not isinstance(value, str):
        fail("string_type", loc, "Input should be a valid string", value)
    if min_length is not None and len(value) < min_length:
        message = f"String should have at least {_plural(min_length, 'character')}"
        fail("string_too_short", loc, message, value, {"min_length": min_length})
    if max_length is not None and len(value) > max_length:
        message = f"String should have at most {_plural(max_length, 'character')}"
        fail("string_too_long", loc, message, value, {"max_length": max_length})
    return value


_INT_TEXT = re.compile(r"[+-]?([0-9]+(?:_[0-9]+)*)(?:\.0+)?")
_MAX_INT_DIGITS = 4300
_I64 = 2**63


def _int_from_text(value: str, loc: Loc) -> int:
    match = _INT_TEXT.fullmatch(value.strip())
    if match is None:
        fail("int_parsing", loc, _INT_PARSING, value)
    if len(match.group(1)) > _MAX_INT_DIGITS:
        fail("int_parsing_size", loc, _INT_SIZE, value)
    return int(match.group(0).split(".")[0])


def _int_from_float(value: float, loc: Loc) -> int:
    if not math.isfinite(value):
        fail("finite_number", loc, _FINITE, value)
    if value % 1:
        fail("int_from_float", loc, _INT_FRACTION, value)
    if not -_I64 <= value < _I64:
        fail("int_parsing_size", loc, _INT_SIZE, value)
    return int(value)


def integer(
    value: Any, loc: Loc, strict: bool = False, *, gt: int | None = None, ge: int | None = None,
    le: int | None = None,
) -> int:
    if isinstance(value, int) and not (strict and isinstance(value, bool)):
        number = int(value)
    elif isinstance(value, float) and not strict:
        number = _int_from_float(value, loc)
    elif isinstance(value, str) and not strict:
        number = _int_from_text(value, loc)
    else:
        fail("int_type", loc, _INT_TYPE, value)
    if le is not None and number > le:
        fail("less_than_equal", loc, f"Input should be less than or equal to {le}", value,
             {"le": le})
    if ge is not None and number < ge:
        fail("greater_than_equal", loc, f"Input should be greater than or equal to {ge}", value,
             {"ge": ge})
    if gt is not None and number <= gt:
        fail("greater_than", loc, f"Input should be greater than {gt}", value, {"gt": gt})
    return number


_FLOAT_TEXT = re.compile(
    r"[+-]?(?:inf|infinity|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?)", re.IGNORECASE
)


def number(value: Any, loc: Loc, strict: bool = False, *, finite: bool = False) -> float:
    """A float. `finite` refuses inf/nan (which Polar could not store: the emulator's choice)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) or isinstance(value, bool) and not strict:
        result = float(value)
    elif isinstance(value, str) and not strict:
        text = value.strip()
        if _FLOAT_TEXT.fullmatch(text) is None:
            fail("float_parsing", loc, _FLOAT_PARSING, value)
        result = float(text)
    else:
        fail("float_type", loc, _FLOAT_TYPE, value)
    if finite and not math.isfinite(result):
        fail("finite_number", loc, _FINITE, value)
    return result


_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def boolean(value: Any, loc: Loc, strict: bool = False) -> bool:
    if isinstance(value, bool):
        return value
    if strict:
        fail("bool_type", loc, _BOOL_TYPE, value)
    if isinstance(value, str):
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        fail("bool_parsing", loc, _BOOL_PARSING, value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    whole = isinstance(value, int) or (
        isinstance(value, float) and math.isfinite(value) and not value % 1
    )
    if whole and -_I64 <= value < _I64:  # a number other than 0 and 1
        fail("bool_parsing", loc, _BOOL_PARSING, value)
    fail("bool_type", loc, _BOOL_TYPE, value)


def expected_text(choices: Sequence[str]) -> str:
    quoted = [f"'{choice}'" for choice in choices]
    if len(quoted) == 1:
        return quoted[0]
    return f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def choice(value: Any, loc: Loc, strict: bool, choices: Sequence[str]) -> str:
    """A value of a string enum. Strictly (Python input), pydantic wants an enum member."""
    if not strict and isinstance(value, str) and value in choices:
        return value
    expected = expected_text(choices)
    fail("enum", loc, f"Input should be {expected}", value, {"expected": expected})


# -- UUIDs, with the messages of the Rust `uuid` crate pydantic-core uses ---------------------

_HEX = frozenset("0123456789abcdefABCDEF")
_GROUP_STARTS = (0, 9, 14, 19, 24)
_GROUP_LENGTHS = (8, 4, 4, 4, 12)


def _hyphenated(text: str) -> bool:
    return len(text) == 36 and all(
        (ch == "-") if i in (8, 13, 18, 23) else (ch in _HEX) for i, ch in enumerate(text)
    )


def _uuid_int(text: str) -> int | None:
    size = len(text.encode())
    inner: str | None = None
    if size == 32 and all(ch in _HEX for ch in text):
        return int(text, 16)
    if size == 36:
        inner = text
    elif size == 38 and text[0] == "{" and text[-1] == "}":
        inner = text[1:-1]
    elif size == 45 and text.startswith("urn:uuid:"):
        inner = text[9:]
    if inner is not None and _hyphenated(inner):
        return int(inner.replace("-", ""), 16)
    return None


def _uuid_error(text: str) -> str:
    raw = text.encode()
    if len(raw) >= 2 and text[0] == "{" and text[-1] == "}":
        inner, offset, simple = text[1:-1], 1, False
    elif text.startswith("urn:uuid:"):
        inner, offset, simple = text[9:], 9, False
    else:
        inner, offset, simple = text, 0, True
    hyphens: list[int] = []
    index = 0
    for ch in inner:
        if ch == "-":
            hyphens.append(index)
        elif ch not in _HEX:
            return f"invalid character: found `{ch}` at {index + offset + 1}"
        index += len(ch.encode())
    if not hyphens and simple:
        return f"invalid length: expected length 32 for simple format, found {len(raw)}"
    if len(hyphens) != 4:
        return f"invalid group count: expected 5, found {len(hyphens) + 1}"
    for group in range(4):
        if hyphens[group] != _GROUP_STARTS[group + 1] - 1:
            found = hyphens[group] - _GROUP_STARTS[group]
            expected = _GROUP_LENGTHS[group]
            return f"invalid group length in group {group}: expected {expected}, found {found}"
    return f"invalid group length in group 4: expected 12, found {len(raw) - _GROUP_STARTS[4]}"


def uuid4(value: Any, loc: Loc, strict: bool = False) -> str:
    """A UUID of version 4 (RFC 4122 variant), returned in its canonical lowercase form."""
    if not isinstance(value, str):
        fail("uuid_type", loc, "UUID input should be a string, bytes or UUID object", value)
    parsed = _uuid_int(value)
    if parsed is None:
        error = _uuid_error(value)
        fail("uuid_parsing", loc, f"Input should be a valid UUID, {error}", value, {"error": error})
    if (parsed >> 76) & 0xF != 4 or (parsed >> 62) & 0b11 != 0b10:
        fail("uuid_version", loc, "UUID version 4 expected", value, {"expected_version": 4})
    hex_ = f"{parsed:032x}"
    return f"{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}"


# -- containers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    validate: Validator
    required: bool = False


def model(value: Any, loc: Loc, strict: bool, fields: Sequence[Field]) -> dict[str, Any]:
    """An object: only the fields present in the input come back; unknown keys are ignored."""
    if not isinstance(value, dict):
        fail("model_attributes_type", loc, NOT_AN_OBJECT, value)
    result: dict[str, Any] = {}
    errors: list[Detail] = []
    for field in fields:
        if field.name in value:
            try:
                result[field.name] = field.validate(value[field.name], (*loc, field.name), strict)
            except Invalid as exc:
                errors += exc.errors
        elif field.required:
            errors.append(detail("missing", (*loc, field.name), "Field required", value))
    if errors:
        raise Invalid(errors)
    return result


def union(value: Any, loc: Loc, strict: bool, members: Sequence[tuple[str, Validator]]) -> Any:
    """A smart union: the first member to accept strictly, else the first to accept at all."""
    errors: list[Detail] = []
    for attempt_strict in (True,) if strict else (True, False):
        errors = []
        for label, validate in members:
            try:
                return validate(value, (*loc, label), attempt_strict)
            except Invalid as exc:
                errors += exc.errors
    raise Invalid(errors)


def list_of(value: Any, loc: Loc, strict: bool, item: Validator) -> list[Any]:
    if not isinstance(value, list):
        fail("list_type", loc, "Input should be a valid list", value)
    result: list[Any] = []
    errors: list[Detail] = []
    for index, element in enumerate(value):
        try:
            result.append(item(element, (*loc, index), strict))
        except Invalid as exc:
            errors += exc.errors
    if errors:
        raise Invalid(errors)
    return result


def dict_of(
    value: Any, loc: Loc, strict: bool, key: Validator, item: Validator, max_length: int
) -> dict[str, Any]:
    if not isinstance(value, dict):
        fail("dict_type", loc, "Input should be a valid dictionary", value)
    result: dict[str, Any] = {}
    errors: list[Detail] = []
    for name, element in value.items():
        try:
            name = key(name, (*loc, name, "[key]"), strict)
        except Invalid as exc:
            errors += exc.errors
        try:
            result[name] = item(element, (*loc, name), strict)
        except Invalid as exc:
            errors += exc.errors
    if errors:
        raise Invalid(errors)
    if len(result) > max_length:
        size = len(result)
        most = _plural(max_length, "item")
        message = f"Dictionary should have at most {most} after validation, not {size}"
        ctx = {"field_type": "Dictionary", "max_length": max_length, "actual_length": size}
        fail("too_long", loc, message, value, ctx)
    return result


def nullable(validate: Validator) -> Validator:
    def check(value: Any, loc: Loc, strict: bool) -> Any:
        return None if value is None else validate(value, loc, strict)

    return check
