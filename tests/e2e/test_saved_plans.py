"""Saved plans end to end: plan --out, apply --plan, refusals when the plan is stale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.e2e import Api, copy_examples
from tests.support.inproc import invoke


@pytest.fixture
def api(emu) -> Api:
    return Api(emu)


@pytest.fixture
def meters(tmp_path: Path) -> Path:
    return copy_examples(tmp_path)


def save_plan(api: Api, meters: Path, tmp_path: Path) -> Path:
    out = tmp_path / "plan.json"
    run = invoke("plan", "--out", str(out), str(meters), env=api.env)
    assert run.code == 0, run.text
    return out


def test_apply_saved_plan_then_refuse_it_a_second_time(api: Api, meters: Path, tmp_path: Path) -> None:
    plan = save_plan(api, meters, tmp_path)
    doc = json.loads(plan.read_text())
    assert doc["format_version"].startswith("1.")
    run = invoke("apply", "--plan", str(plan), env=api.env)
    assert run.code == 0, run.text
    created = len(api.meters())
    assert created == doc["summary"]["create"] > 0
    api.clear_requests()
    again = invoke("apply", "--plan", str(plan), env=api.env)
    assert again.code == 1 and "the plan is stale: re-run plan" in again.err
    assert api.writes() == [] and len(api.meters()) == created
    assert "No changes." in invoke("plan", str(meters), env=api.env).out


def test_remote_edit_makes_the_plan_stale(api: Api, meters: Path, tmp_path: Path) -> None:
    assert invoke("apply", "--auto-approve", str(meters), env=api.env).code == 0
    first = api.meters()[0]
    (meters / "api-calls.yaml").write_text((meters / "api-calls.yaml").read_text().replace("name: API calls", "name: API requests"))
    plan = save_plan(api, meters, tmp_path)
    api.update(first["id"], {"metadata": {**first["metadata"], "edited": "in the dashboard"}})
    api.clear_requests()
    run = invoke("apply", "--plan", str(plan), env=api.env)
    assert run.code == 1
    assert "the plan is stale: re-run plan" in run.err and first["id"] in run.err
    assert api.writes() == []


def test_new_conflicting_meter_makes_the_plan_stale(api: Api, meters: Path, tmp_path: Path) -> None:
    plan = save_plan(api, meters, tmp_path)
    # Someone else applies meanwhile: the meters the plan would create now exist, tagged.
    assert invoke("apply", "--auto-approve", str(meters), env=api.env).code == 0
    count = len(api.meters())
    run = invoke("apply", "--plan", str(plan), env=api.env)
    assert run.code == 1 and "carries key" in run.err
    assert len(api.meters()) == count


def test_plan_for_another_organization_or_server_is_refused(api: Api, meters: Path, tmp_path: Path) -> None:
    assert invoke("apply", "--auto-approve", str(meters), env=api.env).code == 0
    (meters / "api-calls.yaml").write_text((meters / "api-calls.yaml").read_text().replace("name: API calls", "name: API requests"))
    plan = save_plan(api, meters, tmp_path)
    api.clear_requests()
    doc = json.loads(plan.read_text())
    other = tmp_path / "other-org.json"
    other.write_text(json.dumps({**doc, "organization_id": "0f3c0d7e-6b8a-4a51-9a55-2a4b7d1d2f10"}))
    run = invoke("apply", "--plan", str(other), env=api.env)
    assert run.code == 1 and "0f3c0d7e-6b8a-4a51-9a55-2a4b7d1d2f10" in run.err and "organization" in run.err
    elsewhere = tmp_path / "other-server.json"
    elsewhere.write_text(json.dumps({**doc, "server": {"name": "sandbox", "url": "https://sandbox-api.polar.sh"}}))
    run = invoke("apply", "--plan", str(elsewhere), env=api.env)
    assert run.code == 1 and "sandbox" in run.err
    assert api.writes() == []


def test_json_format_is_the_plan_document(api: Api, meters: Path, tmp_path: Path) -> None:
    plan = save_plan(api, meters, tmp_path)
    printed = json.loads(invoke("plan", "--format", "json", str(meters), env=api.env).out)
    saved = json.loads(plan.read_text())
    assert printed.pop("created_at") and saved.pop("created_at")
    for doc in (printed, saved):  # the live review's window ends when each plan was made
        assert doc["live"].pop("start") and doc["live"].pop("end")
    assert printed == saved


def test_plan_file_never_holds_the_token(api: Api, meters: Path, tmp_path: Path) -> None:
    text = save_plan(api, meters, tmp_path).read_text()
    assert api.emu.token not in text and "Authorization" not in text and "Bearer" not in text


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "corrupt plan"),
        ('{"format_version": "9.0"}', "not supported"),
        ("[]", "not a polar-meters plan"),
    ],
)
def test_bad_plan_files_make_no_request(api: Api, tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text(content)
    run = invoke("apply", "--plan", str(bad), env=api.env)
    assert run.code == 1 and message in run.err and "Traceback" not in run.text
    assert api.requests() == []
