"""action.yml's steps, executed for real: each `run:` block by bash in a temporary git
repository holding meter files, with the files and variables GitHub provides made here,
against the emulator; a local server stands in for GitHub's REST API, and the test asserts
its exact calls (the sticky comment is created once, then that same comment is edited)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.action_run import PR, REPO, Runner, commit, git, init_repo
from tests.support.e2e import Api, copy_examples
from tests.support.fake_github import BOT, FakeGitHub, serving
from tests.support.inproc import invoke

MARKER = "<!-- polar-meters:plan -->"


@dataclass
class EmuRunner(Runner):
    """The action against one emulated organization (POLAR_ACCESS_TOKEN, server: its URL)."""

    emu: Any = None
    emu_url: str = ""
    emu_token: str = ""


@pytest.fixture
def runner(emu, tmp_path: Path) -> Iterator[EmuRunner]:
    repo = tmp_path / "repo"
    init_repo(repo)
    copy_examples(repo)
    commit(repo, "meters")
    with serving(FakeGitHub(repository=REPO)) as github:
        yield EmuRunner(repo, github, tmp_path, {"POLAR_ACCESS_TOKEN": emu.token},
                        {"server": emu.url}, emu, emu.url, emu.token)


def comment_calls(number: int = PR) -> list[tuple[str, str]]:
    return [("GET", "/user"), ("GET", f"/repos/{REPO}/issues/{number}/comments")]


def test_plan_creates_one_comment_then_edits_it(runner: EmuRunner) -> None:
    stranger = runner.github.add_comment(PR, "mallory", MARKER + "\nnot ours: never edited")
    result, summary = runner.run()
    assert result.code == 0, result.log
    assert result.skipped == ["setup"]
    assert result.outputs["exitcode"] == "2" and result.outputs["has-changes"] == "true"
    assert result.outputs["version"] == "0.2.0"
    plan = json.loads(Path(result.outputs["plan-file"]).read_text())
    assert plan["summary"]["create"] == 7
    markdown = Path(result.outputs["markdown-file"]).read_text()
    assert markdown.startswith(MARKER) and "+ api-calls" in markdown
    assert "+ api-calls" in summary and "| 7 |" in summary
    posts = [(m, p) for m, p in runner.github.calls if m != "GET"]
    assert runner.github.calls == [*comment_calls(), ("POST", f"/repos/{REPO}/issues/{PR}/comments")]
    first = runner.comment()
    sha = git(runner.repo, "rev-parse", "HEAD")
    assert first["body"].startswith(MARKER + "\n### polar-meters plan")
    assert f"`{sha[:7]}`" in first["body"] and "https://github.com/acme/billing/actions/runs/4242" in first["body"]
    assert f"head={sha} actions_digest={plan['actions_digest']}" in first["body"]
    assert runner.emu_token not in first["body"] and stranger["body"].endswith("never edited")
    assert posts == [("POST", f"/repos/{REPO}/issues/{PR}/comments")]

    # A new commit on the branch: the same comment is edited, no second one.
    path = runner.repo / "meters" / "storage.yaml"
    path.write_text(path.read_text().replace("name: Storage (GB)", "name: Storage used (GB)"))
    sha2 = commit(runner.repo, "rename")
    runner.github.clear()
    result, _ = runner.run()
    assert result.code == 0, result.log
    assert runner.github.calls == [*comment_calls(),
                                   ("PATCH", f"/repos/{REPO}/issues/comments/{first['id']}")]
    assert f"`{sha2[:7]}`" in runner.comment()["body"]
    assert len(runner.github.comments[PR]) == 2  # ours and mallory's

    # A broken file: the plan is replaced by the located errors, never left stale.
    path.write_text(path.read_text().replace("aggregation:", "aggregation_typo:"))
    commit(runner.repo, "broken")
    runner.github.clear()
    result, summary = runner.run()
    assert result.code == 1 and result.outputs["exitcode"] == "1"
    assert runner.github.calls[-1] == ("PATCH", f"/repos/{REPO}/issues/comments/{first['id']}")
    body = runner.comment()["body"]
    assert "polar-meters validate failed" in body and "meters/storage.yaml:" in body
    assert "+ api-calls" not in body and "meters/storage.yaml:" in summary


def test_no_changes_makes_no_comment_unless_one_exists(runner: EmuRunner) -> None:
    assert invoke("--server", runner.emu_url, "apply", "--auto-approve",
                  str(runner.repo / "meters"), env={"POLAR_ACCESS_TOKEN": runner.emu_token}).code == 0
    result, summary = runner.run()
    assert result.code == 0 and result.outputs["has-changes"] == "false", result.log
    assert runner.github.calls == comment_calls()  # looked, wrote nothing
    assert "No changes." in summary
    ours = runner.github.add_comment(PR, BOT, MARKER + "\nan old plan")
    runner.github.clear()
    result, _ = runner.run()
    assert runner.github.calls == [*comment_calls(),
                                   ("PATCH", f"/repos/{REPO}/issues/comments/{ours['id']}")]
    assert "No changes." in runner.comment()["body"] and "an old plan" not in runner.comment()["body"]


def test_a_plan_polar_would_refuse_replaces_the_comment(runner: EmuRunner) -> None:
    api = Api(runner.emu)
    meters = str(runner.repo / "meters")
    assert invoke("--server", runner.emu_url, "apply", "--auto-approve", meters,
                  env={"POLAR_ACCESS_TOKEN": runner.emu_token}).code == 0
    ours = runner.github.add_comment(PR, BOT, MARKER + "\nan old plan")
    answer = api.http.post("/v1/events/ingest", json={"events": [  # its filter is frozen now
        {"name": "storage_snapshot", "external_customer_id": "acme",
         "timestamp": "2024-05-01T00:00:00Z", "metadata": {"gigabytes": 3}}]})
    assert answer.json()["inserted"] == 1
    path = runner.repo / "meters" / "storage.yaml"
    clause = "        - {property: name, operator: eq, value: storage_snapshot}\n"
    path.write_text(path.read_text().replace(
        clause, clause + "        - {property: name, operator: ne, value: other}\n", 1))
    commit(runner.repo, "change a locked filter")
    result, _ = runner.run()
    assert result.code == 1 and result.outputs["exitcode"] == "1", result.log
    assert runner.github.calls[-1] == ("PATCH", f"/repos/{REPO}/issues/comments/{ours['id']}")
    body = runner.comment()["body"]
    assert "an old plan" not in body and "This plan cannot be applied" in body
    assert "CAUTION" in body and "actions_digest" not in body  # never taken as reviewed


def test_detailed_exitcode_fails_on_changes(runner: EmuRunner) -> None:
    result, _ = runner.run(event="schedule", inputs={"detailed-exitcode": "true"})
    assert result.code == 2 and result.outputs["exitcode"] == "2"
    assert runner.github.calls == []  # no pull request, no comment


def test_a_fork_without_the_token_validates_and_says_a_maintainer_must_plan(runner: EmuRunner) -> None:
    result, summary = runner.run(token=False)
    assert result.code == 0, result.log
    assert "needs a maintainer" in summary and "meter tests pass" in summary
    assert "3 tests passed." in result.log
    assert runner.github.calls[-1] == ("POST", f"/repos/{REPO}/issues/{PR}/comments")
    assert "needs a maintainer" in runner.comment()["body"]


def test_apply_on_merge_applies_only_the_reviewed_plan(runner: EmuRunner) -> None:
    head = git(runner.repo, "rev-parse", "HEAD")
    result, _ = runner.run()  # the plan reviewed on the pull request
    assert result.code == 0, result.log
    merge = runner.merged(head)
    # The merged commit holds one more change than what was reviewed: refused, nothing sent.
    path = runner.repo / "meters" / "storage.yaml"
    original = path.read_text()
    path.write_text(original.replace("name: Storage (GB)", "name: Storage (GiB)"))
    result, _ = runner.run("apply", event="push", sha=merge)
    assert result.code == 1 and "is not the plan that was reviewed" in result.log
    assert invoke("--server", runner.emu_url, "plan", "--detailed-exitcode", str(runner.repo / "meters"),
                  env={"POLAR_ACCESS_TOKEN": runner.emu_token}).code == 2  # nothing applied
    path.write_text(original)
    result, summary = runner.run("apply", event="push", sha=merge)
    assert result.code == 0, result.log
    assert "Apply complete: 7 created" in summary
    # A commit pushed without a pull request: refused unless the workflow opts out.
    direct = commit(runner.repo, "direct push")
    result, _ = runner.run("apply", event="push", sha=direct)
    assert result.code == 1 and "was not merged from a pull request" in result.log
    result, _ = runner.run("apply", event="push", sha=direct, inputs={"require-reviewed-plan": "false"})
    assert result.code == 0 and "No changes." in result.log


def test_the_test_command_and_an_unknown_one(runner: EmuRunner) -> None:
    result, _ = runner.run("test")
    assert result.code == 0 and "3 tests passed." in result.log
    result, _ = runner.run("destroy")
    assert result.code == 1 and "is not one of validate, test, plan, apply" in result.log


def test_the_strict_input_makes_a_warning_stop_the_plan(runner: EmuRunner) -> None:
    (runner.repo / "meters" / "everything.yaml").write_text(
        "version: 1\nmeters:\n  everything:\n    name: Every event\n"
        "    filter: {conjunction: and, clauses: []}\n    aggregation: {func: count}\n")
    commit(runner.repo, "a meter counting every event")
    result, _ = runner.run(event="schedule")
    assert result.code == 0, result.log
    assert "empty: the meter counts every event" in result.log
    result, _ = runner.run(event="schedule", inputs={"strict": "true"})
    assert result.code == 1 and result.outputs["exitcode"] == "1"
    assert "validate --strict --format github" in result.log
    assert "(an error under --strict)" in result.log
