"""`emulator --org NAME:UUID:TOKEN`: several organizations, each reached by its own token."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.emulator.organizations import Organizations, OrgSpec, parse_org
from tests.support.e2e import start_command
from tests.support.environments import PRODUCTION_ORG, SANDBOX_ORG, TOKENS, two_orgs

BODY = {"name": "Calls", "filter": {"conjunction": "and", "clauses": []},
        "aggregation": {"func": "count"}}


def test_each_token_reaches_only_its_organization() -> None:
    with two_orgs() as orgs:
        made = orgs.create("sandbox", BODY)
        assert made["organization_id"] == SANDBOX_ORG
        assert [m["id"] for m in orgs.meters("sandbox")] == [made["id"]]
        assert orgs.meters("production") == []
        with orgs.http("production") as http:
            assert http.get(f"/v1/meters/{made['id']}").status_code == 404
            assert http.post("/v1/meters/", json=BODY).json()["organization_id"] == PRODUCTION_ORG
        with orgs.http("sandbox") as http:
            http.headers["Authorization"] = "Bearer polar_oat_unknown"
            assert http.get("/v1/meters/").status_code == 401


def test_state_directory_keeps_one_file_per_organization(tmp_path: Path) -> None:
    specs = [OrgSpec("sandbox", SANDBOX_ORG, TOKENS["sandbox"]),
             OrgSpec("production", PRODUCTION_ORG, TOKENS["production"])]
    orgs = Organizations(specs, tmp_path / "state")
    orgs.emulators["production"].create_meter(BODY)
    again = Organizations(specs, tmp_path / "state")
    assert len(again.emulators["production"].meter_records()) == 1
    assert again.emulators["sandbox"].meter_records() == []
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == ["production.json", "sandbox.json"]


@pytest.mark.parametrize(
    ("text", "message"),
    [("sandbox", "--org takes NAME:UUID:TOKEN"), ("Sand:x:y", "a name is lowercase"),
     ("a::polar_oat_x", "--org takes NAME:UUID:TOKEN")],
)
def test_bad_org_options(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_org(text)


def test_two_organizations_need_their_own_ids_and_tokens() -> None:
    with pytest.raises(ValueError, match="its own token"):
        Organizations([OrgSpec("a", SANDBOX_ORG, "polar_oat_x"), OrgSpec("b", PRODUCTION_ORG, "polar_oat_x")])


def test_the_command_prints_a_project_snippet_and_refuses_mixing() -> None:
    proc = start_command("--port", "0", "--org", f"sandbox:{SANDBOX_ORG}:{TOKENS['sandbox']}",
                         "--org", f"production:{PRODUCTION_ORG}:{TOKENS['production']}")
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(7)]
    finally:
        proc.terminate()
        proc.wait(10)
    text = "".join(lines)
    assert f"Organization production: {PRODUCTION_ORG}" in text
    assert f"organization_id: {SANDBOX_ORG}, token_env: POLAR_SANDBOX_TOKEN}}" in text
    mixed = start_command("--port", "0", "--token", "polar_oat_x", "--org", f"a:{SANDBOX_ORG}:polar_oat_y")
    _, err = mixed.communicate(timeout=30)
    assert mixed.returncode == 1 and "drop --token and --organization-id" in err


def test_each_organization_takes_the_emulators_options() -> None:
    specs = [OrgSpec("sandbox", SANDBOX_ORG, TOKENS["sandbox"]),
             OrgSpec("production", PRODUCTION_ORG, TOKENS["production"])]
    orgs = Organizations(specs, billing_interval=900.0, unstable_sort=True)
    assert [e.billing_interval for e in orgs.emulators.values()] == [900.0, 900.0]
    assert [e.unstable_sort for e in orgs.emulators.values()] == [True, True]
