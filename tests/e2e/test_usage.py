"""`quantities` and `customer-meters`: the real CLI against the emulator, events ingested
through Polar's own endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.model import TAG_KEY
from tests.support.e2e import Api, copy_examples, read_terminal
from tests.support.inproc import invoke
from tests.support.paths import ROOT

WEEK = ("--start", "2026-10-01", "--end", "2026-10-07")
DAILY_INPUT = [2650, 2550, 3900, 5250, 2800, 4050, 1900]  # examples/events/llm.jsonl


def ingest(api: Api, events: list[dict]) -> None:
    r = api.http.post("/v1/events/ingest", json={"events": events})
    assert r.status_code == 200, r.text


def sample(tmp_path: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "events" / name).read_text().splitlines()]


@pytest.fixture
def api(emu, tmp_path: Path) -> Api:
    """The examples applied, and their sample events ingested."""
    api = Api(emu)
    meters = copy_examples(tmp_path)
    assert invoke("apply", "--auto-approve", str(meters), env=api.env).code == 0
    events = sample(tmp_path, "llm.jsonl") + sample(tmp_path, "api.jsonl")
    for external_id in sorted({e["external_customer_id"] for e in events}):  # Polar's customers
        assert api.http.post("/_emulator/customers", json={"external_id": external_id}).is_success
    ingest(api, events)
    return api


def meter_id(api: Api, key: str) -> str:
    return next(m["id"] for m in api.meters() if m["metadata"].get(TAG_KEY) == key)


def test_quantities_text_is_plain_when_piped(api: Api) -> None:
    run = invoke("quantities", "llm-input-tokens", *WEEK, env=api.env)
    assert run.code == 0, run.text
    lines = run.out.splitlines()
    assert lines[0] == (f'llm-input-tokens "LLM input tokens" ({meter_id(api, "llm-input-tokens")})'
                        " · day · 2026-10-01 → 2026-10-07 · UTC")
    assert lines[1:] == [
        "2026-10-01  2,650", "2026-10-02  2,550", "2026-10-03  3,900", "2026-10-04  5,250",
        "2026-10-05  2,800", "2026-10-06  4,050", "2026-10-07  1,900", "Total: 23,100",
    ]
    assert "\x1b[" not in run.out and run.err == ""


def test_quantities_chart_of_unicode_blocks(api: Api) -> None:
    run = invoke("quantities", "llm-input-tokens", *WEEK, "--chart", env=api.env)
    assert run.code == 0, run.text
    rows = run.out.splitlines()[1:-1]
    bars = [row.split("  ")[1] for row in rows]
    assert bars[3] == "█" * 40  # the largest bucket fills the width
    assert bars[0].startswith("█" * 20) and bars[0][20] == "▎"  # 2,650 / 5,250 of 40 columns
    assert all(row.endswith(f"{q:,}") for row, q in zip(rows, DAILY_INPUT, strict=True))
    assert "\x1b[" not in run.out  # NO_COLOR (set by the helper): bars without colour


def test_quantities_json_csv_and_filters(api: Api) -> None:
    doc = json.loads(invoke("quantities", "llm-input-tokens", *WEEK, "--format", "json", env=api.env).out)
    assert doc["meter"] == {"id": meter_id(api, "llm-input-tokens"), "key": "llm-input-tokens",
                            "name": "LLM input tokens"}
    assert [b["quantity"] for b in doc["quantities"]] == DAILY_INPUT
    assert doc["total"] == 23100
    csv = invoke("quantities", "llm-input-tokens", *WEEK, "--format", "csv", env=api.env).out
    assert csv.splitlines()[:2] == ["timestamp,quantity", "2026-10-01T00:00:00Z,2650"]
    acme = json.loads(invoke("quantities", "llm-input-tokens", *WEEK, "--external-customer-id", "acme",
                          "--format", "json", env=api.env).out)
    assert acme["total"] == 4100
    weekly = invoke("quantities", "api-calls", "--start", "2026-10-01T00:00:00Z", "--end",
                 "2026-10-31T23:00:00+00:00", "--interval", "week", "--timezone", "Europe/Paris",
                 env=api.env)
    assert weekly.code == 0, weekly.text
    # the first bucket is the week (Monday to Sunday, Paris) holding 2026-10-01 02:00
    assert weekly.out.splitlines()[1].startswith("2026-09-28  ")
    assert weekly.out.splitlines()[-1] == "Total: 9"


def test_quantities_sends_what_was_asked(api: Api) -> None:
    api.clear_requests()
    invoke("quantities", "api-calls", "--start", "2026-10-01", "--end", "2026-10-02T12:00:00",
        "--timezone", "Asia/Tokyo", "--interval", "hour", "--customer-id",
        "2f1c3a9e-8d4b-4c1e-9f7a-5b6d2e8c0a13", env=api.env)
    sent = [r for r in api.requests() if r["path"].endswith("/quantities")]
    assert len(sent) == 1
    assert sorted(map(tuple, sent[0]["query"])) == sorted([
        ("start_timestamp", "2026-10-01T00:00:00+09:00"),
        ("end_timestamp", "2026-10-02T12:00:00+09:00"), ("interval", "hour"),
        ("timezone", "Asia/Tokyo"), ("customer_id", "2f1c3a9e-8d4b-4c1e-9f7a-5b6d2e8c0a13"),
    ])


@pytest.mark.parametrize(("args", "message"), [
    (("--start", "yesterday", "--end", "2026-10-07"),
     ("Error: --start: 'yesterday' is not a date (2026-10-01) or an ISO 8601 timestamp "
     "(2026-10-01T00:00:00Z)")),
    (("--start", "2026-10-08", "--end", "2026-10-07"),
     "Error: --start (2026-10-08T00:00:00+00:00) is after --end (2026-10-07T00:00:00+00:00)"),
    (("--start", "2026-10-01", "--end", "2026-10-09", "--interval", "hour"),
     ("Error: --interval hour covers at most 7 days, and --start to --end spans 8: choose a "
     "longer interval or a shorter range")),
    (("--start", "2022-12-31", "--end", "2023-01-02"),
     "Error: --start: Polar keeps no usage before 2023-01-01"),
    ((*WEEK, "--timezone", "Mars/Olympus"),
     ("Error: --timezone: unknown time zone 'Mars/Olympus': give an IANA name such as UTC or "
     "Europe/Paris")),
])
def test_quantities_bad_input_is_one_line_before_any_request(
    api: Api, args: tuple[str, ...], message: str
) -> None:
    api.clear_requests()
    run = invoke("quantities", "api-calls", *args, env=api.env)
    assert (run.code, run.out, run.err) == (1, "", message + "\n")
    assert api.requests() == []


def test_quantities_resolves_a_key_by_tag_pin_name_or_id(api: Api, tmp_path: Path) -> None:
    pinned = api.create({"name": "Pinned meter", "filter": {"conjunction": "and", "clauses": [
        {"property": "name", "operator": "eq", "value": "api_call"}]},
        "aggregation": {"func": "count"}})
    config = tmp_path / "other.yaml"
    config.write_text(
        "version: 1\nmeters:\n  pinned:\n    name: Pinned meter\n"
        "    filter: {conjunction: and, clauses: [{property: name, operator: eq, value: api_call}]}\n"
        f"    aggregation: {{func: count}}\n    id: {pinned['id']}\n"
        "  by-name:\n    name: Pinned meter\n"
        "    filter: {conjunction: and, clauses: [{property: name, operator: eq, value: api_call}]}\n"
        "    aggregation: {func: count}\n"
    )
    for key in ("pinned", "by-name"):
        run = invoke("quantities", key, *WEEK, "-c", str(config), env=api.env)
        assert run.code == 0, run.text
        assert f"({pinned['id']})" in run.out.splitlines()[0] and run.out.endswith("Total: 19\n")
    by_id = invoke("quantities", pinned["id"], *WEEK, env=api.env)
    assert by_id.code == 0 and by_id.out.endswith("Total: 19\n")
    missing = invoke("quantities", "pinned", *WEEK, env=api.env)
    assert (missing.code, missing.err) == (1, (
        "Error: no meter is tagged with key 'pinned': apply the configuration first, pass the "
        "meter files with --config, or give the meter's id\n"))
    gone = invoke("quantities", "2f1c3a9e-8d4b-4c1e-9f7a-5b6d2e8c0a13", *WEEK, env=api.env)
    assert gone.code == 1 and "not found (404)" in gone.err and "Traceback" not in gone.text


def test_the_token_never_shows(api: Api) -> None:
    run = invoke("--debug", "quantities", "api-calls", *WEEK, env=api.env)
    assert run.code == 0 and "/quantities" in run.err
    assert api.emu.token not in run.text
    run = invoke("--debug", "customer-meters", env=api.env)
    assert run.code == 0 and api.emu.token not in run.text


# --- customer-meters ------------------------------------------------------------------------


def test_customer_meters_table(api: Api) -> None:
    meter = meter_id(api, "api-calls")
    r = api.http.post("/_emulator/customer-meters/credit",
                      json={"meter_id": meter, "external_customer_id": "acme", "units": 10})
    assert r.status_code < 300, r.text
    run = invoke("customer-meters", "api-calls", env=api.env)
    assert run.code == 0, run.text
    assert run.out.splitlines() == [
        "customer  meter      consumed  credited  balance",
        "acme      api-calls         1        10        9",
        "globex    api-calls         4         0       -4",
        "initech   api-calls         4         0       -4",
        "3 customer meters.",
    ]
    # every customer has a customer meter on every active meter (7), 0 when nothing matched
    every = invoke("customer-meters", env=api.env).out.splitlines()
    assert len(every) == 1 + 21 + 1 and every[-1] == "21 customer meters."
    assert "initech   llm-input-tokens      12,150         0  -12,150" in every
    assert "globex    storage-gb                 0         0        0" in every


def test_customer_meters_filters_and_formats(api: Api) -> None:
    doc = json.loads(invoke("customer-meters", "--external-customer-id", "globex", "--format", "json",
                         env=api.env).out)
    assert [(r["customer"], r["meter"], r["consumed"]) for r in doc] == [
        ("globex", "active-users", 0), ("globex", "api-calls", 4),
        ("globex", "llm-input-tokens", 6850), ("globex", "llm-output-tokens", 830),
        ("globex", "llm-premium-tokens", 6480), ("globex", "search-queries", 3),
        ("globex", "storage-gb", 0),
    ]
    customer = doc[0]["customer_id"]
    csv = invoke("customer-meters", "search-queries", "--customer-id", customer, "--format", "csv",
              env=api.env).out.splitlines()
    assert csv[0] == "customer,customer_id,meter,meter_id,consumed,credited,balance"
    assert csv[1].startswith(f"globex,{customer},search-queries,") and len(csv) == 2
    none = invoke("customer-meters", "search-queries", "--external-customer-id", "nobody", env=api.env)
    assert (none.code, none.out) == (0, "No customer meters for search-queries.\n")


def test_customer_meters_reads_every_page(api: Api) -> None:
    for i in range(120):
        assert api.http.post("/_emulator/customers", json={"external_id": f"c{i:03}"}).is_success
    ingest(api, [{"name": "api_call", "external_customer_id": f"c{i:03}", "timestamp":
                  "2026-10-02T10:00:00Z", "metadata": {"tier": "pro", "status": 200,
                                                       "endpoint": "/v1/items"}}
                 for i in range(120)])
    api.clear_requests()
    run = invoke("customer-meters", "api-calls", "--format", "json", env=api.env)
    assert run.code == 0, run.text
    assert len(json.loads(run.out)) == 123
    pages = [dict(r["query"])["page"] for r in api.requests() if r["path"] == "/v1/customer-meters/"]
    assert pages == ["1", "2"]


def test_customer_meters_needs_its_scope(api: Api) -> None:
    token = "polar_oat_meters_read_only_token_for_the_test"
    api.emu.core.add_token(token, ["meters:read"])
    run = invoke("customer-meters", env={**api.env, "POLAR_ACCESS_TOKEN": token})
    assert (run.code, run.err) == (1, ("Error: the access token lacks the customer_meters:read "
                                      "scope (403): customer-meters needs it\n"))


def test_the_readme_shows_real_output(api: Api) -> None:
    readme = (ROOT / "README.md").read_text()
    for command in ("quantities llm-input-tokens --start 2026-10-01 --end 2026-10-07",
                    "customer-meters llm-input-tokens"):
        shown = readme.split(f"$ polar-meters {command}\n", 1)[1].split("```", 1)[0]
        args = command.split() + (["--chart"] if command.startswith("quantities") else [])
        run = invoke(*args, env=api.env)
        assert run.code == 0, run.text
        actual, documented = run.out.splitlines(), shown.splitlines()
        if command.startswith("quantities"):  # the meter's id differs from run to run
            actual[0] = actual[0].split(" (")[0]
            documented[0] = documented[0].split(" (")[0]
        assert documented == actual


def on_terminal(api: Api, *args: str, no_color: bool) -> str:
    """The CLI's output with its stdout on a pseudo-terminal."""
    import os
    import pty
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("POLAR_") and k != "NO_COLOR"}
    env.update(api.env, COLUMNS="100", **({"NO_COLOR": "1"} if no_color else {}))
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "reconciler", *args], stdout=follower,
                            stderr=subprocess.PIPE, env=env)
    os.close(follower)
    screen = read_terminal(leader)
    assert proc.wait(timeout=60) == 0
    return screen


def test_a_terminal_gets_the_chart_in_colour_unless_no_color(api: Api) -> None:
    coloured = on_terminal(api, "quantities", "llm-input-tokens", *WEEK, no_color=False)
    assert "█" * 40 in coloured and "\x1b[36m" in coloured
    plain = on_terminal(api, "quantities", "llm-input-tokens", *WEEK, no_color=True)
    assert "█" * 40 in plain and "\x1b[" not in plain
    bare = on_terminal(api, "quantities", "llm-input-tokens", *WEEK, "--no-chart", no_color=True)
    assert "█" not in bare and "2026-10-04  5,250" in bare
