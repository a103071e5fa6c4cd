"""The action run as a workflow job runs it, for tests/action/: a temporary git repository
holding meter files, GitHub's variables and event file made here, a stand-in for GitHub's
REST API (fake_github.py), and the action's steps executed by bash (composite.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.composite import ActionRun, base_env, run_action
from tests.support.fake_github import BOT, FakeGitHub
from tests.support.paths import ROOT

REPO = "acme/billing"
PR = 7


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True, env={**base_env(), "GIT_AUTHOR_NAME": "t",
                                           "GIT_AUTHOR_EMAIL": "t@example.com",
                                           "GIT_COMMITTER_NAME": "t",
                                           "GIT_COMMITTER_EMAIL": "t@example.com"})
    return done.stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def init_repo(repo: Path) -> None:
    repo.mkdir()
    git(repo, "init", "-q")


@dataclass
class Runner:
    repo: Path
    github: FakeGitHub
    tmp: Path
    polar_env: dict[str, str]  # the Polar token variables a job with secrets has
    defaults: dict[str, str] = field(default_factory=dict)  # inputs of every run (server…)

    def run(self, command: str = "plan", event: str = "pull_request", token: bool = True,
            sha: str | None = None, inputs: dict[str, str] | None = None
            ) -> tuple[ActionRun, str]:
        sha = sha or git(self.repo, "rev-parse", "HEAD")
        payload = {"pull_request": {"number": PR, "head": {"sha": sha}}} if event.startswith(
            "pull_request") else {"after": sha}
        event_path = self.tmp / "event.json"
        event_path.write_text(json.dumps(payload))
        summary = self.tmp / "summary.md"
        summary.write_text("")
        env = {**base_env(), "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": str(event_path),
               "GITHUB_SHA": sha, "GITHUB_REPOSITORY": REPO, "GITHUB_RUN_ID": "4242",
               "GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": self.github.url,
               "GITHUB_STEP_SUMMARY": str(summary), "RUNNER_TEMP": str(self.tmp / "runner"),
               "CI": "true", "GITHUB_ACTIONS": "true", "NO_COLOR": "1"}
        if token:
            env.update(self.polar_env)
        context = {"action_path": str(ROOT), "token": "ghs_test_token", "sha": sha,
                   "event_name": event}
        given = {"command": command, "python": sys.executable, **self.defaults, **(inputs or {})}
        result = run_action(ROOT / "action.yml", given, context, env, self.repo)
        return result, summary.read_text()

    def comment(self) -> dict:
        (mine,) = [c for c in self.github.comments.get(PR, []) if c["user"]["login"] == BOT]
        return mine

    def merged(self, head: str) -> str:
        """A merge commit of the pull request whose last commit is HEAD (as GitHub lists it)."""
        merge = commit(self.repo, f"Merge pull request #{PR}")
        self.github.pulls_of_commit[merge] = [
            {"number": PR, "merge_commit_sha": merge, "head": {"sha": head}}]
        return merge
