"""The action's environments variant (issue 18), its steps executed for real: one emulator
serving two organizations (what `emulator --org sandbox:… --org production:…` serves), a
polar-meters.yaml naming them, and a stand-in for GitHub's API. A pull request plans both
environments into one sticky comment; on merge sandbox is applied, then production (after
the GitHub Environment approval, which is the job starting): each only if its plan is the
one the comment recorded for it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from reconciler.config.project import parse_project
from reconciler.model import TAG_KEY
from tests.support.action_run import PR, REPO, Runner, commit, git, init_repo
from tests.support.e2e import copy_examples
from tests.support.environments import TOKEN_ENV, TOKENS, TwoOrgs, two_orgs, write_project
from tests.support.fake_github import FakeGitHub, serving
from tests.support.paths import ROOT

MARKER = "<!-- polar-meters:plan -->"
BOTH = {"environments": "sandbox production"}


def reviewed_line(env: str, head: str, digest: str) -> str:
    return f"<!-- polar-meters:reviewed env={env} head={head} actions_digest={digest} -->"


@pytest.fixture
def envs(tmp_path: Path) -> Iterator[tuple[Runner, TwoOrgs]]:
    repo = tmp_path / "repo"
    init_repo(repo)
    copy_examples(repo)
    with two_orgs() as orgs:
        write_project(repo, orgs.url, meters=None)
        commit(repo, "meters and polar-meters.yaml")
        with serving(FakeGitHub(repository=REPO)) as github:
            yield Runner(repo, github, tmp_path, dict(TOKEN_ENV)), orgs


def _planned_on_the_pull_request(runner: Runner) -> dict[str, dict]:
    """Plan both environments as the PR workflow does; each environment's plan document."""
    result, summary = runner.run(inputs=BOTH)
    assert result.code == 0, result.log
    assert result.outputs["has-changes"] == "true"
    assert result.outputs["changed-environments"] == "sandbox production"
    plans = Path(result.outputs["plan-file"])
    assert sorted(p.name for p in plans.iterdir()) == ["production.json", "sandbox.json"]
    assert "| **sandbox** | 7 |" in summary
    return {env: json.loads((plans / f"{env}.json").read_text()) for env in ("sandbox", "production")}


def test_plan_both_then_apply_sandbox_on_merge_then_production(envs: tuple[Runner, TwoOrgs]) -> None:
    runner, orgs = envs
    head = git(runner.repo, "rev-parse", "HEAD")
    plans = _planned_on_the_pull_request(runner)
    assert runner.github.calls[-1] == ("POST", f"/repos/{REPO}/issues/{PR}/comments")
    body = runner.comment()["body"]  # ONE comment: a section each, one summary table
    assert body.startswith(MARKER + "\n### polar-meters plan · 2 environments")
    assert body.count("| environment |") == 1 and body.count(MARKER) == 1
    assert body.index("#### sandbox · ") < body.index("#### production · ")
    for env in ("sandbox", "production"):
        assert plans[env]["environment"] == env
        assert reviewed_line(env, head, plans[env]["actions_digest"]) in body
    assert "reviewed head=" not in body and all(t not in body for t in TOKENS.values())

    merge = runner.merged(head)
    result, summary = runner.run("apply", event="push", sha=merge, inputs={"environments": "sandbox"})
    assert result.code == 0, result.log
    assert "the reviewed plan of sandbox is that of pull request #7" in result.log
    assert "Apply complete: 7 created" in summary
    assert len(orgs.meters("sandbox")) == 7 and orgs.writes("production") == []

    # the production job, once its GitHub Environment approved it: protected, so the action's
    # --auto-approve is what lets it apply (a terminal would ask to type "production")
    result, summary = runner.run("apply", event="push", sha=merge, inputs={"environments": "production"})
    assert result.code == 0, result.log
    assert "Apply complete: 7 created" in summary
    assert sorted(m["metadata"][TAG_KEY] for m in orgs.meters("production")) == sorted(
        m["metadata"][TAG_KEY] for m in orgs.meters("sandbox"))


def test_each_environment_applies_only_its_reviewed_plan(envs: tuple[Runner, TwoOrgs]) -> None:
    runner, orgs = envs
    head = git(runner.repo, "rev-parse", "HEAD")
    _planned_on_the_pull_request(runner)
    merge = runner.merged(head)
    # after the review, a meter appears in production's dashboard: its plan is not the one
    # reviewed any more (it would adopt, not create); sandbox's still is
    orgs.create("production", {"name": "API calls", "aggregation": {"func": "count"},
                               "filter": {"conjunction": "and", "clauses": []}})
    def changes() -> list[dict]:  # the writes but the lock probe (PATCH {"filter": null}: a no-op)
        return [w for w in orgs.writes("production") if w["body"] != {"filter": None}]

    writes = len(changes())
    result, _ = runner.run("apply", event="push", sha=merge, inputs={"environments": "production"})
    assert result.code == 1 and "is not the plan that was reviewed" in result.log, result.log
    assert len(changes()) == writes  # nothing sent
    result, _ = runner.run("apply", event="push", sha=merge, inputs={"environments": "sandbox"})
    assert result.code == 0, result.log
    assert len(orgs.meters("sandbox")) == 7

    both, _ = runner.run("apply", event="push", sha=merge, inputs=BOTH)
    assert both.code == 1 and "apply works on one environment per job" in both.log


def test_an_environment_the_pull_request_did_not_plan_is_refused(envs: tuple[Runner, TwoOrgs]) -> None:
    runner, orgs = envs
    head = git(runner.repo, "rev-parse", "HEAD")
    result, _ = runner.run(inputs={"environments": "sandbox"})
    assert result.code == 0, result.log
    body = runner.comment()["body"]
    assert "reviewed env=sandbox head=" in body and "env=production" not in body
    merge = runner.merged(head)
    result, _ = runner.run("apply", event="push", sha=merge, inputs={"environments": "production"})
    assert result.code == 1, result.log
    assert "holds no plan for environment production" in result.log
    assert orgs.writes("production") == []


def test_a_fork_without_the_environments_tokens_is_told_a_maintainer_must_plan(
        envs: tuple[Runner, TwoOrgs]) -> None:
    runner, orgs = envs
    result, summary = runner.run(token=False, inputs=BOTH)
    assert result.code == 0, result.log
    assert "needs a maintainer" in summary
    assert "`POLAR_PRODUCTION_TOKEN` or `POLAR_SANDBOX_TOKEN`" in runner.comment()["body"]
    assert orgs.core("sandbox").requests() == [] and orgs.core("production").requests() == []


def test_the_example_project_and_workflows_agree() -> None:
    examples = ROOT / "examples" / "github-actions"
    project = parse_project(examples / "polar-meters.yaml",
                            (examples / "polar-meters.yaml").read_bytes())
    sandbox, production = project.environments["sandbox"], project.environments["production"]
    assert production.protected and not sandbox.protected
    plan = yaml.safe_load((examples / "environments-plan.yml").read_text())["jobs"]["plan"]
    assert {sandbox.token_env, production.token_env} <= set(plan["env"])
    assert _action_step(plan)["with"]["environments"] == "sandbox production"
    jobs = yaml.safe_load((examples / "environments-apply.yml").read_text())["jobs"]
    assert list(jobs["sandbox"]["env"]) == [sandbox.token_env]
    assert list(jobs["production"]["env"]) == [production.token_env]
    assert jobs["production"]["needs"] == "sandbox" and jobs["production"]["environment"] == "production"
    assert "environment" not in jobs["sandbox"]
    for name in ("sandbox", "production"):
        assert _action_step(jobs[name])["with"] == {
            "command": "apply", "environments": name, "require-reviewed-plan": "true"}


def _action_step(job: dict) -> dict:
    (step,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("OWNER/polar-meters@")]
    return dict(step)
