"""The emulator's customers (made by ``POST /_emulator/customers``: Polar's customers API
is not emulated).

Polar refuses an event whose ``customer_id`` names no customer of the organization, and
keeps an ``external_customer_id`` event as given, creating no customer: the event belongs
to the customer that has (or later gets) that external id, resolved when it is read (Polar
joins on it). Their JSON is Polar's ``CustomerIndividual`` with a made-up ``.invalid``
e-mail address.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reconciler.emulator.timefmt import moment, optional_moment, timestamp


@dataclass
class Customer:
    id: str
    external_id: str | None
    organization_id: str
    created_at: datetime
    first_user_event_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created_at": timestamp(self.created_at),
            "modified_at": None,
            "metadata": {},
            "external_id": self.external_id,
            "email": f"customer-{self.id}@emulator.invalid",
            "email_verified": False,
            "type": "individual",
            "name": None,
            "billing_name": None,
            "billing_address": None,
            "tax_id": None,
            "locale": None,
            "organization_id": self.organization_id,
            "default_payment_method_id": None,
            "deleted_at": None,
            "first_user_event_at": (
                None if self.first_user_event_at is None else timestamp(self.first_user_event_at)
            ),
            "avatar_url": None,
        }

    def to_state(self) -> dict[str, Any]:
        return {
            "id": self.id, "external_id": self.external_id,
            "organization_id": self.organization_id,
            "created_at": self.created_at.isoformat(),
            "first_user_event_at": (
                None if self.first_user_event_at is None else self.first_user_event_at.isoformat()
            ),
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Customer:
        first = data.get("first_user_event_at")
        return cls(
            id=data["id"], external_id=data.get("external_id"),
            organization_id=data["organization_id"],
            created_at=moment(data["created_at"]), first_user_event_at=optional_moment(first),
        )


class Customers:
    """One organization's customers, by id and by external id."""

    def __init__(self, organization_id: str, customers: list[Customer] | None = None) -> None:
        self.organization_id = organization_id
        self._by_id: dict[str, Customer] = {}
        self._by_external: dict[str, Customer] = {}
        for customer in customers or []:
            self._add(customer)

    def _add(self, customer: Customer) -> Customer:
        self._by_id[customer.id] = customer
        if customer.external_id is not None:
            self._by_external[customer.external_id] = customer
        return customer

    def find(self, customer_id: str | None, external_id: str | None) -> Customer | None:
        """The customer these identifiers name now (by id first), or None."""
        if customer_id is not None:
            return self._by_id.get(customer_id)
        return None if external_id is None else self._by_external.get(external_id)

    def create(
        self, external_id: str | None, now: datetime, customer_id: str | None = None
    ) -> Customer:
        """A new customer (with this external id, or this id), or the one that has it."""
        found = self.find(customer_id, external_id)
        return found or self._add(Customer(
            customer_id or str(uuid.uuid4()), external_id, self.organization_id, now))

    def get(self, customer_id: str) -> Customer | None:
        return self._by_id.get(customer_id)

    def by_external_id(self, external_id: str) -> Customer | None:
        return self._by_external.get(external_id)

    def all(self) -> list[Customer]:
        return list(self._by_id.values())
