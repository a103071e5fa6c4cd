"""`plan` reviews new and changed filters against the organization's recent events, counted
by Polar (here the emulator, with events ingested through Polar's endpoint): the figures are
checked against counts made here, in plain Python, over the events ingested."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningEmulator
from tests.support.e2e import Api
from tests.support.inproc import invoke
from tests.support.paths import ROOT

NOW = datetime.now(UTC)

BEFORE = """\
version: 1
meters:
  api-calls:
    name: API calls
    filter:
      conjunction: and
      clauses:
        - {property: name, operator: eq, value: api_call}
        - {property: tier, operator: eq, value: pro}
    aggregation: {func: count}
"""
#: the filter change under review: every tier but free, and only successful calls
AFTER = BEFORE.replace(
    "        - {property: tier, operator: eq, value: pro}\n",
    "        - {property: tier, operator: ne, value: free}\n"
    "        - {property: status, operator: lt, value: 400}\n",
)
NEW_METERS = """\
  typo:
    name: Typo meter
    filter:
      conjunction: and
      clauses:
        - {property: name, operator: eq, value: api_cal}
    aggregation: {func: count}
  llm-total:
    name: LLM total tokens
    filter:
      conjunction: and
      clauses:
        - {property: name, operator: eq, value: llm_request}
    aggregation: {func: sum, property: _llm.tokens}
"""


def _event(name: str, days: float, metadata: dict[str, Any]) -> dict[str, Any]:
    moment = NOW - timedelta(days=days)
    return {"name": name, "timestamp": moment.isoformat().replace("+00:00", "Z"),
            "external_customer_id": "acme", "metadata": metadata}


def _events() -> list[dict[str, Any]]:
    tiers, statuses = ["free", "pro", "team", "pro", "enterprise"], [200, 201, 404, 500, 200, 302]
    out = [_event("api_call", 0.3 + i * 0.37, {"tier": tiers[i % 5], "status": statuses[i % 6]})
           for i in range(70)]  # 0.3 to 25.8 days ago
    out += [_event("api_call", 40 + i, {"tier": "pro", "status": 200}) for i in range(5)]  # too old
    llm = {"vendor": "openai", "model": "gpt-4o", "input_tokens": 10, "output_tokens": 5,
           "total_tokens": 15}
    out += [_event("llm_request", 1 + i, {"_llm": llm}) for i in range(4)]  # no _llm.tokens
    return out


def _recent(events: list[dict[str, Any]], days: int = 30) -> list[dict[str, Any]]:
    start = NOW - timedelta(days=days)
    return [e for e in events if datetime.fromisoformat(e["timestamp"]) >= start]


def _old_filter(e: dict[str, Any]) -> bool:
    return e["name"] == "api_call" and e["metadata"].get("tier") == "pro"


def _new_filter(e: dict[str, Any]) -> bool:
    m = e["metadata"]
    return e["name"] == "api_call" and m.get("tier") != "free" and m.get("status", 999) < 400


@pytest.fixture
def api(emu: RunningEmulator) -> Api:
    return Api(emu)


@pytest.fixture
def meters(tmp_path: Path, api: Api) -> Path:
    """BEFORE applied, the events ingested (after: a meter matching events at its creation
    would be locked), then the file edited to AFTER with two new meters."""
    path = tmp_path / "meters.yaml"
    path.write_text(BEFORE)
    assert invoke("apply", "--auto-approve", str(path), env=api.env).code == 0
    r = api.http.post("/v1/events/ingest", json={"events": _events()})
    assert r.status_code == 200, r.text
    path.write_text(AFTER + NEW_METERS)
    return path


def test_filter_change_counts_are_polars_over_the_window(api: Api, meters: Path) -> None:
    recent = _recent(_events())
    before = sum(map(_old_filter, recent))
    after = sum(map(_new_filter, recent))
    both = sum(1 for e in recent if _old_filter(e) and _new_filter(e))
    assert 0 < both < before and after > both  # the events exercise keep, drop and add
    run = invoke("plan", str(meters), env=api.env)
    # The old filter matched events, so the meter has processed some: Polar would refuse the
    # change (exit 1), and the figures say what a replacement meter with it would count.
    assert run.code == 1 and "! error: the meter is locked" in run.out, run.text
    line = (f"new filter over the last 30 days: keeps {both} of {before} events, drops "
            f"{before - both}, adds {after - both} — moves more than 10% of events")
    assert f"      ! {line}" in run.out.splitlines()
    assert ("Recent events (last 30 days, counted by Polar): 3 new or changed filter(s) checked; "
            "1 filter change moves more than 10% of events.") in run.out
    doc = json.loads(invoke("plan", "--format", "json", str(meters), env=api.env).out)
    [impact] = [m for m in doc["live"]["meters"] if m["key"] == "api-calls"]
    assert impact == {"key": "api-calls", "kind": "change", "matches": after, "before": before,
                      "kept": both, "dropped": before - both, "added": after - both,
                      "flagged": True, "warnings": []}
    assert doc["live"]["window"] == "30d" and doc["live"]["checked"] == 3


def test_window_and_threshold_options(api: Api, meters: Path) -> None:
    recent = _recent(_events(), 7)
    before, after = sum(map(_old_filter, recent)), sum(map(_new_filter, recent))
    both = sum(1 for e in recent if _old_filter(e) and _new_filter(e))
    run = invoke("plan", "--window", "7d", "--live-threshold", "100", str(meters), env=api.env)
    assert run.code == 1, run.text  # the lock, as above
    assert (f"      = new filter over the last 7 days: keeps {both} of {before} events, drops "
            f"{before - both}, adds {after - both}") in run.out.splitlines()


def test_unseen_name_and_missing_property_are_warned(api: Api, meters: Path) -> None:
    run = invoke("plan", str(meters), env=api.env)
    lines = run.out.splitlines()
    typo = lines.index('  + typo "Typo meter": create')
    block = lines[typo:lines.index("", typo)]
    assert "      = filter over the last 30 days: matches 0 events" in block
    assert "      ! warning: matches no event in 30 days" in block
    assert ("      ! warning: no event named `api_cal` has been seen (did you mean "
            "`api_call`?)") in block
    llm = lines.index('  + llm-total "LLM total tokens": create')
    assert lines[llm + 1:lines.index("", llm)][-2:] == [
        "      = filter over the last 30 days: matches 4 events",
        ("      ! warning: none of 4 recent `llm_request` events carry `_llm.tokens` as a "
        "number: the sum would be 0"),
    ]


def test_markdown_shows_the_figures_in_each_block_and_a_summary_on_top(
    api: Api, meters: Path
) -> None:
    run = invoke("plan", "--format", "markdown", str(meters), env=api.env)
    assert run.code == 1, run.text  # the lock, as above
    text = run.out
    head = text.split("<details>", 1)[0]
    assert "> 1 filter change moves more than 10% of events." in head.replace(
        "Recent events (last 30 days, counted by Polar): 3 new or changed filter(s) checked; ", "")
    block = text.split("<code>~ api-calls</code>", 1)[1].split("</details>", 1)[0]
    assert "**Recent events:** new filter over the last 30 days: keeps" in block
    assert "⚠️ **moves more than 10% of events**" in block


def _events_requests(api: Api) -> list[dict[str, Any]]:
    return [r for r in api.requests() if r["path"].startswith("/v1/events/")
            and r["method"] == "GET"]


def test_no_live_sends_no_events_request_for_the_review(api: Api, meters: Path) -> None:
    api.clear_requests()
    run = invoke("plan", "--no-live", str(meters), env=api.env)
    assert run.code == 1, run.text  # the lock, as above
    sent = _events_requests(api)
    # the lock lookup of the changed meter may ask for its events (meter_id=…), but no
    # request carries a filter, and the names are never asked for
    assert all(r["path"] == "/v1/events/" for r in sent)
    assert not any(k == "filter" for r in sent for k, _ in r["query"])
    assert "Recent events" not in run.out and "= new filter" not in run.out


def test_requests_are_at_most_three_per_changed_filter_plus_names(api: Api, meters: Path) -> None:
    api.clear_requests()
    assert invoke("plan", str(meters), env=api.env).code == 1  # the lock, as above
    review = [r for r in _events_requests(api) if r["path"] == "/v1/events/names"
              or any(k == "filter" for k, _ in r["query"])]
    # names once; api-calls: new, old, both; typo and llm-total: new only
    assert len(review) == 1 + 3 + 1 + 1
    assert all(dict(r["query"]).get("limit") in ("1", "100") for r in review if r["query"])


def test_live_limit_checks_the_first_n(api: Api, meters: Path) -> None:
    run = invoke("plan", "--live-limit", "1", str(meters), env=api.env)
    assert ("Recent events (last 30 days, counted by Polar): 1 new or changed filter(s) checked; "
            "1 filter change moves more than 10% of events; 2 more not checked (past "
            "--live-limit).") in run.out
    assert "matches no event" not in run.out


def test_a_token_without_events_scope_gets_one_line(emu: RunningEmulator, meters: Path) -> None:
    emu.core.add_token("polar_oat_meters_only", ["meters:read", "meters:write"])
    env = {"POLAR_SERVER": emu.url, "POLAR_ACCESS_TOKEN": "polar_oat_meters_only"}
    run = invoke("plan", str(meters), env=env)
    assert run.code == 1, run.text  # the lock, which Polar confirms without events:read
    skipped = [line for line in run.out.splitlines() if "live review" in line]
    assert skipped == [("live review skipped: the access token cannot read events (403 "
                       "insufficient_scope; it needs events:read)")]
    doc = json.loads(invoke("plan", "--format", "json", str(meters), env=env).out)
    assert doc["live"]["unavailable"] == skipped[0] and doc["live"]["meters"] == []


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _readme_block(opening: str, fence: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Review against real data"):]
    return section.split(opening, 1)[1].split(f"\n{fence}\n", 1)[0]


def _shown(run_out: str, emu: RunningEmulator) -> str:
    return UUID.sub("<id>", run_out.replace(emu.url, "local")).rstrip("\n")


def test_the_readme_review_is_real(emu: RunningEmulator, meters: Path) -> None:
    env = Api(emu).env
    text = invoke("plan", str(meters), env=env)
    markdown = invoke("plan", "--format", "markdown", str(meters), env=env)
    documented = _readme_block("```text\n$ polar-meters --server local plan meters/\n", "```")
    assert UUID.sub("<id>", documented) == _shown(text.out, emu)
    documented = _readme_block("````markdown\n", "````")
    assert UUID.sub("<id>", documented) == _shown(markdown.out, emu)
