"""Polar's ingest rules for one event (server/polar/event/schemas.py), written once: the
emulator's POST /v1/events/ingest answers its 422s from them, and `polar-meters test` /
`plan --events` refuse the same events (through engine/events.py's parse_event), so what a
user tests offline is what Polar would accept.

The rules: `name` a string of at most 128 characters; `timestamp` optional (now), an RFC 3339
date-time WITH a timezone, in the past; `customer_id` (a UUID4) or `external_customer_id`
(text); `metadata` values a 1-500 character string, a number or a boolean, except `_llm`
(`vendor`, `model`, `input_tokens`, `output_tokens`, `total_tokens` required) and `_cost`
(`amount` a decimal of at most 5 whole digits and 12 decimal places, `currency` `usd`);
NUL characters refused in the name, the metadata and `external_customer_id`. Errors are
pydantic's items (`type`, `loc`, `msg`, `input`), every one of an event at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from reconciler.emulator import fields as f
from reconciler.emulator.fields import Field, Invalid, Loc, uuid4
from reconciler.emulator.validation import METADATA_VALUES, no_nul
from reconciler.rules import COST_DECIMAL_PLACES, EVENT_NAME_MAX
from reconciler.timestamps import NO_TIMEZONE, WRONG_TYPE, TimestampError, parse_timestamp

__all__ = ["Invalid", "aware_datetime", "describe", "event", "ingest_body"]

#: CostMetadata.amount: Decimal(max_digits=17, decimal_places=12).
COST_MAX_DIGITS = 17


def aware_datetime(value: Any, loc: Loc, strict: bool = False) -> datetime:
    """pydantic's AwareDatetime from JSON or a query: RFC 3339 text with an offset (or a
    Unix timestamp, read as UTC)."""
    try:
        return parse_timestamp(value, epoch=not strict)
    except TimestampError as exc:
        if exc.kind == WRONG_TYPE:
            f.fail("datetime_type", loc, "Input should be a valid datetime", value)
        if exc.kind == NO_TIMEZONE:
            f.fail("timezone_aware", loc, "Input should have timezone info", value)
        reason = "input is too short" if len(str(value)) < 10 else "invalid datetime format"
        f.fail("datetime_from_date_parsing", loc,
               f"Input should be a valid datetime or date, {reason}", value, {"error": reason})


def _past(value: Any, loc: Loc, strict: bool, now: datetime | None = None) -> datetime:
    moment = aware_datetime(value, loc, strict)
    if moment > (now or datetime.now(UTC)):
        f.fail("value_error", loc, "Value error, Timestamp must be in the past.", value,
               {"error": {}})
    return moment.astimezone(UTC)


def cost_amount(value: Any, loc: Loc, strict: bool) -> float:
    """`_cost.amount`: a number (or numeric text) with at most 5 whole digits and 12 decimal
    places, pydantic's decimal checks in their order; kept as a float, as before."""
    result = f.number(value, loc, strict, finite=True)
    text = value.strip() if isinstance(value, str) else repr(value)
    try:
        amount = Decimal(text).normalize()
    except InvalidOperation:
        return result
    _sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)
    decimals = max(0, -exponent)
    total = max(len(digits), decimals)
    if total > COST_MAX_DIGITS:
        f.fail("decimal_max_digits", loc,
               f"Decimal input should have no more than {COST_MAX_DIGITS} digits in total",
               value, {"max_digits": COST_MAX_DIGITS})
    if decimals > COST_DECIMAL_PLACES:
        f.fail("decimal_max_places", loc,
               f"Decimal input should have no more than {COST_DECIMAL_PLACES} decimal places",
               value, {"decimal_places": COST_DECIMAL_PLACES})
    whole = COST_MAX_DIGITS - COST_DECIMAL_PLACES
    if total - decimals > whole:
        f.fail("decimal_whole_digits", loc,
               f"Decimal input should have no more than {whole} digits before the decimal point",
               value, {"whole_digits": whole})
    return result


_COST_FIELDS = (
    Field("amount", cost_amount, required=True),
    Field("currency", partial(f.choice, choices=("usd",)), required=True),
)
_LLM_FIELDS = (
    Field("vendor", f.string, required=True),
    Field("model", f.string, required=True),
    Field("prompt", f.nullable(f.string)),
    Field("response", f.nullable(f.string)),
    Field("input_tokens", f.integer, required=True),
    Field("cached_input_tokens", f.integer),
    Field("output_tokens", f.integer, required=True),
    Field("total_tokens", f.integer, required=True),
)


def event_metadata(value: Any, loc: Loc, strict: bool) -> dict[str, Any]:
    """EventMetadataInput: ``_cost`` and ``_llm`` structured, any other key a metadata value."""
    if not isinstance(value, dict):
        f.fail("dict_type", loc, "Input should be a valid dictionary", value)
    result: dict[str, Any] = {}
    errors: list[f.Detail] = []
    for key, item in value.items():
        try:
            if key in ("_cost", "_llm"):
                structured = _COST_FIELDS if key == "_cost" else _LLM_FIELDS
                result[key] = f.model(item, (*loc, key), strict, structured)
            else:
                result[key] = f.union(item, (*loc, key), strict, METADATA_VALUES)
        except Invalid as exc:
            errors += exc.errors
    if errors:
        raise Invalid(errors)
    return result


def _base_fields(now: datetime | None) -> tuple[Field, ...]:
    return (
        Field("timestamp", partial(_past, now=now)),
        Field("name", no_nul(partial(f.string, max_length=EVENT_NAME_MAX)), required=True),
        Field("organization_id", f.nullable(uuid4)),
        Field("external_id", f.nullable(f.string)),
        Field("parent_id", f.nullable(f.string)),
        Field("metadata", no_nul(event_metadata)),
    )


_EXTERNAL_CUSTOMER = no_nul(f.string)


def _members(now: datetime | None) -> tuple[tuple[str, f.Validator], ...]:
    base = _base_fields(now)
    customer = (*base, Field("customer_id", uuid4, required=True),
                Field("member_id", f.nullable(uuid4)))
    external = (*base, Field("external_customer_id", _EXTERNAL_CUSTOMER, required=True),
                Field("external_member_id", f.nullable(f.string)))
    return (
        ("EventCreateCustomer", partial(f.model, fields=customer)),
        ("EventCreateExternalCustomer", partial(f.model, fields=external)),
    )


_DEFAULTS: dict[str, Any] = {"metadata": {}, "organization_id": None, "external_id": None}


def event(
    value: Any, loc: Loc = (), strict: bool = False, *, now: datetime | None = None,
    customer_required: bool = True,
) -> dict[str, Any]:
    """One event as Polar's ingest validates it; raises Invalid. With `customer_required`
    false (offline meter tests, which need no customer), an event may name no customer, and
    is then checked as one model rather than Polar's union of two."""
    if customer_required:
        data = f.union(value, loc, strict, _members(now))
    else:
        either = (*_base_fields(now), Field("customer_id", f.nullable(uuid4)),
                  Field("external_customer_id", f.nullable(_EXTERNAL_CUSTOMER)))
        data = f.model(value, loc, strict, either)
    return {**_DEFAULTS, **data}


def ingest_body(body: Any) -> list[dict[str, Any]]:
    """An EventsIngest body: its events, validated (an unknown field is ignored, and an event
    holding both ``customer_id`` and ``external_customer_id`` is a customer_id event, as
    pydantic's union decides); raises Invalid."""
    fields = (Field("events", partial(f.list_of, item=event), required=True),)
    events: list[dict[str, Any]] = f.model(body, ("body",), False, fields)["events"]
    return events


def describe(errors: list[f.Detail]) -> str:
    """The first error as one line: `metadata._llm.vendor: Field required`."""
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])
