"""A server that is not quite Polar: every odd answer is one clear line and exit 1, never a
traceback; and what the client retries, and how, seen from the server's side.

The server is tests/fake_polar.py: canned answers over a real socket.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import PolarAPIError
from reconciler.polar.client import PolarClient
from reconciler.polar.retry import BACKOFF_ENV
from tests.support.e2e import Run
from tests.support.fake_polar import EMPTY_PAGE, Canned, FakePolar, Seen, fake_polar, meter_json
from tests.support.inproc import invoke

TOKEN = "polar_oat_fake"
CONFIG = """\
version: 1
meters:
  api-calls:
    name: API calls
    filter:
      conjunction: and
      clauses: [{property: name, operator: eq, value: api_call}]
    aggregation: {func: count}
"""
LIST = "GET /v1/meters/"
CREATE = "POST /v1/meters/"
HTML_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "meters.yaml"
    path.write_text(CONFIG)
    return path


def run(server: FakePolar, *args: str) -> Run:
    return invoke(*args, env={"POLAR_SERVER": server.url, "POLAR_ACCESS_TOKEN": TOKEN,
                           BACKOFF_ENV: "0.01:0.02"})


def one_line_error(result: Run) -> str:
    assert result.code == 1, result.text
    assert "Traceback" not in result.text
    [line] = result.err.splitlines()
    assert line.startswith("Error: ")
    return line


def page(*items: dict) -> dict:
    return {"items": list(items), "pagination": {"total_count": len(items), "max_page": 1}}


BAD_LISTS = {
    "html error page": (
        [Canned(502, HTML_502)], "GET /v1/meters/: Polar answered 502 Bad Gateway"),
    "html with 200": (
        [Canned(200, "<html><body>Welcome</body></html>")],
        "GET /v1/meters/: Polar answered 200 with a body that is not JSON"),
    "truncated json": (
        [Canned(200, b'{"items": [{"id": "7a8e2f4c-1b3d', {"content-type": "application/json"})],
        "GET /v1/meters/: Polar answered 200 with a body that is not JSON"),
    "cut off on the wire": (
        [Canned(200, page(), truncate=True)],
        "GET /v1/meters/: cannot reach Polar (peer closed connection without sending complete"),
    "missing pagination": (
        [Canned(200, {"items": []})], "GET /v1/meters/: Polar's answer is not a list of meters"),
    "meter without a name": (
        [Canned(200, page({k: v for k, v in meter_json("x").items() if k != "name"}))],
        ("Polar answered something polar-meters cannot read: meter 7a8e2f4c-1b3d-4e5f-9a6b-"
        "0c1d2e3f4a5b has no valid 'name'")),
    "meter with clauses that are not a list": (
        [Canned(200, page({**meter_json("x"), "filter": {"conjunction": "and", "clauses": 5}}))],
        "Polar answered something polar-meters cannot read"),
    "absurd page count": (
        [Canned(200, {"items": [], "pagination": {"total_count": 1, "max_page": 10**9}})],
        "GET /v1/meters/: Polar's answer is not a list of meters"),
    "404 of another shape": (
        [Canned(404, {"message": "Cannot GET /v1/meters/"})],
        "GET /v1/meters/: not found (404): is --server a Polar API?"),
    "non-json 200": (
        [Canned(200, b"OK", {"content-type": "text/plain"})],
        "GET /v1/meters/: Polar answered 200 with a body that is not JSON"),
    "a redirect holding an empty listing": (
        [Canned(302, EMPTY_PAGE, {"location": "https://elsewhere.example/v1/meters/"})],
        ("GET /v1/meters/: Polar answered 302 Found, a redirect to "
         "https://elsewhere.example/v1/meters/; polar-meters follows no redirects")),
    "a count of a billion meters": (
        [Canned(200, {"items": [], "pagination": {"total_count": 10**9, "max_page": 10**7}})],
        "GET /v1/meters/: Polar counts 1,000,000,000 meters, more than polar-meters reads"),
    "json nested 1,000 deep": (
        [Canned(200, b"[" * 1000 + b"]" * 1000, {"content-type": "application/json"})],
        "GET /v1/meters/: Polar's answer is nested deeper than any of its answers"),
    "json that is a list": (
        [Canned(200, [1, 2, 3])], "GET /v1/meters/: Polar's answer is not a list of meters"),
}


@pytest.mark.parametrize("case", sorted(BAD_LISTS))
def test_an_odd_listing_is_one_clear_line(case: str, config: Path) -> None:
    answers, expected = BAD_LISTS[case]
    with fake_polar({LIST: answers}) as server:
        line = one_line_error(run(server, "plan", str(config)))
        import_line = one_line_error(run(server, "import"))
    assert line.startswith(f"Error: {expected}"), line
    assert import_line.startswith(f"Error: {expected}"), import_line


def test_server_errors_on_reads_are_retried_then_reported(config: Path) -> None:
    with fake_polar({LIST: [Canned(502, HTML_502)]}) as server:
        one_line_error(run(server, "plan", str(config)))
    assert len(server.requests("GET")) == 6  # the first try and five retries


def test_a_read_retried_after_a_server_error_succeeds(config: Path) -> None:
    answers = [Canned(500, "Internal Server Error"), Canned(503, "busy"), Canned(200, page())]
    with fake_polar({LIST: answers}) as server:
        result = run(server, "plan", "--no-live", str(config))
    assert result.code == 0, result.text
    assert "1 to create" in result.out and len(server.requests("GET")) == 3


def test_retry_after_is_honoured_by_every_request(config: Path) -> None:
    answers = [Canned(429, b"", {"retry-after": "1"}), Canned(200, page())]
    with fake_polar({LIST: answers}) as server:
        result = run(server, "plan", "--no-live", str(config))
    assert result.code == 0, result.text
    first, second = server.seen
    assert second.at - first.at >= 1.0  # not the 0.01 s backoff: Polar's retry-after


def test_a_create_refused_with_429_is_sent_again(config: Path) -> None:
    created = Canned(201, meter_json("api-calls"))
    routes = {LIST: [Canned(200, EMPTY_PAGE)],
              CREATE: [Canned(429, b"", {"retry-after": "0"}), created]}
    with fake_polar(routes) as server:
        result = run(server, "apply", "--auto-approve", str(config))
    assert result.code == 0, result.text
    assert len(server.requests("POST")) == 2
    assert "api-calls: created (7a8e2f4c-1b3d-4e5f-9a6b-0c1d2e3f4a5b)" in result.out


def test_a_create_with_a_server_error_is_looked_up_before_it_is_sent_again(config: Path) -> None:
    routes = {LIST: [Canned(200, EMPTY_PAGE)], CREATE: [Canned(502, HTML_502)]}
    with fake_polar(routes) as server:
        result = run(server, "apply", "--auto-approve", str(config))
    assert result.code == 1 and "Traceback" not in result.text
    failed = "api-calls: create failed: POST /v1/meters/: Polar answered 502 Bad Gateway"
    assert failed in result.out
    assert "Apply incomplete: 0 created, 0 updated, 0 adopted, 1 failed." in result.out
    sent = server.requests()
    lookup = "GET /v1/meters/?metadata%5Bpolar_meters_key%5D=api-calls&limit=100"
    # Never two POSTs in a row: each send follows a lookup by the ownership tag (the first
    # one too: another run may have created the key since the plan, issue 15).
    assert sent[1:] == [lookup] + ["POST /v1/meters/", lookup] * 3 + ["POST /v1/meters/"]


def found_after_lookup() -> Any:
    """The listing is empty, and so is the lookup right before the create; the lookup after
    the lost answer finds the meter."""
    lookups = 0

    def answer(seen: Seen) -> Canned:
        nonlocal lookups
        if "metadata" in seen.target:
            lookups += 1
            if lookups > 1:
                return Canned(200, page(meter_json("api-calls")))
        return Canned(200, EMPTY_PAGE)

    return answer


@pytest.mark.parametrize("answer", [
    Canned(201, meter_json("api-calls"), truncate=True),  # the answer is cut off
    Canned(201, b"created", {"content-type": "text/plain"}),  # done, but no meter to read
    Canned(500, "Internal Server Error"),  # an error after the meter was made
])
def test_a_create_whose_answer_is_lost_is_found_not_sent_again(
    answer: Canned, config: Path
) -> None:
    routes: dict[str, Any] = {LIST: found_after_lookup(), CREATE: [answer]}
    with fake_polar(routes) as server:
        result = run(server, "apply", "--auto-approve", str(config))
    assert result.code == 0, result.text
    assert len(server.requests("POST")) == 1
    assert "api-calls: created (7a8e2f4c-1b3d-4e5f-9a6b-0c1d2e3f4a5b) — the answer was lost" in (
        result.out)


def test_an_update_with_a_server_error_is_retried(config: Path) -> None:
    untagged = meter_json("x")
    untagged["metadata"] = {}
    meter_path = f"PATCH /v1/meters/{untagged['id']}"
    routes = {LIST: [Canned(200, page(untagged))],
              meter_path: [Canned(503, "busy"), Canned(200, meter_json("api-calls"))]}
    with fake_polar(routes) as server:
        result = run(server, "apply", "--auto-approve", str(config))
    assert result.code == 0, result.text
    assert "api-calls: adopted" in result.out and len(server.requests("PATCH")) == 2


@pytest.mark.parametrize("status, body, expected", [
    (401, {"error": "invalid_token", "error_description": "The access token is invalid."},
     "Polar refused the access token (401: The access token is invalid.)"),
    (403, {"error": "insufficient_scope", "error_description": "higher privileges"},
     "the access token lacks a scope (403: higher privileges)"),
    (422, {"error": "RequestValidationError", "detail": [
        {"type": "missing", "loc": ["query", "page"], "msg": "Field required"}]},
     "Polar rejected the request (422): page: Field required"),
    (422, {"detail": "not a list"}, "Polar answered 422: not a list"),
    (418, b"", "Polar answered 418 I'm a Teapot"),
])
def test_client_errors_are_not_retried_and_read_plainly(
    status: int, body: object, expected: str, config: Path
) -> None:
    with fake_polar({LIST: [Canned(status, body)]}) as server:
        line = one_line_error(run(server, "plan", str(config)))
    assert line == f"Error: GET /v1/meters/: {expected}" or line.startswith(
        f"Error: GET /v1/meters/: {expected}"), line
    assert len(server.seen) == 1


@pytest.mark.parametrize("path", [
    "https://elsewhere.example/v1/meters/", "//elsewhere.example/v1/meters/",
    "/v1/../admin", "/v1/meters/./x", "/v2/meters/", "/v1/meters/x?y=1", "v1/meters/",
    "/v1/meters/%2e%2e/x", "/v1//meters/",
])
def test_the_client_sends_only_paths_under_v1_of_its_server(path: str) -> None:
    with (fake_polar({}) as server, PolarClient(server.url, TOKEN) as client,
          pytest.raises(PolarAPIError, match="not a path under /v1/ of the configured server")):
        client.send("PATCH", path, {"name": "x"})
    assert server.seen == []


@pytest.mark.parametrize("how", ["flag", "env"])
@pytest.mark.parametrize("value, shown", [
    ("acme", "'acme'"), ("5f0c3b1e-2d4a-4c6b-8e9f", "'5f0c3b1e-2d4a-4c6b-8e9f'"),
    ("polar_oat_S3cretT0ken", "a value that looks like a token"),
])
def test_an_organization_id_that_is_not_a_uuid_is_a_local_error(
    how: str, value: str, shown: str, config: Path
) -> None:
    with fake_polar({}) as server:
        env = {"POLAR_SERVER": server.url, "POLAR_ACCESS_TOKEN": "polar_pat_fake"}
        if how == "flag":
            result = invoke("--organization-id", value, "plan", str(config), env=env)
        else:
            result = invoke("plan", str(config), env={**env, "POLAR_ORGANIZATION_ID": value})
    line = one_line_error(result)
    assert line.startswith(
        f"Error: --organization-id (POLAR_ORGANIZATION_ID) is {shown}, not an organization id")
    assert server.seen == []
