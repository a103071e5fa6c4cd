"""A misbehaving Polar for tests: an HTTP server in a thread answering canned bodies.

This is a fake of Polar's server (the real client talks to it over a socket), not a mock of
polar-meters' code. Each route is a list of answers given in turn, the last one repeated.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

EMPTY_PAGE = {"items": [], "pagination": {"total_count": 0, "max_page": 0}}


@dataclass
class Canned:
    """One answer. `body` that is not bytes/str is sent as JSON. `truncate`: promise more
    bytes than are sent, then close the connection (an answer cut off on the wire)."""

    status: int
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    truncate: bool = False

    def payload(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/html; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json"


@dataclass
class Seen:
    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)


Route = Callable[[Seen], Canned]


class FakePolar:
    """`routes` maps "METHOD /path" (no query) to answers; anything else is 404."""

    def __init__(self, routes: Mapping[str, list[Canned] | Route]) -> None:
        self.routes = routes
        self.seen: list[Seen] = []
        self._given: dict[str, int] = {}
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()  # no Nagle: headers and body go out in separate writes
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                seen = Seen(self.command, self.path, dict(self.headers), self.rfile.read(length))
                canned = fake.next_answer(seen)
                body, content_type = canned.payload()
                self.send_response(canned.status)
                self.send_header("content-type", content_type)
                for name, value in canned.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body) * (2 if canned.truncate else 1)))
                self.end_headers()
                self.wfile.write(body)
                if canned.truncate:
                    self.close_connection = True

            do_GET = do_POST = do_PATCH = do_DELETE = answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def next_answer(self, seen: Seen) -> Canned:
        key = f"{seen.method} {seen.target.split('?')[0]}"
        with self._lock:
            self.seen.append(seen)
            route = self.routes.get(key)
            if route is None:
                return Canned(404, {"detail": "Not Found"})
            if callable(route):
                return route(seen)
            index = self._given.get(key, 0)
            self._given[key] = index + 1
            return route[min(index, len(route) - 1)]

    def requests(self, method: str | None = None) -> list[str]:
        return [f"{s.method} {s.target}" for s in self.seen if method in (None, s.method)]

    def start(self) -> FakePolar:
        self._thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def fake_polar(routes: Mapping[str, list[Canned] | Route]) -> Iterator[FakePolar]:
    server = FakePolar(routes).start()
    try:
        yield server
    finally:
        server.close()


def meter_json(key: str, name: str = "API calls", meter_id: str | None = None) -> dict[str, Any]:
    """A meter as Polar answers it, tagged with `key`."""
    return {
        "metadata": {"polar_meters_key": key},
        "created_at": "2026-01-01T00:00:00Z",
        "modified_at": None,
        "id": meter_id or "7a8e2f4c-1b3d-4e5f-9a6b-0c1d2e3f4a5b",
        "name": name,
        "unit": "scalar",
        "custom_label": None,
        "custom_multiplier": None,
        "filter": {"conjunction": "and", "clauses": [
            {"property": "name", "operator": "eq", "value": "api_call"}]},
        "aggregation": {"func": "count"},
        "organization_id": "5f0c3b1e-2d4a-4c6b-8e9f-1a2b3c4d5e6f",
        "archived_at": None,
    }
