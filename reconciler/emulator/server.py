"""The emulator on a socket: HTTP/1.1 with keep-alive, one thread per connection.

With a `FaultPolicy` (faults.py) it also delays, fails, drops and rate-limits requests to
Polar's paths; GET/DELETE /_emulator/faults shows and resets the policy's counters.
"""

from __future__ import annotations

import socket
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import unquote

from reconciler.emulator.app import Response, handle, split_target
from reconciler.emulator.bodies import MAX_BODY, length_refusal
from reconciler.emulator.core import Emulator
from reconciler.emulator.faults import FAULTS_PATH, FaultPolicy, exempt
from reconciler.emulator.organizations import Organizations
from reconciler.emulator.validation import api_version


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "polar-meters-emulator"
    sys_version = ""
    server: EmulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.idle_timeout)  # an idle client is let go
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def __getattr__(self, name: str) -> Any:
        # Every method reaches the app (TRACE, CONNECT, ...: a JSON 405, never http.server's
        # HTML 501).
        if name.startswith("do_"):
            return self._answer
        raise AttributeError(name)

    def _target(self) -> str:
        """The request line's target as sent: http.server folds a leading `//` into `/`,
        where Polar's router answers 404."""
        parts = self.requestline.split(" ")
        return parts[1] if len(parts) == 3 else self.path

    def _answer(self) -> None:
        path, query = split_target(self._target())
        refusal = length_refusal(self.command, self._lowered(), not exempt(path))
        if refusal is not None:  # the body is not read: nothing else can follow on this line
            self.close_connection = True
            self._send(refusal)
            return
        body = self._read_body()
        faults = self.server.faults
        if exempt(path):
            self._send(self._emulator_only(path, query, body))
            return
        response = faults.admit(self.headers.get("authorization"))
        if response is not None and response.status == 429:
            version = api_version(self.headers.get("polar-version", "").strip())
            if version is not None:  # the limiter runs inside Polar's version middleware
                response.headers["polar-version"] = version
        if response is None:
            emulator = self.server.emulator_for(self.headers.get("authorization"))
            response = handle(emulator, self.command, path, query, self.headers, body)
            if faults.drop(self.command, response.status):
                faults.delay()
                self.close_connection = True  # no answer at all: the write's outcome is unknown
                self.log_message('"%s" %s dropped', self.requestline, response.status)
                return
        faults.delay()
        self._send(response)

    def _emulator_only(self, path: str, query: list[tuple[str, str]], body: bytes) -> Response:
        # The app checks the token on every /_emulator/ path, then answers 404 to a path it
        # does not know: /_emulator/faults is then this adapter's.
        emulator = self.server.emulator_for(self.headers.get("authorization"))
        response = handle(emulator, self.command, path, query, self.headers, body)
        if response.status == 404 and unquote(path) == FAULTS_PATH:
            return self.server.faults.endpoint(self.command)
        return response

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _lowered(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers.items()}

    def _read_body(self) -> bytes:
        declared = self.headers.get("content-length")
        if declared is not None and declared.strip().isdigit():
            return self.rfile.read(min(int(declared), MAX_BODY))
        if "chunked" not in self.headers.get("transfer-encoding", "").lower():
            return b""
        chunks, total = [], 0
        while True:
            size_line = self.rfile.readline(64).split(b";")[0].strip()
            try:
                size = int(size_line or b"0", 16)
            except ValueError:
                size = 0
            if size <= 0 or total + size > MAX_BODY:
                break
            chunks.append(self.rfile.read(size))
            total += size
            self.rfile.readline(64)
        self.close_connection = True  # trailers or the rest are not read
        return b"".join(chunks)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = _answer
    do_TRACE = do_CONNECT = _answer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")


#: A connection with no request for this long is closed (seconds).
IDLE_TIMEOUT = 60.0
#: Connections served at once; one more is answered 503 and closed.
MAX_CONNECTIONS = 64
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
         b"content-length: 52\r\nconnection: close\r\n\r\n"
         b'{"detail":"Too many connections to the emulator"}   ')


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, emulator: Emulator | Organizations, host: str, port: int, verbose: bool = False,
        faults: FaultPolicy | None = None, idle_timeout: float = IDLE_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.organizations = emulator if isinstance(emulator, Organizations) else None
        self.emulator = emulator.first if isinstance(emulator, Organizations) else emulator
        self.idle_timeout = idle_timeout
        self._slots = threading.BoundedSemaphore(max_connections)
        self.verbose = verbose
        self.faults = faults if faults is not None else FaultPolicy()
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """One thread per connection, at most `max_connections` at once: beyond, a 503."""
        if not self._slots.acquire(blocking=False):
            try:
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def emulator_for(self, authorization: str | None) -> Emulator:
        """The organization a request is for (the only one, unless several were given)."""
        if self.organizations is None:
            return self.emulator
        return self.organizations.route(authorization)

    @property
    def url(self) -> str:
        address, port = self.server_address[:2]
        host = address.decode() if isinstance(address, bytes) else address
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1" if host == "0.0.0.0" else "::1"
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}"


def make_server(
    emulator: Emulator | Organizations, host: str = "127.0.0.1", port: int = 0,
    verbose: bool = False, faults: FaultPolicy | None = None,
    max_connections: int = MAX_CONNECTIONS,
) -> EmulatorHTTPServer:
    """Bind (OSError when the port is taken) without serving yet."""
    return EmulatorHTTPServer(emulator, host, port, verbose, faults,
                              max_connections=max_connections)


def serve_forever(
    emulator: Emulator, host: str = "127.0.0.1", port: int = 8000, verbose: bool = False,
    faults: FaultPolicy | None = None,
) -> None:
    with make_server(emulator, host, port, verbose, faults) as server:
        server.serve_forever()


@dataclass
class RunningServer:
    """A server answering from a background thread until `close()`."""

    server: EmulatorHTTPServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def faults(self) -> FaultPolicy:
        return self.server.faults

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_background(
    emulator: Emulator | Organizations, host: str = "127.0.0.1", port: int = 0, verbose: bool = False,
    faults: FaultPolicy | None = None,
) -> RunningServer:
    server = make_server(emulator, host, port, verbose, faults)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="polar-emulator",
        daemon=True,
    )
    thread.start()
    return RunningServer(server, thread)
