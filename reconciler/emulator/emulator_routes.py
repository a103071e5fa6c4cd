"""The emulator-only endpoints under /_emulator/ (token required, no version header):
POST /_emulator/meters/{id}/lock,
POST /_emulator/customer-meters/credit and /_emulator/customer-meters/reset (Polar's
meter.credited and meter.reset system events), POST /_emulator/customers (`{"external_id"?}`: a customer), POST /_emulator/billing (a
billing pass now:
`{"locked": [meter ids]}`), GET and DELETE /_emulator/requests."""

from __future__ import annotations

import re
from typing import Any

from reconciler.emulator import validation
from reconciler.emulator.billing import billing_pass
from reconciler.emulator.bodies import read_json
from reconciler.emulator.fields import Invalid
from reconciler.emulator.refusals import NotFound, Unauthorized
from reconciler.emulator.usage import Usage
from reconciler.emulator.wire import (
    Request,
    Response,
    auth_error,
    bearer,
    json_response,
    method_not_allowed,
    not_found_route,
    resource_not_found,
)

_LOCK_PATH = re.compile(r"/_emulator/meters/([^/]+)/lock")
_CREDIT_PATHS = {"/_emulator/customer-meters/credit": "credited",
                 "/_emulator/customer-meters/reset": "reset"}
_BILLING_PATH = "/_emulator/billing"
_CUSTOMERS_PATH = "/_emulator/customers"
_REQUESTS_PATH = "/_emulator/requests"


def answer(request: Request) -> Response:
    emulator, method, path = request.emulator, request.method, request.path
    try:
        if emulator.principal(bearer(request.headers)) is None:
            raise Unauthorized("missing_token")
    except Unauthorized as exc:
        return auth_error(exc)
    if path == _REQUESTS_PATH:
        return _requests(request)
    try:
        if path in _CREDIT_PATHS:
            return _credit(request, _CREDIT_PATHS[path])
        if path == _CUSTOMERS_PATH:
            return _customer(request)
        if path == _BILLING_PATH:
            if method != "POST":
                return method_not_allowed("POST")
            return json_response(200, {"locked": billing_pass(emulator)})
        match = _LOCK_PATH.fullmatch(path)
        if match is None:
            return not_found_route()
        if method != "POST":
            return method_not_allowed("POST")
        emulator.lock(match.group(1))
    except NotFound:
        return resource_not_found()
    return Response(204, {}, b"")


def _requests(request: Request) -> Response:
    if request.method == "GET":
        return json_response(200, request.emulator.requests())
    if request.method == "DELETE":
        request.emulator.clear_requests()
        return Response(204, {}, b"")
    return method_not_allowed("GET, DELETE")


def _emulator_body(request: Request) -> dict[str, Any]:
    """An emulator-only endpoint's JSON object body (empty when absent); ValueError else."""
    try:
        body = read_json(request.headers, request.body)
    except (ValueError, RecursionError):
        raise ValueError("the body is not JSON") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _refusal(message: str) -> Response:
    return json_response(422, {"error": "EmulatorRequestError", "detail": message})


def _customer(request: Request) -> Response:
    """POST `{"external_id"?: str}`: a customer (Polar's customers API is not emulated)."""
    if request.method != "POST":
        return method_not_allowed("POST")
    try:
        external_id = _emulator_body(request).get("external_id")
        if external_id is not None and not isinstance(external_id, str):
            raise ValueError("external_id must be a string")
    except ValueError as exc:
        return _refusal(str(exc))
    return json_response(201, Usage(request.emulator).create_customer(external_id))


def _credit(request: Request, kind: str) -> Response:
    """`{"meter_id", "customer_id" | "external_customer_id", "units": int, "rollover"?}`
    (a reset takes no units)."""
    if request.method != "POST":
        return method_not_allowed("POST")
    try:
        body = _emulator_body(request)
        units = body.get("units", 0 if kind == "reset" else None)
        if not isinstance(units, int) or isinstance(units, bool):
            raise ValueError("units must be an integer")
        meter_id = validation.path_id(str(body.get("meter_id")))
        customer_id = body.get("customer_id")
        if customer_id is not None:
            customer_id = validation.path_id(str(customer_id))
        customer_meter = Usage(request.emulator).credit(
            meter_id, units, customer_id=customer_id,
            external_customer_id=body.get("external_customer_id"),
            rollover=bool(body.get("rollover", False)), kind=kind,
        )
    except Invalid:
        return _refusal("meter_id and customer_id must be UUID4s")
    except ValueError as exc:
        return _refusal(str(exc))
    return json_response(200, customer_meter)
