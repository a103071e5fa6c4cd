"""`import --env`: pins for that environment only; `--merge` adds them to an existing file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.environments import TOKEN_ENV, TwoOrgs, two_orgs, write_project
from tests.support.inproc import invoke

BODY = {"name": "Dashboard calls", "filter": {"conjunction": "and", "clauses": []},
        "aggregation": {"func": "count"}, "metadata": {"team": "api"}}


@pytest.fixture
def orgs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TwoOrgs]:
    monkeypatch.chdir(tmp_path)
    with two_orgs() as running:
        write_project(tmp_path, running.url)
        (tmp_path / "meters" / "api.yaml").unlink()
        yield running


def test_import_pins_for_one_environment_then_merge_the_other(orgs: TwoOrgs, tmp_path: Path) -> None:
    ids = {env: orgs.create(env, BODY)["id"] for env in ("sandbox", "production")}
    out = tmp_path / "meters" / "dashboard.yaml"
    run = invoke("--env", "sandbox", "import", "--out", str(out), env=TOKEN_ENV)
    assert run.code == 0, run.text
    text = out.read_text()
    imported = next(line for line in text.splitlines(True) if line.startswith("    id: "))
    assert imported.replace('"', "") == f"    id: {{sandbox: {ids['sandbox']}}}\n"  # quoted or not
    assert "organization_id" not in text
    edited = text.replace("  dashboard-calls:\n", "  # the team's favourite meter\n  dashboard-calls:\n")
    out.write_text(edited)
    merged = invoke("--env", "production", "import", "--out", str(out), "--merge", env=TOKEN_ENV)
    assert merged.code == 0, merged.text
    assert "Merged production's pins into" in merged.err and "1 meters (dashboard-calls)" in merged.err
    after = out.read_text()
    assert after == edited.replace(
        imported,
        f"    id: {{sandbox: {ids['sandbox']}, production: {ids['production']}}}\n")
    for env in ("sandbox", "production"):
        plan = invoke("--env", env, "plan", env=TOKEN_ENV)
        assert f"adopt ({ids[env]}) — pinned by id" in plan.out, plan.text


def test_merge_refuses_what_it_cannot_do(orgs: TwoOrgs, tmp_path: Path) -> None:
    orgs.create("production", BODY)
    out = tmp_path / "meters" / "d.yaml"
    plain = invoke("--env", "sandbox", "import", "--out", str(out), "--merge", env=TOKEN_ENV)
    assert plain.code == 1 and "cannot read" in plain.err
    out.write_text("version: 1\nmeters:\n  d:\n    name: Dashboard calls\n"
                   "    id: 2f1c3a9e-8d4b-4c1e-9f7a-5b6d2e8c0a13\n"
                   "    filter: {conjunction: and, clauses: []}\n    aggregation: {func: count}\n")
    before = out.read_text()
    run = invoke("--env", "production", "import", "--out", str(out), "--merge", env=TOKEN_ENV)
    assert run.code == 1 and "meters.d.id is a plain id, for every environment" in run.err
    assert out.read_text() == before
    assert "give --env NAME and --out FILE" in invoke(
        "--env", "production", "import", "--merge", env=TOKEN_ENV).err
