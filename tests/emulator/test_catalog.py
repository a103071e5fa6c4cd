"""Products (metered prices) and meter-credit benefits in the emulator (issue 17): Polar's own
create/list/get/update endpoints, read by the official SDK and checked against Polar's
published schemas; a meter they hold cannot be archived, as in Polar."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from polar.v2026_10 import Polar
from polar.v2026_10.errors import HTTPValidationError, ResourceNotFound

from reconciler.emulator.catalog import Catalog
from reconciler.emulator.core import Emulator
from tests.support.paths import SPEC

HELD_BY_PRODUCT = "Cannot archive meter that is still attached to active products"
HELD_BY_BENEFIT = "Cannot archive meter that is still referenced by active benefits"
EVERY_EVENT = {"conjunction": "and", "clauses": []}


@functools.cache
def _spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text())


def fits(method: str, template: str, status: int, instance: Any) -> None:
    """Raise unless `instance` fits what the published spec documents for this answer."""
    responses = _spec()["paths"][template][method.lower()]["responses"]
    schema = responses[str(status)]["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator({**schema, "components": _spec()["components"]}).validate(
        instance)


@pytest.fixture
def http(emu: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.url, headers={"Authorization": f"Bearer {emu.token}",
                                                 "Polar-Version": "2026-10"}) as client:
        yield client


@pytest.fixture
def sdk(emu: Any) -> Iterator[Polar]:
    with Polar(emu.token, base_url=emu.url) as client:
        yield client


def meter(http: httpx.Client, name: str = "API calls") -> dict[str, Any]:
    answer = http.post("/v1/meters/", json={"name": name, "filter": EVERY_EVENT,
                                            "aggregation": {"func": "count"}})
    assert answer.status_code == 201, answer.text
    return answer.json()


def metered_product(meter_id: str, name: str = "Pro plan") -> dict[str, Any]:
    return {"name": name, "recurring_interval": "month", "prices": [
        {"amount_type": "fixed", "price_amount": 2000},
        {"amount_type": "metered_unit", "meter_id": meter_id, "unit_amount": "0.25",
         "cap_amount": 50000},
    ]}


def credit_benefit(meter_id: str, units: int = 1000) -> dict[str, Any]:
    return {"type": "meter_credit", "description": "Monthly credits",
            "properties": {"meter_id": meter_id, "units": units, "rollover": True}}


def archive(http: httpx.Client, meter_id: str) -> httpx.Response:
    return http.patch(f"/v1/meters/{meter_id}", json={"is_archived": True})


def test_products_and_benefits_answer_in_polar_schemas(http: httpx.Client) -> None:
    calls = meter(http)
    created = http.post("/v1/products/", json=metered_product(calls["id"]))
    assert created.status_code == 201, created.text
    fits("POST", "/v1/products/", 201, created.json())
    fixed, metered = created.json()["prices"]
    assert (fixed["amount_type"], fixed["price_amount"]) == ("fixed", 2000)
    assert {k: metered[k] for k in ("amount_type", "meter_id", "unit_amount", "cap_amount")} == {
        "amount_type": "metered_unit", "meter_id": calls["id"], "unit_amount": "0.250000000000",
        "cap_amount": 50000}
    assert metered["meter"]["name"] == "API calls"
    product_id = created.json()["id"]
    listed = http.get("/v1/products/", params={"is_archived": "false"})
    fits("GET", "/v1/products/", 200, listed.json())
    assert [p["id"] for p in listed.json()["items"]] == [product_id]
    fits("GET", "/v1/products/{id}", 200, http.get(f"/v1/products/{product_id}").json())

    benefit = http.post("/v1/benefits/", json=credit_benefit(calls["id"]))
    assert benefit.status_code == 201, benefit.text
    fits("POST", "/v1/benefits/", 201, benefit.json())
    assert benefit.json()["properties"] == {"units": 1000, "rollover": True, "meter_id": calls["id"]}
    benefits = http.get("/v1/benefits/", params={"type": "meter_credit"})
    fits("GET", "/v1/benefits/", 200, benefits.json())
    assert [b["id"] for b in benefits.json()["items"]] == [benefit.json()["id"]]
    assert http.get("/v1/benefits/", params={"type": "custom"}).json()["items"] == []
    fits("GET", "/v1/benefits/{id}", 200, http.get(f"/v1/benefits/{benefit.json()['id']}").json())


def test_sdk_reads_every_product_and_benefit_answer(sdk: Polar, emu: Any) -> None:
    calls = sdk.meters.create(name="Tokens", filter=EVERY_EVENT,  # type: ignore[arg-type]
                              aggregation={"func": "count"})
    body: Any = metered_product(calls.id)
    product = sdk.products.create(**body)
    assert product.prices[1].meter_id == calls.id  # type: ignore[union-attr]
    assert sdk.products.get(product.id) == product
    page = sdk.products.list(is_archived=False, query="pro", limit=1)
    assert [p.id for p in page.items] == [product.id] and page.pagination.total_count == 1
    archived = sdk.products.update(product.id, is_archived=True)
    assert archived.is_archived and sdk.products.list(is_archived=False).items == []

    benefit_body: Any = credit_benefit(calls.id)
    benefit = sdk.benefits.create(**benefit_body)
    assert benefit.properties.meter_id == calls.id  # type: ignore[union-attr]
    assert sdk.benefits.get(benefit.id) == benefit
    assert [b.id for b in sdk.benefits.list(type="meter_credit").items] == [benefit.id]
    sdk.benefits.delete(benefit.id)
    assert sdk.benefits.list(type="meter_credit").items == []
    with pytest.raises(ResourceNotFound):
        sdk.benefits.get(benefit.id)
    with pytest.raises(HTTPValidationError) as refused:
        sdk.benefits.create(**credit_benefit(str(uuid.uuid4())))
    [error] = refused.value.error.detail  # type: ignore[misc]
    assert (error.loc, error.msg) == (["body", "properties", "meter_id"], "This meter does not exist.")


def test_archive_refused_while_a_product_or_benefit_holds_the_meter(http: httpx.Client) -> None:
    held = meter(http, "Held")
    product = http.post("/v1/products/", json=metered_product(held["id"])).json()
    refused = http.patch(f"/v1/meters/{held['id']}", json={"is_archived": True, "name": "Kept"})
    assert refused.status_code == 422
    assert refused.json()["detail"] == [{"type": "value_error", "loc": ["body", "is_archived"],
                                         "msg": HELD_BY_PRODUCT, "input": True}]
    assert http.get(f"/v1/meters/{held['id']}").json()["name"] == "Held"  # nothing changed
    benefit = http.post("/v1/benefits/", json=credit_benefit(held["id"])).json()
    assert http.patch(f"/v1/products/{product['id']}", json={"is_archived": True}).status_code == 200
    assert archive(http, held["id"]).json()["detail"][0]["msg"] == HELD_BY_BENEFIT
    assert http.delete(f"/v1/benefits/{benefit['id']}").status_code == 204
    assert archive(http, held["id"]).status_code == 200
    # an archived product does not hold; unarchiving the product again does not unarchive
    assert http.patch(f"/v1/meters/{held['id']}", json={"is_archived": False}).status_code == 200
    assert http.patch(f"/v1/products/{product['id']}", json={"is_archived": False}).status_code == 200
    assert archive(http, held["id"]).json()["detail"][0]["msg"] == HELD_BY_PRODUCT


def test_polar_refuses_the_prices_it_refuses(http: httpx.Client) -> None:
    calls = meter(http)
    one_time = http.post("/v1/products/", json={"name": "Pack", "prices": [
        {"amount_type": "metered_unit", "meter_id": calls["id"], "unit_amount": 1}]})
    assert one_time.status_code == 422
    assert [(e["loc"], e["msg"]) for e in one_time.json()["detail"]] == [
        (["body", "prices", 0], "Metered pricing is not supported on one-time products."),
        (["body", "prices"], "At least one price is required.")]
    unknown = str(uuid.uuid4())
    body = metered_product(unknown)
    missing = http.post("/v1/products/", json=body)
    assert missing.json()["detail"][0]["loc"] == ["body", "prices", 1, "meter_id"]
    assert missing.json()["detail"][0]["msg"] == "Meter does not exist."
    twice = metered_product(calls["id"])
    twice["prices"].append(dict(twice["prices"][1]))
    assert http.post("/v1/products/", json=twice).json()["detail"][0]["msg"] == (
        "Meter is already used for another price.")
    bad = http.post("/v1/products/", json={"name": "x", "recurring_interval": "month", "prices": [
        {"amount_type": "metered_unit", "meter_id": calls["id"], "unit_amount": "0.0000000000001"},
        {"amount_type": "seat_based"}]})
    assert [(e["type"], e["loc"]) for e in bad.json()["detail"]] == [
        ("string_too_short", ["body", "recurring", "name"]),
        ("decimal_max_places", ["body", "recurring", "prices", 0, "metered_unit", "unit_amount"]),
        ("value_error", ["body", "recurring", "prices", 1, "seat_based"])]
    fits("POST", "/v1/products/", 422, bad.json())
    assert http.get("/v1/products/").json()["pagination"]["total_count"] == 0


def test_scopes_and_organizations(emu: Any) -> None:
    emu.core.add_token("polar_oat_meters", ["meters:write"])
    emu.core.add_token("polar_oat_reader", ["products:read", "benefits:read"])
    emu.core.add_token("polar_pat_person", ["products:write", "benefits:write", "meters:read"])
    url = emu.url
    meters_only = httpx.get(f"{url}/v1/products/", headers={"Authorization": "Bearer polar_oat_meters"})
    assert meters_only.status_code == 403
    reader = {"Authorization": "Bearer polar_oat_reader"}
    assert httpx.get(f"{url}/v1/benefits/", headers=reader).status_code == 200
    calls = Catalog(emu.core).emulator.create_meter(
        {"name": "Calls", "filter": EVERY_EVENT, "aggregation": {"func": "count"}})
    assert httpx.post(f"{url}/v1/products/", headers=reader,
                      json=metered_product(calls["id"])).status_code == 403
    person = {"Authorization": "Bearer polar_pat_person"}
    nameless = httpx.post(f"{url}/v1/benefits/", headers=person, json=credit_benefit(calls["id"]))
    assert nameless.json()["detail"][0]["msg"] == "organization_id is required."
    owned = {**metered_product(calls["id"]), "organization_id": emu.organization_id}
    assert httpx.post(f"{url}/v1/products/", headers=person, json=owned).status_code == 201


def test_products_and_benefits_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = Emulator(state_path=state)
    calls = first.create_meter({"name": "Calls", "filter": EVERY_EVENT,
                                "aggregation": {"func": "count"}})
    product = Catalog(first).create_product(metered_product(calls["id"]))
    benefit = Catalog(first).create_benefit(credit_benefit(calls["id"]))
    again = Catalog(Emulator(state_path=state))
    assert again.get_product(product["id"]) == product
    assert again.list_benefits().items == [benefit]
    with pytest.raises(Exception, match="attached to active products"):
        again.emulator.update_meter(calls["id"], {"is_archived": True})
