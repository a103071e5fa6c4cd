"""Checks the JSON Schema cannot express: how Polar really reads what was written.

They run on any document, valid or not, and look only at values of the expected types.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reconciler.config.findings import quote
from reconciler.config.yamlnodes import Path
from reconciler.model import TAG_KEY, Diagnostic
from reconciler.rules import INT32_MAX, INT32_MIN, LIKE_OPERATORS, METADATA_PREFIX, ORDER_OPERATORS


def check_document(document: Any) -> Iterator[Diagnostic]:
    """The problems of every meter of one file's document."""
    meters = document.get("meters") if isinstance(document, dict) else None
    if not isinstance(meters, dict):
        return
    for key, meter in meters.items():
        if isinstance(meter, dict):
            yield from check_meter(("meters", key), meter)


def check_meter(path: Path, meter: dict[str, Any]) -> Iterator[Diagnostic]:
    metadata = meter.get("metadata")
    if isinstance(metadata, dict) and TAG_KEY in metadata:
        yield Diagnostic(
            "error",
            f"{TAG_KEY} is reserved: polar-meters keeps the meter's key there; remove it",
            path=(*path, "metadata", TAG_KEY),
            at_key=True,
            masks=True,
        )
    aggregation = meter.get("aggregation")
    if isinstance(aggregation, dict):
        yield from _property_prefix((*path, "aggregation"), aggregation)
    filter_ = meter.get("filter")
    if isinstance(filter_, dict):
        yield from _check_group((*path, "filter"), filter_)


def _check_group(path: Path, group: dict[str, Any]) -> Iterator[Diagnostic]:
    clauses = group.get("clauses")
    if not isinstance(clauses, list):
        return
    if not clauses:
        what = "the meter counts" if path[-1] == "filter" else "this group matches"
        yield Diagnostic(
            "warning",
            f"empty: {what} every event of the organization, whatever its name; add a clause "
            "(e.g. {property: name, operator: eq, value: api_call}) if that is not meant",
            path=(*path, "clauses"),
        )
    for index, clause in enumerate(clauses):
        if not isinstance(clause, dict):
            continue
        where = (*path, "clauses", index)
        if "clauses" in clause or "conjunction" in clause:
            yield from _check_group(where, clause)
        else:
            yield from _check_clause(where, clause)


def _check_clause(path: Path, clause: dict[str, Any]) -> Iterator[Diagnostic]:
    yield from _property_prefix(path, clause)
    operator, value = clause.get("operator"), clause.get("value")
    at = (*path, "value")
    if isinstance(value, float):
        yield Diagnostic("error", _float_message(value), path=at, masks=True)
    elif operator in ORDER_OPERATORS and isinstance(value, str):
        yield Diagnostic("error", _order_message(operator, value), path=at)
    elif operator in LIKE_OPERATORS and isinstance(value, str):
        wild = [c for c in "%_" if c in value]
        if wild:
            shown = " and ".join(repr(c) for c in wild)
            yield Diagnostic(
                "warning",
                f"{operator} matches {shown} literally: Polar's {operator} is a plain "
                "substring test, without wildcards",
                path=at,
            )


def _property_prefix(path: Path, holder: dict[str, Any]) -> Iterator[Diagnostic]:
    prop = holder.get("property")
    if isinstance(prop, str) and prop.startswith(METADATA_PREFIX):
        bare = prop[len(METADATA_PREFIX):]
        yield Diagnostic(
            "warning",
            f"Polar strips the leading {METADATA_PREFIX!r}: {quote(prop)} is stored as "
            f"{quote(bare)}; write {quote(bare)} to say so",
            path=(*path, "property"),
        )


def _float_message(value: float) -> str:
    text = repr(value)
    if value.is_integer() and INT32_MIN <= value <= INT32_MAX:
        return (
            f"{text} is a float: a clause value is a string, an integer or a boolean; "
            f'write {int(value)} or "{text}"'
        )
    return (
        f"{text} is a float, which Polar does not accept in a clause (integers, strings and "
        f'booleans only): write "{text}" if text is meant'
    )


def _order_message(operator: str, value: str) -> str:
    message = f"{operator} compares numbers, but the value is the string {quote(value)}"
    try:
        number = int(value.strip())
    except ValueError:
        return message + ": use eq, ne, like or not_like to compare text"
    return message + f": if the number is meant, unquote it (value: {number})"
