"""Never duplicate, even when two runs overlap (issue 15): a key looked up again right before
each create, later copies archived and untagged after the creates, and plans that resolve a
key tagged on several meters."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from reconciler.model import TAG_KEY
from reconciler.pipeline import Connection, Planned, PlanRequest, apply_run, plan_run
from reconciler.plan import document as planfile
from tests.support.builders import meter_file
from tests.support.e2e import ROOT, Api
from tests.support.inproc import invoke

COUNT = 300


@pytest.fixture
def api(emu) -> Api:
    return Api(emu)


def active_keys(api: Api) -> Counter[str]:
    return Counter(
        (m["metadata"] or {}).get(TAG_KEY, "(untagged)") for m in api.meters() if m["archived_at"] is None
    )


def test_two_applies_at_once_end_with_one_meter_per_key(api: Api, tmp_path: Path) -> None:
    config = meter_file(tmp_path / "meters.yaml", COUNT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLAR_")}
    env.update(api.env, NO_COLOR="1")
    command = [sys.executable, "-m", "reconciler", "apply", "--auto-approve", str(config)]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env, cwd=ROOT) for _ in range(2)]
    results = [run.communicate(timeout=240) for run in runs]
    for run, (out, err) in zip(runs, results):
        assert run.returncode == 0, out + err
        assert "Traceback" not in err
    keys = active_keys(api)
    assert len(keys) == COUNT and set(keys.values()) == {1}
    # every tagged meter is active: the later copies were untagged as they were archived
    assert all(m["archived_at"] is None for m in api.meters() if TAG_KEY in (m["metadata"] or {}))
    again = invoke("plan", "--detailed-exitcode", str(config), env=api.env)
    assert again.code == 0 and "No changes." in again.out, again.text


def test_a_dashboard_copy_of_a_managed_meter_is_listed_then_resolved(api: Api, tmp_path: Path) -> None:
    config = meter_file(tmp_path / "meters.yaml", 2)
    assert invoke("apply", "--auto-approve", str(config), env=api.env).code == 0
    [original] = [m for m in api.meters() if m["metadata"][TAG_KEY] == "m001"]
    body = {k: original[k] for k in ("name", "filter", "aggregation", "metadata")}
    copy = api.create(body)  # a copy made in the dashboard carries our tag
    plan = invoke("plan", "--detailed-exitcode", str(config), env=api.env)
    assert plan.code == 0, plan.text  # not an error, and nothing to do unasked
    assert f"{copy['id']} duplicate of m001" in plan.out
    assert "apply --resolve-duplicates" in plan.out
    run = invoke("apply", "--auto-approve", "--resolve-duplicates", str(config), env=api.env)
    assert run.code == 0, run.text
    assert f"archive ({copy['id']}) — duplicate of m001: archived and untagged" in run.out
    assert f"m001: archived ({copy['id']})" in run.out
    [archived] = [m for m in api.meters() if m["id"] == copy["id"]]
    assert archived["archived_at"] is not None and TAG_KEY not in archived["metadata"]
    assert active_keys(api) == Counter({"m000": 1, "m001": 1})
    again = invoke("plan", "--detailed-exitcode", str(config), env=api.env)
    assert again.code == 0 and "No changes." in again.out and "duplicate" not in again.out


def test_a_key_created_meanwhile_is_not_created_again(api: Api, tmp_path: Path) -> None:
    config = meter_file(tmp_path / "meters.yaml", 1)
    saved = tmp_path / "plan.json"
    assert invoke("plan", str(config), "--out", str(saved), env=api.env).code == 0
    assert invoke("apply", "--auto-approve", str(config), env=api.env).code == 0
    # the same creates again, as an overlapping run that planned before the first applied
    # would send them: the lookup right before each create finds the key
    connection = Connection(server=api.emu.url, token=api.emu.token)
    planned = plan_run(PlanRequest([str(config)]), connection)
    assert not planned.plan.has_changes
    result = apply_run(Planned(planned.target, planfile.read(saved), planned.remote))
    assert result.ok and [o.note for o in result.outcomes] == ["a concurrent run created it first; left as it is"]
    assert active_keys(api) == Counter({"m000": 1})


def test_pruned_meters_are_counted_apart_not_as_work_left(api: Api, tmp_path: Path) -> None:
    config = meter_file(tmp_path / "meters.yaml", 2)
    assert invoke("apply", "--auto-approve", str(config), env=api.env).code == 0
    fewer = meter_file(tmp_path / "fewer.yaml", 1)
    assert invoke("apply", "--auto-approve", "--prune", str(fewer), env=api.env).code == 0
    plan = invoke("plan", str(fewer), env=api.env)
    assert "1 archived earlier, not in the configuration" in plan.out, plan.out
    assert "missing from the configuration" not in plan.out
