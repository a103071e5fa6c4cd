"""Reading what holds a meter against archiving (plan/archives.py): the active products with
metered-unit prices (``GET /v1/products/?is_archived=false``, every page) and the
meter-credit benefits (``GET /v1/benefits/?type=meter_credit``, every page). Each request
goes through the client: its rate limiter, retries and errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from reconciler.errors import PolarAPIError
from reconciler.plan.archives import ArchiveHolders, Holder
from reconciler.polar.answers import check_pages
from reconciler.polar.client import PolarClient
from reconciler.rules import PAGE_LIMIT_MAX

#: Far more products or benefits than an organization holds: a listing counting more is not
#: Polar's.
MAX_LISTED = 100_000


def _items(client: PolarClient, path: str, params: list[tuple[str, str | int]]) -> Iterator[Any]:
    """Every item of a listing, page by page."""
    org: list[tuple[str, str | int]] = (
        [("organization_id", client.organization_id)] if client.organization_id else [])
    page = 1
    while True:
        data = client.get(path, [*params, ("page", page), ("limit", PAGE_LIMIT_MAX), *org])
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise PolarAPIError(f"GET {path}: Polar's answer is not a list")
        _, pages = check_pages(f"GET {path}", data.get("pagination"), PAGE_LIMIT_MAX, MAX_LISTED)
        yield from items
        if page >= pages:
            return
        page += 1


def product_holders(client: PolarClient) -> Iterator[tuple[str, Holder]]:
    """(meter id, holder) of each active metered-unit price of each active product."""
    for product in _items(client, "/v1/products/", [("is_archived", "false")]):
        if not isinstance(product, dict) or product.get("is_archived"):
            continue
        for price in product.get("prices") or ():
            if (isinstance(price, dict) and price.get("amount_type") == "metered_unit"
                    and not price.get("is_archived") and price.get("meter_id")):
                yield str(price["meter_id"]), Holder(
                    "product", str(product.get("id")), str(product.get("name")),
                    str(price.get("id")))


def benefit_holders(client: PolarClient) -> Iterator[tuple[str, Holder]]:
    """(meter id, holder) of each meter-credit benefit that is not deleted."""
    for benefit in _items(client, "/v1/benefits/", [("type", "meter_credit")]):
        if not isinstance(benefit, dict) or benefit.get("is_deleted"):
            continue
        meter_id = (benefit.get("properties") or {}).get("meter_id")
        if benefit.get("type") == "meter_credit" and meter_id:
            yield str(meter_id), Holder("benefit", str(benefit.get("id")),
                                        str(benefit.get("description")))


def _unreadable(what: str, exc: PolarAPIError) -> str:
    if exc.status == 403:
        return f"the access token cannot read {what} (403: it needs {what}:read)"
    return f"polar-meters could not read {what}: {exc}"


def read_holders(client: PolarClient, meter_ids: set[str]) -> ArchiveHolders:
    """The products and benefits holding any of METER_IDS; a listing that cannot be read
    (a token without its scope, a server error past the retries) is said in
    ``unreadable``, never a failure."""
    found: dict[str, list[Holder]] = {}
    problems: list[str] = []
    readers: list[tuple[str, Callable[[PolarClient], Iterator[tuple[str, Holder]]]]] = [
        ("products", product_holders), ("benefits", benefit_holders)]
    for what, reader in readers:
        try:
            for meter_id, holder in reader(client):
                if meter_id in meter_ids:
                    found.setdefault(meter_id, []).append(holder)
        except PolarAPIError as exc:  # the archive is then only "may be refused"
            problems.append(_unreadable(what, exc))
    return ArchiveHolders({k: tuple(v) for k, v in found.items()}, "; ".join(problems) or None)
