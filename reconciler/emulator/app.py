"""Polar's HTTP surface over an Emulator, without a web framework.

`handle()` answers one request the way Polar's FastAPI app does, in its order: the
Polar-Version check, an unknown token, routing (404, 405, slash redirects), a body that is
not JSON, the caller's scopes, then every query/path/body error at once, then Polar's rules.
Emulator-only endpoints live under /_emulator/ (token required, no version header):
POST /_emulator/meters/{id}/lock, GET and DELETE /_emulator/requests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from reconciler.emulator import validation
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

REALM = "polar"
INVALID_TOKEN = (
    "The access token provided is expired, revoked, malformed, or invalid for other reasons."
)
INSUFFICIENT_SCOPE = "The request requires higher privileges than provided by the access token."
_METER_PATH = re.compile(r"/v1/meters/([^/]+)")
_LOCK_PATH = re.compile(r"/_emulator/meters/([^/]+)/lock")


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


def handle(
    emulator: Emulator,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: Mapping[str, str],
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


_Handler = Callable[[_Request, Principal], Response]
# Per path, its methods in Starlette's order (the first one is what a 405's Allow names).
_METERS: dict[str, tuple[frozenset[str], _Handler]] = {
    "GET": (READ_SCOPES, _list), "POST": (WRITE_SCOPES, _create),
}
_METER: dict[str, tuple[frozenset[str], _Handler]] = {
    "GET": (READ_SCOPES, _get), "PATCH": (WRITE_SCOPES, _update),
}


def _routes(path: str) -> dict[str, tuple[frozenset[str], _Handler]] | None:
    if path == "/v1/meters/":
        return _METERS
    if _METER_PATH.fullmatch(path):
        return _METER
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
    match = _LOCK_PATH.fullmatch(path)
    if match is None:
        return _not_found_route()
    if method != "POST":
        return json_response(405, {"detail": "Method Not Allowed"}, {"allow": "POST"})
    try:
        emulator.lock(match.group(1))
    except NotFound:
        return _resource_not_found()
    return Response(204, {}, b"")

