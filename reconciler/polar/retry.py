"""When to retry a request, and how long to wait: exponential backoff with equal jitter,
honouring Polar's `retry-after`.

Equal jitter (a random wait between half and all of base·2^(n-1)), not full jitter (anywhere
from 0): with only a few attempts, every retry must still wait long enough for a short outage
to pass (the five waits add up to at least ~8 s), while the random half keeps this run's
threads from retrying in step.

- GET and PATCH (idempotent here: a PATCH sets fields to given values) are retried on 429,
  5xx and network errors.
- POST is retried on 429 only (Polar did not process it). After a network error or a 5xx the
  outcome of a create is unknown: the caller must look before sending it again.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.errors import UserError

IDEMPOTENT = frozenset({"GET", "PATCH"})

#: `BASE:CAP` in seconds, e.g. `0.01:0.05`: a faster backoff for tests and emulator runs.
BACKOFF_ENV = "POLAR_METERS_BACKOFF"


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # in all, the first one included
    base: float = 0.5  # seconds
    cap: float = 30.0
    max_retry_after: float = 120.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Delay before retry number `attempt` (1-based): equal jitter, uniform between half
        of base·2^(n-1) (capped) and all of it."""
        ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
        return (rng or random).uniform(ceiling / 2, ceiling)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> RetryPolicy:
        """The default policy, with the backoff's base and cap from POLAR_METERS_BACKOFF."""
        text = environ.get(BACKOFF_ENV, "").strip()
        if not text:
            return cls()
        try:
            base, cap = (float(part) for part in text.split(":"))
        except ValueError:
            base = cap = -1.0
        if not (0 <= base <= cap):
            raise UserError(
                f"{BACKOFF_ENV}={text!r}: expected BASE:CAP in seconds, 0 <= BASE <= CAP"
            )
        return cls(base=base, cap=cap)

    def retry_after(self, header: str | None, attempt: int) -> float:
        """Polar's `retry-after` seconds when it sent a usable one, else backoff."""
        try:
            seconds = float(header) if header is not None else -1.0
        except ValueError:
            seconds = -1.0
        if 0 <= seconds <= self.max_retry_after:
            return seconds
        return self.backoff(attempt)


def retryable_status(method: str, status: int) -> bool:
    if status == 429:
        return True
    return status >= 500 and method in IDEMPOTENT
