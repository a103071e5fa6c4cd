"""End to end with events: the real CLI against the emulator, where ingested events lock
meters and attached meters cannot be archived."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.builders import METERS  # alpha (count) and beta (sum of tokens)
from tests.support.e2e import Api
from tests.support.inproc import invoke


@pytest.fixture
def api(emu) -> Api:
    return Api(emu)


@pytest.fixture
def config(tmp_path: Path, api: Api) -> Path:
    path = tmp_path / "meters.yaml"
    path.write_text(METERS)
    run = invoke("apply", "--auto-approve", str(path), env=api.env)
    assert run.code == 0, run.text
    return path


def ids_by_name(api: Api) -> dict[str, str]:
    return {m["name"]: m["id"] for m in api.meters()}


def test_locked_meter_diagnosed_at_plan_time(api: Api, config: Path) -> None:
    answer = api.http.post("/v1/events/ingest", json={"events": [
        {"name": "alpha", "external_customer_id": "acme", "timestamp": "2024-05-01T00:00:00Z"}]})
    assert answer.json() == {"inserted": 1, "duplicates": 0}
    config.write_text(METERS.replace("name: Alpha", "name: Alpha v2").replace("value: alpha", "value: alpha2"))

    plan = invoke("plan", str(config), env=api.env)
    assert plan.code == 1, plan.text
    assert "! error: the meter is locked (Polar answered 422 forbidden: it is already aggregating events), so Polar refuses any change of its filter;" in plan.out
    assert "define a new meter under a new key" in plan.out  # the way out
    api.clear_requests()
    refused = invoke("apply", "--auto-approve", str(config), env=api.env)
    assert refused.code == 1 and "refusing to apply" in refused.err and "alpha" in refused.err
    assert [w["body"] for w in api.writes()] == [{"filter": None}]  # the lock probe only
    assert "Alpha" in ids_by_name(api)

    config.write_text(METERS.replace("name: Alpha", "name: Alpha v2"))  # name only: fine
    api.clear_requests()
    renamed = invoke("apply", "--auto-approve", str(config), env=api.env)
    assert renamed.code == 0, renamed.text
    [patch] = api.writes()
    assert patch["body"] == {"name": "Alpha v2"}
    assert "No changes." in invoke("plan", str(config), env=api.env).out


def test_archive_refused_by_the_server_reported_while_other_actions_succeed(api: Api, config: Path) -> None:
    beta = ids_by_name(api)["Beta"]
    product = {"name": "Pro plan", "recurring_interval": "month", "prices": [
        {"amount_type": "metered_unit", "meter_id": beta, "unit_amount": 1}]}
    assert api.http.post("/v1/products/", json=product).status_code == 201
    config.write_text(
        METERS.replace("name: Alpha", "name: Alpha renamed")
        .replace("  beta:\n    name: Beta\n", "  beta:\n    name: Beta\n    archived: true\n")
    )
    # a token that cannot read products: the plan cannot tell (it would refuse it ahead, see
    # test_archive_holders.py), so the archive is sent and Polar refuses it
    api.emu.core.add_token("polar_oat_no_products", ["meters:read", "meters:write", "events:read"])
    env = {**api.env, "POLAR_ACCESS_TOKEN": "polar_oat_no_products"}
    run = invoke("apply", "--auto-approve", str(config), env=env)
    assert run.code == 1, run.text
    assert "may be refused if a product or benefit uses it" in run.out
    assert "alpha: updated" in run.out
    assert "beta: archive failed" in run.out
    assert "Cannot archive meter that is still attached to active products" in run.out
    assert "archive that price or product first, or keep the meter" in run.out  # what to do
    meters = {m["name"]: m for m in api.meters()}
    assert "Alpha renamed" in meters and meters["Beta"]["archived_at"] is None

    again = invoke("plan", str(config), env=api.env)
    assert '- beta "Beta": archive' in again.out
    assert "Plan: 0 to create, 0 to update, 0 to adopt, 1 to archive." in again.out, again.out
