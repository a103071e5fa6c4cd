"""The emulator's events, customers and meter credits: what usage is computed from.

Events are kept as ingested (Polar's ingest always makes them ``source: user``); the
customer an event belongs to is resolved when it is read (`customer_of`, customers.py). Credits stand for Polar's
``meter.credited`` system events; the emulator keeps them apart and does not list them
among the events. Everything here goes into the emulator's state file with the meters
(the whole file is rewritten after each write: fine for the emulator's volumes).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from reconciler.emulator.customers import Customer, Customers
from reconciler.emulator.timefmt import moment, timestamp
from reconciler.usage.engine import Event, meter_matches


def _output_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Metadata as Polar answers it: `_cost.amount` is a Decimal, sent as its text
    (CostMetadata-Output), whatever number was ingested."""
    result = copy.deepcopy(metadata)
    cost = result.get("_cost")
    if isinstance(cost, dict) and isinstance(cost.get("amount"), int | float):
        amount = cost["amount"]
        cost["amount"] = str(Decimal(repr(amount) if isinstance(amount, float) else amount))
    return result


@dataclass(frozen=True)
class StoredEvent:
    id: str
    event: Event
    organization_id: str
    ingested_at: datetime
    external_id: str | None = None

    def to_json(self, customer: Customer | None) -> dict[str, Any]:
        """Polar's UserEvent schema."""
        event = self.event
        return {
            "id": self.id,
            "timestamp": timestamp(event.timestamp),
            "organization_id": self.organization_id,
            "customer_id": event.customer_id,
            "customer": None if customer is None else customer.to_json(),
            "external_customer_id": event.external_customer_id,
            "member_id": None,
            "external_member_id": None,
            "child_count": 0,
            "parent_id": None,
            "label": event.name,
            "name": event.name,
            "source": event.source,
            "metadata": _output_metadata(event.metadata),
        }

    def to_state(self) -> dict[str, Any]:
        event = self.event
        return {
            "id": self.id, "name": event.name, "timestamp": event.timestamp.isoformat(),
            "metadata": event.metadata, "source": event.source,
            "customer_id": event.customer_id, "external_customer_id": event.external_customer_id,
            "organization_id": self.organization_id,
            "ingested_at": self.ingested_at.isoformat(), "external_id": self.external_id,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> StoredEvent:
        event = Event(
            name=data["name"], timestamp=moment(data["timestamp"]),
            metadata=data["metadata"], source=data["source"], customer_id=data["customer_id"],
            external_customer_id=data["external_customer_id"],
        )
        return cls(
            id=data["id"], event=event, organization_id=data["organization_id"],
            ingested_at=moment(data["ingested_at"]),
            external_id=data.get("external_id"),
        )


@dataclass(frozen=True)
class Credit:
    """Units credited to a customer on a meter (Polar: a ``meter.credited`` event), or, with
    kind ``reset``, the customer meter reset (a ``meter.reset`` event: consumption and
    credits count again from zero)."""

    customer_id: str
    meter_id: str
    units: int
    rollover: bool
    created_at: datetime
    kind: str = "credited"

    def to_state(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "meter_id": self.meter_id, "units": self.units,
                "rollover": self.rollover, "created_at": self.created_at.isoformat(),
                "kind": self.kind}

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Credit:
        return cls(data["customer_id"], data["meter_id"], data["units"], data["rollover"],
                   moment(data["created_at"]), data.get("kind", "credited"))


class EventStore:
    """One organization's events, customers and credits."""

    def __init__(self, organization_id: str, state: dict[str, Any] | None = None) -> None:
        state = state or {}
        self.organization_id = organization_id
        self.customers = Customers(
            organization_id, [Customer.from_state(c) for c in state.get("customers", [])]
        )
        self.events = [StoredEvent.from_state(e) for e in state.get("events", [])]
        self.credits = [Credit.from_state(c) for c in state.get("credits", [])]
        self._external_ids = {e.external_id for e in self.events if e.external_id is not None}

    def seen(self, external_id: str | None) -> bool:
        """Whether an event with this external id was ingested already (Polar skips it)."""
        return external_id is not None and external_id in self._external_ids

    def add(self, event: Event, external_id: str | None, now: datetime) -> StoredEvent:
        customer = self.customers.find(event.customer_id, event.external_customer_id)
        if customer is not None and (
            customer.first_user_event_at is None or event.timestamp < customer.first_user_event_at
        ):
            customer.first_user_event_at = event.timestamp
        stored = StoredEvent(str(uuid.uuid4()), event, self.organization_id, now, external_id)
        self.events.append(stored)
        if external_id is not None:
            self._external_ids.add(external_id)
        return stored

    def customer_of(self, stored: StoredEvent) -> Customer | None:
        """The customer an event belongs to now: by its customer id, else its external id."""
        return self.customers.find(stored.event.customer_id, stored.event.external_customer_id)

    def credit(self, credit: Credit) -> None:
        self.credits.append(credit)

    def matching(
        self, filter_: dict[str, Any], aggregation: dict[str, Any],
        events: Iterable[StoredEvent] | None = None,
    ) -> list[StoredEvent]:
        """The events (of ``events``, else all) a meter with this filter and aggregation counts."""
        chosen = self.events if events is None else events
        return [e for e in chosen if meter_matches(filter_, aggregation, e.event)]

    def any_match(self, filter_: dict[str, Any], aggregation: dict[str, Any]) -> bool:
        return any(meter_matches(filter_, aggregation, e.event) for e in self.events)

    def to_state(self) -> dict[str, Any]:
        return {
            "customers": [c.to_state() for c in self.customers.all()],
            "events": [e.to_state() for e in self.events],
            "credits": [c.to_state() for c in self.credits],
        }
