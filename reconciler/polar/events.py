"""Reading the organization's events for a plan's live review (plan/live.py): how many events
a filter matches over a window (``GET /v1/events/`` with ``filter``, ``start_timestamp``,
``end_timestamp``: Polar's ``pagination.total_count``), the first page of them, and every
event name Polar has seen (``GET /v1/events/names``, which takes no time window).

Each request goes through the client: its rate limiter, retries and errors.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from reconciler.errors import PolarAPIError
from reconciler.plan.live import SAMPLE_SIZE, Counts, Question
from reconciler.polar.client import PolarClient
from reconciler.rules import PAGE_LIMIT_MAX
from reconciler.timestamps import TimestampError, parse_timestamp
from reconciler.usage.engine import Event

#: Pages of event names read at most (100 names each): more names than any filter needs.
MAX_NAME_PAGES = 20

#: Statuses that mean "this token or server does not serve events": the review is skipped.
UNSERVED = (401, 403, 404)


#: The line of a plan whose organization has no event at all: nothing to count.
NO_EVENTS = ("live review skipped: Polar has seen no event of this organization yet, so there "
             "is nothing to review the filters against")


def skipped_because(exc: PolarAPIError) -> str:
    """The one line a plan shows when its live review could not be made."""
    if exc.status == 403:
        return ("live review skipped: the access token cannot read events (403 "
                "insufficient_scope; it needs events:read)")
    return f"live review skipped: {exc}"


def _event(item: Any) -> Event:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise ValueError("an event without a name")
    metadata = item.get("metadata")
    return Event(name=item["name"], timestamp=parse_timestamp(item.get("timestamp")),
                 metadata=metadata if isinstance(metadata, dict) else {},
                 source=str(item.get("source") or "user"))


def _page(data: Any, what: str) -> tuple[int, list[Any]]:
    try:
        total = data["pagination"]["total_count"]
        items = data["items"]
        if type(total) is not int or total < 0 or not isinstance(items, list):
            raise TypeError
        return total, items
    except (KeyError, TypeError):
        raise PolarAPIError(f"GET {what}: Polar's answer is not a list of {what[4:-1]}") from None


def _organization(client: PolarClient) -> list[tuple[str, str | int]]:
    return [("organization_id", client.organization_id)] if client.organization_id else []


def count_events(
    client: PolarClient, filter_: dict[str, Any], start: str, end: str, limit: int = 1
) -> tuple[int, tuple[Event, ...]]:
    """How many events FILTER matches between START and END, and the first LIMIT of them
    (most recent first)."""
    params: list[tuple[str, str | int]] = [
        ("filter", json.dumps(filter_, separators=(",", ":"), ensure_ascii=False)),
        ("start_timestamp", start), ("end_timestamp", end), ("limit", limit), ("page", 1),
        ("sorting", "-timestamp"), *_organization(client),
    ]
    total, items = _page(client.get("/v1/events/", params), "/v1/events/")
    try:
        return total, tuple(_event(item) for item in items[:limit])
    except (ValueError, TimestampError):
        raise PolarAPIError("GET /v1/events/: Polar's answer is not a list of events") from None


def event_names(client: PolarClient) -> frozenset[str]:
    """Every event name Polar has seen for the organization (all time)."""
    names: set[str] = set()
    for page in range(1, MAX_NAME_PAGES + 1):
        params: list[tuple[str, str | int]] = [
            ("page", page), ("limit", PAGE_LIMIT_MAX), *_organization(client)]
        total, items = _page(client.get("/v1/events/names", params), "/v1/events/names")
        names.update(str(i["name"]) for i in items if isinstance(i, dict) and "name" in i)
        if not items or page * PAGE_LIMIT_MAX >= total:
            break
    return frozenset(names)


def ask(client: PolarClient, question: Question, start: str, end: str) -> Counts:
    """At most three requests: the new filter (with a page of its events), and for a changed
    filter the old one and both together."""
    after, sample = count_events(client, question.after, start, end, SAMPLE_SIZE)
    if question.before is None:
        return Counts(after, sample=sample)
    before, _ = count_events(client, question.before, start, end)
    both, _ = count_events(client, question.both(), start, end)
    return Counts(after, before, both, sample)


def ask_all(
    client: PolarClient, questions: Sequence[Question], start: str, end: str,
    step: Callable[[int, int], None],
) -> dict[str, Counts]:
    """Every question, `parallelism` at once; raises PolarAPIError."""
    counted = itertools.count(1)  # next() is atomic: answers come from several threads

    def one(question: Question) -> Counts:
        counts = ask(client, question, start, end)
        step(next(counted), len(questions))
        return counts

    with ThreadPoolExecutor(client.parallelism) as pool:
        return dict(zip((q.key for q in questions), pool.map(one, questions), strict=True))
