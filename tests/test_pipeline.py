"""reconciler/pipeline.py: the whole run without click (issue 12): plan, apply, plan again."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config.types import Config
from reconciler.errors import InvalidConfiguration
from reconciler.pipeline import Connection, PlanRequest, Reporter, apply_run, plan_run
from tests.support.e2e import API_CALLS_YAML


def test_plan_apply_plan_without_the_cli(emu, tmp_path: Path) -> None:
    path = tmp_path / "meters.yaml"
    path.write_text(API_CALLS_YAML)
    connection = Connection(server=emu.url, token=emu.token)
    planned = plan_run(PlanRequest([str(path)]), connection)
    plan = planned.plan
    assert [a.kind for a in plan.actions] == ["create"]
    # complete as make_plan returned it: nothing is filled in afterwards
    assert plan.server_url == emu.url and plan.config_files == [str(path)]
    assert plan.config_digest and plan.config_digest.startswith("sha256:")
    result = apply_run(planned)
    assert result.ok and result.count("create") == 1
    assert not plan_run(PlanRequest([str(path)]), connection).plan.has_changes


def test_an_invalid_configuration_is_an_error_not_an_exit(tmp_path: Path) -> None:
    path = tmp_path / "meters.yaml"
    path.write_text("version: 1\nmeters:\n  x:\n    name: ab\n")
    seen: list[Config] = []
    with pytest.raises(InvalidConfiguration):
        plan_run(PlanRequest([str(path)]), Connection(server="http://127.0.0.1:9"), Reporter(diagnostics=seen.append))
    assert seen and seen[0].errors


def test_every_meter_read_must_belong_to_the_managed_organization() -> None:
    from reconciler.errors import UserError
    from reconciler.pipeline import check_organization
    from reconciler.polar.servers import Target
    from tests.support.builders import ORG, remote

    other = "11111111-1111-4111-8111-111111111111"
    mine, foreign = remote("a"), remote("b", organization_id=other)
    named = Target("x", "http://x", "t", None, ORG)
    check_organization(named, [mine])
    with pytest.raises(UserError, match=f"reaches meters of {other}"):
        check_organization(named, [mine, foreign])
    unnamed = Target("x", "http://x", "t", None, None)  # an organization token, no organization_id
    check_organization(unnamed, [foreign])
    with pytest.raises(UserError, match="meters of several organizations"):
        check_organization(unnamed, [mine, foreign])
