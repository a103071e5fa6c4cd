"""The usage side of the emulated Polar: ingesting and listing events, a meter's
quantities, and customer meters (consumed and credited units). Like core.py it knows
nothing of HTTP; the numbers come from reconciler.usage.engine, the same engine the CLI uses.

Polar's rules kept here (NOTES.md "Events, quantities", server/polar/event/,
meter/service.py, customer_meter/):

- Ingest does not lock a meter: a billing pass does (billing.py; by default right after
  the ingest, so the same request locks); archived meters do not count new events. Events whose
  ``external_id`` was seen already are skipped and counted as ``duplicates``.
- Events list and quantities match events by the meter's filter and aggregation whatever
  the meter's state: an archived meter can still be queried, and counts every event.
- Customer meters: one per customer and meter (consumption 0 when nothing matched);
  ``consumed_units`` aggregates the customer's matching events (for an archived meter, only
  those ingested before it was archived: Polar stops updating it), ``credited_units`` is
  the running sum of credits never going below 0, ``balance`` their difference. The list
  leaves archived meters out unless ``meter_id`` is given. Their ids are derived from the
  customer and meter, so they are stable without being stored.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from reconciler.emulator import billing, usage_validation
from reconciler.emulator.auth import READ_SCOPES, Principal
from reconciler.emulator.core import Emulator
from reconciler.emulator.customers import Customer
from reconciler.emulator.event_list import EVENTS_READ, EventList, metadata_matches, of_customers
from reconciler.emulator.events import Credit, EventStore, StoredEvent
from reconciler.emulator.fields import Invalid
from reconciler.emulator.meters import Page, page_of
from reconciler.emulator.refusals import (
    NotFound,
    PolarRequestValidationError,
    RequestValidationError,
)
from reconciler.emulator.timefmt import timestamp
from reconciler.usage.engine import Event, aggregate, quantities, within_limits

EVENTS_WRITE = frozenset({"events:write"})
CUSTOMER_METERS_READ = frozenset({"customer_meters:read"})
SPAN_MESSAGE = (
    "The interval is too small for the given date range. "
    "Use a larger interval or reduce the date range."
)


def customer_meter_id(customer_id: str, meter_id: str) -> str:
    """A stable UUID4 for the pair (Polar stores a row; the emulator derives it)."""
    digest = hashlib.sha256(f"{customer_id}:{meter_id}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def non_negative_running_sum(units: Iterable[int]) -> int:
    """Polar's sum of credits: a running sum that never goes below 0."""
    total = 0
    for value in units:
        total = max(0, total + value)
    return total


@dataclass(frozen=True)
class _CustomerMeter:
    id: str
    customer: Customer
    meter: Any  # core's meter record
    consumed: int | float
    credited: int
    created_at: datetime
    modified_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": timestamp(self.created_at),
            "modified_at": timestamp(self.modified_at),
            "customer_id": self.customer.id,
            "meter_id": self.meter.id,
            "consumed_units": float(self.consumed),
            "credited_units": self.credited,
            "balance": float(self.credited - self.consumed),
            "customer": self.customer.to_json(),
            "meter": self.meter.to_json(),
        }


_CUSTOMER_METER_KEYS: dict[str, Any] = {
    "created_at": lambda cm: cm.created_at,
    "modified_at": lambda cm: cm.modified_at,
    "customer_id": lambda cm: cm.customer.id,
    "customer_name": lambda cm: "",  # emulated customers have no name
    "meter_id": lambda cm: cm.meter.id,
    "meter_name": lambda cm: cm.meter.name,
    "consumed_units": lambda cm: cm.consumed,
    "credited_units": lambda cm: cm.credited,
    "balance": lambda cm: cm.credited - cm.consumed,
}


class Usage:
    """Events, quantities and customer meters of one Emulator (stateless: the data lives in
    the emulator's store, under its lock)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    @property
    def store(self) -> EventStore:
        return self.emulator.store  # replaced when the state file is reloaded

    # -- events -----------------------------------------------------------------------------

    def ingest(self, body: Any, principal: Principal | None = None) -> dict[str, int]:
        """POST /v1/events/ingest: every event valid, or none is stored."""
        caller = self.emulator.caller(principal, EVENTS_WRITE)
        try:
            created = usage_validation.ingest_body(body)
        except Invalid as exc:
            raise RequestValidationError(exc.errors) from None
        self._check_organizations(created, caller)
        self._check_customers(created)
        now = datetime.now(UTC)
        inserted = duplicates = 0
        with self.emulator.writing():
            new: list[StoredEvent] = []
            for data in created:
                if self.store.seen(data["external_id"]):
                    duplicates += 1
                    continue
                event = Event(
                    name=data["name"], timestamp=data.get("timestamp") or now,
                    metadata=data["metadata"], source="user",
                    customer_id=data.get("customer_id"),
                    external_customer_id=data.get("external_customer_id"),
                )
                new.append(self.store.add(event, data["external_id"], now))
                inserted += 1
            billing.after_request(self.emulator, new)
        return {"inserted": inserted, "duplicates": duplicates}

    def _check_customers(self, created: list[dict[str, Any]]) -> None:
        """Polar refuses an event naming a customer_id it does not know (an unknown
        external_customer_id is kept as given)."""
        errors = [
            {"type": "value_error", "loc": ["body", "events", index, "customer_id"],
             "msg": "Customer not found.", "input": data["customer_id"]}
            for index, data in enumerate(created)
            if data.get("customer_id") is not None
            and self.store.customers.get(data["customer_id"]) is None
        ]
        if errors:
            raise PolarRequestValidationError(errors)

    def create_customer(self, external_id: str | None = None) -> dict[str, Any]:
        """Emulator-only: a customer of the organization (Polar's customers API is not
        emulated); with `external_id`, the customer that external id names (the one that
        has it already, if any)."""
        with self.emulator.writing():
            return self.store.customers.create(external_id, datetime.now(UTC)).to_json()

    def _check_organizations(self, created: list[dict[str, Any]], caller: Principal) -> None:
        errors: list[dict[str, Any]] = []
        for index, data in enumerate(created):
            organization_id = data["organization_id"]
            loc = ["body", "events", index, "organization_id"]
            if not caller.personal and organization_id is not None:
                errors.append({"type": "organization_token", "loc": loc, "input": organization_id,
                               "msg": "Setting organization_id is disallowed when using an "
                                      "organization token."})
            elif caller.personal and organization_id is None:
                errors.append({"type": "missing", "loc": loc, "input": None,
                               "msg": "organization_id is required."})
            elif caller.personal and organization_id != self.emulator.organization_id:
                errors.append({"type": "organization_id", "loc": loc, "input": organization_id,
                               "msg": "Organization not found."})
        if errors:
            raise PolarRequestValidationError(errors)

    def list_events(self, principal: Principal | None = None, **query: Any) -> Page:
        """GET /v1/events/ (event_list.py)."""
        return EventList(self.emulator).list_events(principal, **query)

    def get_event(self, event_id: str, principal: Principal | None = None) -> dict[str, Any]:
        self.emulator.caller(principal, EVENTS_READ)
        with self.emulator.mutex:
            for stored in self.store.events:
                if stored.id == event_id:
                    return stored.to_json(self.store.customer_of(stored))
        raise NotFound(event_id)

    # -- quantities -------------------------------------------------------------------------

    def quantities(
        self,
        meter_id: str,
        principal: Principal | None = None,
        *,
        start_timestamp: datetime,
        end_timestamp: datetime,
        interval: str,
        timezone: tzinfo = UTC,
        customer_id: Sequence[str] | None = None,
        external_customer_id: Sequence[str] | None = None,
        customer_aggregation_function: str | None = None,
        metadata: dict[str, list[str]] | None = None,
    ) -> dict[str, Any]:
        """GET /v1/meters/{id}/quantities (MeterQuantities)."""
        self.emulator.caller(principal, READ_SCOPES)
        with self.emulator.mutex:
            meter = self.emulator.meter_record(meter_id)
            if not within_limits(start_timestamp, end_timestamp, interval):
                raise PolarRequestValidationError([{
                    "loc": ["query"], "msg": SPAN_MESSAGE, "type": "value_error",
                    "input": [start_timestamp.isoformat(), end_timestamp.isoformat(), interval],
                }])
            chosen = self.store.matching(meter.filter, meter.aggregation)
            if customer_id is not None or external_customer_id is not None:
                chosen = of_customers(self.store, chosen, customer_id or (), external_customer_id or ())
            chosen = [e for e in chosen if metadata_matches(e.event.metadata, metadata or {})]
            # per customer: the event's own customer id, else its external id (the engine's
            # default grouping, as Polar's Event.resolved_customer_id)
            result = quantities(
                meter.aggregation, [e.event for e in chosen], start_timestamp, end_timestamp,
                interval, timezone, customer_aggregation_function,
            )
        return {
            "quantities": [
                {"timestamp": timestamp(b.timestamp), "quantity": float(b.quantity)}
                for b in result.buckets
            ],
            "total": float(result.total),
        }

    # -- customer meters --------------------------------------------------------------------

    def _customer_meters(self) -> list[_CustomerMeter]:
        """One per customer and meter, every meter (consumption 0 when nothing matched)."""
        found: list[_CustomerMeter] = []
        customers = sorted(self.store.customers.all(), key=lambda c: c.id)
        for meter in self.emulator.meter_records():
            events = self.store.matching(meter.filter, meter.aggregation)
            if meter.archived_at is not None:
                events = [e for e in events if e.ingested_at <= meter.archived_at]
            by_identifier: dict[tuple[str, str | None], list[StoredEvent]] = {}
            for stored in events:
                event = stored.event
                key = (("id", event.customer_id) if event.customer_id is not None
                       else ("external", event.external_customer_id))
                by_identifier.setdefault(key, []).append(stored)
            for customer in customers:
                mine = by_identifier.get(("id", customer.id), [])
                if customer.external_id is not None:
                    mine = mine + by_identifier.get(("external", customer.external_id), [])
                granted = [c for c in self.store.credits
                           if c.meter_id == meter.id and c.customer_id == customer.id]
                found.append(self._customer_meter(customer, meter, mine, granted))
        return found

    def _customer_meter(self, customer: Customer, meter: Any, mine: list[StoredEvent],
                        granted: list[Credit]) -> _CustomerMeter:
        resets = [c.created_at for c in granted if c.kind == "reset"]
        if resets:  # a meter.reset: everything before it is forgotten
            mine = [e for e in mine if e.ingested_at > max(resets)]
            granted = [c for c in granted if c.created_at >= max(resets)]
        moments = [e.ingested_at for e in mine] + [c.created_at for c in granted]
        start = max(customer.created_at, meter.created_at)  # the row exists from then
        return _CustomerMeter(
            id=customer_meter_id(customer.id, meter.id), customer=customer, meter=meter,
            consumed=aggregate(meter.aggregation, [e.event for e in mine]),
            credited=non_negative_running_sum(c.units for c in granted),
            created_at=min([start, *moments]), modified_at=max([start, *moments]),
        )

    def list_customer_meters(
        self,
        principal: Principal | None = None,
        *,
        page: int = 1,
        limit: int = 10,
        sorting: Sequence[str] = ("-modified_at",),
        organization_id: Sequence[str] | None = None,
        customer_id: Sequence[str] | None = None,
        external_customer_id: Sequence[str] | None = None,
        meter_id: Sequence[str] | None = None,
    ) -> Page:
        """GET /v1/customer-meters/ (ListResource[CustomerMeter])."""
        self.emulator.caller(principal, CUSTOMER_METERS_READ)
        with self.emulator.mutex:
            chosen = [
                cm for cm in self._customer_meters()
                if (organization_id is None or cm.customer.organization_id in organization_id)
                and (customer_id is None or cm.customer.id in customer_id)
                and (external_customer_id is None
                     or cm.customer.external_id in external_customer_id)
                and (cm.meter.id in meter_id if meter_id is not None
                     else cm.meter.archived_at is None)
            ]
            for criterion in reversed(sorting):
                key = _CUSTOMER_METER_KEYS[criterion.removeprefix("-")]
                chosen.sort(key=key, reverse=criterion.startswith("-"))
            items = [cm.to_json() for cm in chosen]
        return page_of(items, page, limit)

    def get_customer_meter(
        self, customer_meter_id_: str, principal: Principal | None = None
    ) -> dict[str, Any]:
        """GET /v1/customer-meters/{id} (CustomerMeter)."""
        self.emulator.caller(principal, CUSTOMER_METERS_READ)
        with self.emulator.mutex:
            for cm in self._customer_meters():
                if cm.id == customer_meter_id_:
                    return cm.to_json()
        raise NotFound(customer_meter_id_)

    def credit(
        self, meter_id: str, units: int, *, customer_id: str | None = None,
        external_customer_id: str | None = None, rollover: bool = False,
        kind: str = "credited",
    ) -> dict[str, Any]:
        """Emulator-only: credit ``units`` (may be negative) to a customer on a meter, as a
        meter-credit benefit would (``kind="reset"``: reset the customer meter instead); the
        customer is created if unknown (emulator-only; Polar grants benefits to customers that
        exist). Returns the customer meter."""
        if (customer_id is None) == (external_customer_id is None):
            raise ValueError("give exactly one of customer_id and external_customer_id")
        now = datetime.now(UTC)
        with self.emulator.writing():
            meter = self.emulator.meter_record(meter_id)
            customer = self.store.customers.create(external_customer_id, now, customer_id)
            self.store.credit(Credit(customer.id, meter.id, units, rollover, now, kind))
            billing.after_request(self.emulator)
            return self.get_customer_meter(customer_meter_id(customer.id, meter.id))
