"""Polar's products and benefits endpoints over an Emulator, the part that holds meters:
products with metered-unit prices and meter-credit benefits (products.py keeps the
records, catalog_validation.py the request rules). Like usage.py it knows nothing of HTTP.

Polar's rules kept (server/polar/product/service.py `get_validated_prices`, benefit/
strategies/meter_credit/service.py `validate_properties`): a metered price needs a
recurring product and a meter of the organization ("Meter does not exist."), one meter per
currency, at most one fixed price, one tax behaviour per currency, the organization's
default currency (usd) among the prices; a meter-credit benefit needs a meter of the
organization ("This meter does not exist."). Lists sort by ``-created_at`` by default;
deleted benefits are neither listed nor found.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from reconciler.emulator import catalog_validation as cv
from reconciler.emulator.auth import Principal
from reconciler.emulator.core import Emulator, validated
from reconciler.emulator.event_list import metadata_matches
from reconciler.emulator.meters import MeterRecord, Page, ilike, jsonb_metadata, page_of
from reconciler.emulator.products import BenefitRecord, PriceRecord, ProductRecord, unit_amount_text
from reconciler.emulator.refusals import NotFound, PolarRequestValidationError

PRODUCTS_READ = frozenset({"products:read", "products:write"})
PRODUCTS_WRITE = frozenset({"products:write"})
BENEFITS_READ = frozenset({"benefits:read", "benefits:write"})
BENEFITS_WRITE = frozenset({"benefits:write"})


def _error(loc: tuple[Any, ...], msg: str, value: Any, kind: str = "value_error") -> dict[str, Any]:
    return {"type": kind, "loc": list(loc), "msg": msg, "input": value}


def _sorted(rows: list[Any], sorting: Sequence[str], keys: dict[str, Any]) -> list[Any]:
    for criterion in reversed(sorting):
        rows.sort(key=keys[criterion.removeprefix("-")], reverse=criterion.startswith("-"))
    return rows


def _first_price(product: ProductRecord) -> tuple[str, int]:
    """The amount type and amount of a product's first active price (Polar sorts by it)."""
    active = [p for p in product.prices if not p.is_archived]
    if not active:
        return "", 0
    first = min(active, key=lambda p: p.created_at)
    return first.amount_type, first.price_amount or 0


_PRODUCT_KEYS: dict[str, Any] = {
    "created_at": lambda p: p.created_at,
    "name": lambda p: p.name.casefold(),
    "price_amount_type": lambda p: _first_price(p)[0],
    "price_amount": lambda p: _first_price(p)[1],
}
_BENEFIT_KEYS: dict[str, Any] = {
    "created_at": lambda b: b.created_at, "description": lambda b: b.description.casefold(),
    "type": lambda b: "meter_credit", "user_order": lambda b: b.created_at,
}


class Catalog:
    """Products and benefits of one Emulator (stateless: the records live in the emulator,
    under its lock, and in its state file)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def _meter(self, meter_id: str) -> MeterRecord | None:
        try:
            return self.emulator.meter_record(meter_id)
        except NotFound:
            return None

    # -- products ---------------------------------------------------------------------------

    def list_products(
        self, principal: Principal | None = None, *, page: int = 1, limit: int = 10,
        sorting: Sequence[str] = ("-created_at",), id: Sequence[str] | None = None,
        organization_id: Sequence[str] | None = None, query: str | None = None,
        is_archived: bool | None = None, is_recurring: bool | None = None,
        benefit_id: Sequence[str] | None = None, visibility: Sequence[str] | None = None,
        metadata: dict[str, list[str]] | None = None,
    ) -> Page:
        """GET /v1/products/ (ListResource[Product])."""
        self.emulator.caller(principal, PRODUCTS_READ)
        pattern = None if query is None else ilike(query)
        with self.emulator.mutex:
            chosen = [
                p for p in self.emulator.products.values()
                if p.organization_id == self.emulator.organization_id
                and (id is None or p.id in id)
                and (organization_id is None or p.organization_id in organization_id)
                and (pattern is None or pattern.fullmatch(p.name))
                and (is_archived is None or p.is_archived == is_archived)
                and (is_recurring is None or (p.recurring_interval is not None) == is_recurring)
                and benefit_id is None  # products grant no benefits in the emulator
                and (visibility is None or p.visibility in visibility)
                and metadata_matches(p.metadata, metadata or {})
            ]
            rows = _sorted(chosen, sorting, _PRODUCT_KEYS)
            items = [p.to_json(self._meter) for p in rows]
        return page_of(items, page, limit)

    def get_product(self, product_id: str, principal: Principal | None = None) -> dict[str, Any]:
        self.emulator.caller(principal, PRODUCTS_READ)
        with self.emulator.mutex:
            return self._product(product_id).to_json(self._meter)

    def _product(self, product_id: str) -> ProductRecord:
        product = self.emulator.products.get(product_id)
        if product is None or product.organization_id != self.emulator.organization_id:
            raise NotFound(product_id)
        return product

    def create_product(self, body: Any, principal: Principal | None = None) -> dict[str, Any]:
        """POST /v1/products/: a ProductCreate body to a new product."""
        caller = self.emulator.caller(principal, PRODUCTS_WRITE)
        data = validated(cv.product_create, body)
        organization_id = self.emulator.payload_organization(caller, data["organization_id"])
        now = datetime.now(UTC)
        product_id = str(uuid.uuid4())
        with self.emulator.writing():
            prices = self._prices(product_id, data, body["prices"], now)
            product = ProductRecord(
                id=product_id, organization_id=organization_id, name=data["name"],
                description=data["description"], visibility=data["visibility"],
                recurring_interval=data["recurring_interval"],
                recurring_interval_count=data["recurring_interval_count"],
                metadata=jsonb_metadata(data["metadata"]), created_at=now, prices=prices,
            )
            self.emulator.products[product.id] = product
            return product.to_json(self._meter)

    def _prices(
        self, product_id: str, data: dict[str, Any], given: list[Any], now: datetime
    ) -> list[PriceRecord]:
        """The prices of a create, or every refusal of Polar's price rules at once (`given`:
        the prices as the body holds them, for the errors' `input`)."""
        loc = ("body", "prices")
        errors: list[dict[str, Any]] = []
        prices: list[tuple[int, PriceRecord]] = []
        for index, price in enumerate(data["prices"]):
            if price["amount_type"] == "metered_unit":
                if data["recurring_interval"] is None:
                    errors.append(_error((*loc, index), "Metered pricing is not supported on "
                                         "one-time products.", given[index]))
                    continue
                if self._meter(price["meter_id"]) is None:
                    errors.append(_error((*loc, index, "meter_id"), "Meter does not exist.",
                                         price["meter_id"]))
                    continue
            prices.append((index, PriceRecord(
                id=str(uuid.uuid4()), product_id=product_id, amount_type=price["amount_type"],
                price_currency=price["price_currency"], tax_behavior=price["tax_behavior"],
                created_at=now, price_amount=price.get("price_amount"),
                meter_id=price.get("meter_id"), cap_amount=price["cap_amount"],
                unit_amount=(unit_amount_text(price["unit_amount"])
                             if "unit_amount" in price else None),
            )))
        if not prices:
            errors.append(_error(loc, "At least one price is required.", given, "too_short"))
        errors += _price_set_errors(prices, given)
        if errors:
            raise PolarRequestValidationError(errors)
        return [price for _, price in prices]

    def update_product(
        self, product_id: str, body: Any, principal: Principal | None = None
    ) -> dict[str, Any]:
        """PATCH /v1/products/{id}: name, description, visibility, metadata, is_archived."""
        self.emulator.caller(principal, PRODUCTS_WRITE)
        data = validated(cv.product_update, body)
        with self.emulator.writing():
            product = self._product(product_id)
            if "metadata" in data:
                data["metadata"] = jsonb_metadata(data["metadata"])
            for name, value in data.items():
                setattr(product, name, value)
            product.modified_at = datetime.now(UTC)
            return product.to_json(self._meter)

    # -- benefits ---------------------------------------------------------------------------

    def list_benefits(
        self, principal: Principal | None = None, *, page: int = 1, limit: int = 10,
        sorting: Sequence[str] = ("-created_at",), organization_id: Sequence[str] | None = None,
        type: Sequence[str] | None = None, id: Sequence[str] | None = None,
        exclude_id: Sequence[str] | None = None, query: str | None = None,
        metadata: dict[str, list[str]] | None = None,
    ) -> Page:
        """GET /v1/benefits/ (ListResource[Benefit]): meter-credit benefits not deleted."""
        self.emulator.caller(principal, BENEFITS_READ)
        pattern = None if query is None else ilike(query)
        with self.emulator.mutex:
            chosen = [
                b for b in self._benefits()
                if (organization_id is None or b.organization_id in organization_id)
                and (type is None or "meter_credit" in type)
                and (id is None or b.id in id)
                and (exclude_id is None or b.id not in exclude_id)
                and (pattern is None or pattern.fullmatch(b.description))
                and metadata_matches(b.metadata, metadata or {})
            ]
            items = [b.to_json() for b in _sorted(chosen, sorting, _BENEFIT_KEYS)]
        return page_of(items, page, limit)

    def _benefits(self) -> list[BenefitRecord]:
        return [b for b in self.emulator.benefits.values()
                if b.organization_id == self.emulator.organization_id and b.deleted_at is None]

    def _benefit(self, benefit_id: str) -> BenefitRecord:
        for benefit in self._benefits():
            if benefit.id == benefit_id:
                return benefit
        raise NotFound(benefit_id)

    def get_benefit(self, benefit_id: str, principal: Principal | None = None) -> dict[str, Any]:
        self.emulator.caller(principal, BENEFITS_READ)
        with self.emulator.mutex:
            return self._benefit(benefit_id).to_json()

    def create_benefit(self, body: Any, principal: Principal | None = None) -> dict[str, Any]:
        """POST /v1/benefits/: a meter_credit BenefitCreate body to a new benefit."""
        caller = self.emulator.caller(principal, BENEFITS_WRITE)
        data = validated(cv.benefit_create, body)
        organization_id = self.emulator.payload_organization(caller, data["organization_id"])
        properties = data["properties"]
        with self.emulator.writing():
            if self._meter(properties["meter_id"]) is None:
                raise PolarRequestValidationError([_error(
                    ("body", "properties", "meter_id"), "This meter does not exist.",
                    properties["meter_id"])])
            benefit = BenefitRecord(
                id=str(uuid.uuid4()), organization_id=organization_id,
                description=data["description"], visibility=data["visibility"] or "public",
                metadata=jsonb_metadata(data["metadata"]), meter_id=properties["meter_id"],
                units=properties["units"], rollover=properties["rollover"],
                created_at=datetime.now(UTC),
            )
            self.emulator.benefits[benefit.id] = benefit
            return benefit.to_json()

    def delete_benefit(self, benefit_id: str, principal: Principal | None = None) -> None:
        """DELETE /v1/benefits/{id}: a soft delete; the benefit no longer holds its meter."""
        self.emulator.caller(principal, BENEFITS_WRITE)
        with self.emulator.writing():
            self._benefit(benefit_id).deleted_at = datetime.now(UTC)


def _price_set_errors(
    indexed: list[tuple[int, PriceRecord]], given: Any
) -> list[dict[str, Any]]:
    """Polar's rules over a product's prices (with their places in the body), per currency."""
    loc = ("body", "prices")
    errors: list[dict[str, Any]] = []
    prices = [price for _, price in indexed]
    currencies = sorted({p.price_currency for p in prices})
    for currency in currencies:
        mine = [(i, p) for i, p in indexed if p.price_currency == currency]
        if sum(p.amount_type == "fixed" for _, p in mine) > 1:
            errors.append(_error(loc, "Only one fixed price is allowed.", given))
        seen: set[str] = set()
        for index, price in mine:
            if price.meter_id is None:
                continue
            if price.meter_id in seen:
                errors.append(_error((*loc, index, "meter_id"),
                                     "Meter is already used for another price.", price.meter_id))
            seen.add(price.meter_id)
        if len({p.tax_behavior for _, p in mine}) > 1:
            errors.append(_error(loc, "All prices for the same currency must have the same "
                                 "tax behavior.", given))
    shapes = {
        (any(p.amount_type == "fixed" for p in prices if p.price_currency == c),
         len({p.meter_id for p in prices if p.price_currency == c and p.meter_id}))
        for c in currencies
    }
    if len(shapes) > 1:
        errors.append(_error(loc, "All price currencies must define the same set of price "
                             "types.", given))
    if prices and cv.DEFAULT_CURRENCY not in currencies:
        errors.append(_error(loc, "The organization's default presentment currency must be "
                             "present in the prices.", given))
    return errors
