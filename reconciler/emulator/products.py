"""Products (with fixed and metered-unit prices) and meter-credit benefits as the emulator
keeps them, in Polar's published schemas (Product, ProductPriceFixed,
ProductPriceMeteredUnit, BenefitMeterCredit), and the one rule they impose on meters:
what refuses an archive (server/polar/meter/service.py `archive`).

A price's `meter` object is read from the meter when answering, so a renamed meter shows
its new name, as Polar's join does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from reconciler.emulator.meters import MeterRecord, copied
from reconciler.emulator.timefmt import moment, optional_moment, optional_timestamp, timestamp

HELD_BY_PRODUCT = "Cannot archive meter that is still attached to active products"
HELD_BY_BENEFIT = "Cannot archive meter that is still referenced by active benefits"
#: Polar's `unit_amount` column: NUMERIC(17, 12), read back with its 12 decimal places.
_UNIT_AMOUNT_PLACES = Decimal(1).scaleb(-12)


def unit_amount_text(value: Decimal) -> str:
    return format(value.quantize(_UNIT_AMOUNT_PLACES), "f")


@dataclass
class PriceRecord:
    id: str
    product_id: str
    amount_type: str  # "fixed" or "metered_unit"
    price_currency: str
    tax_behavior: str | None
    created_at: datetime
    price_amount: int | None = None  # fixed
    meter_id: str | None = None  # metered_unit
    unit_amount: str | None = None  # metered_unit, as Polar answers it
    cap_amount: int | None = None
    is_archived: bool = False

    def to_json(self, meter_of: Callable[[str], MeterRecord | None]) -> dict[str, Any]:
        """ProductPriceFixed or ProductPriceMeteredUnit, in Polar's field order."""
        head = {
            "created_at": timestamp(self.created_at), "modified_at": None, "id": self.id,
            "source": "catalog", "amount_type": self.amount_type,
            "price_currency": self.price_currency, "tax_behavior": self.tax_behavior,
            "is_archived": self.is_archived, "product_id": self.product_id,
        }
        if self.amount_type == "fixed":
            return {**head, "price_amount": self.price_amount}
        assert self.meter_id is not None
        meter = meter_of(self.meter_id)
        return {
            **head, "unit_amount": self.unit_amount, "cap_amount": self.cap_amount,
            "meter_id": self.meter_id,
            "meter": None if meter is None else {
                "id": meter.id, "name": meter.name, "unit": meter.unit,
                "custom_label": meter.custom_label, "custom_multiplier": meter.custom_multiplier,
            },
        }

    def to_state(self) -> dict[str, Any]:
        return {
            "id": self.id, "product_id": self.product_id, "amount_type": self.amount_type,
            "price_currency": self.price_currency, "tax_behavior": self.tax_behavior,
            "created_at": timestamp(self.created_at), "price_amount": self.price_amount,
            "meter_id": self.meter_id, "unit_amount": self.unit_amount,
            "cap_amount": self.cap_amount, "is_archived": self.is_archived,
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> PriceRecord:
        return cls(
            id=data["id"], product_id=data["product_id"], amount_type=data["amount_type"],
            price_currency=data["price_currency"], tax_behavior=data["tax_behavior"],
            created_at=moment(data["created_at"]), price_amount=data["price_amount"],
            meter_id=data["meter_id"], unit_amount=data["unit_amount"],
            cap_amount=data["cap_amount"], is_archived=bool(data["is_archived"]),
        )


@dataclass
class ProductRecord:
    id: str
    organization_id: str
    name: str
    description: str | None
    visibility: str
    recurring_interval: str | None
    recurring_interval_count: int | None
    metadata: dict[str, Any]
    created_at: datetime
    modified_at: datetime | None = None
    is_archived: bool = False
    prices: list[PriceRecord] = field(default_factory=list)

    def to_json(self, meter_of: Callable[[str], MeterRecord | None]) -> dict[str, Any]:
        """The Product schema, in Polar's field order; prices are the product's active ones."""
        return {
            "id": self.id, "created_at": timestamp(self.created_at),
            "modified_at": optional_timestamp(self.modified_at), "trial_interval": None,
            "trial_interval_count": None, "name": self.name, "description": self.description,
            "visibility": self.visibility, "recurring_interval": self.recurring_interval,
            "recurring_interval_count": self.recurring_interval_count, "meter_interval": None,
            "meter_interval_count": None, "is_recurring": self.recurring_interval is not None,
            "is_archived": self.is_archived, "organization_id": self.organization_id,
            "metadata": copied(self.metadata),
            # Not in the published 2026-10 spec, but polar-sdk 1.0.2 requires it (Polar added
            # it since); emulated products have no orders, so they could be deleted.
            "is_deletable": True,
            "prices": [p.to_json(meter_of) for p in self.prices if not p.is_archived],
            "benefits": [], "medias": [], "attached_custom_fields": [],
        }

    def to_state(self) -> dict[str, Any]:
        return {
            "id": self.id, "organization_id": self.organization_id, "name": self.name,
            "description": self.description, "visibility": self.visibility,
            "recurring_interval": self.recurring_interval,
            "recurring_interval_count": self.recurring_interval_count,
            "metadata": self.metadata, "created_at": timestamp(self.created_at),
            "modified_at": optional_timestamp(self.modified_at), "is_archived": self.is_archived,
            "prices": [p.to_state() for p in self.prices],
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> ProductRecord:
        return cls(
            id=data["id"], organization_id=data["organization_id"], name=data["name"],
            description=data["description"], visibility=data["visibility"],
            recurring_interval=data["recurring_interval"],
            recurring_interval_count=data["recurring_interval_count"],
            metadata=data["metadata"], created_at=moment(data["created_at"]),
            modified_at=optional_moment(data["modified_at"]), is_archived=bool(data["is_archived"]),
            prices=[PriceRecord.from_state(p) for p in data["prices"]],
        )


@dataclass
class BenefitRecord:
    """A meter-credit benefit (the only benefit type the emulator models)."""

    id: str
    organization_id: str
    description: str
    visibility: str
    metadata: dict[str, Any]
    meter_id: str
    units: int
    rollover: bool
    created_at: datetime
    deleted_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The BenefitMeterCredit schema, in Polar's field order."""
        return {
            "id": self.id, "created_at": timestamp(self.created_at), "modified_at": None,
            "type": "meter_credit", "description": self.description, "selectable": True,
            "deletable": True, "is_deleted": self.deleted_at is not None,
            "organization_id": self.organization_id, "metadata": copied(self.metadata),
            "visibility": self.visibility,
            "properties": {"units": self.units, "rollover": self.rollover,
                           "meter_id": self.meter_id},
            "visibility_configurable": False,
        }

    def to_state(self) -> dict[str, Any]:
        return {
            "id": self.id, "organization_id": self.organization_id,
            "description": self.description, "visibility": self.visibility,
            "metadata": self.metadata, "meter_id": self.meter_id, "units": self.units,
            "rollover": self.rollover, "created_at": timestamp(self.created_at),
            "deleted_at": optional_timestamp(self.deleted_at),
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> BenefitRecord:
        return cls(
            id=data["id"], organization_id=data["organization_id"],
            description=data["description"], visibility=data["visibility"],
            metadata=data["metadata"], meter_id=data["meter_id"], units=data["units"],
            rollover=bool(data["rollover"]), created_at=moment(data["created_at"]),
            deleted_at=optional_moment(data["deleted_at"]),
        )


def archive_refusal(
    meter_id: str, products: Iterable[ProductRecord], benefits: Iterable[BenefitRecord]
) -> str | None:
    """Polar's refusal to archive this meter, or None: an active metered price on an active
    product uses it, else a meter-credit benefit that is not deleted references it."""
    if any(
        price.meter_id == meter_id and not price.is_archived
        for product in products if not product.is_archived for price in product.prices
    ):
        return HELD_BY_PRODUCT
    if any(b.meter_id == meter_id and b.deleted_at is None for b in benefits):
        return HELD_BY_BENEFIT
    return None
