"""Environments end to end (issue 18): one emulator serving two organizations, a project
file naming them, and the real CLI run in this process."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.model import TAG_KEY
from tests.support.environments import (
    PRODUCTION_ORG,
    SANDBOX_ORG,
    TOKEN_ENV,
    TwoOrgs,
    write_project,
)
from tests.support.inproc import invoke


def _pinned_in_both(orgs: TwoOrgs, root: Path, name: str) -> dict[str, str]:
    """A meter NAME made in each organization, and api-calls pinned to each by environment."""
    body = {"name": name, "filter": {"conjunction": "and", "clauses": []},
            "aggregation": {"func": "count"}}
    ids = {env: orgs.create(env, body)["id"] for env in ("sandbox", "production")}
    meters = root / "meters" / "api.yaml"
    meters.write_text(meters.read_text().replace(
        "    name: API calls\n",
        f"    name: API calls\n    id: {{sandbox: {ids['sandbox']}, production: {ids['production']}}}\n",
    ))
    return ids


def test_plan_both_apply_one_the_other_still_shows_the_changes(orgs: TwoOrgs) -> None:
    for env in ("sandbox", "production"):
        run = invoke("--env", env, "plan", env=TOKEN_ENV)
        assert run.code == 0, run.text
        assert f"Environment {env} · " in run.out and "1 to create" in run.out
    applied = invoke("--env", "sandbox", "apply", "--auto-approve", env=TOKEN_ENV)
    assert applied.code == 0, applied.text
    assert [m["metadata"][TAG_KEY] for m in orgs.meters("sandbox")] == ["api-calls"]
    assert [m["organization_id"] for m in orgs.meters("sandbox")] == [SANDBOX_ORG]
    assert orgs.meters("production") == [] and orgs.writes("production") == []
    assert "No changes." in invoke("--env", "sandbox", "plan", env=TOKEN_ENV).out
    production = invoke("--env", "production", "plan", env=TOKEN_ENV)
    assert production.code == 0 and "1 to create" in production.out
    assert f"organization {PRODUCTION_ORG}" in production.out


def test_per_environment_pins_resolve(orgs: TwoOrgs, tmp_path: Path) -> None:
    ids = _pinned_in_both(orgs, tmp_path, "API calls (dashboard)")
    assert invoke("validate").code == 0
    for env in ("sandbox", "production"):
        run = invoke("--env", env, "plan", env=TOKEN_ENV)
        assert run.code == 0, run.text
        assert f"api-calls \"API calls\": adopt ({ids[env]}) — pinned by id" in run.out
    applied = invoke("--env", "production", "apply", "--auto-approve", env=TOKEN_ENV)
    assert applied.code == 0, applied.text
    assert [m["id"] for m in orgs.meters("production")] == [ids["production"]]
    assert orgs.meters("production")[0]["metadata"][TAG_KEY] == "api-calls"
    assert TAG_KEY not in orgs.meters("sandbox")[0]["metadata"]


def test_a_pin_for_one_environment_leaves_the_other_unpinned(orgs: TwoOrgs, tmp_path: Path) -> None:
    body = {"name": "API calls", "filter": {"conjunction": "and", "clauses": []},
            "aggregation": {"func": "count"}}
    pinned = orgs.create("sandbox", body)["id"]
    meters = tmp_path / "meters" / "api.yaml"
    meters.write_text(meters.read_text().replace(
        "    name: API calls\n", f"    name: API calls\n    id: {{sandbox: {pinned}}}\n"))
    assert f"adopt ({pinned})" in invoke("--env", "sandbox", "plan", env=TOKEN_ENV).out
    assert "1 to create" in invoke("--env", "production", "plan", env=TOKEN_ENV).out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--env", "sandbox", "--server", "local"), "drop --server (POLAR_SERVER)"),
        (("--env", "sandbox", "--organization-id", SANDBOX_ORG),
         "drop --organization-id (POLAR_ORGANIZATION_ID)"),
        (("--env", "sandbox", "--token", "polar_oat_x"), "drop --token"),
        (("--env", "staging"), "no environment 'staging' (environments: sandbox, production)"),
        ((), "declares environments (sandbox, production): choose one with --env NAME"),
    ],
)
def test_environment_option_errors(orgs: TwoOrgs, args: tuple[str, ...], message: str) -> None:
    run = invoke(*args, "plan", env=TOKEN_ENV)
    assert run.code != 0 and message in run.err, run.text
    assert "Traceback" not in run.err
    assert orgs.writes("sandbox") == [] and orgs.core("sandbox").requests() == []


def test_env_variable_chooses_the_environment(orgs: TwoOrgs) -> None:
    run = invoke("plan", env={**TOKEN_ENV, "POLAR_METERS_ENV": "production"})
    assert run.code == 0 and "Environment production · " in run.out, run.text


def test_missing_token_names_its_variable_never_a_value(orgs: TwoOrgs) -> None:
    run = invoke("--env", "production", "plan", env={"POLAR_SANDBOX_TOKEN": "polar_oat_s"})
    assert run.code == 1
    assert "environment production: no access token: set POLAR_PRODUCTION_TOKEN" in run.err
    assert "polar_oat_s" not in run.text


def test_files_naming_another_organization_are_refused(orgs: TwoOrgs, tmp_path: Path) -> None:
    meters = tmp_path / "meters" / "api.yaml"
    meters.write_text(meters.read_text().replace("version: 1\n", f"version: 1\norganization_id: {SANDBOX_ORG}\n"))
    assert invoke("--env", "sandbox", "plan", env=TOKEN_ENV).code == 0
    run = invoke("--env", "production", "plan", env=TOKEN_ENV)
    assert run.code == 1 and f"environment production is organization {PRODUCTION_ORG}" in run.err


def test_without_a_project_file_per_environment_pins_need_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(
        "version: 1\nmeters:\n  a:\n    name: Aaa\n    id: {sandbox: 2f1c3a9e-8d4b-4c1e-9f7a-5b6d2e8c0a13}\n"
        "    filter: {conjunction: and, clauses: []}\n    aggregation: {func: count}\n")
    run = invoke("--server", "local", "plan", "m.yaml")
    assert run.code == 1 and "m.yaml:3:3: meters.a.id pins an id per environment (sandbox)" in run.err, run.text
    assert invoke("--env", "sandbox", "plan", "m.yaml").err.startswith(
        "Error: --env needs a project file")


def test_local_server_keeps_one_state_per_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    project = write_project(tmp_path, "local", protected=False)
    project.write_text(project.read_text().replace("server: 'local'", "server: local"))
    assert invoke("--env", "sandbox", "apply", "--auto-approve").code == 0
    assert sorted(p.name for p in (tmp_path / ".polar-meters").iterdir()) == ["sandbox.json"]
    assert "No changes." in invoke("--env", "sandbox", "plan").out
    run = invoke("--env", "production", "plan")
    assert "1 to create" in run.out and f"organization {PRODUCTION_ORG}" in run.out, run.text


def test_quantities_resolve_a_key_by_the_environments_pin(orgs: TwoOrgs, tmp_path: Path) -> None:
    ids = _pinned_in_both(orgs, tmp_path, "Dashboard name")
    run = invoke("--env", "production", "quantities", "api-calls", "--start", "2026-10-01",
                 "--end", "2026-10-02", "-c", "meters/", "--format", "json", env=TOKEN_ENV)
    assert run.code == 0, run.text
    assert ids["production"] in run.out and ids["sandbox"] not in run.out


def test_a_pin_for_an_undeclared_environment_is_an_error_where_it_is(orgs: TwoOrgs, tmp_path: Path) -> None:
    meters = tmp_path / "meters" / "api.yaml"
    meters.write_text(meters.read_text().replace(
        "    name: API calls\n", "    name: API calls\n    id: {staging: 2f1c3a9e-8d4b-4c1e-9f7a-5b6d2e8c0a13}\n"))
    message = "meters/api.yaml:3:3: meters.api-calls.id names environment 'staging', which polar-meters.yaml does not declare"
    validate = invoke("validate")
    assert validate.code == 1 and message in validate.out + validate.err, validate.text
    plan = invoke("--env", "sandbox", "plan", env=TOKEN_ENV)
    assert plan.code == 1 and message in plan.err, plan.text


def test_environment_options_after_the_command_and_offline_commands_without_one(orgs: TwoOrgs) -> None:
    run = invoke("plan", "--env", "production", env=TOKEN_ENV)
    assert run.code == 0 and "Environment production · " in run.out, run.text
    clash = invoke("--env", "sandbox", "plan", "--server", "local", env=TOKEN_ENV)
    assert clash.code == 1 and "drop --server (POLAR_SERVER)" in clash.err, clash.text
    # validate and test read the project's paths and need no environment: they are offline
    assert invoke("validate").out.startswith("Valid: 1 meter in 1 file")
    assert invoke("test").code == 0
