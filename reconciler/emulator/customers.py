"""The emulator's customers: made implicitly by the events that name them.

Polar refuses an event whose ``customer_id`` names no customer of the organization, and
keeps an ``external_customer_id`` event unattached until a customer with that external id
exists. The emulator has no customers API, so it creates the customer on first sight
instead: an unknown ``customer_id`` becomes a customer with that id, an unknown
``external_customer_id`` a customer with a new id and that external id. Their JSON is
Polar's ``CustomerIndividual`` with a made-up ``.invalid`` e-mail address.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reconciler.emulator.timefmt import timestamp


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
            created_at=datetime.fromisoformat(data["created_at"]),
            first_user_event_at=None if first is None else datetime.fromisoformat(first),
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

    def resolve(
        self, customer_id: str | None, external_id: str | None, now: datetime
    ) -> Customer:
        """The customer an event names, created when unknown (see the module docstring)."""
        if customer_id is not None:
            found = self._by_id.get(customer_id)
            return found or self._add(Customer(customer_id, None, self.organization_id, now))
        assert external_id is not None
        found = self._by_external.get(external_id)
        return found or self._add(
            Customer(str(uuid.uuid4()), external_id, self.organization_id, now)
        )

    def get(self, customer_id: str) -> Customer | None:
        return self._by_id.get(customer_id)

    def by_external_id(self, external_id: str) -> Customer | None:
        return self._by_external.get(external_id)

    def all(self) -> list[Customer]:
        return list(self._by_id.values())
