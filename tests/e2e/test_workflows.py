"""The example GitHub workflows use the action and nothing else to install polar-meters, with
inputs the action has; plan.yml runs for every file the plan and the meter tests read. (The
action's steps themselves run in tests/action/test_action_steps.py; actionlint and shellcheck
check these files in tests/action/test_lint.py.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from reconciler import REPOSITORY, __version__
from reconciler.config.load import load_config
from tests.support.paths import EXAMPLES, ROOT

WORKFLOWS = ROOT / "examples" / "github-actions"
ACTION = f"{REPOSITORY}@v{__version__}"


def load_workflow(name: str) -> dict[str, Any]:
    # GitHub reads `on:` as the string "on"; PyYAML (YAML 1.1) reads it as True.
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    if True in doc:
        doc["on"] = doc.pop(True)
    return dict(doc)


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for job in workflow["jobs"].values() for s in job["steps"]]


def test_no_workflow_installs_polar_meters_from_a_package_index() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        text = path.read_text()
        assert not re.search(r"pip3? install|pipx|uv pip|setup-python", text), path.name
        ours = [s for s in steps(load_workflow(path.name)) if "polar-meters" in str(s.get("uses"))]
        assert ours and all(s["uses"] == ACTION for s in ours), path.name


def test_every_input_given_is_an_input_of_the_action() -> None:
    inputs = set(yaml.safe_load((ROOT / "action.yml").read_text())["inputs"])
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for step in steps(load_workflow(path.name)):
            if step.get("uses") == ACTION:
                assert set(step.get("with") or {}) <= inputs, (path.name, step["with"])
                assert "token" not in " ".join(step.get("with") or {}), "the token is env only"


def test_plan_runs_for_the_meter_files_and_the_events_their_tests_read() -> None:
    plan = load_workflow("plan.yml")
    paths = plan["on"]["pull_request"]["paths"]
    assert paths == ["meters/**", "events/**"]
    config = load_config([str(EXAMPLES)])
    sources = {t.source for t in config.tests if t.source != "inline"}
    assert sources, "the examples' meter tests read events files"
    for source in sources:  # as the examples lie: meters/ beside events/
        name = Path(source).resolve().relative_to(EXAMPLES.parent.resolve())
        assert re.match(r"^events/", name.as_posix()), name
    assert plan["jobs"]["plan"]["env"]["POLAR_ACCESS_TOKEN"] == "${{ secrets.POLAR_ACCESS_TOKEN }}"
    assert plan["permissions"]["pull-requests"] == "write"


def test_apply_runs_on_the_default_branch_one_at_a_time_in_an_environment() -> None:
    apply = load_workflow("apply.yml")
    assert apply["on"]["push"]["branches"] == ["main"]
    assert apply["concurrency"]["cancel-in-progress"] is False
    job = apply["jobs"]["apply"]
    assert job["environment"] == "production"
    (step,) = [s for s in job["steps"] if s.get("uses") == ACTION]
    assert step["with"]["command"] == "apply" and step["with"]["require-reviewed-plan"] == "true"


def test_drift_is_scheduled_fails_on_drift_and_keeps_one_issue() -> None:
    drift = load_workflow("drift.yml")
    assert drift["on"]["schedule"]
    plan, issue = steps(drift)[1:]
    assert plan["with"]["detailed-exitcode"] == "true"
    assert "steps.plan.outputs.exitcode == '2'" in issue["if"]
    assert "gh issue edit" in issue["run"] and "gh issue create" in issue["run"]
    assert drift["permissions"]["issues"] == "write"
