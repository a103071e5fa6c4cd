"""Lifecycle end to end: import, archive/unarchive via YAML, prune and its guard, locks."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

from tests.support.builders import METERS
from tests.support.e2e import Api
from tests.support.inproc import invoke


@pytest.fixture
def api(emu) -> Api:
    return Api(emu)


def meter_body(name: str, **extra) -> dict:
    return {
        "name": name,
        "filter": {"conjunction": "and", "clauses": [{"property": "name", "operator": "eq", "value": "x"}]},
        "aggregation": {"func": "count"},
        **extra,
    }


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "meters.yaml"
    path.write_text(METERS)
    return path


def test_import_then_adopt_then_no_changes(api: Api, tmp_path: Path) -> None:
    api.create(meter_body("API calls", metadata={"team": "on", "n": 1.5, "flag": True}))
    api.create(meter_body("API calls"))  # same name twice: keys must still be unique
    api.create(meter_body("Storage: GB (max)", unit="custom", custom_label="GB", custom_multiplier=1000))
    old = api.create(meter_body("Old meter"))
    api.update(old["id"], {"is_archived": True})
    api.clear_requests()
    out = tmp_path / "imported.yaml"
    run = invoke("import", "--out", str(out), env=api.env)
    assert run.code == 0, run.text
    assert api.writes() == []
    doc = yaml.safe_load(out.read_text())
    assert sorted(doc["meters"]) == ["api-calls", "api-calls-2", "storage-gb-max"]
    assert "Old meter" not in out.read_text()
    assert invoke("validate", str(out)).code == 0
    plan = invoke("plan", str(out), env=api.env)
    assert "Plan: 0 to create, 0 to update, 3 to adopt, 0 to archive." in plan.out, plan.text
    assert invoke("apply", "--auto-approve", str(out), env=api.env).code == 0
    again = invoke("plan", "--detailed-exitcode", str(out), env=api.env)
    assert again.code == 0 and "No changes." in again.out
    assert ("3 `id:` pin(s) no longer needed, the tag identifies these meters (api-calls, "
            "api-calls-2, storage-gb-max): they can be removed") in again.out, again.out
    # --include-archived brings the archived one too, and refusing to overwrite without --force
    assert invoke("import", "--out", str(out), env=api.env).code == 1
    run = invoke("import", "--include-archived", "--out", str(out), "--force", env=api.env)
    assert run.code == 0
    doc = yaml.safe_load(out.read_text())
    assert doc["meters"]["old-meter"]["archived"] is True


def test_import_query_and_stdout(api: Api) -> None:
    api.create(meter_body("Tokens in"))
    api.create(meter_body("Seats"))
    run = invoke("import", "--query", "token", env=api.env)
    assert run.code == 0 and "tokens-in:" in run.out and "seats" not in run.out


def test_archive_and_unarchive_through_yaml(api: Api, config: Path) -> None:
    assert invoke("apply", "--auto-approve", str(config), env=api.env).code == 0
    config.write_text(METERS.replace("  beta:\n    name: Beta\n", "  beta:\n    name: Beta\n    archived: true\n"))
    plan = invoke("plan", str(config), env=api.env)
    assert '- beta "Beta": archive' in plan.out and "1 to archive" in plan.out
    assert invoke("apply", "--auto-approve", str(config), env=api.env).code == 0
    (beta,) = [m for m in api.meters() if m["name"] == "Beta"]
    assert beta["archived_at"] is not None
    assert "No changes." in invoke("plan", str(config), env=api.env).out
    config.write_text(METERS)
    plan = invoke("plan", str(config), env=api.env)
    assert '+ beta "Beta": unarchive' in plan.out
    assert invoke("apply", "--auto-approve", str(config), env=api.env).code == 0
    (beta,) = [m for m in api.meters() if m["name"] == "Beta"]
    assert beta["archived_at"] is None


def test_prune_archives_only_managed_meters(api: Api, config: Path) -> None:
    foreign = api.create(meter_body("Made in the dashboard"))
    assert invoke("apply", "--auto-approve", str(config), env=api.env).code == 0
    config.write_text(METERS.split("  beta:")[0])
    plan = invoke("plan", str(config), env=api.env)
    assert "managed but missing from the configuration (beta; left alone" in plan.out
    assert "No changes." in plan.out
    run = invoke("apply", "--auto-approve", "--prune", str(config), env=api.env)
    assert run.code == 0, run.text
    state = {m["name"]: m for m in api.meters()}
    assert state["Beta"]["archived_at"] is not None
    assert state["Made in the dashboard"]["archived_at"] is None and foreign["id"] == state["Made in the dashboard"]["id"]
    assert state["Alpha"]["archived_at"] is None
    assert "No changes." in invoke("plan", "--prune", str(config), env=api.env).out


def test_prune_guards(api: Api, config: Path, tmp_path: Path) -> None:
    many = "version: 1\nmeters:\n" + "".join(
        f"  m{i}:\n    name: Meter {i}\n    filter: {{conjunction: and, clauses: []}}\n"
        "    aggregation: {func: count}\n"
        for i in range(7)
    )
    config.write_text(many)
    assert invoke("apply", "--auto-approve", str(config), env=api.env).code == 0
    empty = tmp_path / "empty.yaml"
    empty.write_text("version: 1\nmeters: {}\n")
    api.clear_requests()
    run = invoke("apply", "--auto-approve", "--prune", str(empty), env=api.env)
    assert run.code == 1 and "defines no meters" in run.err
    config.write_text("version: 1\nmeters:\n" + many.split("meters:\n")[1].split("  m1:")[0])
    run = invoke("apply", "--auto-approve", "--prune", str(config), env=api.env)
    assert run.code == 1 and "would archive 6 meters, more than --max-archive 5" in run.err
    assert "m6" in run.err
    assert api.writes() == []
    run = invoke("apply", "--auto-approve", "--prune", "--max-archive", "6", str(config), env=api.env)
    assert run.code == 0, run.text
    assert sum(1 for m in api.meters() if m["archived_at"]) == 6


def test_import_out_makes_missing_folders_and_plan_out_is_0644(api: Api, tmp_path: Path) -> None:
    api.create(meter_body("Tokens in"))
    out = tmp_path / "meters" / "imported.yaml"
    old = os.umask(0o022)
    try:
        run = invoke("import", "--out", str(out), env=api.env)
        assert run.code == 0, run.text
        assert "tokens-in:" in out.read_text()
        assert stat.S_IMODE(out.stat().st_mode) == 0o644
        saved = tmp_path / "plan.json"
        assert invoke("plan", str(out), "--out", str(saved), env=api.env).code == 0
        assert stat.S_IMODE(saved.stat().st_mode) == 0o644
    finally:
        os.umask(old)
    (tmp_path / "blocker").write_text("")
    run = invoke("import", "--out", str(tmp_path / "blocker" / "m.yaml"), env=api.env)
    assert run.code == 1 and "cannot write the meter file" in run.err and "Traceback" not in run.text


def test_import_no_pins_then_adopt_by_name(api: Api, tmp_path: Path) -> None:
    api.create(meter_body("Tokens in"))
    out = tmp_path / "imported.yaml"
    assert invoke("import", "--no-pins", "--out", str(out), env=api.env).code == 0
    assert "id:" not in out.read_text()
    plan = invoke("plan", str(out), env=api.env)
    assert "untagged meter with the same name" in plan.out and "1 to adopt" in plan.out, plan.text
