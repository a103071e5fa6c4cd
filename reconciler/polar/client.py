"""Polar's meters API over httpx: list every meter, create, update, get.

Every failure becomes a PolarAPIError whose message is one readable line built from Polar's
own answer. The access token is only ever placed in the Authorization header.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Self

import httpx

from reconciler import REPOSITORY, __version__
from reconciler.errors import PolarAPIError
from reconciler.model import TAG_KEY
from reconciler.polar.answers import (
    describe_error,
    describe_redirect,
    json_or_none,
    lock_refusal,
    meter_page,
    one_line,
)
from reconciler.polar.ratelimit import RateLimiter
from reconciler.polar.retry import IDEMPOTENT, RetryPolicy, retryable_status
from reconciler.polar.wire import (
    ACCEPT_ENCODING,
    TooSlow,
    buffered,
    check_path,
    clean_token,
    is_loopback,
    parse_json,
    read_body,
    refused,
    timeout_from_env,
)
from reconciler.rules import PAGE_LIMIT_MAX

API_VERSION = "2026-10"
PAGE_LIMIT = PAGE_LIMIT_MAX
USER_AGENT = f"polar-meters/{__version__} (+https://github.com/{REPOSITORY}; httpx)"


class OutcomeUnknown(PolarAPIError):
    """A write was sent but no usable answer came back: it may or may not have happened."""


DebugLog = Callable[[str], None]


class PolarClient:
    """A synchronous, thread-safe client for the meter endpoints polar-meters needs.

    Every request waits for the shared rate limiter, and is retried as `RetryPolicy` says.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        organization_id: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float | None = None,
        limiter: RateLimiter | None = None,
        policy: RetryPolicy | None = None,
        parallelism: int = 4,
        debug: DebugLog | None = None,
        sleep: Callable[[float], object] | None = None,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        self.organization_id = organization_id
        self.limiter = limiter or RateLimiter(None)
        self.policy = policy or RetryPolicy.from_env()
        self.parallelism = max(1, parallelism)
        self._debug = debug
        self._notice = notice  # "…, retrying in 2 s (2/6)" while a retry waits; "" wipes it
        self._noticed = threading.local()
        self._token = token = clean_token(token)
        self._sleep = sleep or self.limiter.wait  # cut short by cancel()
        #: seconds one request may take in all, its retries included (see wire.py)
        self.timeout = timeout if timeout is not None else timeout_from_env()
        self._loopback = is_loopback(httpx.URL(base_url).host)
        self._http = httpx.Client(
            base_url=base_url,
            transport=transport,
            headers={
                "Authorization": f"Bearer {token}",
                "Polar-Version": API_VERSION,
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            limits=httpx.Limits(max_connections=self.parallelism + 2),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ---------------------------------------------------------------------------

    def wait_before_retry(self, attempt: int) -> None:
        self._sleep(self.policy.backoff(attempt))

    def cancel(self) -> None:
        """Ctrl-C: start no request any more (waits for a retry or a pause end at once)."""
        self.limiter.cancel()

    def _log(self, text: str) -> None:
        if self._debug:
            self._debug(redact(text, self._token))

    def _attempt(self, method: str, path: str, deadline: float, **kwargs: Any) -> httpx.Response:
        """One try, its answer read in full before `deadline` (within the size limit)."""
        started = time.monotonic()
        remaining = deadline - started
        if remaining <= 0:
            raise TooSlow(f"{method} {path}: no time left")
        request = self._http.build_request(
            method, path, timeout=httpx.Timeout(remaining), **kwargs
        )
        target = request.url.raw_path.decode("ascii", "replace")
        try:
            response = self._http.send(request, stream=True)
            in_memory = response.is_stream_consumed  # the in-process emulator's answers
            try:
                body = read_body(response, deadline, f"{method} {path}")
            finally:
                response.close()
        except (httpx.HTTPError, TooSlow) as exc:
            self._log(f"{method} {target} → {type(exc).__name__} ({_ms(started)} ms)")
            raise
        except PolarAPIError as exc:  # too big, not gzip: a write's outcome is then unknown
            self._log(f"{method} {target} → {response.status_code}, unreadable ({_ms(started)} ms)")
            if method not in IDEMPOTENT:
                raise OutcomeUnknown(str(exc), status=response.status_code) from None
            raise
        self._log(f"{method} {target} → {response.status_code} ({_ms(started)} ms)")
        return response if in_memory else buffered(response, body)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send with retries; return the JSON answer or raise a one-line PolarAPIError.

        Only a path under ``/v1/`` of the configured server: never a URL (httpx would send
        it, and the token, wherever it points)."""
        check_path(method, path)
        try:
            return self._send_with_retries(method, path, **kwargs)
        except PolarAPIError as exc:
            # Error messages quote the server's answer: a server that echoes the token back
            # (in a 401's description, an error page) must not get it printed.
            if self._token and self._token in str(exc):
                exc.args = (redact(str(exc), self._token),)
                exc.body = None
            raise
        finally:
            if self._notice and getattr(self._noticed, "shown", False):
                self._noticed.shown = False
                self._notice("")

    def _retrying(self, method: str, path: str, why: str, delay: float, attempt: int) -> None:
        """Say what a retry waits for: --debug's log, or the one line on a terminal."""
        text = (f"{method} {path}: {why}, retrying in {delay:.1f} s "
                f"({attempt + 1}/{self.policy.attempts})")
        self._log(text)
        if self._notice and not self._debug:
            self._noticed.shown = True
            self._notice(redact(text, self._token))

    def _send_with_retries(self, method: str, path: str, **kwargs: Any) -> Any:
        deadline = time.monotonic() + self.timeout
        for attempt in range(1, self.policy.attempts + 1):
            last = attempt == self.policy.attempts
            waiting = time.monotonic()
            self.limiter.acquire()  # pacing and 429 pauses do not count against the deadline
            deadline += time.monotonic() - waiting
            try:
                response = self._attempt(method, path, deadline, **kwargs)
            except (httpx.HTTPError, TooSlow) as exc:
                why = self._why(exc)
                if method not in IDEMPOTENT:
                    raise OutcomeUnknown(f"{method} {path}: {why}") from None
                delay = self.policy.backoff(attempt)
                if last or self._give_up(exc, attempt, deadline - time.monotonic() - delay):
                    raise PolarAPIError(f"{method} {path}: {why}") from None
                self._retrying(method, path, why, delay, attempt)
                self._sleep(delay)
                continue
            status = response.status_code
            if status == 429 and not last:
                wait = self.policy.retry_after(response.headers.get("retry-after"), attempt)
                self._log(f"rate limited: every request waits {wait:.1f} s")
                self.limiter.pause(wait)
                continue
            if status >= 500 and method not in IDEMPOTENT:
                raise OutcomeUnknown(
                    f"{method} {path}: {describe_error(response)}", status=status
                )
            if retryable_status(method, status) and not last:
                delay = self.policy.backoff(attempt)
                self._retrying(method, path, f"Polar answered {status}", delay, attempt)
                self._sleep(delay)
                continue
            return _answer(method, path, response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _why(self, exc: Exception) -> str:
        if isinstance(exc, httpx.TimeoutException | TooSlow):
            return f"Polar did not answer within {self.timeout:g} s"
        if refused(exc):
            return "cannot reach Polar (connection refused)"
        return f"cannot reach Polar ({one_line(exc) or type(exc).__name__})"

    def _give_up(self, exc: Exception, attempt: int, left: float) -> bool:
        """No retry once the deadline would pass, nor after one retry when nothing listens
        on this machine's port (no server is starting up there for long)."""
        return left <= 0 or (self._loopback and attempt >= 2 and refused(exc))

    def list_page(
        self, page: int, limit: int = PAGE_LIMIT, query: str | None = None
    ) -> dict[str, Any]:
        params: list[tuple[str, str | int]] = [
            ("page", page),
            ("limit", limit),
            ("sorting", "created_at"),
        ]
        if query:
            params.append(("query", query))
        if self.organization_id:
            params.append(("organization_id", self.organization_id))
        return meter_page(self._request("GET", "/v1/meters/", params=params), limit)

    def list_meters(
        self, attempts: int = 3, query: str | None = None,
        convert: Callable[[dict[str, Any]], Any] | None = None,
        on_page: Callable[[int, int], None] | None = None,
    ) -> list[Any]:
        """Every meter (archived included), each once, checked against ``total_count``.

        The first page says how many pages there are; the others are read concurrently
        (at most `parallelism` at once). Polar's sort has no tie-breaker, so pages can shift
        while meters are created: the listing is deduplicated by id and, when the count does
        not add up, read again. With ``convert``, each meter is returned as
        ``convert(item)``, called in the thread that read its page while others are on
        their way (its exceptions are raised here). ``on_page(pages read, pages)`` is called
        as each page arrives, from the thread that read it.
        """
        seen: dict[str, Any] = {}
        total = 0
        read = [0]
        counting = threading.Lock()

        def page_of(number: int) -> list[tuple[str, Any]]:
            page = first if number == 1 else self.list_page(number, query=query)
            if on_page:
                with counting:
                    read[0] += 1
                    on_page(read[0], len(numbers))
            return [(i["id"], convert(i) if convert else i) for i in page["items"]]

        for _ in range(attempts):
            seen = {}
            read[0] = 0
            first = self.list_page(1, query=query)
            total = first["pagination"]["total_count"]
            numbers = range(1, first["pagination"]["max_page"] + 1)
            with ThreadPoolExecutor(max_workers=self.parallelism) as pool:
                try:
                    pages = list(pool.map(page_of, numbers))
                except KeyboardInterrupt:
                    self.cancel()  # else leaving `with` waits for every page, retries too
                    raise
            for page in pages:
                for meter_id, meter in page:
                    seen.setdefault(meter_id, meter)
            if len(seen) == total:
                return list(seen.values())
        raise PolarAPIError(
            f"the meters changed while they were being read ({len(seen)} read, Polar counts "
            f"{total}); run the command again"
        )

    def find_by_key(self, key: str) -> list[dict[str, Any]]:
        """Meters carrying ownership tag `key` (Polar filters metadata server-side)."""
        params: list[tuple[str, str | int]] = [
            ("metadata[" + TAG_KEY + "]", key), ("limit", PAGE_LIMIT),
        ]
        if self.organization_id:
            params.append(("organization_id", self.organization_id))
        page = meter_page(self._request("GET", "/v1/meters/", params=params), PAGE_LIMIT)
        return [m for m in page["items"] if (m.get("metadata") or {}).get(TAG_KEY) == key]

    def meter_has_events(self, meter_id: str) -> bool | None:
        """Whether any event matches the meter (then Polar has locked its filter and
        aggregation); None when the token cannot read events."""
        try:
            data = self._request("GET", "/v1/events/", params={"meter_id": meter_id, "limit": 1})
        except PolarAPIError as exc:
            if exc.status in (401, 403, 404):
                return None
            raise
        try:
            return int(data["pagination"]["total_count"]) > 0
        except (KeyError, TypeError, ValueError):
            raise PolarAPIError("GET /v1/events/: Polar's answer is not a list of events") from None

    def meter_refuses_filter(self, meter_id: str) -> bool | None:
        """The lock probe: ``PATCH {"filter": null}``. Polar refuses any body holding
        ``filter`` with a 422 ``forbidden`` once the meter is locked, and otherwise changes
        nothing (a null filter is left out of the update: no field set, ``modified_at`` kept).
        True: refused, the lock is confirmed; False: accepted, not locked now; None when the
        token may not write meters or Polar answered something else."""
        try:
            self._request("PATCH", f"/v1/meters/{meter_id}", json={"filter": None})
        except PolarAPIError as exc:
            if exc.status == 422 and lock_refusal(exc.body):
                return True
            if exc.status in (401, 403, 404, 422):
                return None
            raise
        return False

    def get_meter(self, meter_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/meters/{meter_id}")

    def get(self, path: str, params: list[tuple[str, str | int]]) -> Any:
        """A read (events, products, benefits: see events.py, holders.py)."""
        return self._request("GET", path, params=params)

    def send(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        """Send one planned request as it is written in the plan."""
        return self._request(method, path, json=body)


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def redact(text: str, token: str) -> str:
    """Never let the token through, whatever the text."""
    return text.replace(token, "[REDACTED]") if token else text


def _answer(method: str, path: str, response: httpx.Response) -> Any:
    if 300 <= response.status_code < 400:
        raise PolarAPIError(f"{method} {path}: {describe_redirect(response)}",
                            status=response.status_code)
    if response.status_code >= 400:
        raise PolarAPIError(
            f"{method} {path}: {describe_error(response)}",
            status=response.status_code,
            body=json_or_none(response),
        )
    try:
        return parse_json(response, f"{method} {path}")
    except ValueError:
        # A write that succeeded but whose answer cannot be read: its outcome is as unknown
        # as if the answer had been lost (the caller looks before sending it again).
        error = PolarAPIError if method in IDEMPOTENT else OutcomeUnknown
        raise error(
            f"{method} {path}: Polar answered {response.status_code} with a body that is not JSON",
            status=response.status_code,
        ) from None


