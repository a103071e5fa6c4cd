"""Polar's HTTP surface over an Emulator, without a web framework.

`handle()` answers one request the way Polar's FastAPI app does, in its order: the
Polar-Version check, an unknown token, routing (404, 405, slash redirects), a body that is
not JSON, the caller's scopes, then every query/path/body error at once, then Polar's rules.
The routes are in routes.py; emulator-only endpoints (/_emulator/) in emulator_routes.py.
The adapters (server.py on a socket, inprocess.py as an httpx transport) call `handle()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Protocol
from urllib.parse import parse_qsl, quote, unquote, urlencode

from reconciler.emulator import emulator_routes, validation
from reconciler.emulator.bodies import json_or_none, parse_body
from reconciler.emulator.core import Emulator
from reconciler.emulator.fields import Invalid
from reconciler.emulator.refusals import (
    Forbidden,
    NotFound,
    RequestValidationError,
    Unauthorized,
)
from reconciler.emulator.routes import routes
from reconciler.emulator.wire import (
    Request,
    Response,
    auth_error,
    bearer,
    json_response,
    method_not_allowed,
    not_found_route,
    resource_not_found,
    validation_error,
)

__all__ = ["Headers", "Response", "handle", "json_response", "split_target"]


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
    request = Request(
        emulator, method.upper(), unquote(path), query,
        {name.lower(): value for name, value in headers.items()}, body,
    )
    if request.path == "/_emulator" or request.path.startswith("/_emulator/"):
        return _guarded(lambda: emulator_routes.answer(request))
    response = _guarded(lambda: _polar(request))
    emulator.record_request({
        "method": request.method,
        "path": request.path,
        "query": [list(pair) for pair in query],
        "body": json_or_none(body),
        "status": response.status,
    })
    return response


def _guarded(answer: Callable[[], Response]) -> Response:
    try:
        return answer()
    except Exception:  # noqa: BLE001 - what Starlette's error middleware answers, rather than a dead socket
        headers = {"content-type": "text/plain; charset=utf-8"}
        return Response(500, headers, b"Internal Server Error")


def _redirect(
    path: str, query: list[tuple[str, str]], headers: Mapping[str, str]
) -> Response | None:
    """Starlette's redirect_slashes: 307 to the same path with (or without) its trailing slash."""
    other = path.rstrip("/") if path.endswith("/") else path + "/"
    if path == "/" or routes(other) is None:
        return None
    location = f"http://{headers.get('host', 'localhost')}{quote(other, safe=':/%#?=@[]!$&()*+,;')}"
    if query:
        location += "?" + urlencode(query)
    return Response(307, {"location": location}, b"")


def _polar(request: Request) -> Response:
    """Polar's version middleware: 404 on an unknown version, else every answer echoes it."""
    version = validation.api_version(request.headers.get("polar-version", "").strip())
    if version is None:
        return not_found_route()
    response = _versioned(request)
    response.headers["polar-version"] = version
    response.headers.setdefault("cache-control", "private, no-store")
    return response


def _versioned(request: Request) -> Response:
    emulator, method, path = request.emulator, request.method, request.path
    if path.startswith("/api/v1"):  # Polar's PathRewriteMiddleware
        path = "/v1" + path[len("/api/v1"):]
    try:
        principal = emulator.principal(bearer(request.headers))
    except Unauthorized as exc:
        return auth_error(exc)
    found = routes(path)
    if found is None:
        return _redirect(path, request.query, request.headers) or not_found_route()
    if method not in found:
        return method_not_allowed(next(iter(found)))
    parsed = None
    if method in ("POST", "PATCH"):
        parsed, refusal = parse_body(request.headers, request.body)
        if refusal is not None:
            return refusal
    scopes, answer = found[method]
    try:
        caller = emulator.authorize(principal, scopes)
        return answer(replace(request, path=path, json=parsed), caller)
    except (Unauthorized, Forbidden) as exc:
        return auth_error(exc)
    except Invalid as exc:
        return validation_error(exc.errors)
    except RequestValidationError as exc:
        return validation_error(exc.detail, type(exc).__name__)
    except NotFound:
        return resource_not_found()
