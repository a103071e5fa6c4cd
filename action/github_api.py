"""The few GitHub REST calls the action makes, with the standard library only: the sticky
pull-request comment (find ours, create it once, edit it after) and the pull request a
pushed commit was merged from. GITHUB_API_URL says where the API is (a test's local server
stands in for it); the token is GitHub's, never Polar's."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

#: The first line of our comment: a reviewer's comment that quotes it is not ours, because
#: only comments by our own identity count.
MARKER = "<!-- polar-meters:plan -->"
#: The hidden line that records what was planned, for the merge policy: one per environment
#: of polar-meters.yaml when the plan was made for environments (env=NAME), else one.
REVIEWED = re.compile(r"<!-- polar-meters:reviewed (?:env=([a-z][a-z0-9_-]*) )?"
                      r"head=([0-9a-f]{7,64}) actions_digest=(sha256:[0-9a-f]{64}) -->")
#: Who writes comments with the workflow's GITHUB_TOKEN (it may not ask GET /user).
ACTIONS_BOT = "github-actions[bot]"
#: GitHub refuses comments longer than 65,536 characters.
MAX_COMMENT = 65_000


class GitHubError(Exception):
    """A GitHub API call failed: one line, with the status and GitHub's message."""


@dataclass
class GitHub:
    api_url: str  # e.g. https://api.github.com
    repository: str  # owner/name
    token: str

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.api_url.rstrip("/") + path, data=data, method=method,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self.token}",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "polar-meters-action",
                **({"Content-Type": "application/json"} if data is not None else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                text = answer.read().decode()
        except urllib.error.HTTPError as exc:
            message = exc.read().decode(errors="replace")[:200]
            raise GitHubError(f"{method} {path}: {exc.code} {message}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise GitHubError(f"{method} {path}: {exc}") from None
        return json.loads(text) if text else None

    def pages(self, path: str) -> list[Any]:
        """Every item of a listing, 100 a page."""
        items: list[Any] = []
        for page in range(1, 101):
            sep = "&" if "?" in path else "?"
            got = self.call("GET", f"{path}{sep}per_page=100&page={page}")
            items += got
            if len(got) < 100:
                break
        return items

    def identity(self) -> str:
        """Our login: the token's user where it may ask, else the Actions bot."""
        try:
            return str(self.call("GET", "/user")["login"])
        except (GitHubError, KeyError, TypeError):
            return ACTIONS_BOT

    def our_comment(self, number: int) -> dict[str, Any] | None:
        """Our sticky comment on pull request `number`: by our identity, with the marker."""
        me = self.identity()
        for comment in self.pages(f"/repos/{self.repository}/issues/{number}/comments"):
            user = (comment.get("user") or {}).get("login")
            if user == me and str(comment.get("body") or "").startswith(MARKER):
                return dict(comment)
        return None

    def sticky(self, number: int, body: str, create: bool) -> str:
        """Edit our comment, or create it when `create`; say which ("created", "updated",
        "none")."""
        body = body if len(body) <= MAX_COMMENT else body[:MAX_COMMENT] + "\n\n…(cut)\n"
        mine = self.our_comment(number)
        if mine is not None:
            self.call("PATCH", f"/repos/{self.repository}/issues/comments/{mine['id']}",
                      {"body": body})
            return "updated"
        if not create:
            return "none"
        self.call("POST", f"/repos/{self.repository}/issues/{number}/comments", {"body": body})
        return "created"

    def merged_from(self, sha: str) -> dict[str, Any] | None:
        """The pull request commit `sha` was merged from, if any."""
        pulls = self.call("GET", f"/repos/{self.repository}/commits/{sha}/pulls") or []
        for pull in pulls:
            if pull.get("merge_commit_sha") == sha:
                return dict(pull)
        return dict(pulls[0]) if pulls else None


def reviewed_line(head: str, digest: str, environment: str | None = None) -> str:
    env = f"env={environment} " if environment else ""
    return f"<!-- polar-meters:reviewed {env}head={head} actions_digest={digest} -->"


def reviewed(body: str, environment: str | None = None) -> tuple[str, str] | None:
    """(head sha, actions digest) our comment records for ENVIRONMENT (None: a plan made
    without environments), if it holds that plan."""
    for found in REVIEWED.finditer(body):
        if found.group(1) == environment:
            return found.group(2), found.group(3)
    return None
