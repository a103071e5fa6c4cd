"""`plan --events`: totals and matched events of each changed meter over sample events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.plan.planner import make_plan
from reconciler.render.numbers import change_text, number_text
from reconciler.render.preview import meter_line
from reconciler.usage.eventfile import read_event_file
from reconciler.usage.preview import MeterPreview, Stat, make_preview
from tests.support.builders import desired, remote
from tests.support.e2e import Api, copy_examples
from tests.support.inproc import invoke


@pytest.fixture
def api(emu) -> Api:
    return Api(emu)


def events(tmp_path: Path, *items: dict) -> list:
    path = tmp_path / "e.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    return read_event_file(path).events


def test_only_creates_and_filter_or_aggregation_changes_are_previewed(tmp_path: Path) -> None:
    sample = events(tmp_path, {"name": "api_call", "metadata": {"tokens": 5, "tier": "pro"}},
                    {"name": "api_call", "metadata": {"tokens": 7, "tier": "free"}},
                    {"name": "api_call", "metadata": {"tier": "pro"}}, {"name": "other"})
    count = {"func": "count"}
    plan = make_plan(
        [desired("renamed", name="New name"), desired("counted", aggregation=count),
         desired("fresh", name="Fresh meter")],
        [remote("renamed"), remote("counted")],
        server="test", organization_id=None,
    )
    preview = make_preview(plan, sample, "e.jsonl")
    assert preview.events == 4
    assert preview.meters == [
        # tier ne 3: text "pro" <> "3" holds (Polar's SQL), so both tiers count
        MeterPreview("counted", "update", after=Stat(3, 3), before=Stat(12, 2)),
        MeterPreview("fresh", "create", after=Stat(12, 2)),
    ]


def test_lines() -> None:
    assert meter_line(MeterPreview("llm-tokens", "update", Stat(7440, 19), Stat(12400, 31))) == (
        "llm-tokens: total 12,400 → 7,440 (−40.0%), matched 31 → 19 events"
    )
    assert meter_line(MeterPreview("m", "create", Stat(1.5, 1))) == (
        "m: total 1.5, matched 1 event (new meter)"
    )
    assert [change_text(0, 5), change_text(4, 4), change_text(4, 5)] == ["(from 0)", "(no change)", "(+25.0%)"]
    assert [number_text(2.0), number_text(1234.5), number_text(1 / 3)] == ["2", "1,234.5", "0.3333"]


@pytest.fixture
def changed(api: Api, tmp_path: Path) -> Path:
    """The examples applied, then the premium meter widened to every claude model."""
    meters = copy_examples(tmp_path)
    assert invoke("apply", "--auto-approve", str(meters), env=api.env).code == 0
    path = meters / "llm-tokens.yaml"
    text = path.read_text()
    old = "{property: model, operator: like, value: claude-opus}"
    assert old in text
    path.write_text(text.replace(old, "{property: model, operator: like, value: claude}"))
    return meters


def test_plan_shows_before_and_after_in_text_markdown_and_json(api: Api, changed: Path) -> None:
    sample = changed.parent / "events" / "llm.jsonl"
    run = invoke("plan", "--events", str(sample), str(changed), env=api.env)
    assert run.code == 0, run.text
    assert (f"Over 21 events from {sample}:\n"
            "  llm-premium-tokens: total 18,990 → 21,340 (+12.4%), matched 13 → 15 events\n\n"
            "Plan: 0 to create, 1 to update") in run.out
    markdown = invoke("plan", "--format", "markdown", "--events", str(sample), str(changed), env=api.env)
    assert "| `llm-premium-tokens` | 18,990 | 21,340 | +12.4% | 13 | 15 |" in markdown.out
    out = changed.parent / "plan.json"
    doc = json.loads(invoke("plan", "--format", "json", "--out", str(out), "--events", str(sample),
                         str(changed), env=api.env).out)
    assert doc["preview"] == {"source": str(sample), "events": 21, "meters": [{
        "key": "llm-premium-tokens", "action": "update",
        "before": {"total": 18990, "matched": 13}, "after": {"total": 21340, "matched": 15}}]}
    assert doc["format_version"] == "1.0"
    applied = invoke("apply", "--plan", str(out), env=api.env)  # the saved preview is ignored
    assert applied.code == 0, applied.text


def test_plan_without_events_has_no_preview(api: Api, changed: Path) -> None:
    doc = json.loads(invoke("plan", "--format", "json", str(changed), env=api.env).out)
    assert "preview" not in doc
    assert "Over " not in invoke("plan", str(changed), env=api.env).out


def test_nothing_to_preview_says_so(api: Api, tmp_path: Path) -> None:
    meters = copy_examples(tmp_path)
    assert invoke("apply", "--auto-approve", str(meters), env=api.env).code == 0
    run = invoke("plan", "--events", str(tmp_path / "events" / "api.jsonl"), str(meters), env=api.env)
    assert run.code == 0
    assert f"Over 19 events from {tmp_path}/events/api.jsonl: no meter's filter or aggregation changes." in run.out


def test_bad_events_stop_before_any_request(api: Api, changed: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"name": "a"}\n{"name": "a", "metadata": "x"}\n{oops\n')
    api.clear_requests()
    run = invoke("plan", "--events", str(bad), str(changed), env=api.env)
    assert run.code == 1
    assert run.err == (f"Error: {bad}:2:1: bad event: metadata: Input should be a valid dictionary\n"
                       f"{bad}:3:2: not a JSON event: Expecting property name enclosed in double "
                       "quotes\n")
    assert api.requests() == []
    missing = invoke("plan", "--events", str(tmp_path / "none.jsonl"), str(changed), env=api.env)
    assert missing.err == f"Error: {tmp_path}/none.jsonl: no such events file\n"
