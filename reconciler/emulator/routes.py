"""Polar's routes: each path's methods, the scopes they accept and the handler that answers
from the core (meters), from usage.py (events, quantities, customer meters) or from
catalog.py (products and benefits: catalog_routes.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from reconciler.emulator import catalog_routes, usage_validation, validation
from reconciler.emulator.auth import READ_SCOPES, WRITE_SCOPES, Principal
from reconciler.emulator.bodies import body_errors, missing_body
from reconciler.emulator.event_list import EventList
from reconciler.emulator.fields import Detail, Invalid
from reconciler.emulator.usage import CUSTOMER_METERS_READ, EVENTS_READ, EVENTS_WRITE, Usage
from reconciler.emulator.wire import Request, Response, json_response

_METER_PATH = re.compile(r"/v1/meters/([^/]+)")
_QUANTITIES_PATH = re.compile(r"/v1/meters/([^/]+)/quantities")
_EVENT_PATH = re.compile(r"/v1/events/([^/]+)")
_CUSTOMER_METER_PATH = re.compile(r"/v1/customer-meters/([^/]+)")


def _list(request: Request, principal: Principal) -> Response:
    page = request.emulator.list_meters(principal, **validation.list_query(request.query))
    return json_response(200, page.to_json())


def _create(request: Request, principal: Principal) -> Response:
    if request.json is None:
        raise Invalid(missing_body())
    return json_response(201, request.emulator.create_meter(request.json, principal))


def _path_id(request: Request, check_body: Callable[[Any], Any] | None) -> str:
    """The path's id, or every error of the path and the body together."""
    raw_id = request.path.rsplit("/", 1)[1]
    try:
        return validation.path_id(raw_id)
    except Invalid as exc:
        errors = body_errors(check_body, request.json) if check_body else []
        raise Invalid(exc.errors + errors) from None


def _get(request: Request, principal: Principal) -> Response:
    meter_id = _path_id(request, None)
    return json_response(200, request.emulator.get_meter(meter_id, principal))


def _update(request: Request, principal: Principal) -> Response:
    meter_id = _path_id(request, validation.meter_update)
    if request.json is None:
        raise Invalid(missing_body())
    return json_response(200, request.emulator.update_meter(meter_id, request.json, principal))


def _quantities(request: Request, principal: Principal) -> Response:
    raw_id = request.path.split("/")[3]
    errors: list[Detail] = []
    try:
        meter_id = validation.path_id(raw_id)
    except Invalid as exc:
        errors += exc.errors
    try:
        query = usage_validation.quantities_query(request.query)
    except Invalid as exc:
        errors += exc.errors
    if errors:
        raise Invalid(errors)
    answer = Usage(request.emulator).quantities(meter_id, principal, **query)
    return json_response(200, answer)


def _ingest(request: Request, principal: Principal) -> Response:
    if request.json is None:
        raise Invalid(missing_body())
    return json_response(200, Usage(request.emulator).ingest(request.json, principal))


def _events(request: Request, principal: Principal) -> Response:
    query = usage_validation.events_query(request.query)
    return json_response(200, Usage(request.emulator).list_events(principal, **query).to_json())


def _event_names(request: Request, principal: Principal) -> Response:
    query = usage_validation.event_names_query(request.query)
    return json_response(200, EventList(request.emulator).names(principal, **query).to_json())


def _event(request: Request, principal: Principal) -> Response:
    event_id = _path_id(request, None)
    return json_response(200, Usage(request.emulator).get_event(event_id, principal))


def _customer_meters(request: Request, principal: Principal) -> Response:
    query = usage_validation.customer_meters_query(request.query)
    page = Usage(request.emulator).list_customer_meters(principal, **query)
    return json_response(200, page.to_json())


def _customer_meter(request: Request, principal: Principal) -> Response:
    customer_meter_id = _path_id(request, None)
    return json_response(
        200, Usage(request.emulator).get_customer_meter(customer_meter_id, principal)
    )


Handler = Callable[[Request, Principal], Response]
Routes = dict[str, tuple[frozenset[str], Handler]]
# Per path, its methods in Starlette's order (the first one is what a 405's Allow names).
_METERS: Routes = {"GET": (READ_SCOPES, _list), "POST": (WRITE_SCOPES, _create)}
_METER: Routes = {"GET": (READ_SCOPES, _get), "PATCH": (WRITE_SCOPES, _update)}
_QUANTITIES: Routes = {"GET": (READ_SCOPES, _quantities)}
_EVENTS: Routes = {"GET": (EVENTS_READ, _events)}
_EVENT: Routes = {"GET": (EVENTS_READ, _event)}
_EVENT_NAMES: Routes = {"GET": (EVENTS_READ, _event_names)}
# GET /v1/events/ingest is GET /v1/events/{id} with a bad id, as in Polar's router.
_INGEST: Routes = {"GET": (EVENTS_READ, _event), "POST": (EVENTS_WRITE, _ingest)}
_CUSTOMER_METERS: Routes = {"GET": (CUSTOMER_METERS_READ, _customer_meters)}
_CUSTOMER_METER: Routes = {"GET": (CUSTOMER_METERS_READ, _customer_meter)}
_FIXED = {"/v1/meters/": _METERS, "/v1/events/": _EVENTS, "/v1/events/ingest": _INGEST,
          "/v1/events/names": _EVENT_NAMES,
          "/v1/customer-meters/": _CUSTOMER_METERS, **catalog_routes.FIXED}
_PATTERNS = ((_METER_PATH, _METER), (_QUANTITIES_PATH, _QUANTITIES), (_EVENT_PATH, _EVENT),
             (_CUSTOMER_METER_PATH, _CUSTOMER_METER), *catalog_routes.PATTERNS)


def routes(path: str) -> Routes | None:
    """The methods of a (decoded) path, or None when Polar has no such route."""
    if path in _FIXED:
        return _FIXED[path]
    for pattern, found in _PATTERNS:
        if pattern.fullmatch(path):
            return found
    return None
