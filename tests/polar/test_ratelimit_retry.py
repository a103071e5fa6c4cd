"""Pacing and backoff logic with a fake clock: no sleeping in tests."""

from __future__ import annotations

import random

import pytest

from reconciler.apply.applier import CREATE_ATTEMPTS
from reconciler.errors import UserError
from reconciler.polar import retry
from reconciler.polar.ratelimit import RateLimiter
from reconciler.polar.retry import BACKOFF_ENV, RetryPolicy, retryable_status
from tests.support.paths import ROOT


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds


def test_pacing_stays_under_the_limit_in_every_minute() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3000, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(9000):
        limiter.acquire()
        starts.append(clock.now)
    per_window: dict[int, int] = {}
    for t in starts:
        per_window[int(t // 60)] = per_window.get(int(t // 60), 0) + 1
    assert max(per_window.values()) <= 3000
    # ...and sustains at least 90% of it.
    assert 9000 / starts[-1] * 60 >= 0.9 * 3000


def test_a_pause_holds_every_request() -> None:
    clock = FakeClock()
    limiter = RateLimiter(None, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    assert clock.now == 0
    limiter.pause(7)
    limiter.acquire()
    assert clock.now >= 7


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(base=0.5, cap=4)
    rng = random.Random(1)
    delays = [policy.backoff(n, rng) for n in range(1, 8)]
    assert 0.25 <= delays[0] <= 0.5 and 2 <= delays[3] <= 4 and all(d <= 4 for d in delays)


def test_retry_after_is_honoured_when_sane() -> None:
    policy = RetryPolicy()
    assert policy.retry_after("60", 1) == 60
    assert policy.retry_after("0", 1) == 0
    assert 0.25 <= policy.retry_after("soon", 1) <= 0.5
    assert policy.retry_after("99999", 1) <= 0.5


def test_what_is_retried() -> None:
    assert retryable_status("POST", 429) and retryable_status("PATCH", 503)
    assert not retryable_status("POST", 502) and not retryable_status("GET", 422)


def test_backoff_from_the_environment() -> None:
    assert RetryPolicy.from_env({}) == RetryPolicy()
    assert RetryPolicy.from_env({BACKOFF_ENV: "0.01:0.05"}) == RetryPolicy(base=0.01, cap=0.05)
    for bad in ("fast", "1", "0.5:0.1", "-1:2", "nan:1", "1:2:3"):
        with pytest.raises(UserError, match=BACKOFF_ENV):
            RetryPolicy.from_env({BACKOFF_ENV: bad})


def retries_paragraph() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("- **Retries.**")
    return " ".join(text[start:text.index("- **Failures do not stop the run**", start)].split())


def test_the_readme_describes_the_jitter_and_attempts_the_code_uses() -> None:
    policy = RetryPolicy()
    rng = random.Random(7)
    for n in range(1, 6):
        ceiling = min(policy.cap, policy.base * 2 ** (n - 1))
        delays = [policy.backoff(n, rng) for _ in range(2000)]
        # equal jitter: never below half the ceiling, and spread over the whole upper half
        assert ceiling / 2 <= min(delays) < ceiling * 0.55 and ceiling * 0.95 < max(delays)
    said = retries_paragraph()
    assert "equal jitter" in said and "full jitter" not in said
    assert "equal jitter" in (retry.__doc__ or "") and "full jitter up" not in (
        RetryPolicy.backoff.__doc__ or "")
    assert f"tried up to {policy.attempts} times" in said
    assert f"{policy.base} s·2^(n-1), capped at {policy.cap:g} s" in said
    assert f"sent at most {CREATE_ATTEMPTS} times in all" in said
