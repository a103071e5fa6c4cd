"""Polar's request rules for events, quantities and customer meters (server/polar/event/,
meter/endpoints.py ``quantities``, customer_meter/endpoints.py), as pydantic reports them.

Approximations: a date-time that cannot be read gets one generic reason (pydantic's parser
names the exact character); NUL characters in event fields are not refused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from reconciler.emulator import fields as f
from reconciler.emulator.fields import Field, Invalid, Loc, uuid4
from reconciler.emulator.validation import METADATA_VALUES, QueryReader, metadata_query
from reconciler.rules import AGGREGATION_FUNCTIONS as FUNCTIONS
from reconciler.rules import EARLIEST_QUANTITIES as EARLIEST
from reconciler.rules import EVENT_NAME_MAX, EVENT_SORTINGS, EVENT_SOURCES, INTERVALS
from reconciler.timestamps import NO_TIMEZONE, WRONG_TYPE, TimestampError, parse_timestamp

CUSTOMER_METER_SORTINGS = tuple(
    sign + name
    for name in ("created_at", "modified_at", "customer_id", "customer_name", "meter_id",
                 "meter_name", "consumed_units", "credited_units", "balance")
    for sign in ("", "-")
)


# -- date-times and time zones ---------------------------------------------------------------


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


def _past(value: Any, loc: Loc, strict: bool) -> datetime:
    moment = aware_datetime(value, loc, strict)
    if moment > datetime.now(UTC):
        f.fail("value_error", loc, "Value error, Timestamp must be in the past.", value,
               {"error": {}})
    return moment.astimezone(UTC)


def timezone_name(value: str, loc: Loc) -> ZoneInfo:
    """pydantic-extra-types' TimeZoneName: an IANA zone name."""
    if value not in _zones():
        f.fail("TimeZoneName", loc, "Invalid timezone name.", value)
    return ZoneInfo(value)


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


# -- POST /v1/events/ingest --------------------------------------------------------------------

_COST_FIELDS = (
    Field("amount", partial(f.number, finite=True), required=True),
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
                fields = _COST_FIELDS if key == "_cost" else _LLM_FIELDS
                result[key] = f.model(item, (*loc, key), strict, fields)
            else:
                result[key] = f.union(item, (*loc, key), strict, METADATA_VALUES)
        except Invalid as exc:
            errors += exc.errors
    if errors:
        raise Invalid(errors)
    return result


_BASE_FIELDS = (
    Field("timestamp", _past),
    Field("name", partial(f.string, max_length=EVENT_NAME_MAX), required=True),
    Field("organization_id", f.nullable(uuid4)),
    Field("external_id", f.nullable(f.string)),
    Field("parent_id", f.nullable(f.string)),
    Field("metadata", event_metadata),
)
_CUSTOMER_FIELDS = (
    *_BASE_FIELDS,
    Field("customer_id", uuid4, required=True),
    Field("member_id", f.nullable(uuid4)),
)
_EXTERNAL_FIELDS = (
    *_BASE_FIELDS,
    Field("external_customer_id", f.string, required=True),
    Field("external_member_id", f.nullable(f.string)),
)
_EVENT_CREATE = (
    ("EventCreateCustomer", partial(f.model, fields=_CUSTOMER_FIELDS)),
    ("EventCreateExternalCustomer", partial(f.model, fields=_EXTERNAL_FIELDS)),
)


def _event_create(value: Any, loc: Loc, strict: bool) -> dict[str, Any]:
    data = f.union(value, loc, strict, _EVENT_CREATE)
    return {"metadata": {}, "organization_id": None, "external_id": None, **data}


def ingest_body(body: Any) -> list[dict[str, Any]]:
    """An EventsIngest body: its events, validated (an unknown field is ignored, and an event
    holding both ``customer_id`` and ``external_customer_id`` is a customer_id event, as
    pydantic's union decides); raises Invalid."""
    fields = (Field("events", partial(f.list_of, item=_event_create), required=True),)
    return f.model(body, ("body",), False, fields)["events"]


# -- query strings -----------------------------------------------------------------------------


def events_query(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """GET /v1/events/: pagination, sorting (default ``-timestamp``) and the filters the
    emulator knows; raises Invalid."""
    reader = QueryReader(pairs)
    reader.paging(EVENT_SORTINGS, "-timestamp")
    for name in ("start_timestamp", "end_timestamp"):
        reader.values[name] = None
        if name in reader.last:
            reader.take(name, partial(aware_datetime, reader.last[name], ("query", name)))
    reader.uuids("organization_id")
    reader.uuids("customer_id")
    reader.texts("external_customer_id")
    reader.values["meter_id"] = None
    if "meter_id" in reader.last:
        reader.take("meter_id", partial(uuid4, reader.last["meter_id"], ("query", "meter_id")))
    reader.texts("name")
    reader.values["source"] = None
    if sources := reader.every("source"):
        reader.take("source", partial(f.list_of, sources, ("query", "source"), False,
                                      partial(f.choice, choices=EVENT_SOURCES)))
    result = reader.result()
    result["metadata"] = metadata_query(pairs)
    return result


def quantities_query(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """GET /v1/meters/{id}/quantities; raises Invalid (span limits are checked later, after
    the meter is found, as Polar does)."""
    reader = QueryReader(pairs)
    for name in ("start_timestamp", "end_timestamp"):
        loc: Loc = ("query", name)
        if name not in reader.last:
            reader.errors.append(f.detail("missing", loc, "Field required", None))
            continue
        reader.take(name, partial(aware_datetime, reader.last[name], loc))
    start = reader.values.get("start_timestamp")
    if start is not None and start < EARLIEST:
        reader.errors.append(f.detail(
            "greater_than_equal", ("query", "start_timestamp"),
            "Input should be greater than or equal to 2023-01-01T00:00:00Z",
            reader.last["start_timestamp"], {"ge": "2023-01-01T00:00:00Z"}))
    if "interval" not in reader.last:
        reader.errors.append(f.detail("missing", ("query", "interval"), "Field required", None))
    else:
        reader.take("interval", partial(f.choice, reader.last["interval"], ("query", "interval"),
                                        False, choices=INTERVALS))
    reader.values["timezone"] = ZoneInfo("UTC")
    if "timezone" in reader.last:
        reader.take("timezone", partial(timezone_name, reader.last["timezone"],
                                        ("query", "timezone")))
    reader.uuids("customer_id")
    reader.texts("external_customer_id")
    reader.values["customer_aggregation_function"] = None
    if "customer_aggregation_function" in reader.last:
        name = "customer_aggregation_function"
        reader.take(name, partial(f.choice, reader.last[name], ("query", name), False,
                                  choices=FUNCTIONS))
    result = reader.result()
    result["metadata"] = metadata_query(pairs)
    return result


def customer_meters_query(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """GET /v1/customer-meters/ (default sorting ``-modified_at``); raises Invalid."""
    reader = QueryReader(pairs)
    reader.paging(CUSTOMER_METER_SORTINGS, "-modified_at")
    reader.uuids("organization_id")
    reader.uuids("customer_id")
    reader.texts("external_customer_id")
    reader.uuids("meter_id")
    return reader.result()
