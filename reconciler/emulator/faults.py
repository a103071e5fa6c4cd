"""Faults for the emulator: latency, server errors, lost answers and Polar's rate limit.

A `FaultPolicy` decides, request by request, what goes wrong; the socket adapter (server.py)
applies it around `handle()`. Paths under /_emulator/ are never faulted, delayed or limited,
so tests can always look at the state. What each fault does:

- latency: every answer (faulted ones too, and dropped ones before the socket closes) waits
  `latency_ms` in its own connection thread, so concurrent requests are delayed together.
- rate limit: Polar's limiter (asgi-ratelimit on Redis, outside every other middleware): a
  per-identity counter whose fixed window opens at the identity's first request and lasts
  `window_seconds`. Identity here: the Authorization header's exact value; requests without
  one share a bucket. Beyond the limit: 429, an empty body, `Polar-Version` (the limiter
  runs inside Polar's version middleware) and `retry-after` = the window's length in whole
  seconds, not the time left - Polar's Lua script returns the rule's TTL constant. Refused requests do not count against the window, as there.
- fail: a share of the admitted requests is answered 500, 502 or 503 (one of the three at
  random) without reaching the emulator, so nothing is written and nothing is logged in
  /_emulator/requests. 500 is what Starlette answers for an unhandled error (text/plain
  "Internal Server Error", as the emulator's own); 502 and 503 are a reverse proxy's small
  HTML pages. None carries Polar-Version or retry-after.
- drop: a share of the writes (POST, PATCH) the emulator performed successfully (2xx) are
  left unanswered: the connection closes, the client sees the server disconnect without a
  response. The write did happen: the "outcome unknown" case. Writes it refused (4xx) are
  always answered.

Random choices come from one `random.Random(seed)` behind a lock: a run of sequential
requests faults the same requests again with the same seed (concurrent ones draw in the
order they arrive).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from reconciler.emulator.app import Response, json_response

FAULTS_PATH = "/_emulator/faults"
WRITES = frozenset({"POST", "PATCH"})
FAIL_STATUSES = (500, 502, 503)
_PRUNE_ABOVE = 1024  # buckets kept before expired ones are swept out


def exempt(path: str) -> bool:
    """Emulator-only paths (as app.py routes them: percent-decoded) are never faulted."""
    decoded = unquote(path)
    return decoded == "/_emulator" or decoded.startswith("/_emulator/")


def _proxy_page(status: int, reason: str) -> Response:
    page = (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
    )
    return Response(status, {"content-type": "text/html"}, page.encode())


def failure(status: int) -> Response:
    """The answer of an injected server error."""
    if status == 500:
        return Response(500, {"content-type": "text/plain; charset=utf-8"},
                        b"Internal Server Error")
    if status == 502:
        return _proxy_page(502, "Bad Gateway")
    if status == 503:
        return _proxy_page(503, "Service Unavailable")
    raise ValueError(f"not an injected failure: {status}")


@dataclass
class _Window:
    opened: float
    count: int = 0


def _percent(rate: float) -> str:
    return f"{rate * 100:g}%"


def _check_rate(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {value}")
    return float(value)


class FaultPolicy:
    """What goes wrong, and counters proving it did; safe to share between threads.

    `seed=None` picks a seed at random, kept in `.seed` so that a run can be replayed.
    `clock` (seconds, monotonic) is for tests of the rate limit's windows.
    """

    def __init__(
        self,
        *,
        latency_ms: float = 0,
        fail_rate: float = 0.0,
        drop_rate: float = 0.0,
        rate_limit: int | None = None,
        window_seconds: float = 60.0,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if latency_ms < 0:
            raise ValueError(f"latency_ms must not be negative, got {latency_ms}")
        if rate_limit is not None and rate_limit < 1:
            raise ValueError(f"rate_limit must be at least 1 request, got {rate_limit}")
        if not window_seconds > 0:
            raise ValueError(f"window_seconds must be positive, got {window_seconds}")
        self.latency_ms = latency_ms
        self.fail_rate = _check_rate("fail_rate", fail_rate)
        self.drop_rate = _check_rate("drop_rate", drop_rate)
        self.rate_limit = rate_limit
        self.window_seconds = window_seconds
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
        self._clock = clock
        self._lock = threading.Lock()
        self.reset()

    @property
    def retry_after(self) -> int:
        """What a 429 sends: the window's length in whole seconds, at least 1."""
        return max(1, math.ceil(self.window_seconds))

    @property
    def active(self) -> bool:
        return bool(self.latency_ms or self.fail_rate or self.drop_rate or self.rate_limit)

    def reset(self) -> None:
        """Back to the start: counters at zero, no window open, the random draws replayed."""
        with self._lock:
            self._random = random.Random(self.seed)
            self._windows: dict[str | None, _Window] = {}
            self._counts = {"requests": 0, "failed": 0, "dropped": 0, "rate_limited": 0}
            self._failed_by_status = {str(status): 0 for status in FAIL_STATUSES}

    # -- per request ---------------------------------------------------------------------------

    def admit(self, authorization: str | None) -> Response | None:
        """Before the work: None to let the request through, else the answer instead of it."""
        with self._lock:
            self._counts["requests"] += 1
            if self.rate_limit is not None and not self._take(authorization):
                self._counts["rate_limited"] += 1
                return Response(429, {"retry-after": str(self.retry_after)}, b"")
            if self.fail_rate and self._random.random() < self.fail_rate:
                status = self._random.choice(FAIL_STATUSES)
                self._counts["failed"] += 1
                self._failed_by_status[str(status)] += 1
                return failure(status)
        return None

    def drop(self, method: str, status: int) -> bool:
        """After the work: whether to close the connection instead of answering."""
        if not self.drop_rate or method.upper() not in WRITES or not 200 <= status < 300:
            return False
        with self._lock:
            if self._random.random() < self.drop_rate:
                self._counts["dropped"] += 1
                return True
        return False

    def delay(self) -> None:
        """The answer's latency, slept by the calling (connection) thread."""
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)

    def _take(self, identity: str | None) -> bool:
        now = self._clock()
        if len(self._windows) > _PRUNE_ABOVE:
            self._windows = {
                key: window for key, window in self._windows.items()
                if now - window.opened < self.window_seconds
            }
        window = self._windows.get(identity)
        if window is None or now - window.opened >= self.window_seconds:
            window = self._windows[identity] = _Window(now)
        if window.count >= (self.rate_limit or 0):
            return False
        window.count += 1
        return True

    # -- inspection ----------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms, "fail_rate": self.fail_rate,
            "drop_rate": self.drop_rate, "rate_limit": self.rate_limit,
            "window_seconds": self.window_seconds, "seed": self.seed,
        }

    def counters(self) -> dict[str, Any]:
        with self._lock:
            return {**self._counts, "failed_by_status": dict(self._failed_by_status)}

    def describe(self) -> str:
        """One line for people: the active faults, or that there are none."""
        if not self.active:
            return "none"
        parts = []
        if self.latency_ms:
            parts.append(f"{self.latency_ms:g} ms latency")
        if self.fail_rate:
            parts.append(f"{_percent(self.fail_rate)} of requests fail (500/502/503)")
        if self.drop_rate:
            parts.append(f"{_percent(self.drop_rate)} of writes done but unanswered")
        if self.rate_limit:
            parts.append(
                f"{self.rate_limit} requests per {self.window_seconds:g} s per token, then 429"
            )
        if self.fail_rate or self.drop_rate:
            parts.append(f"seed {self.seed}")
        return ", ".join(parts)

    def endpoint(self, method: str) -> Response:
        """/_emulator/faults: GET the policy and its counters, DELETE to reset them."""
        if method == "GET":
            return json_response(200, {**self.counters(), "policy": self.config()})
        if method == "DELETE":
            self.reset()
            return Response(204, {}, b"")
        return json_response(405, {"detail": "Method Not Allowed"}, {"allow": "GET, DELETE"})
