"""The README's "Environments" example, made by the real CLI: two `server: local`
environments, production one change behind sandbox, and a PR that edits a meter.

`python -m tests.support.readme_environments` rewrites the README block; the test
(tests/e2e/test_readme_environments.py) fails while the README differs from what this makes.
"""

from __future__ import annotations

import contextlib
import re
import sys
import tempfile
from pathlib import Path

from tests.support.e2e import copy_examples
from tests.support.environments import PRODUCTION_ORG, SANDBOX_ORG
from tests.support.inproc import invoke
from tests.support.paths import ROOT

README = ROOT / "README.md"
START, END = "<!-- environments-comment:start -->", "<!-- environments-comment:end -->"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
PROJECT = f"""\
version: 1
paths: [meters/]
environments:
  sandbox:    {{server: local, organization_id: {SANDBOX_ORG}}}
  production: {{server: local, organization_id: {PRODUCTION_ORG}, protected: true}}
"""
EXPORTS = """\
  exports:
    name: CSV exports
    filter: {conjunction: and, clauses: [{property: name, operator: eq, value: export_finished}]}
    aggregation: {func: sum, property: rows}

tests:"""


def _run(*args: str) -> str:
    run = invoke(*args)
    assert run.code in (0, 2), run.text
    return run.out


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def pr_comment(root: Path) -> str:
    """The two-environment PR comment, meter ids as they came (random)."""
    meters = copy_examples(root)
    (root / "polar-meters.yaml").write_text(PROJECT)
    with contextlib.chdir(root):
        for env in ("sandbox", "production"):
            _run("--env", env, "apply", "--auto-approve")
        _edit(meters / "api-calls.yaml", "\ntests:", "\n" + EXPORTS)  # merged last week
        _run("--env", "sandbox", "apply", "--auto-approve")  # production not yet
        _edit(meters / "api-calls.yaml", "custom_multiplier: 1000 ", "custom_multiplier: 100  ")
        return _run("plan", "--all-envs", "--format", "markdown")


def readme_block(comment: str) -> str:
    return f"{START}\n````markdown\n{comment.rstrip()}\n````\n{END}"


def documented() -> str:
    text = README.read_text()
    return text[text.index(START):text.index(END) + len(END)]


def normalised(text: str) -> str:
    return UUID.sub(lambda m: m.group(0) if m.group(0) in (SANDBOX_ORG, PRODUCTION_ORG) else "<id>", text)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        block = readme_block(pr_comment(Path(tmp)))
    text = README.read_text()
    README.write_text(text.replace(documented(), block))
    sys.stdout.write(block + "\n")
