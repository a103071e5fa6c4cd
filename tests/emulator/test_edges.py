"""The API's edges (issue 14, NOTES.md "HTTP edges", "Events list"): each as Polar answers."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from http.client import HTTPConnection
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from reconciler.emulator.core import Emulator
from reconciler.emulator.inprocess import transport
from reconciler.polar.client import PolarClient
from tests.support.builders import METER

T = "2026-01-01T00:00:00Z"


@pytest.fixture
def http(emu: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.url, headers={"Authorization": f"Bearer {emu.token}"}) as client:
        yield client


def raw(emu: Any, request: bytes) -> bytes:
    """Send `request` as is; the whole answer (the server closes after it)."""
    host, port = urlsplit(emu.url).hostname, urlsplit(emu.url).port
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def status_and_json(answer: bytes) -> tuple[int, Any]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body) if body else None


def test_a_body_not_declared_json_is_not_an_object(http: httpx.Client) -> None:
    answer = http.post("/v1/meters/", content=json.dumps(METER),
                       headers={"Content-Type": "text/plain"})
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert (error["type"], error["loc"]) == ("model_attributes_type", ["body"])


def test_a_post_without_content_length_is_411(emu: Any) -> None:
    body = json.dumps(METER).encode()
    request = (b"POST /v1/meters/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
               + emu.token.encode() + b"\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n"
               + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
    status, content = status_and_json(raw(emu, request))
    assert status == 411
    assert content == {"error": "LengthRequired", "detail": "A Content-Length header is required."}
    assert emu.core.list_meters().total_count == 0


@pytest.mark.parametrize(("length", "status"), [
    (str(10 * 1024 * 1024 + 1), 413), (str(10**12), 413), ("abc", 400), ("-1", 400),
])
def test_content_length_edges(emu: Any, length: str, status: int) -> None:
    """Answered before any body is read: no waiting for bytes that never come."""
    request = (f"POST /v1/meters/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {emu.token}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n").encode()
    got, content = status_and_json(raw(emu, request))
    assert got == status
    if status == 413:
        assert content["error"] == "RequestBodyTooLarge"


@pytest.mark.parametrize("method", ["TRACE", "DELETE", "PUT", "CONNECT"])
def test_unsupported_methods_are_a_json_405(emu: Any, method: str) -> None:
    connection = HTTPConnection(urlsplit(emu.url).netloc, timeout=10)
    connection.request(method, "/v1/meters/", headers={"Authorization": f"Bearer {emu.token}"})
    answer = connection.getresponse()
    assert answer.status == 405 and answer.getheader("allow")
    assert json.loads(answer.read()) == {"detail": "Method Not Allowed"}
    connection.close()


def test_a_double_slash_is_404(emu: Any) -> None:
    connection = HTTPConnection(urlsplit(emu.url).netloc, timeout=10)
    connection.request("GET", "//v1/meters/", headers={"Authorization": f"Bearer {emu.token}"})
    answer = connection.getresponse()
    assert answer.status == 404 and json.loads(answer.read()) == {"detail": "Not Found"}
    connection.close()


# -- --unstable-sort ------------------------------------------------------------------------------


def test_unstable_sort_pages_overlap_and_our_client_reads_each_meter_once() -> None:
    emulator = Emulator(unstable_sort=True)
    for _ in range(250):
        emulator.create_meter({**METER, "name": "Same name"})
    made = {m["id"] for m in emulator.list_meters(limit=100, sorting=["created_at"]).items} | {
        m["id"] for page in (2, 3) for m in emulator.list_meters(
            page=page, limit=100, sorting=["created_at"]).items}
    assert len(made) == 250
    pages = [emulator.list_meters(page=p, limit=100).items for p in (1, 2, 3)]
    by_name = [m["id"] for page in pages for m in page]
    assert len(by_name) == 250 and len(set(by_name)) < 250  # overlapping pages, some skipped
    client = PolarClient("http://polar.local", emulator.token, transport=transport(emulator))
    with client:
        read = [m["id"] for m in client.list_meters()]
    assert len(read) == 250 and set(read) == made


# -- events list ---------------------------------------------------------------------------------


def _ingest(http: httpx.Client, *events: dict[str, Any]) -> None:
    body = {"events": [{"timestamp": T, "external_customer_id": "acme", **e} for e in events]}
    assert http.post("/v1/events/ingest", json=body).json() == {"inserted": len(events),
                                                                "duplicates": 0}


def test_events_list_filter_query_and_meter(emu: Any, http: httpx.Client) -> None:
    _ingest(http, {"name": "api_call", "metadata": {"n": 5}},
            {"name": "api_call", "metadata": {"n": 1}, "timestamp": "2025-06-01T00:00:00Z"},
            {"name": "llm_call", "metadata": {"model": "gpt-4o"}})
    big = {"conjunction": "and", "clauses": [{"property": "n", "operator": "gt", "value": 3}]}
    found = http.get("/v1/events/", params={"filter": json.dumps(big)}).json()
    assert [e["metadata"] for e in found["items"]] == [{"n": 5}]
    bad = http.get("/v1/events/", params={"filter": "{not json"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "filter"]
    wrong = http.get("/v1/events/", params={"filter": json.dumps({"clauses": []})})
    assert wrong.status_code == 422
    window = http.get("/v1/events/", params={"start_timestamp": "2025-12-01T00:00:00Z",
                                              "end_timestamp": "2026-02-01T00:00:00Z"}).json()
    assert window["pagination"]["total_count"] == 2
    assert http.get("/v1/events/", params={"name": "llm_call"}).json()["pagination"][
        "total_count"] == 1
    assert http.get("/v1/events/", params={"source": "system"}).json()["items"] == []
    organization = emu.core.organization_id
    alone = http.get("/v1/events/", params={"query": "gpt"})
    assert alone.status_code == 422 and alone.json()["detail"][0]["loc"] == [
        "query", "organization_id"]
    short = http.get("/v1/events/", params={"query": "gp", "organization_id": organization})
    assert short.status_code == 422
    gpt = http.get("/v1/events/", params={"query": "GPT", "organization_id": organization})
    assert [e["name"] for e in gpt.json()["items"]] == ["llm_call"]
    unknown = http.get("/v1/events/", params={"meter_id": "6a1f4c2e-9b3d-4e8f-a7c6-5d4e3f2a1b0c"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["msg"] == "Meter not found."


def test_event_names(http: httpx.Client) -> None:
    _ingest(http, {"name": "api_call"}, {"name": "api_call", "timestamp": "2025-06-01T00:00:00Z"},
            {"name": "llm_call"})
    names = http.get("/v1/events/names", params={"sorting": "name"}).json()
    assert names["pagination"] == {"total_count": 2, "max_page": 1}
    first = names["items"][0]
    assert (first["name"], first["occurrences"], first["source"]) == ("api_call", 2, "user")
    assert first["first_seen"].startswith("2025-06-01") and first["last_seen"].startswith("2026")
    paged = http.get("/v1/events/names", params={"limit": 1, "page": 2, "sorting": "name"})
    assert [n["name"] for n in paged.json()["items"]] == ["llm_call"]
    assert http.get("/v1/events/names", params={"query": "llm"}).json()["pagination"][
        "total_count"] == 1


def test_nul_and_cost_decimals_are_422(http: httpx.Client) -> None:
    nul = http.post("/v1/events/ingest", json={"events": [
        {"name": "a\u0000", "external_customer_id": "acme"}]})
    assert nul.status_code == 422 and nul.json()["detail"][0]["type"] == "value_error"
    cost = {"_cost": {"amount": 0.1234567890123, "currency": "usd"}}
    decimals = http.post("/v1/events/ingest", json={"events": [
        {"name": "a", "external_customer_id": "acme", "metadata": cost}]})
    assert decimals.status_code == 422


def test_an_unknown_customer_id_is_refused(http: httpx.Client) -> None:
    unknown = "5c4b3a29-1d0e-4f8a-9b7c-6d5e4f3a2b1c"
    refused = http.post("/v1/events/ingest", json={"events": [
        {"name": "a", "customer_id": unknown}]})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["msg"] == "Customer not found."
    customer = http.post("/_emulator/customers", json={}).json()
    taken = http.post("/v1/events/ingest", json={"events": [
        {"name": "a", "customer_id": customer["id"]}]})
    assert taken.json() == {"inserted": 1, "duplicates": 0}
    named = http.post("/_emulator/customers", json={"external_id": "acme"}).json()
    assert named["external_id"] == "acme"
