"""Polar's usage reads, through the client (its rate limiter, retries and errors): a
meter's quantities (the `quantities` command) and every customer meter matching a query
(`customer-meters`). Each answer is checked to be what Polar documents."""

from __future__ import annotations

from typing import Any

from reconciler.errors import PolarAPIError
from reconciler.polar.answers import MAX_LISTED_CUSTOMER_METERS, check_pages
from reconciler.polar.client import PAGE_LIMIT, PolarClient


def meter_quantities(
    client: PolarClient, meter_id: str, params: list[tuple[str, str]]
) -> dict[str, Any]:
    """GET /v1/meters/{id}/quantities (MeterQuantities: ``quantities`` buckets of
    ``timestamp``/``quantity``, and ``total``); ``params`` as Polar names them."""
    path = f"/v1/meters/{meter_id}/quantities"
    data = client.get(path, [*params])
    buckets = data.get("quantities") if isinstance(data, dict) else None
    if not (
        isinstance(buckets, list)
        and isinstance(data.get("total"), int | float)
        and all(
            isinstance(b, dict) and isinstance(b.get("timestamp"), str)
            and isinstance(b.get("quantity"), int | float) for b in buckets
        )
    ):
        raise PolarAPIError(f"GET {path}: Polar's answer is not a meter's quantities")
    return data


def list_customer_meters(client: PolarClient, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Every customer meter (GET /v1/customer-meters/) matching ``params`` (``meter_id``,
    ``customer_id``, ``external_customer_id``), all pages, each once."""
    seen: dict[str, dict[str, Any]] = {}
    base: list[tuple[str, str | int]] = [*params, ("limit", str(PAGE_LIMIT)), ("sorting", "created_at")]
    if client.organization_id:
        base.append(("organization_id", client.organization_id))
    page = 1
    while True:
        data = client.get("/v1/customer-meters/", [*base, ("page", str(page))])
        try:
            items = data["items"]
            _, max_page = check_pages("GET /v1/customer-meters/", data["pagination"],
                                      PAGE_LIMIT, MAX_LISTED_CUSTOMER_METERS)
            for item in items:
                seen.setdefault(str(item["id"]), item)
        except (KeyError, TypeError, ValueError):
            raise PolarAPIError(
                "GET /v1/customer-meters/: Polar's answer is not a list of customer meters"
            ) from None
        if page >= max_page:
            return list(seen.values())
        page += 1
