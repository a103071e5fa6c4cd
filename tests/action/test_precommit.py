"""The pre-commit hooks, run by pre-commit itself (`pre-commit try-repo`, as a user tries
them before adding them): offline, they pass on a good repository and fail with our located
error on a bad one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.composite import base_env
from tests.support.e2e import copy_examples
from tests.support.paths import ROOT
from tests.support.tools import which


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def pre_commit() -> str | None:
    """pre-commit of the test extras (beside this Python), else the one on PATH."""
    beside = Path(sys.executable).with_name("pre-commit")
    return str(beside) if beside.exists() else which("pre-commit")


def try_repo(repo: Path, hook: str, home: Path, tool: str) -> subprocess.CompletedProcess[str]:
    bin_dir = str(Path(sys.executable).parent)  # where polar-meters is, as on a user's PATH
    env = {**base_env(), "PATH": bin_dir + os.pathsep + base_env().get("PATH", ""),
           "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1", "PIP_NO_INDEX": "1"}
    return subprocess.run([tool, "try-repo", str(ROOT), hook, "--all-files"], cwd=repo,
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def test_hooks_are_declared_offline_and_whole_configuration() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"polar-meters-validate", "polar-meters-test"}
    for hook in hooks.values():
        assert hook["language"] == "system" and hook["pass_filenames"] is False
        assert hook["entry"].startswith("polar-meters ")


def test_try_repo_passes_on_good_files_and_fails_located_on_bad(tmp_path: Path) -> None:
    tool = pre_commit()
    if tool is None:
        return
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    copy_examples(repo)
    git(repo, "add", "-A")
    for hook in ("polar-meters-validate", "polar-meters-test"):
        done = try_repo(repo, hook, tmp_path / "pre-commit-home", tool)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Passed" in done.stdout
    bad = repo / "meters" / "storage.yaml"
    bad.write_text(bad.read_text().replace("aggregation:", "aggregation_typo:", 1))
    git(repo, "add", "-A")
    done = try_repo(repo, "polar-meters-validate", tmp_path / "pre-commit-home", tool)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Failed" in done.stdout and "meters/storage.yaml:" in done.stdout
