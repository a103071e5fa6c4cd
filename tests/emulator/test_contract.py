"""Contract: the official SDK and Polar's published OpenAPI document accept the emulator's answers."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polar.v2026_10 import Polar
from polar.v2026_10.errors import HTTPValidationError, ResourceNotFound

from tests.support.paths import SPEC


@functools.cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text())


def documented_schema(method: str, path: str, status: int) -> dict[str, Any] | None:
    """The schema the spec gives this answer, or None when it documents no body for it."""
    template = "/v1/meters/" if path == "/v1/meters/" else "/v1/meters/{id}"
    responses = spec()["paths"][template][method.lower()]["responses"]
    content = responses.get(str(status), {}).get("content", {}).get("application/json")
    if content is None:
        return None
    return {**content["schema"], "components": spec()["components"]}


class SpecChecker:
    """An httpx hook validating every documented answer against the spec."""

    def __init__(self) -> None:
        self.checked: list[tuple[str, str, int]] = []

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        schema = documented_schema(request.method, request.url.path, response.status_code)
        if schema is not None:
            jsonschema.Draft202012Validator(schema).validate(response.json())
            self.checked.append((request.method, request.url.path, response.status_code))


@pytest.fixture
def sdk(emu: Any) -> Iterator[Polar]:
    client = Polar(emu.token, base_url=emu.url)
    with client:
        yield client


@pytest.fixture
def checked(emu: Any) -> Iterator[tuple[httpx.Client, SpecChecker]]:
    checker = SpecChecker()
    with httpx.Client(base_url=emu.url, headers={"Authorization": f"Bearer {emu.token}",
                                                 "Polar-Version": "2026-10"},
                      event_hooks={"response": [checker]}) as client:
        yield client, checker


FILTER = {"conjunction": "and", "clauses": [
    {"property": "name", "operator": "eq", "value": "api_call"},
    {"conjunction": "or", "clauses": [
        {"property": "metadata.tier", "operator": "eq", "value": "pro"},
        {"property": "tier", "operator": "gte", "value": 3},
        {"property": "beta", "operator": "ne", "value": True},
    ]},
]}


def test_sdk_creates_gets_updates_and_pages(sdk: Polar, emu: Any) -> None:
    created = []
    for i, aggregation in enumerate([
        {"func": "count"}, {"func": "sum", "property": "tokens"}, {"func": "max", "property": "n"},
        {"func": "min", "property": "n"}, {"func": "avg", "property": "n"},
        {"func": "unique", "property": "metadata.user"}, {"func": "count"},
    ]):
        created.append(sdk.meters.create(
            name=f"Meter {i}", filter=FILTER, aggregation=aggregation,  # type: ignore[arg-type]
            unit="custom", custom_label="request", custom_multiplier=1000,
            metadata={"team": "ai", "n": i, "ratio": 0.5, "on": True},
        ))
    assert {meter.organization_id for meter in created} == {emu.organization_id}
    assert created[5].aggregation.property == "user"  # type: ignore[union-attr]
    assert sdk.meters.get(created[0].id) == created[0]

    first = sdk.meters.list(limit=3)
    assert first.pagination.total_count == 7 and first.pagination.max_page == 3
    walked = [meter.id for meter in sdk.meters.iter_list(limit=3)]
    assert sorted(walked) == sorted(meter.id for meter in created)
    newest = sdk.meters.list(limit=2, sorting=["-created_at"]).items
    assert [meter.id for meter in newest] == [created[6].id, created[5].id]
    assert sdk.meters.list(metadata={"n": 3}).items[0].id == created[3].id

    updated = sdk.meters.update(
        created[1].id, name="Renamed", metadata={"team": "web"}, is_archived=True
    )
    assert updated.name == "Renamed" and updated.metadata == {"team": "web"}
    assert updated.archived_at is not None and updated.modified_at is not None
    assert [m.id for m in sdk.meters.list(is_archived=True).items] == [created[1].id]
    assert len(sdk.meters.list(is_archived=False, limit=100).items) == 6


def test_sdk_raises_its_own_errors(sdk: Polar, emu: Any) -> None:
    with pytest.raises(ResourceNotFound) as missing:
        sdk.meters.get(str(uuid.uuid4()))
    assert missing.value.status_code == 404 and missing.value.error.detail == "Not found"

    with pytest.raises(HTTPValidationError) as invalid:
        sdk.meters.create(name="ab", filter={"conjunction": "and", "clauses": []},
                          aggregation={"func": "count"})
    [error] = invalid.value.error.detail  # type: ignore[misc]
    assert (error.type, error.loc, error.msg) == (
        "string_too_short", ["body", "name"], "String should have at least 3 characters"
    )

    with pytest.raises(HTTPValidationError) as bad_id:
        sdk.meters.get("not-a-uuid")
    assert bad_id.value.error.detail[0].loc == ["path", "id"]  # type: ignore[index]

    meter = sdk.meters.create(name="Locked", filter={"conjunction": "and", "clauses": []},
                              aggregation={"func": "count"})
    emu.core.lock(meter.id)
    with pytest.raises(HTTPValidationError) as locked:
        sdk.meters.update(meter.id, aggregation={"func": "count"})
    assert locked.value.error.detail[0].type == "forbidden"  # type: ignore[index]

    with pytest.raises(HTTPValidationError):
        sdk.meters.list(sorting=["size"])  # type: ignore[list-item]


def test_every_documented_answer_fits_the_spec(checked: tuple[httpx.Client, SpecChecker]) -> None:
    client, checker = checked
    base = {"filter": FILTER, "aggregation": {"func": "sum", "property": "tokens"}}
    meter = client.post("/v1/meters/", json={"name": "API calls", **base, "metadata": {"a": 1.5}}).json()
    requests: list[tuple[str, str, Any, Any]] = [
        ("GET", "/v1/meters/", {"limit": 1}, None),
        ("GET", "/v1/meters/", {"query": "nothing"}, None),
        ("GET", "/v1/meters/", {"limit": 0, "sorting": "x", "organization_id": "y"}, None),
        ("POST", "/v1/meters/", None, {"name": "x", "filter": {"clauses": [{"value": 1.5}]},
                                       "aggregation": {"func": "median"}, "metadata": {"k": None}}),
        ("POST", "/v1/meters/", None, {"name": "Custom", **base, "unit": "custom"}),
        ("GET", f"/v1/meters/{meter['id']}", None, None),
        ("GET", f"/v1/meters/{uuid.uuid4()}", None, None),
        ("GET", f"/v1/meters/{uuid.uuid1()}", None, None),
        ("PATCH", f"/v1/meters/{meter['id']}", None, {"custom_label": None, "is_archived": True}),
        ("PATCH", f"/v1/meters/{meter['id']}", None, {"name": None, "metadata": {"": 1}}),
        ("PATCH", f"/v1/meters/{uuid.uuid4()}", None, {}),
        ("PATCH", "/v1/meters/zzz", None, None),
    ]
    for method, path, params, payload in requests:
        client.request(method, path, params=params, json=payload)
    client.post("/v1/meters/", content=b"{", headers={"content-type": "application/json"})
    statuses = {status for _, _, status in checker.checked}
    assert statuses == {200, 201, 404, 422}
    assert len(checker.checked) == len(requests) + 2


metadata_values = st.one_of(
    st.text(min_size=1, max_size=20).filter(lambda s: "\x00" not in s),
    st.integers(-(10**12), 10**12), st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
bodies = st.fixed_dictionaries(
    {"name": st.text(min_size=3, max_size=30).filter(lambda s: "\x00" not in s),
     "filter": st.just(FILTER),
     "aggregation": st.sampled_from([{"func": "count"}, {"func": "avg", "property": "metadata.n"}])},
    optional={
        "metadata": st.dictionaries(st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s),
                                    metadata_values, max_size=5),
        "unit": st.sampled_from(["scalar", "token"]),
        "custom_multiplier": st.one_of(st.none(), st.integers(1, 2**40)),
    },
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_generated_meters_fit_the_spec_and_the_sdk(
    body: dict[str, Any], checked: tuple[httpx.Client, SpecChecker], sdk: Polar
) -> None:
    client, checker = checked
    answer = client.post("/v1/meters/", json=body)
    assert answer.status_code == 201, answer.text
    assert checker.checked[-1] == ("POST", "/v1/meters/", 201)
    parsed = sdk.meters.get(answer.json()["id"])
    assert parsed.name == body["name"] and parsed.metadata == answer.json()["metadata"]


def test_sdk_parses_every_events_and_customer_meters_answer(sdk: Polar, emu: Any) -> None:
    """The official SDK reads the events list (filter, query, meter), the event names, ingest
    and customer meters as the emulator answers them (issue 14)."""
    calls: Any = {"conjunction": "and",
             "clauses": [{"property": "name", "operator": "eq", "value": "api_call"}]}
    meter = sdk.meters.create(name="API calls", filter=calls, aggregation={"func": "count"})
    events: Any = [{"name": "api_call", "timestamp": "2026-01-01T00:00:00Z",
               "external_customer_id": "acme", "metadata": {"n": 1, "_cost": {
                   "amount": 0.5, "currency": "usd"}}},
              {"name": "llm_call", "external_customer_id": "acme", "metadata": {"_llm": {
                  "vendor": "openai", "model": "gpt-4o", "input_tokens": 1,
                  "output_tokens": 2, "total_tokens": 3}}}]
    emu.core.store.customers.create("acme", datetime.now(UTC))  # Polar's customer
    ingested = sdk.events.ingest(events=events)
    assert (ingested.inserted, ingested.duplicates) == (2, 0)
    listed = sdk.events.list(meter_id=meter.id)
    assert [e.name for e in listed.items] == ["api_call"]
    some = sdk.events.list(filter=json.dumps(calls),
                           query="api", organization_id=emu.core.organization_id)
    assert getattr(some.pagination, "total_count", None) == 1
    names = sdk.events.list_names(sorting=["name"])
    assert [(n.name, n.occurrences) for n in names.items] == [("api_call", 1), ("llm_call", 1)]
    customer_meters = sdk.customer_meters.list()
    assert [cm.consumed_units for cm in customer_meters.items] == [1.0]
    assert sdk.customer_meters.get(id=customer_meters.items[0].id).meter_id == meter.id
    with pytest.raises(HTTPValidationError):
        sdk.events.list(meter_id=str(uuid.uuid4()))
