"""--target / --exclude on plan and apply (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.builders import meter_file
from tests.support.e2e import Api
from tests.support.inproc import invoke


@pytest.fixture
def api(emu) -> Api:
    return Api(emu)


def test_target_and_exclude_plan_and_apply_only_those(api: Api, tmp_path: Path) -> None:
    config = meter_file(tmp_path / "meters.yaml", 4)
    plan = invoke("plan", str(config), "--target", "m001", "--target", "m002", env=api.env)
    assert plan.code == 0, plan.text
    assert "Plan: 2 to create" in plan.out
    assert "Targeting (--target m001 --target m002): 2 configured meter(s) left out of this plan." in plan.out
    run = invoke("apply", "--auto-approve", str(config), "--exclude", "m000", env=api.env)
    assert run.code == 0, run.text
    assert sorted(m["metadata"]["polar_meters_key"] for m in api.meters()) == ["m001", "m002", "m003"]
    rest = invoke("plan", str(config), env=api.env)
    assert "Plan: 1 to create" in rest.out and "+ m000" in rest.out
    assert "missing from the configuration" not in plan.out


def test_saved_plans_record_targeting_and_check_only_what_was_planned(api: Api, tmp_path: Path) -> None:
    config = meter_file(tmp_path / "meters.yaml", 3)
    assert invoke("apply", "--auto-approve", str(config), env=api.env).code == 0
    config.write_text(config.read_text().replace("Meter number 1", "Meter one"))
    saved = tmp_path / "plan.json"
    assert invoke("plan", str(config), "--target", "m001", "--out", str(saved), env=api.env).code == 0
    doc = json.loads(saved.read_text())
    assert doc["targeting"] == {"target": ["m001"], "exclude": [], "left_out": 2}
    assert {m["key"] for m in doc["remote_meters"]} == {"m001"}
    # a change to a meter the plan left out does not make it stale
    [other] = [m for m in api.meters() if m["metadata"]["polar_meters_key"] == "m002"]
    api.update(other["id"], {"name": "Edited in the dashboard"})
    run = invoke("apply", "--plan", str(saved), env=api.env)
    assert run.code == 0, run.text
    assert "Apply complete: 0 created, 1 updated" in run.out


def test_unknown_keys_and_prune_with_a_target_are_refused(api: Api, tmp_path: Path) -> None:
    config = meter_file(tmp_path / "meters.yaml", 2)
    run = invoke("plan", str(config), "--target", "nope", env=api.env)
    assert run.code == 1 and "--target nope: no such key in the configuration" in run.err
    run = invoke("apply", "--auto-approve", "--prune", str(config), "--exclude", "m000", env=api.env)
    assert run.code == 1 and "--prune with --target/--exclude" in run.err
    assert api.requests() == []


def test_a_refused_change_on_a_locked_meter_does_not_block_an_unrelated_one(
    api: Api, tmp_path: Path
) -> None:
    config = meter_file(tmp_path / "meters.yaml", 2)
    assert invoke("apply", "--auto-approve", str(config), env=api.env).code == 0
    by_key = {m["metadata"]["polar_meters_key"]: m for m in api.meters()}
    answer = api.http.post("/v1/events/ingest", json={"events": [  # m000 has counted events
        {"name": "event_0", "external_customer_id": "acme", "timestamp": "2024-05-01T00:00:00Z"}]})
    assert answer.status_code == 200
    config.write_text(config.read_text().replace("value: event_0", "value: event_zero")
                      .replace("Meter number 1", "Meter one"))
    refused = invoke("apply", "--auto-approve", str(config), env=api.env)
    assert refused.code == 1 and "refusing to apply" in refused.err and "m000" in refused.err
    api.clear_requests()
    urgent = invoke("apply", "--auto-approve", "--exclude", "m000", str(config), env=api.env)
    assert urgent.code == 0, urgent.text
    assert "Apply complete: 0 created, 1 updated" in urgent.out
    assert [w["path"] for w in api.writes()] == [f"/v1/meters/{by_key['m001']['id']}"]
    assert invoke("apply", "--auto-approve", "--target", "m001", str(config),
                  env=api.env).out.count("No changes.") == 1
