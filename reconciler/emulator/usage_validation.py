"""Polar's request rules for events, quantities and customer meters (server/polar/event/,
meter/endpoints.py ``quantities``, customer_meter/endpoints.py), as pydantic reports them.

The events that ingest accepts are reconciler/usage/ingest.py's (one copy, shared with the
offline meter tests). Approximation: a date-time that cannot be read gets one generic reason
(pydantic's parser names the exact character).
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from reconciler.emulator import fields as f
from reconciler.emulator import validation
from reconciler.emulator.fields import Loc, uuid4
from reconciler.emulator.validation import QueryReader
from reconciler.rules import AGGREGATION_FUNCTIONS as FUNCTIONS
from reconciler.rules import EARLIEST_QUANTITIES as EARLIEST
from reconciler.rules import EVENT_SORTINGS, EVENT_SOURCES, INTERVALS
from reconciler.usage.ingest import aware_datetime, ingest_body

__all__ = ["aware_datetime", "customer_meters_query", "event_names_query", "events_query",
           "ingest_body",
           "quantities_query", "timezone_name"]

CUSTOMER_METER_SORTINGS = tuple(
    sign + name
    for name in ("created_at", "modified_at", "customer_id", "customer_name", "meter_id",
                 "meter_name", "consumed_units", "credited_units", "balance")
    for sign in ("", "-")
)


# -- date-times and time zones ---------------------------------------------------------------


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
    _sources(reader)
    reader.values["query"] = reader.last.get("query")
    reader.values["filter"] = None
    if "filter" in reader.last:
        reader.take("filter", partial(filter_json, reader.last["filter"]))
    return reader.result_with_metadata()


def _sources(reader: QueryReader) -> None:
    reader.values["source"] = None
    if sources := reader.every("source"):
        reader.take("source", partial(f.list_of, sources, ("query", "source"), False,
                                      partial(f.choice, choices=EVENT_SOURCES)))


def filter_json(text: str) -> dict[str, Any]:
    """The events list's `filter`: a meter filter as JSON text; raises Invalid."""
    loc: Loc = ("query", "filter")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "too deeply nested"
        f.fail("json_invalid", loc, f"Invalid JSON: {reason}", text, {"error": reason})
    try:
        return validation.filter_(value, loc)
    except RecursionError:
        f.fail("recursion_loop", loc, "Recursion error - cyclic reference detected", text)


EVENT_NAMES_SORTINGS = tuple(
    sign + name for name in ("name", "occurrences", "first_seen", "last_seen")
    for sign in ("", "-")
)


def event_names_query(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """GET /v1/events/names (default sorting ``-last_seen``); raises Invalid."""
    reader = QueryReader(pairs)
    reader.paging(EVENT_NAMES_SORTINGS, "-last_seen")
    reader.uuids("organization_id")
    reader.uuids("customer_id")
    reader.texts("external_customer_id")
    _sources(reader)
    reader.values["query"] = reader.last.get("query")
    return reader.result()


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
    return reader.result_with_metadata()


def customer_meters_query(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """GET /v1/customer-meters/ (default sorting ``-modified_at``); raises Invalid."""
    reader = QueryReader(pairs)
    reader.paging(CUSTOMER_METER_SORTINGS, "-modified_at")
    reader.uuids("organization_id")
    reader.uuids("customer_id")
    reader.texts("external_customer_id")
    reader.uuids("meter_id")
    return reader.result()
