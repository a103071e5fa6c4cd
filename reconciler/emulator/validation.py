"""Polar's request rules for meters: bodies of create/update, the list's query, path ids.

The schemas follow server/polar/meter/{schemas,filter,aggregation}.py and kit/metadata.py;
errors are reported with the `loc` FastAPI gives them (`body`, `query`, `path` first).
Where Polar itself would fail with a 500 (a NUL inside a filter, a name set to null, a
multiplier beyond its BIGINT column), the emulator answers a 422 of the same style instead.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from reconciler.emulator import fields as f
from reconciler.emulator.fields import Detail, Field, Invalid, Loc
from reconciler.rules import (
    AGGREGATION_FUNCTIONS as AGGREGATIONS,
)
from reconciler.rules import (
    API_VERSIONS,
    BIGINT_MAX,
    CLAUSE_STRING_MAX,
    CONJUNCTIONS,
    INT32_MAX,
    INT32_MIN,
    METADATA_KEY_MAX,
    METADATA_KEY_MIN,
    METADATA_MAX_KEYS,
    METADATA_PREFIX,
    METADATA_STRING_MAX,
    METADATA_STRING_MIN,
    NAME_MIN_LENGTH,
    OPERATORS,
    UNITS,
)
from reconciler.rules import METER_SORTINGS as SORTINGS

_NUL_MESSAGE = "Value error, This value contains invalid characters"
# How pydantic prints the expected tags of Polar's AggregationFunction enum.
_AGGREGATION_TAGS = ", ".join(
    f"<AggregationFunction.{'cnt' if tag == 'count' else tag}: '{tag}'>" for tag in AGGREGATIONS
)


def _property(value: Any, loc: Loc, strict: bool) -> str:
    return f.string(value, loc, strict).removeprefix(METADATA_PREFIX)


# -- filter and aggregation ------------------------------------------------------------------

_CLAUSE_VALUE = (
    ("constrained-str", partial(f.string, max_length=CLAUSE_STRING_MAX)),
    ("constrained-int", partial(f.integer, ge=INT32_MIN, le=INT32_MAX)),
    ("bool", f.boolean),
)
_CLAUSE_FIELDS = (
    Field("property", _property, required=True),
    Field("operator", partial(f.choice, choices=OPERATORS), required=True),
    Field("value", partial(f.union, members=_CLAUSE_VALUE), required=True),
)


def filter_clause(value: Any, loc: Loc, strict: bool) -> dict[str, Any]:
    return f.model(value, loc, strict, _CLAUSE_FIELDS)


def _clause_or_group(value: Any, loc: Loc, strict: bool) -> dict[str, Any]:
    return f.union(value, loc, strict, (("FilterClause", filter_clause), ("Filter", filter_)))


_FILTER_FIELDS = (
    Field("conjunction", partial(f.choice, choices=CONJUNCTIONS), required=True),
    Field("clauses", partial(f.list_of, item=_clause_or_group), required=True),
)


def filter_(value: Any, loc: Loc, strict: bool = False) -> dict[str, Any]:
    """`{"conjunction", "clauses": [clause | filter, ...]}`, nested to any depth."""
    return f.model(value, loc, strict, _FILTER_FIELDS)


def aggregation(value: Any, loc: Loc, strict: bool = False) -> dict[str, Any]:
    """A union discriminated on `func`; `count` takes no property."""
    if not isinstance(value, dict):
        f.fail("model_attributes_type", loc, f.NOT_AN_OBJECT, value)
    if "func" not in value:
        f.fail("union_tag_not_found", loc, "Unable to extract tag using discriminator 'func'",
               value, {"discriminator": "'func'"})
    tag = value["func"]
    if not isinstance(tag, str) or tag not in AGGREGATIONS:
        shown = tag if isinstance(tag, str) else str(tag)
        f.fail("union_tag_invalid", loc,
               f"Input tag '{shown}' found using 'func' does not match any of the expected tags: "
               f"{_AGGREGATION_TAGS}",
               value, {"discriminator": "'func'", "tag": shown, "expected_tags": _AGGREGATION_TAGS})
    if tag == "count":
        return {"func": "count"}
    fields = (Field("property", _property, required=True),)
    return {"func": tag, **f.model(value, (*loc, tag), strict, fields)}


# -- metadata -----------------------------------------------------------------------------------

METADATA_VALUES = (
    ("constrained-str", partial(f.string, min_length=METADATA_STRING_MIN, max_length=METADATA_STRING_MAX)),
    ("int", f.integer),
    ("float", partial(f.number, finite=True)),
    ("bool", f.boolean),
)


def metadata(value: Any, loc: Loc, strict: bool = False) -> dict[str, Any]:
    """At most 50 keys of 1-40 characters; values a 1-500 character string, number or bool."""
    return f.dict_of(
        value, loc, strict,
        key=partial(f.string, min_length=METADATA_KEY_MIN, max_length=METADATA_KEY_MAX),
        item=partial(f.union, members=METADATA_VALUES),
        max_length=METADATA_MAX_KEYS,
    )


# -- bodies -----------------------------------------------------------------------------------


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def no_nul(validate: f.Validator) -> f.Validator:
    """Polar's field validator refusing NUL anywhere in a value, once the field is valid."""

    def check(value: Any, loc: Loc, strict: bool) -> Any:
        result = validate(value, loc, strict)
        if _has_nul(result):
            f.fail("value_error", loc, _NUL_MESSAGE, result, {"error": {}})
        return result

    return check


_NAME = partial(f.string, min_length=NAME_MIN_LENGTH)
_UNIT = partial(f.choice, choices=UNITS)
_MULTIPLIER = f.nullable(partial(f.integer, gt=0, le=BIGINT_MAX))

_CREATE_FIELDS = (
    Field("metadata", no_nul(metadata)),
    Field("name", no_nul(_NAME), required=True),
    Field("unit", _UNIT),
    Field("custom_label", no_nul(f.nullable(f.string))),
    Field("custom_multiplier", _MULTIPLIER),
    Field("filter", no_nul(filter_), required=True),
    Field("aggregation", no_nul(aggregation), required=True),
    Field("organization_id", f.nullable(f.uuid4)),
)

_UPDATE_FIELDS = (
    Field("metadata", no_nul(metadata)),
    Field("name", no_nul(_NAME)),  # null: refused (Polar: a 500)
    Field("unit", _UNIT),  # null: refused (Polar: a 500)
    Field("custom_label", no_nul(f.nullable(f.string))),
    Field("custom_multiplier", _MULTIPLIER),
    Field("filter", no_nul(f.nullable(filter_))),
    Field("aggregation", no_nul(f.nullable(aggregation))),
    Field("is_archived", f.nullable(f.boolean)),
)

_CREATE_DEFAULTS: dict[str, Any] = {
    "metadata": {}, "unit": "scalar", "custom_label": None, "custom_multiplier": None,
    "organization_id": None,
}


def _guarded(validate: Any, body: Any) -> dict[str, Any]:
    try:
        return validate(body, ("body",), False)
    except RecursionError:
        raise Invalid([f.detail("recursion_loop", ("body",),
                                "Recursion error - cyclic reference detected", None)]) from None


def meter_create(body: Any) -> dict[str, Any]:
    """A MeterCreate body, with defaults filled in; raises Invalid."""
    data = {**_CREATE_DEFAULTS, **_guarded(partial(f.model, fields=_CREATE_FIELDS), body)}
    if data["unit"] == "custom" and data["custom_label"] is None:
        message = "custom_label is required when unit is 'custom'."
    elif data["unit"] != "custom" and data["custom_label"] is not None:
        message = "custom_label and custom_multiplier are only allowed when unit is 'custom'."
    else:
        return data
    error = f.detail("value_error", ("body",), f"Value error, {message}", body, {"error": {}})
    raise Invalid([error])


def meter_update(body: Any) -> dict[str, Any]:
    """A MeterUpdate body: only the fields it holds (an explicit null included); raises Invalid."""
    return _guarded(partial(f.model, fields=_UPDATE_FIELDS), body)


# -- path and query ---------------------------------------------------------------------------


def path_id(value: str) -> str:
    """The `{id}` of a meter path: a UUID4 in canonical form; raises Invalid."""
    return f.uuid4(value, ("path", "id"))


_SEQUENCE_LABEL = (
    "json-or-python[json=list[uuid],python=chain[is-instance[Sequence],"
    "function-wrap[sequence_validator()]]]"
)


def uuid4_list(values: list[str], name: str) -> list[str]:
    """A repeatable UUID4 query parameter (Polar's MultipleQueryFilter); raises Invalid."""
    loc: Loc = ("query", name)
    errors: list[Detail] = []
    result: list[str] = []
    for index, value in enumerate(values):
        try:
            result.append(f.uuid4(value, (*loc, _SEQUENCE_LABEL, index)))
        except Invalid as exc:
            errors += exc.errors
    if errors:
        scalar = f.detail("uuid_type", (*loc, "uuid"),
                          "UUID input should be a string, bytes or UUID object", values)
        raise Invalid([scalar, *errors])
    return result


class QueryReader:
    """Reads a query's parameters into arguments, keeping every error for one 422."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs
        self.last = dict(pairs)
        self.errors: list[Detail] = []
        self.values: dict[str, Any] = {}

    def every(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]

    def take(self, name: str, check: Any) -> None:
        try:
            self.values[name] = check()
        except Invalid as exc:
            self.errors.extend(exc.errors)

    def paging(self, sortings: tuple[str, ...], default: str) -> None:
        """`page` and `limit` (> 0), then `sorting` (repeatable), as in every Polar list."""
        self.values.update(page=1, limit=10, sorting=[default])
        for name in ("page", "limit"):
            if name in self.last:
                self.take(name, partial(f.integer, self.last[name], ("query", name), gt=0))
        sorting = self.every("sorting")
        if sorting:
            self.take("sorting", partial(f.list_of, sorting, ("query", "sorting"), False,
                                         partial(f.choice, choices=sortings)))

    def uuids(self, name: str, key: str | None = None) -> None:
        """A repeatable UUID4 filter; None when absent."""
        self.values[key or name] = None
        if values := self.every(name):
            self.take(key or name, partial(uuid4_list, values, name))

    def texts(self, name: str) -> None:
        """A repeatable text filter; None when absent."""
        self.values[name] = self.every(name) or None

    def result(self) -> dict[str, Any]:
        if self.errors:
            raise Invalid(self.errors)
        return self.values

    def result_with_metadata(self) -> dict[str, Any]:
        """The result and the `metadata[key]=value` filters (metadata_query)."""
        return {**self.result(), "metadata": metadata_query(self.pairs)}


def list_query(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """The list endpoint's query as Emulator.list_meters arguments; raises Invalid.

    Errors come in FastAPI's order: pagination, sorting, then the endpoint's own parameters.
    """
    reader = QueryReader(pairs)
    reader.paging(SORTINGS, "name")
    reader.values["query"] = reader.last.get("query")
    reader.uuids("organization_id", "organization_ids")
    reader.values["is_archived"] = None
    if "is_archived" in reader.last:
        reader.take("is_archived",
                    partial(f.boolean, reader.last["is_archived"], ("query", "is_archived")))
    return reader.result_with_metadata()


_METADATA_KEY = re.compile(r"metadata\[([^\]]+)\]")


def metadata_query(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """`metadata[key]=value` pairs; like Polar, the pattern only has to match the start."""
    found: dict[str, list[str]] = {}
    for key, value in pairs:
        if match := _METADATA_KEY.match(key):
            found.setdefault(match.group(1), []).append(value)
    return found


def api_version(value: str | None) -> str | None:
    """The Polar-Version asked for (default 2026-04), or None when Polar would answer 404."""
    if not value:
        return API_VERSIONS[0]
    match = re.fullmatch(r"(\d{4})-(\d{2})", value)
    if match is None:
        return None
    version = f"{int(match.group(1)):04d}-{int(match.group(2)):02d}"
    return version if version in API_VERSIONS else None
