"""Client-side pacing, shared by every thread of a run.

Polar limits requests per token in fixed one-minute windows (production 500, sandbox 100).
Requests are paced a little under the limit so a big apply does not run into 429s; when a 429
comes anyway, the whole run pauses until Polar's `retry-after`, not just the one request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from reconciler.errors import PolarAPIError

#: Pace at this share of the limit, to stay clear of fixed-window edges.
HEADROOM = 0.95


class Cancelled(PolarAPIError):
    """The run was interrupted (Ctrl-C) before this request was sent."""


class RateLimiter:
    """A token bucket (rate per minute, small burst) with a shared pause."""

    def __init__(
        self,
        per_minute: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._cancelled = threading.Event()
        self._sleep = sleep or self._cancelled.wait  # a wait that cancel() cuts short
        self._lock = threading.Lock()
        self._paused_until = 0.0
        if per_minute:
            self._rate = per_minute * HEADROOM / 60.0  # tokens per second
            self._burst = max(1.0, min(10.0, per_minute / 100.0))
            self._tokens = self._burst
            self._stamp = clock()

    def acquire(self) -> None:
        """Block until one more request may start; Cancelled once `cancel()` was called."""
        while True:
            if self._cancelled.is_set():
                raise Cancelled("not sent: the run was interrupted")
            with self._lock:
                now = self._clock()
                wait = self._paused_until - now
                if wait <= 0 and self.per_minute:
                    self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
                    self._stamp = now
                    if self._tokens >= 1 - 1e-9:  # rounding must not leave a wait of ~0 s
                        self._tokens = max(0.0, self._tokens - 1)
                        return
                    wait = (1 - self._tokens) / self._rate
                elif wait <= 0:
                    return
            self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """Hold every request of the run for `seconds` (after a 429)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            if self.per_minute:
                self._tokens = 0.0

    def wait(self, seconds: float) -> None:
        """Sleep, unless the run is cancelled meanwhile (then return at once)."""
        self._cancelled.wait(seconds)

    def cancel(self) -> None:
        """No request starts any more: waiting ones stop waiting and raise Cancelled."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()
