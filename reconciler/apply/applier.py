"""Applying a Plan: send each action's request, keep going past failures, report each.

Every action is independent (one meter each), so a failure leaves the others done and a
second apply, planning afresh, finishes the job without duplicates: a created meter carries
its key tag from the first request, so it is found by tag next time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from reconciler.apply.duplicates import created_meanwhile, resolve_concurrent_creates
from reconciler.errors import PolarAPIError
from reconciler.plan.archives import refusal_text
from reconciler.plan.types import Action, Plan
from reconciler.polar.client import OutcomeUnknown, PolarClient
from reconciler.polar.ratelimit import Cancelled


@dataclass
class Outcome:
    action: Action
    ok: bool
    meter_id: str | None = None
    error: str | None = None
    response: dict[str, Any] | None = None
    note: str | None = None


@dataclass
class ApplyResult:
    outcomes: list[Outcome] = field(default_factory=list)
    not_done: list[Action] = field(default_factory=list)  # never started (interrupted)
    interrupted: bool = False
    abandoned: bool = False  # a second interrupt: requests in flight were not waited for
    resolved: list[str] = field(default_factory=list)  # concurrent runs' copies archived

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_done

    def count(self, kind: str) -> int:
        return sum(1 for o in self.outcomes if o.ok and o.action.kind == kind)


ARCHIVE_REFUSALS = {
    "attached to active products": (
        "Polar will not archive a meter that an active product's metered price uses: archive "
        "that price or product first, or keep the meter"
    ),
    "referenced by active benefits": (
        "Polar will not archive a meter that an active meter-credit benefit uses: delete or "
        "change that benefit first, or keep the meter"
    ),
}


def explain(action: Action, error: str) -> str:
    """Polar's message, plus what it means and what to do where polar-meters knows."""
    if action.kind == "archive":
        for needle, advice in ARCHIVE_REFUSALS.items():
            if needle in error:
                return f"{error} — {advice}"
    if "already aggregating events" in error:
        return (
            f"{error} — its filter and aggregation are frozen: define a new meter under a new "
            "key and archive this one"
        )
    return error


#: How many times a create whose outcome stayed unknown is looked up and sent again.
CREATE_ATTEMPTS = 4


def safe_create(client: PolarClient, action: Action) -> tuple[dict[str, Any], str | None]:
    """Create a meter without ever creating it twice.

    When Polar's answer is lost (timeout, reset connection, 5xx after sending), the meter may
    exist: look it up by its ownership tag and send again only if it is not there.
    """
    req = action.request
    existing = created_meanwhile(client, action.key)
    if existing is not None:
        return existing, "a concurrent run created it first; left as it is"
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            answer = client.send(req.method, req.path, req.body)
            if not (isinstance(answer, dict) and isinstance(answer.get("id"), str)):
                raise OutcomeUnknown(f"{req.method} {req.path}: Polar's answer holds no meter id")
            return answer, None
        except OutcomeUnknown as exc:
            if attempt == CREATE_ATTEMPTS:
                raise
            found = client.find_by_key(action.key)
            if found:
                return found[0], f"the answer was lost ({exc}); found it created"
            client.wait_before_retry(attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def run_action(client: PolarClient, action: Action) -> Outcome:
    req = action.request
    if action.held_by:  # the plan showed it refused ahead: its request is never sent
        return Outcome(action, ok=False, meter_id=action.meter_id,
                       error=f"not sent: {refusal_text(action.held_by)}")
    try:
        if req.method == "POST":
            response, note = safe_create(client, action)
            if (action.after or {}).get("archived"):
                # Polar creates meters active: one configured `archived: true` is archived
                # right after, or the next plan would still show it to archive.
                meter_id = response["id"]
                try:
                    response = client.send("PATCH", f"/v1/meters/{meter_id}", {"is_archived": True})
                except PolarAPIError as exc:
                    error = (
                        f"created ({meter_id}) but not archived: {exc}; apply again to archive it"
                    )
                    return Outcome(action, ok=False, meter_id=meter_id, error=error)
        else:
            response, note = client.send(req.method, req.path, req.body), None
    except Cancelled:
        raise  # interrupted before its request was sent: not done, rather than failed
    except PolarAPIError as exc:
        return Outcome(action, ok=False, meter_id=action.meter_id, error=explain(action, str(exc)))
    meter_id = response.get("id") if isinstance(response, dict) else None
    return Outcome(
        action, ok=True, meter_id=meter_id or action.meter_id, response=response, note=note
    )


class InOrder:
    """Hands outcomes on in the plan's order, whatever order they complete in."""

    def __init__(self, on_outcome: Callable[[Outcome], None]) -> None:
        self.on_outcome = on_outcome
        self.finished: dict[int, Outcome | None] = {}
        self.next = 0
        self.lock = threading.Lock()

    def done(self, index: int, outcome: Outcome | None) -> None:
        with self.lock:
            self.finished[index] = outcome
            while self.next in self.finished:
                self._emit(self.finished.pop(self.next))
                self.next += 1

    def flush(self) -> None:
        """What finished behind an action that never will (interrupted), in order."""
        with self.lock:
            for index in sorted(self.finished):
                self._emit(self.finished.pop(index))

    def _emit(self, outcome: Outcome | None) -> None:
        if outcome is not None:
            self.on_outcome(outcome)


def apply_plan(
    plan: Plan,
    client: PolarClient,
    on_outcome: Callable[[Outcome], None] = lambda _: None,
) -> ApplyResult:
    """Run every action, `client.parallelism` at a time; report each in the plan's order.

    Ctrl-C (or SIGTERM, see cli/main.py): no new request starts (retries and rate-limit
    pauses included), those in flight finish and are reported, and the result lists what was
    not done. A second one stops the wait: in-flight requests may still complete.
    """
    result = ApplyResult()
    stop = threading.Event()
    lock = threading.Lock()
    report = InOrder(on_outcome)

    def work(index: int, action: Action) -> None:
        outcome = None
        if not stop.is_set():
            try:
                outcome = run_action(client, action)
            except Cancelled:
                outcome = None
        if outcome is not None:
            with lock:
                result.outcomes.append(outcome)
        report.done(index, outcome)

    pool = ThreadPoolExecutor(max_workers=client.parallelism)
    futures = [pool.submit(work, i, a) for i, a in enumerate(plan.actions)]
    try:
        for _ in as_completed(futures):
            pass
    except KeyboardInterrupt:
        _interrupted(plan, client, pool, result, stop)
        report.flush()
        return result
    pool.shutdown(wait=True)
    created = [o.action.key for o in result.outcomes if o.ok and o.action.kind == "create"]
    result.resolved = resolve_concurrent_creates(client, created)
    return result


def _interrupted(
    plan: Plan, client: PolarClient, pool: ThreadPoolExecutor, result: ApplyResult,
    stop: threading.Event,
) -> None:
    stop.set()
    client.cancel()  # retries and rate-limit pauses end now, without another request
    result.interrupted = True
    try:
        pool.shutdown(wait=True, cancel_futures=True)
    except KeyboardInterrupt:  # a second interrupt: stop waiting for the requests in flight
        pool.shutdown(wait=False, cancel_futures=True)
        result.abandoned = True
    done = {id(o.action) for o in list(result.outcomes)}
    result.not_done = [a for a in plan.actions if id(a) not in done]
