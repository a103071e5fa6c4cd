"""Polar's HTTP surface over an Emulator, without a web framework.

`handle()` answers one request the way Polar's FastAPI app does, in its order: the
Polar-Version check, an unknown token, routing (404, 405, slash redirects), a body that is
not JSON, the caller's scopes, then every query/path/body error at once, then Polar's rules.
Emulator-only endpoints live under /_emulator/ (token required, no version header):
POST /_emulator/meters/{id}/lock, POST and DELETE /_emulator/meters/{id}/attach
(`{"to": "product"|"benefit"}`: Polar then refuses to archive the meter),
POST /_emulator/customer-meters/credit, GET and DELETE /_emulator/requests.
The events, quantities and customer-meter routes answer from usage.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, unquote, urlencode

from reconciler.emulator import usage_validation, validation
from reconciler.emulator.core import (
    READ_SCOPES,
    WRITE_SCOPES,
    Emulator,
    Forbidden,
    NotFound,
    Principal,
    RequestValidationError,
    Unauthorized,
)
from reconciler.emulator.fields import Detail, Invalid
from reconciler.emulator.usage import CUSTOMER_METERS_READ, EVENTS_READ, EVENTS_WRITE, Usage

REALM = "polar"
INVALID_TOKEN = (
    "The access token provided is expired, revoked, malformed, or invalid for other reasons."
)
INSUFFICIENT_SCOPE = "The request requires higher privileges than provided by the access token."
_METER_PATH = re.compile(r"/v1/meters/([^/]+)")
_QUANTITIES_PATH = re.compile(r"/v1/meters/([^/]+)/quantities")
_EVENT_PATH = re.compile(r"/v1/events/([^/]+)")
_CUSTOMER_METER_PATH = re.compile(r"/v1/customer-meters/([^/]+)")
_LOCK_PATH = re.compile(r"/_emulator/meters/([^/]+)/lock")
_ATTACH_PATH = re.compile(r"/_emulator/meters/([^/]+)/attach")
_CREDIT_PATH = "/_emulator/customer-meters/credit"


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class _Request:
    emulator: Emulator
    method: str
    path: str  # percent-decoded
    query: list[tuple[str, str]]
    headers: Mapping[str, str]  # names in lowercase
    body: bytes
    json: Any = None  # the parsed body (None when empty), for POST and PATCH


def split_target(target: str) -> tuple[str, list[tuple[str, str]]]:
    """`/path?a=1&b=2` (as on the request line) into its raw path and decoded query pairs."""
    path, _, query = target.partition("?")
    return path, parse_qsl(query, keep_blank_values=True)


class Headers(Protocol):
    """What the adapters hand over as headers (http.server's Message, httpx's Headers)."""

    def items(self) -> Iterable[tuple[str, str]]: ...


def handle(
    emulator: Emulator,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: Headers,
    body: bytes,
) -> Response:
    """Answer one request; `path` is the raw (percent-encoded) path, without the query."""
    request = _Request(
        emulator, method.upper(), unquote(path), query,
        {name.lower(): value for name, value in headers.items()}, body,
    )
    if request.path == "/_emulator" or request.path.startswith("/_emulator/"):
        return _guarded(lambda: _emulator_only(request))
    response = _guarded(lambda: _polar(request))
    emulator.record_request({
        "method": request.method,
        "path": request.path,
        "query": [list(pair) for pair in query],
        "body": _json_or_none(body),
        "status": response.status,
    })
    return response


def _guarded(answer: Callable[[], Response]) -> Response:
    try:
        return answer()
    except Exception:  # what Starlette's error middleware answers, rather than a dead socket
        headers = {"content-type": "text/plain; charset=utf-8"}
        return Response(500, headers, b"Internal Server Error")


# -- responses ------------------------------------------------------------------------------


def _encode(content: Any, compact: bool = True) -> bytes:
    separators = (",", ":") if compact else (", ", ": ")
    try:
        return json.dumps(content, ensure_ascii=False, separators=separators).encode()
    except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape: keep the JSON valid
        return json.dumps(content, separators=separators).encode()


def json_response(status: int, content: Any, headers: dict[str, str] | None = None) -> Response:
    all_headers = {"content-type": "application/json", **(headers or {})}
    return Response(status, all_headers, _encode(content))


def _not_found_route() -> Response:
    return json_response(404, {"detail": "Not Found"})


def _validation_error(errors: list[Detail], name: str = "RequestValidationError") -> Response:
    return json_response(422, {"error": name, "detail": errors})


def _auth_error(exc: Unauthorized | Forbidden) -> Response:
    if isinstance(exc, Unauthorized) and exc.kind == "missing_token":
        return json_response(
            401, {"error": "Unauthorized", "detail": "Unauthorized"},
            {"www-authenticate": f'Bearer realm="{REALM}"'},
        )
    if isinstance(exc, Forbidden):
        status, error, description = 403, "insufficient_scope", INSUFFICIENT_SCOPE
        extra = f'scope="{" ".join(sorted(exc.required_scopes))}", '
    else:
        status, error, description = 401, "invalid_token", INVALID_TOKEN
        extra = ""
    headers = {
        "content-type": "application/json",
        "cache-control": "no-store",
        "pragma": "no-cache",
        "www-authenticate": (
            f'Bearer realm="{REALM}", {extra}error="{error}", error_description="{description}"'
        ),
    }
    body = _encode({"error": error, "error_description": description}, compact=False)
    return Response(status, headers, body)


# -- request bodies ---------------------------------------------------------------------------


class _NonFinite(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NonFinite(name)


def _read_json(headers: Mapping[str, str], body: bytes) -> Any:
    """The body as FastAPI reads it: None when empty, text when not declared JSON."""
    if not body:
        return None
    declared = headers.get("content-type")
    if declared:
        maintype, _, subtype = declared.split(";")[0].strip().lower().partition("/")
        if maintype != "application" or not (subtype == "json" or subtype.endswith("+json")):
            return body.decode("utf-8", "replace")
    text = body.decode(json.detect_encoding(body), "surrogatepass")
    return json.loads(text, parse_constant=_refuse_constant)


def _parse_body(headers: Mapping[str, str], body: bytes) -> tuple[Any, Response | None]:
    try:
        return _read_json(headers, body), None
    except json.JSONDecodeError as exc:
        position, reason = exc.pos, exc.msg
    except _NonFinite as exc:  # NaN/Infinity: Polar could neither store nor echo them
        text = body.decode("utf-8", "replace")
        position, reason = max(text.find(str(exc)), 0), "Expecting value"
    except (UnicodeDecodeError, LookupError, ValueError):  # e.g. an integer of 5000 digits
        return None, json_response(400, {"detail": "There was an error parsing the body"})
    error = {"type": "json_invalid", "loc": ["body", position], "msg": "JSON decode error",
             "input": {}, "ctx": {"error": reason}}
    return None, _validation_error([error])


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _missing_body() -> list[Detail]:
    return [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]


def _body_errors(check: Callable[[Any], Any], body: Any) -> list[Detail]:
    if body is None:
        return _missing_body()
    try:
        check(body)
    except Invalid as exc:
        return exc.errors
    return []


# -- Polar's routes -------------------------------------------------------------------------


def _list(request: _Request, principal: Principal) -> Response:
    page = request.emulator.list_meters(principal, **validation.list_query(request.query))
    return json_response(200, page.to_json())


def _create(request: _Request, principal: Principal) -> Response:
    if request.json is None:
        raise Invalid(_missing_body())
    return json_response(201, request.emulator.create_meter(request.json, principal))


def _meter_id(request: _Request, check_body: Callable[[Any], Any] | None) -> str:
    """The path's id, or every error of the path and the body together."""
    raw_id = request.path.rsplit("/", 1)[1]
    try:
        return validation.path_id(raw_id)
    except Invalid as exc:
        body_errors = _body_errors(check_body, request.json) if check_body else []
        raise Invalid(exc.errors + body_errors) from None


def _get(request: _Request, principal: Principal) -> Response:
    meter_id = _meter_id(request, None)
    return json_response(200, request.emulator.get_meter(meter_id, principal))


def _update(request: _Request, principal: Principal) -> Response:
    meter_id = _meter_id(request, validation.meter_update)
    if request.json is None:
        raise Invalid(_missing_body())
    return json_response(200, request.emulator.update_meter(meter_id, request.json, principal))


def _quantities(request: _Request, principal: Principal) -> Response:
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


def _ingest(request: _Request, principal: Principal) -> Response:
    if request.json is None:
        raise Invalid(_missing_body())
    return json_response(200, Usage(request.emulator).ingest(request.json, principal))


def _events(request: _Request, principal: Principal) -> Response:
    query = usage_validation.events_query(request.query)
    return json_response(200, Usage(request.emulator).list_events(principal, **query).to_json())


def _event(request: _Request, principal: Principal) -> Response:
    event_id = _meter_id(request, None)
    return json_response(200, Usage(request.emulator).get_event(event_id, principal))


def _customer_meters(request: _Request, principal: Principal) -> Response:
    query = usage_validation.customer_meters_query(request.query)
    page = Usage(request.emulator).list_customer_meters(principal, **query)
    return json_response(200, page.to_json())


def _customer_meter(request: _Request, principal: Principal) -> Response:
    customer_meter_id = _meter_id(request, None)
    return json_response(
        200, Usage(request.emulator).get_customer_meter(customer_meter_id, principal)
    )


_Handler = Callable[[_Request, Principal], Response]
_Routes = dict[str, tuple[frozenset[str], _Handler]]
# Per path, its methods in Starlette's order (the first one is what a 405's Allow names).
_METERS: _Routes = {"GET": (READ_SCOPES, _list), "POST": (WRITE_SCOPES, _create)}
_METER: _Routes = {"GET": (READ_SCOPES, _get), "PATCH": (WRITE_SCOPES, _update)}
_QUANTITIES: _Routes = {"GET": (READ_SCOPES, _quantities)}
_EVENTS: _Routes = {"GET": (EVENTS_READ, _events)}
_EVENT: _Routes = {"GET": (EVENTS_READ, _event)}
# GET /v1/events/ingest is GET /v1/events/{id} with a bad id, as in Polar's router.
_INGEST: _Routes = {"GET": (EVENTS_READ, _event), "POST": (EVENTS_WRITE, _ingest)}
_CUSTOMER_METERS: _Routes = {"GET": (CUSTOMER_METERS_READ, _customer_meters)}
_CUSTOMER_METER: _Routes = {"GET": (CUSTOMER_METERS_READ, _customer_meter)}


def _routes(path: str) -> _Routes | None:
    fixed = {"/v1/meters/": _METERS, "/v1/events/": _EVENTS, "/v1/events/ingest": _INGEST,
             "/v1/customer-meters/": _CUSTOMER_METERS}
    if path in fixed:
        return fixed[path]
    for pattern, routes in ((_METER_PATH, _METER), (_QUANTITIES_PATH, _QUANTITIES),
                            (_EVENT_PATH, _EVENT), (_CUSTOMER_METER_PATH, _CUSTOMER_METER)):
        if pattern.fullmatch(path):
            return routes
    return None


def _redirect(
    path: str, query: list[tuple[str, str]], headers: Mapping[str, str]
) -> Response | None:
    """Starlette's redirect_slashes: 307 to the same path with (or without) its trailing slash."""
    other = path.rstrip("/") if path.endswith("/") else path + "/"
    if path == "/" or _routes(other) is None:
        return None
    location = f"http://{headers.get('host', 'localhost')}{quote(other, safe=':/%#?=@[]!$&()*+,;')}"
    if query:
        location += "?" + urlencode(query)
    return Response(307, {"location": location}, b"")


def _polar(request: _Request) -> Response:
    """Polar's version middleware: 404 on an unknown version, else every answer echoes it."""
    version = validation.api_version(request.headers.get("polar-version", "").strip())
    if version is None:
        return _not_found_route()
    response = _versioned(request)
    response.headers["polar-version"] = version
    response.headers.setdefault("cache-control", "private, no-store")
    return response


def _versioned(request: _Request) -> Response:
    emulator, method, path = request.emulator, request.method, request.path
    if path.startswith("/api/v1"):  # Polar's PathRewriteMiddleware
        path = "/v1" + path[len("/api/v1"):]
    try:
        principal = emulator.principal(_bearer(request.headers))
    except Unauthorized as exc:
        return _auth_error(exc)
    routes = _routes(path)
    if routes is None:
        return _redirect(path, request.query, request.headers) or _not_found_route()
    if method not in routes:
        return json_response(405, {"detail": "Method Not Allowed"}, {"allow": next(iter(routes))})
    parsed = None
    if method in ("POST", "PATCH"):
        parsed, refusal = _parse_body(request.headers, request.body)
        if refusal is not None:
            return refusal
    scopes, answer = routes[method]
    try:
        caller = emulator.authorize(principal, scopes)
        return answer(replace(request, path=path, json=parsed), caller)
    except (Unauthorized, Forbidden) as exc:
        return _auth_error(exc)
    except Invalid as exc:
        return _validation_error(exc.errors)
    except RequestValidationError as exc:
        return _validation_error(exc.detail, type(exc).__name__)
    except NotFound:
        return _resource_not_found()


def _resource_not_found() -> Response:
    return json_response(404, {"error": "ResourceNotFound", "detail": "Not found"})


def _bearer(headers: Mapping[str, str]) -> str | None:
    """Polar's get_bearer_token: `Bearer <ascii token>`, anything else is no token at all."""
    scheme, _, value = headers.get("authorization", "").partition(" ")
    value = value.strip()
    if not scheme or not value or scheme.lower() != "bearer" or not value.isascii():
        return None
    return value


# -- emulator-only routes -------------------------------------------------------------------


def _emulator_only(request: _Request) -> Response:
    emulator, method, path = request.emulator, request.method, request.path
    try:
        if emulator.principal(_bearer(request.headers)) is None:
            raise Unauthorized("missing_token")
    except Unauthorized as exc:
        return _auth_error(exc)
    if path == "/_emulator/requests":
        if method == "GET":
            return json_response(200, emulator.requests())
        if method == "DELETE":
            emulator.clear_requests()
            return Response(204, {}, b"")
        return json_response(405, {"detail": "Method Not Allowed"}, {"allow": "GET, DELETE"})
    try:
        if path == _CREDIT_PATH:
            return _credit(request)
        if match := _ATTACH_PATH.fullmatch(path):
            return _attach(request, match.group(1))
        match = _LOCK_PATH.fullmatch(path)
        if match is None:
            return _not_found_route()
        if method != "POST":
            return json_response(405, {"detail": "Method Not Allowed"}, {"allow": "POST"})
        emulator.lock(match.group(1))
    except NotFound:
        return _resource_not_found()
    return Response(204, {}, b"")


def _emulator_body(request: _Request) -> dict[str, Any]:
    """An emulator-only endpoint's JSON object body (empty when absent); ValueError else."""
    try:
        body = _read_json(request.headers, request.body)
    except ValueError:
        raise ValueError("the body is not JSON") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _emulator_refusal(message: str) -> Response:
    return json_response(422, {"error": "EmulatorRequestError", "detail": message})


def _attach(request: _Request, meter_id: str) -> Response:
    """POST attaches the meter to a product (or benefit), DELETE detaches it; `to` comes in
    the body or the query."""
    if request.method not in ("POST", "DELETE"):
        return json_response(405, {"detail": "Method Not Allowed"}, {"allow": "POST, DELETE"})
    try:
        to = _emulator_body(request).get("to", dict(request.query).get("to"))
        attached = request.emulator.attach(meter_id, str(to), request.method == "POST")
    except ValueError as exc:
        return _emulator_refusal(str(exc))
    return json_response(200, {"meter_id": meter_id, "attached": attached})


def _credit(request: _Request) -> Response:
    """`{"meter_id", "customer_id" | "external_customer_id", "units": int, "rollover"?}`."""
    if request.method != "POST":
        return json_response(405, {"detail": "Method Not Allowed"}, {"allow": "POST"})
    try:
        body = _emulator_body(request)
        units = body.get("units")
        if not isinstance(units, int) or isinstance(units, bool):
            raise ValueError("units must be an integer")
        meter_id = validation.path_id(str(body.get("meter_id")))
        customer_id = body.get("customer_id")
        if customer_id is not None:
            customer_id = validation.path_id(str(customer_id))
        customer_meter = Usage(request.emulator).credit(
            meter_id, units, customer_id=customer_id,
            external_customer_id=body.get("external_customer_id"),
            rollover=bool(body.get("rollover", False)),
        )
    except Invalid:
        return _emulator_refusal("meter_id and customer_id must be UUID4s")
    except ValueError as exc:
        return _emulator_refusal(str(exc))
    return json_response(200, customer_meter)

