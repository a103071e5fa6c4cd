"""The emulator over HTTP: Polar's status codes, bodies and headers, on a socket and in-process."""

from __future__ import annotations

import signal
import socket
import uuid
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from reconciler.emulator.core import Emulator
from reconciler.emulator.inprocess import transport
from tests.support.builders import METER
from tests.support.e2e import start_command

INVALID_TOKEN = (
    '{"error": "invalid_token", "error_description": "The access token provided is expired, '
    'revoked, malformed, or invalid for other reasons."}'
)
NOT_FOUND = {"error": "ResourceNotFound", "detail": "Not found"}


@pytest.fixture
def http(emu: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.url, headers={"Authorization": f"Bearer {emu.token}"}) as client:
        yield client


@pytest.fixture
def anonymous(emu: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.url) as client:
        yield client


def create(http: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = http.post("/v1/meters/", json={**METER, **fields})
    assert response.status_code == 201, response.text
    return response.json()


# -- auth ---------------------------------------------------------------------------------------


def test_no_token(anonymous: httpx.Client) -> None:
    response = anonymous.get("/v1/meters/")
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized", "detail": "Unauthorized"}
    assert response.headers["www-authenticate"] == 'Bearer realm="polar"'
    assert response.headers["polar-version"] == "2026-04"
    other_scheme = anonymous.get("/v1/meters/", headers={"Authorization": "Basic abc"})
    assert other_scheme.status_code == 401 and other_scheme.json()["error"] == "Unauthorized"


def test_auth_comes_before_the_body(anonymous: httpx.Client) -> None:
    response = anonymous.post("/v1/meters/", json={"name": 1})
    assert response.status_code == 401
    assert anonymous.patch("/v1/meters/not-a-uuid", json={}).status_code == 401


def test_unknown_token(anonymous: httpx.Client) -> None:
    response = anonymous.get("/v1/meters/", headers={"Authorization": "Bearer polar_oat_nope"})
    assert response.status_code == 401
    assert response.text == INVALID_TOKEN
    assert response.headers["www-authenticate"] == (
        'Bearer realm="polar", error="invalid_token", error_description="The access token '
        'provided is expired, revoked, malformed, or invalid for other reasons."'
    )
    assert response.headers["cache-control"] == "no-store"
    unknown_route = anonymous.get("/v1/nothing", headers={"Authorization": "Bearer polar_oat_nope"})
    assert unknown_route.status_code == 401


def test_insufficient_scope(emu: Any, anonymous: httpx.Client) -> None:
    emu.core.add_token("polar_oat_reader", {"meters:read"})
    emu.core.add_token("polar_oat_events", {"events:read"})
    reader = {"Authorization": "Bearer polar_oat_reader"}
    assert anonymous.get("/v1/meters/", headers=reader).status_code == 200
    response = anonymous.post("/v1/meters/", json=METER, headers=reader)
    assert response.status_code == 403
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": "The request requires higher privileges than provided by the access token.",
    }
    assert response.headers["www-authenticate"] == (
        'Bearer realm="polar", scope="meters:write", error="insufficient_scope", '
        'error_description="The request requires higher privileges than provided by the access token."'
    )
    events = anonymous.get("/v1/meters/", headers={"Authorization": "Bearer polar_oat_events"})
    assert events.status_code == 403
    assert 'scope="meters:read meters:write"' in events.headers["www-authenticate"]


# -- versions and routes ------------------------------------------------------------------------


def test_polar_version(http: httpx.Client, emu: Any) -> None:
    assert http.get("/v1/meters/").headers["polar-version"] == "2026-04"
    answer = http.get("/v1/meters/", headers={"Polar-Version": "2026-10"})
    assert answer.status_code == 200 and answer.headers["polar-version"] == "2026-10"
    for unknown in ("2025-01", "latest", "2026-10-01"):
        refused = http.get("/v1/meters/", headers={"Polar-Version": unknown})
        assert refused.status_code == 404 and refused.json() == {"detail": "Not Found"}
    no_token = httpx.get(f"{emu.url}/v1/meters/", headers={"Polar-Version": "1999-01"})
    assert no_token.status_code == 404


def test_routes(http: httpx.Client, emu: Any) -> None:
    missing = http.get("/v1/customers/")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not Found"}
    assert missing.headers["polar-version"] == "2026-04"
    not_allowed = http.delete(f"/v1/meters/{uuid.uuid4()}")
    assert not_allowed.status_code == 405 and not_allowed.json() == {"detail": "Method Not Allowed"}
    assert not_allowed.headers["allow"] == "GET"
    redirect = http.get("/v1/meters", params={"limit": 5})
    assert redirect.status_code == 307
    assert redirect.headers["location"] == f"{emu.url}/v1/meters/?limit=5"
    assert http.get("/api/v1/meters/").status_code == 200


def test_meter_ids_must_be_uuid4(http: httpx.Client) -> None:
    v1 = str(uuid.uuid1())
    assert http.get(f"/v1/meters/{v1}").json() == {"error": "RequestValidationError", "detail": [{
        "type": "uuid_version", "loc": ["path", "id"], "msg": "UUID version 4 expected",
        "input": v1, "ctx": {"expected_version": 4},
    }]}
    [garbage] = http.get("/v1/meters/abc").json()["detail"]
    assert garbage["type"] == "uuid_parsing" and garbage["msg"] == (
        "Input should be a valid UUID, invalid length: expected length 32 for simple format, found 3"
    )
    unknown = http.get(f"/v1/meters/{uuid.uuid4()}")
    assert unknown.status_code == 404 and unknown.json() == NOT_FOUND


def test_path_and_body_errors_come_together(http: httpx.Client) -> None:
    detail = http.patch("/v1/meters/abc", json={"name": "x"}).json()["detail"]
    assert [e["loc"] for e in detail] == [["path", "id"], ["body", "name"]]
    no_body = http.patch(f"/v1/meters/{uuid.uuid4()}")
    assert no_body.json()["detail"] == [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
    ]


def test_bodies_that_are_not_json(http: httpx.Client) -> None:
    broken = http.post("/v1/meters/", content=b'{"name": ', headers={"content-type": "application/json"})
    assert broken.status_code == 422
    assert broken.json()["detail"] == [{
        "type": "json_invalid", "loc": ["body", 9], "msg": "JSON decode error", "input": {},
        "ctx": {"error": "Expecting value"},
    }]
    text = http.post("/v1/meters/", content=b"{}", headers={"content-type": "text/plain"})
    assert text.json()["detail"][0]["type"] == "model_attributes_type"
    assert http.post("/v1/meters/", json=[]).json()["detail"][0]["loc"] == ["body"]
    unreadable = http.post("/v1/meters/", content=b'{"name": ' + b"1" * 5000 + b"}")
    assert unreadable.status_code == 400
    assert unreadable.json() == {"detail": "There was an error parsing the body"}
    not_utf8 = http.post("/v1/meters/", content=b'{"name": "\xff"}')
    assert not_utf8.status_code == 400


def test_create_get_update(http: httpx.Client, emu: Any) -> None:
    meter = create(http, metadata={"team": "ai"})
    assert meter["organization_id"] == emu.organization_id
    assert http.get(f"/v1/meters/{meter['id']}").json() == meter
    upper = http.get(f"/v1/meters/{meter['id'].upper()}")
    assert upper.json() == meter
    updated = http.patch(f"/v1/meters/{meter['id']}", json={"name": "Renamed", "is_archived": True})
    assert updated.status_code == 200
    assert updated.json()["name"] == "Renamed" and updated.json()["archived_at"] is not None


def test_the_lock(http: httpx.Client, emu: Any) -> None:
    meter = create(http)
    assert http.post(f"/_emulator/meters/{meter['id']}/lock").status_code == 204
    assert emu.core.is_locked(meter["id"])
    refused = http.patch(f"/v1/meters/{meter['id']}", json={"filter": meter["filter"]})
    assert refused.status_code == 422
    assert refused.json() == {"error": "PolarRequestValidationError", "detail": [{
        "type": "forbidden", "loc": ["body", "filter"],
        "msg": "This field can't be updated because the meter is already aggregating events.",
        "input": meter["filter"],
    }]}
    assert http.patch(f"/v1/meters/{meter['id']}", json={"name": "Fine"}).status_code == 200
    assert http.post(f"/_emulator/meters/{uuid.uuid4()}/lock").json() == NOT_FOUND


# -- list ---------------------------------------------------------------------------------------


def test_list_query(http: httpx.Client) -> None:
    for name, metadata in (("beta", {"n": 5}), ("alpha", {"n": "x"}), ("100% gamma", {"on": True})):
        create(http, name=name, metadata=metadata)
    def listed(params: Any) -> list[str]:
        response = http.get("/v1/meters/", params=params)
        assert response.status_code == 200, response.text
        return [item["name"] for item in response.json()["items"]]
    assert listed({}) == ["100% gamma", "alpha", "beta"]
    assert listed([("sorting", "-name")]) == ["beta", "alpha", "100% gamma"]
    assert listed([("sorting", "-created_at")]) == ["100% gamma", "alpha", "beta"]
    assert listed({"query": "A_P"}) == ["alpha"]
    assert listed({"query": "%GAM"}) == ["100% gamma"]
    assert listed({"metadata[n]": "5"}) == ["beta"]
    assert listed([("metadata[n]", "5"), ("metadata[n]", "x")]) == ["alpha", "beta"]
    assert listed({"metadata[on]": "true"}) == ["100% gamma"]
    assert listed({"is_archived": "false", "limit": 2, "page": 2}) == ["beta"]


def test_list_pagination_is_capped(http: httpx.Client) -> None:
    for i in range(101):
        create(http, name=f"meter {i:03}")
    page = http.get("/v1/meters/", params={"limit": 500}).json()
    assert len(page["items"]) == 100
    assert page["pagination"] == {"total_count": 101, "max_page": 2}


def test_list_query_errors_all_at_once(http: httpx.Client, emu: Any) -> None:
    response = http.get("/v1/meters/", params=[
        ("page", "0"), ("limit", "ten"), ("sorting", "size"), ("is_archived", "maybe"),
        ("organization_id", emu.organization_id),
    ])
    assert response.status_code == 422
    assert [(e["type"], e["loc"]) for e in response.json()["detail"]] == [
        ("greater_than", ["query", "page"]),
        ("int_parsing", ["query", "limit"]),
        ("enum", ["query", "sorting", 0]),
        ("bool_parsing", ["query", "is_archived"]),
    ]
    sorting = response.json()["detail"][2]
    assert sorting["msg"] == "Input should be 'created_at', '-created_at', 'name' or '-name'"


# -- emulator-only endpoints ----------------------------------------------------------------------


def test_request_log(http: httpx.Client, anonymous: httpx.Client) -> None:
    http.delete("/_emulator/requests")
    create(http)
    http.get("/v1/meters/", params=[("limit", "5"), ("metadata[k]", "v")])
    anonymous.get("/v1/meters/")
    log = http.get("/_emulator/requests").json()
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("POST", "/v1/meters/", 201), ("GET", "/v1/meters/", 200), ("GET", "/v1/meters/", 401),
    ]
    assert log[0]["body"] == METER and log[0]["query"] == []
    assert log[1]["body"] is None and log[1]["query"] == [["limit", "5"], ["metadata[k]", "v"]]
    assert http.delete("/_emulator/requests").status_code == 204
    assert http.get("/_emulator/requests").json() == []
    assert anonymous.get("/_emulator/requests").status_code == 401
    assert http.get("/_emulator/nothing").status_code == 404


# -- transports -----------------------------------------------------------------------------------


def test_keep_alive_and_content_length(emu: Any) -> None:
    host = urlsplit(emu.url)
    connection = HTTPConnection(host.hostname, host.port, timeout=5)
    headers = {"Authorization": f"Bearer {emu.token}"}
    for _ in range(3):
        connection.request("GET", "/v1/meters/", headers=headers)
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200 and int(response.headers["content-length"]) == len(body)
        assert response.version == 11 and not response.will_close
    connection.close()


def test_in_process_transport_answers_like_the_socket(emu: Any) -> None:
    core = Emulator()
    local = httpx.Client(base_url="http://polar-meters.local", transport=transport(core),
                         headers={"Authorization": f"Bearer {core.token}"})
    remote = httpx.Client(base_url=emu.url, headers={"Authorization": f"Bearer {emu.token}"})
    script: list[tuple[str, str, Any]] = [
        ("POST", "/v1/meters/", {"name": "ab"}),
        ("GET", "/v1/meters/abc", None),
        ("GET", f"/v1/meters/{uuid.uuid4()}", None),
        ("GET", "/v1/meters/?limit=0", None),
        ("GET", "/v1/nothing", None),
    ]
    for method, path, payload in script:
        a = local.request(method, path, json=payload)
        b = remote.request(method, path, json=payload)
        assert (a.status_code, a.content) == (b.status_code, b.content)
        assert a.headers["polar-version"] == b.headers["polar-version"]
    made = local.post("/v1/meters/", json=METER)
    assert made.status_code == 201 and made.json()["organization_id"] == core.organization_id
    assert local.get("/_emulator/requests").json()[-1]["status"] == 201


# -- the command ----------------------------------------------------------------------------------


def test_command_prints_how_to_use_it_and_stops_cleanly(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    process = start_command("--port", "0", "--state", str(state))
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(7)]
        url = lines[0].split()[-1]
        organization = lines[1].split()[-1]
        token = lines[2].split()[-1]
        assert lines[0].startswith("Polar meters emulator listening on http://127.0.0.1:")
        assert uuid.UUID(organization).version == 4 and token.startswith("polar_oat_")
        assert f"POLAR_SERVER={url} POLAR_ACCESS_TOKEN={token}" in lines[5]
        auth = {"Authorization": f"Bearer {token}"}
        answer = httpx.post(f"{url}/v1/meters/", json=METER, headers=auth)
        assert answer.status_code == 201
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0 and "Traceback" not in err and "Stopped." in out
    assert Emulator(state_path=state).get_meter(answer.json()["id"])["name"] == "API calls"


def test_command_on_a_busy_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start_command("--port", str(port))
        out, err = process.communicate(timeout=10)
    assert process.returncode == 1 and out == ""
    assert err == f"Error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
