"""GET /v1/events/ and GET /v1/events/names over the emulator's store (NOTES.md "Events
list"). Polar serves both from an analytics store that can lag; the emulator answers from
what it holds, at once. Rules kept: an unknown `meter_id` is a 422 "Meter not found."; `query`
needs `organization_id` and at least 3 characters (it matches the name or the metadata's
text, case-insensitively); `filter` is a meter filter (validated in usage_validation.py),
matched on the SQL path like a meter's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reconciler.emulator.auth import Principal
from reconciler.emulator.events import EventStore, StoredEvent
from reconciler.emulator.meters import Page, ilike, jsonb_text, page_of
from reconciler.emulator.refusals import NotFound, PolarRequestValidationError
from reconciler.emulator.timefmt import timestamp
from reconciler.usage.engine import matches

if TYPE_CHECKING:
    from reconciler.emulator.core import Emulator

EVENTS_READ = frozenset({"events:read", "events:write"})
QUERY_MIN = 3


def metadata_matches(metadata: dict[str, Any], query: dict[str, list[str]]) -> bool:
    """Polar's metadata query: values of one key OR, keys AND, compared as text."""
    return all(
        key in metadata and jsonb_text(metadata[key]) in values for key, values in query.items()
    )


def of_customers(
    store: EventStore, events: list[StoredEvent], customer_ids: Sequence[str],
    external_ids: Sequence[str],
) -> list[StoredEvent]:
    """Events of these customers, by either identifier: Polar resolves each to the other
    (an unknown customer id selects nothing, an unknown external id only the events that
    carry it)."""
    ids, externals = set(customer_ids), set(external_ids)
    for customer in store.customers.all():
        if customer.id in ids and customer.external_id is not None:
            externals.add(customer.external_id)
        if customer.external_id in externals:
            ids.add(customer.id)
    return [
        e for e in events
        if e.event.customer_id in ids or e.event.external_customer_id in externals
    ]


def _query_refusal(query: str | None, organization_id: Sequence[str] | None) -> None:
    if query is None:
        return
    if organization_id is None:
        raise PolarRequestValidationError([{
            "type": "missing", "loc": ["query", "organization_id"], "input": None,
            "msg": "organization_id is required when query is set.",
        }])
    if len(query) < QUERY_MIN:
        raise PolarRequestValidationError([{
            "type": "string_too_short", "loc": ["query", "query"], "input": query,
            "msg": f"String should have at least {QUERY_MIN} characters",
            "ctx": {"min_length": QUERY_MIN},
        }])


def _text_matches(stored: StoredEvent, query: str | None) -> bool:
    if query is None:
        return True
    pattern = ilike(query)
    texts = [stored.event.name, *(jsonb_text(v) for v in stored.event.metadata.values())]
    return any(pattern.fullmatch(text) for text in texts)


class EventList:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    @property
    def store(self) -> EventStore:
        return self.emulator.store  # replaced when the state file is reloaded

    def _selected(self, organization_id: Sequence[str] | None, customer_id: Sequence[str] | None,
                  external_customer_id: Sequence[str] | None) -> list[StoredEvent]:
        chosen = list(self.store.events)
        if organization_id is not None and self.emulator.organization_id not in organization_id:
            return []
        if customer_id is not None or external_customer_id is not None:
            chosen = of_customers(self.store, chosen, customer_id or (), external_customer_id or ())
        return chosen

    def list_events(
        self,
        principal: Principal | None = None,
        *,
        page: int = 1,
        limit: int = 10,
        sorting: Sequence[str] = ("-timestamp",),
        start_timestamp: datetime | None = None,
        end_timestamp: datetime | None = None,
        organization_id: Sequence[str] | None = None,
        customer_id: Sequence[str] | None = None,
        external_customer_id: Sequence[str] | None = None,
        meter_id: str | None = None,
        name: Sequence[str] | None = None,
        source: Sequence[str] | None = None,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        metadata: dict[str, list[str]] | None = None,
    ) -> Page:
        """Newest first unless sorted by ``timestamp``; ``meter_id`` lists the events that
        meter counts."""
        self.emulator.caller(principal, EVENTS_READ)
        _query_refusal(query, organization_id)
        with self.emulator.mutex:
            chosen = self._selected(organization_id, customer_id, external_customer_id)
            if meter_id is not None:
                try:
                    meter = self.emulator.meter_record(meter_id)
                except NotFound:
                    raise PolarRequestValidationError([{
                        "type": "value_error", "loc": ["query", "meter_id"],
                        "msg": "Meter not found.", "input": meter_id,
                    }]) from None
                chosen = self.store.matching(meter.filter, meter.aggregation, chosen)
            chosen = [
                e for e in chosen
                if (name is None or e.event.name in name)
                and (source is None or e.event.source in source)
                and (start_timestamp is None or e.event.timestamp >= start_timestamp)
                and (end_timestamp is None or e.event.timestamp <= end_timestamp)
                and (filter is None or matches(filter, e.event))
                and metadata_matches(e.event.metadata, metadata or {})
                and _text_matches(e, query)
            ]
            chosen.sort(key=lambda e: e.event.timestamp, reverse=sorting[0].startswith("-"))
            items = [e.to_json(self.store.customer_of(e)) for e in chosen]
        return page_of(items, page, limit)

    def names(
        self,
        principal: Principal | None = None,
        *,
        page: int = 1,
        limit: int = 10,
        sorting: Sequence[str] = ("-last_seen",),
        organization_id: Sequence[str] | None = None,
        customer_id: Sequence[str] | None = None,
        external_customer_id: Sequence[str] | None = None,
        source: Sequence[str] | None = None,
        query: str | None = None,
    ) -> Page:
        """GET /v1/events/names: each (name, source) with its occurrences, first and last
        seen (event timestamps)."""
        self.emulator.caller(principal, EVENTS_READ)
        with self.emulator.mutex:
            chosen = self._selected(organization_id, customer_id, external_customer_id)
            pattern = ilike(query) if query is not None else None
            found: dict[tuple[str, str], list[datetime]] = {}
            for stored in chosen:
                event = stored.event
                if (source is None or event.source in source) and (
                    pattern is None or pattern.fullmatch(event.name)
                ):
                    found.setdefault((event.name, event.source), []).append(event.timestamp)
        rows: list[dict[str, Any]] = [{"name": name, "label": name, "source": src, "occurrences": len(moments),
                 "first_seen": min(moments), "last_seen": max(moments)}
                for (name, src), moments in found.items()]
        for criterion in reversed(sorting):
            rows.sort(key=lambda row: row[criterion.removeprefix("-")],
                      reverse=criterion.startswith("-"))
        items = [{**row, "first_seen": timestamp(row["first_seen"]),
                  "last_seen": timestamp(row["last_seen"])} for row in rows]
        return page_of(items, page, limit)
