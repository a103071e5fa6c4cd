"""When a meter locks (issue 14), as plan and apply see it: matched events predict a lock at
Polar's next billing run; a billing pass makes it real, which the lock probe confirms."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator.billing import billing_pass
from reconciler.emulator.core import Emulator
from reconciler.emulator.server import start_background
from reconciler.model import TAG_KEY
from tests.conftest import RunningEmulator
from tests.support.e2e import Api
from tests.support.inproc import invoke

METERS = """\
version: 1
meters:
  alpha:
    name: Alpha
    filter: {conjunction: and, clauses: [{property: name, operator: eq, value: alpha}]}
    aggregation: {func: count}
  beta:
    name: Beta
    filter: {conjunction: and, clauses: [{property: name, operator: eq, value: beta}]}
    aggregation: {func: count}
"""
EDITED = METERS.replace("value: alpha}", "value: alpha2}").replace("name: Beta", "name: Beta v2")
PREDICTED = ("has matched events: Polar will lock this meter at its next billing run (within "
             "about 18 minutes) if not already")


@pytest.fixture
def billing_emu() -> Iterator[RunningEmulator]:
    """An emulator that bills (and locks) only when asked, as Polar's job every 15 minutes."""
    core = Emulator(billing_interval=900)
    server = start_background(core, "127.0.0.1", 0)
    try:
        yield RunningEmulator(server.url, core.token, core.organization_id, core)
    finally:
        server.close()


@pytest.fixture
def setup(billing_emu: RunningEmulator, tmp_path: Path) -> tuple[Api, Path]:
    api = Api(billing_emu)
    path = tmp_path / "meters.yaml"
    path.write_text(METERS)
    assert invoke("apply", "--auto-approve", str(path), env=api.env).code == 0
    answer = api.http.post("/v1/events/ingest", json={"events": [
        {"name": "alpha", "external_customer_id": "acme", "timestamp": "2026-10-01T00:00:00Z"}]})
    assert answer.json() == {"inserted": 1, "duplicates": 0}
    path.write_text(EDITED)
    return api, path


def alpha(api: Api) -> dict[str, Any]:
    return next(m for m in api.meters() if m["metadata"].get(TAG_KEY) == "alpha")


def test_predicted_before_a_billing_pass_confirmed_after(setup: tuple[Api, Path]) -> None:
    api, path = setup
    plan = invoke("plan", str(path), env=api.env)
    assert plan.code == 0, plan.text  # a prediction is a warning, not an error
    assert f"! warning: {PREDICTED}" in plan.out
    assert "apply refuses them unless --allow-predicted-lock-change" in plan.out
    doc = json.loads(invoke("plan", "--format", "json", str(path), env=api.env).out)
    [action] = [a for a in doc["actions"] if a["key"] == "alpha"]
    assert action["lock"] == "predicted" and action["problem"] is None
    markdown = invoke("plan", "--format", "markdown", str(path), env=api.env).out
    assert "> [!WARNING]\n> has matched events" in markdown
    github = invoke("plan", "--format", "github", str(path), env=api.env).out
    assert "::warning" in github and "alpha: has matched events" in github

    assert api.http.post("/_emulator/billing").json() == {"locked": [alpha(api)["id"]]}
    plan = invoke("plan", str(path), env=api.env)
    assert plan.code == 1, plan.text
    assert "! error: the meter is locked (Polar answered 422 forbidden" in plan.out
    assert PREDICTED not in plan.out
    doc = json.loads(invoke("plan", "--format", "json", str(path), env=api.env).out)
    [action] = [a for a in doc["actions"] if a["key"] == "alpha"]
    assert action["lock"] == "confirmed" and action["problem"]
    github = invoke("plan", "--format", "github", str(path), env=api.env).out
    assert "::error" in github and "alpha: the meter is locked" in github


def test_apply_refuses_a_predicted_lock_change_unless_allowed(setup: tuple[Api, Path]) -> None:
    api, path = setup
    api.clear_requests()
    refused = invoke("apply", "--auto-approve", str(path), env=api.env)
    assert refused.code == 1, refused.text
    assert "alpha have matched events" in refused.err or "alpha has matched events" in refused.err
    assert "--allow-predicted-lock-change" in refused.err and "nothing was sent" in refused.err
    assert [w["body"] for w in api.writes()] == [{"filter": None}]  # the probe only
    allowed = invoke("apply", "--auto-approve", "--allow-predicted-lock-change", str(path), env=api.env)
    assert allowed.code == 0, allowed.text  # not locked yet: the change goes through
    assert alpha(api)["filter"]["clauses"][0]["value"] == "alpha2"


def test_a_lock_that_lands_before_the_request_is_reported_and_the_rest_applied(
    setup: tuple[Api, Path], billing_emu: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Polar's billing job runs between the lock probe and the filter change (the emulator
    is made to bill just before it answers an update that carries a filter)."""
    api, path = setup
    core = billing_emu.core
    update = core.update_meter

    def billed_first(meter_id: str, body: Any, principal: Any = None) -> dict[str, Any]:
        if isinstance(body, dict) and body.get("filter") is not None:
            billing_pass(core)
        return update(meter_id, body, principal)

    monkeypatch.setattr(core, "update_meter", billed_first)
    run = invoke("apply", "--auto-approve", "--allow-predicted-lock-change", str(path), env=api.env)
    assert run.code == 1, run.text
    assert "alpha: update failed" in run.out and "already aggregating events" in run.out
    assert "define a new meter under a new key" in run.out  # in plain words, as before
    assert "beta: updated" in run.out  # the other actions still ran


def test_a_saved_plan_records_the_prediction_and_apply_plan_honours_the_flag(
    setup: tuple[Api, Path],
) -> None:
    api, path = setup
    saved = path.parent / "plan.json"
    assert invoke("plan", "--out", str(saved), str(path), env=api.env).code == 0
    [action] = [a for a in json.loads(saved.read_text())["actions"] if a["key"] == "alpha"]
    assert action["lock"] == "predicted"
    refused = invoke("apply", "--plan", str(saved), env=api.env)
    assert refused.code == 1 and "--allow-predicted-lock-change" in refused.err, refused.text
    run = invoke("apply", "--plan", str(saved), "--allow-predicted-lock-change", env=api.env)
    assert run.code == 0, run.text
    assert "alpha: updated" in run.out and "beta: updated" in run.out
