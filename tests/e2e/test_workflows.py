"""The example GitHub workflows cannot rot: each is parsed, and the polar-meters commands it
runs are run here, with the same flags, against the emulator."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import yaml

from tests.support.e2e import ROOT, Api, cli, copy_examples

WORKFLOWS = ROOT / "examples" / "github-actions"


def load_workflow(name: str) -> dict:
    # GitHub reads `on:` as the string "on"; PyYAML (YAML 1.1) reads it as True.
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def commands(workflow: dict) -> list[list[str]]:
    """Every polar-meters command line of every `run:` step, without shell redirections."""
    out = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            for line in step.get("run", "").splitlines():
                line = line.split("#", 1)[0].strip()
                if line.startswith("polar-meters "):
                    words = shlex.split(line)
                    if ">" in words:
                        words = words[: words.index(">")]
                    out.append(words[1:])
    return out


def run_as_workflow(words: list[str], meters: Path, api: Api, cwd: Path):
    args = [str(meters) if w == "meters/" else w for w in words]
    return cli(*args, env=api.env, cwd=cwd)


@pytest.fixture
def api(emu) -> Api:
    return Api(emu)


def test_each_workflow_is_wellformed() -> None:
    for name in ("plan.yml", "apply.yml", "drift.yml"):
        wf = load_workflow(name)
        assert wf["on"] and wf["jobs"], name
        for job in wf["jobs"].values():
            assert job["env"]["POLAR_ACCESS_TOKEN"] == "${{ secrets.POLAR_ACCESS_TOKEN }}"
        assert commands(wf), name
    assert load_workflow("apply.yml")["concurrency"]["cancel-in-progress"] is False
    assert load_workflow("plan.yml")["on"]["pull_request"]["paths"] == ["meters/**"]


def test_workflow_commands_against_the_emulator(api: Api, tmp_path: Path) -> None:
    meters = copy_examples(tmp_path)
    plan_cmds = commands(load_workflow("plan.yml"))
    apply_cmds = commands(load_workflow("apply.yml"))
    drift_cmds = commands(load_workflow("drift.yml"))

    # Pull request: validate passes, plan exits 2 (changes), writes plan.json, prints markdown.
    results = [run_as_workflow(c, meters, api, tmp_path) for c in plan_cmds]
    assert [r.code for r in results] == [0, 2], [r.text for r in results]
    assert results[1].out.startswith("<!-- polar-meters:plan -->")
    saved = json.loads((tmp_path / "plan.json").read_text())
    keys = [k for f in meters.glob("*.yaml") for k in yaml.safe_load(f.read_text())["meters"]]
    assert saved["summary"]["create"] == len(keys) > 0
    assert "POLAR_ACCESS_TOKEN" not in json.dumps(saved) and api.emu.token not in json.dumps(saved)

    # Merge: apply succeeds; drift check then finds nothing.
    assert [run_as_workflow(c, meters, api, tmp_path).code for c in apply_cmds] == [0, 0]
    assert [run_as_workflow(c, meters, api, tmp_path).code for c in drift_cmds] == [0]

    # Someone edits a meter in the dashboard: the drift job fails (exit 2).
    victim = api.meters()[0]
    api.update(victim["id"], {"name": victim["name"] + " (edited)"})
    (drift,) = [run_as_workflow(c, meters, api, tmp_path) for c in drift_cmds]
    assert drift.code == 2 and "(edited)" in drift.out
