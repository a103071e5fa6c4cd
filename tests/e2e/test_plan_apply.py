"""End to end: the real CLI, in-process (tests.support.inproc), against the emulator on a free port."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from reconciler.model import TAG_KEY
from tests.support.e2e import API_CALLS_YAML, EXAMPLES, Api, copy_examples
from tests.support.inproc import invoke

METER = API_CALLS_YAML + """\
  storage:
    name: Storage (GB)
    filter:
      conjunction: and
      clauses:
        - {property: name, operator: eq, value: storage_snapshot}
    aggregation: {func: max, property: metadata.gigabytes}
"""


@pytest.fixture
def api(emu) -> Api:
    return Api(emu)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "meters.yaml"
    path.write_text(METER)
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def apply_ok(api: Api, *paths: Path) -> None:
    run = invoke("apply", "--auto-approve", *map(str, paths), env=api.env)
    assert run.code == 0, run.text


def assert_no_changes(api: Api, *paths: Path) -> None:
    run = invoke("plan", "--detailed-exitcode", *map(str, paths), env=api.env)
    assert run.code == 0, run.text
    assert "No changes." in run.out


def test_examples_validate_plan_apply_plan(api: Api, tmp_path: Path) -> None:
    meters = copy_examples(tmp_path)
    assert invoke("validate", str(meters)).code == 0
    first = invoke("plan", "--detailed-exitcode", str(meters), env=api.env)
    assert first.code == 2, first.text
    keys = set()
    for f in sorted(meters.rglob("*.yaml")):
        keys |= set(yaml.safe_load(f.read_text())["meters"])
    assert f"Plan: {len(keys)} to create, 0 to update, 0 to adopt, 0 to archive." in first.out
    assert f"Polar: {api.emu.url}" in first.out
    apply_ok(api, meters)
    assert_no_changes(api, meters)
    remote = api.meters()
    assert sorted(m["metadata"][TAG_KEY] for m in remote) == sorted(keys)


def test_rename_updates_in_place(api: Api, config: Path) -> None:
    apply_ok(api, config)
    (before,) = [m for m in api.meters() if m["metadata"][TAG_KEY] == "api-calls"]
    edit(config, "name: API calls", "name: API requests")
    run = invoke("plan", str(config), env=api.env)
    assert '~ api-calls "API requests": update' in run.out
    assert 'name: "API calls" → "API requests"' in run.out
    assert "Plan: 0 to create, 1 to update, 0 to adopt" in run.out
    api.clear_requests()
    apply_ok(api, config)
    (patch,) = api.writes()
    assert patch["method"] == "PATCH" and patch["body"] == {"name": "API requests"}
    after = {m["id"]: m for m in api.meters()}
    assert after[before["id"]]["name"] == "API requests" and len(after) == 2
    assert_no_changes(api, config)


def test_adopt_untagged_meter_with_same_name(api: Api, config: Path) -> None:
    existing = api.create(
        {
            "name": "Storage (GB)",
            "filter": {"conjunction": "and", "clauses": [{"property": "name", "operator": "eq", "value": "storage_snapshot"}]},
            "aggregation": {"func": "max", "property": "gigabytes"},
            "metadata": {"owner": "dashboard"},
        }
    )
    run = invoke("plan", str(config), env=api.env)
    assert f'~ storage "Storage (GB)": adopt ({existing["id"]})' in run.out
    assert '- metadata.owner: "dashboard"' in run.out
    assert f'+ metadata.{TAG_KEY}: "storage"' in run.out
    apply_ok(api, config)
    remote = api.meters()
    assert len(remote) == 2
    (adopted,) = [m for m in remote if m["id"] == existing["id"]]
    assert adopted["metadata"] == {TAG_KEY: "storage"}
    assert_no_changes(api, config)


def test_metadata_change_keeps_the_tag(api: Api, config: Path) -> None:
    apply_ok(api, config)
    edit(config, "metadata: {team: ai, cost_center: 42}", "metadata: {team: ml, region: eu}")
    run = invoke("plan", str(config), env=api.env)
    for line in ('- metadata.cost_center: 42', '+ metadata.region: "eu"', '~ metadata.team: "ai" → "ml"'):
        assert line in run.out, run.out
    apply_ok(api, config)
    (m,) = [m for m in api.meters() if m["name"] == "API calls"]
    assert m["metadata"] == {"team": "ml", "region": "eu", TAG_KEY: "api-calls"}
    assert_no_changes(api, config)


def test_nested_filter_change(api: Api, config: Path) -> None:
    apply_ok(api, config)
    edit(config, "{property: tier, operator: eq, value: pro}", "{property: tier, operator: eq, value: team}")
    run = invoke("plan", str(config), env=api.env)
    assert 'filter.clauses[1].clauses[0].value: "pro" → "team"' in run.out
    api.clear_requests()
    apply_ok(api, config)
    probe, patch = api.writes()  # the lock probe changes nothing; then the update
    assert probe["body"] == {"filter": None}
    assert set(patch["body"]) == {"filter"} and patch["body"]["filter"] is not None
    assert_no_changes(api, config)


def test_a_confirmed_lock_is_never_sent_and_exclude_applies_the_rest(api: Api, config: Path) -> None:
    apply_ok(api, config)
    by_key = {m["metadata"][TAG_KEY]: m for m in api.meters()}
    api.lock(by_key["api-calls"]["id"])  # locked, no event visible: the probe tells
    # A doomed filter change on the locked meter, a rename elsewhere, and a new meter.
    edit(config, "value: api_call}", "value: api_request}")
    edit(config, "name: Storage (GB)", "name: Storage (GiB)")
    config.write_text(
        config.read_text()
        + "  seats:\n    name: Seats\n    filter: {conjunction: and, clauses: []}\n"
        "    aggregation: {func: unique, property: user_id}\n"
    )
    api.clear_requests()
    run = invoke("apply", "--auto-approve", "--allow-predicted-lock-change", str(config), env=api.env)
    assert run.code == 1 and "refusing to apply" in run.err, run.text
    assert [w["body"] for w in api.writes()] == [{"filter": None}]  # only the probe
    run = invoke("apply", "--auto-approve", "--exclude", "api-calls", str(config), env=api.env)
    assert run.code == 0, run.text
    assert "storage: updated" in run.out and "seats: created" in run.out
    # The way out for a locked meter: give up the filter change; apply again finishes.
    edit(config, "value: api_request}", "value: api_call}")
    assert_no_changes(api, config)
    assert len(api.meters()) == 3


def test_apply_without_terminal_refuses_and_writes_nothing(api: Api, config: Path) -> None:
    run = invoke("apply", str(config), env=api.env)
    assert run.code == 1
    assert "--auto-approve" in run.err
    assert "Traceback" not in run.text
    assert api.writes() == []


def test_invalid_configuration_makes_no_request(api: Api, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nmeters:\n  x:\n    name: ab\n")
    for command in ("plan", "apply"):
        run = invoke(command, "--auto-approve" if command == "apply" else "--detailed-exitcode", str(bad), env=api.env)
        assert run.code == 1, run.text
        assert f"{bad}:" in run.err
        assert "Traceback" not in run.text
    assert api.requests() == []


def test_missing_token_names_the_variable_and_local(config: Path) -> None:
    run = invoke("plan", str(config))
    assert run.code == 1
    assert "POLAR_ACCESS_TOKEN" in run.err and "--server local" in run.err
    assert "Traceback" not in run.text


def test_bad_token_is_one_line_with_polar_message_and_no_token(api: Api, config: Path) -> None:
    secret = "polar_oat_THIS_IS_NOT_VALID_123"
    run = invoke("plan", str(config), env={**api.env, "POLAR_ACCESS_TOKEN": secret})
    assert run.code == 1
    errors = [line for line in run.err.splitlines() if "warning:" not in line]
    assert len(errors) == 1 and errors[0].startswith("Error: ") and "401" in errors[0]
    assert secret not in run.text and api.emu.token not in run.text


def test_organization_id_of_the_organization_token_is_accepted(api: Api, config: Path) -> None:
    own_env = {**api.env, "POLAR_ORGANIZATION_ID": api.emu.organization_id}
    created = invoke("apply", "--auto-approve", str(config), env=own_env)  # creates: never sent
    assert created.code == 0 and "Apply complete: 2 created" in created.out, created.text
    assert all("organization_id" not in w["body"] for w in api.writes())
    own = invoke("plan", str(config), env=own_env)
    assert own.code == 0 and "No changes" in own.out, own.text
    other = "0f3c0d7e-6b8a-4a51-9a55-2a4b7d1d2f10"
    run = invoke("--organization-id", other, "plan", str(config), env=api.env)
    assert run.code == 1, run.text
    assert (f"--organization-id (POLAR_ORGANIZATION_ID) names organization {other}, but the "
            f"token reaches meters of {api.emu.organization_id}") in run.err


def test_configuration_for_another_organization_is_refused(api: Api, config: Path) -> None:
    apply_ok(api, config)
    other = "0f3c0d7e-6b8a-4a51-9a55-2a4b7d1d2f10"
    config.write_text(f"organization_id: {other}\n" + config.read_text())
    run = invoke("plan", str(config), env=api.env)
    assert run.code == 1, run.text
    assert (f"the configuration's organization_id names organization {other}, but the token "
            f"reaches meters of {api.emu.organization_id}") in run.err


def test_requests_sent_match_polar_schemas(api: Api, config: Path) -> None:
    from tests.support.openapi import validate_against

    apply_ok(api, config)
    edit(config, "name: API calls", "name: API requests")
    edit(config, "metadata: {team: ai, cost_center: 42}", "metadata: {team: ml}")
    apply_ok(api, config)
    writes = api.writes()
    assert {w["method"] for w in writes} == {"POST", "PATCH"}
    for w in writes:
        validate_against("MeterCreate" if w["method"] == "POST" else "MeterUpdate", w["body"])


def test_local_server_keeps_state_in_working_directory(tmp_path: Path) -> None:
    meters = copy_examples(tmp_path)
    assert invoke("--server", "local", "apply", "--auto-approve", str(meters), cwd=tmp_path).code == 0
    assert (tmp_path / ".polar-meters" / "local.json").is_file()
    run = invoke("--server", "local", "plan", "--detailed-exitcode", str(meters), cwd=tmp_path)
    assert run.code == 0 and "No changes." in run.out, run.text
    state = json.loads((tmp_path / ".polar-meters" / "local.json").read_text())
    assert state


def test_examples_dir_exists() -> None:
    assert len(list(EXAMPLES.glob("*.yaml"))) >= 3
