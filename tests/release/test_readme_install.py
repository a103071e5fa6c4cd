"""README's Install section gives commands that work with this release: the tag of this
version, the shell completion of the real program, the action and the hooks by their names."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from reconciler import REPOSITORY, __version__
from tests.support.paths import ROOT

README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(f"## {title}")
    return README[start:README.index("\n## ", start + 1)]


def test_install_commands_name_this_release_and_no_package_index() -> None:
    install = section("Install")
    assert f'pip install "git+https://github.com/{REPOSITORY}@v{__version__}"' in install
    assert f'pipx install "git+https://github.com/{REPOSITORY}@v{__version__}"' in install
    assert not re.search(r"pip install polar-meters\b", README)
    ci = section("CI: plan in review, apply on merge")
    assert f"uses: {REPOSITORY}@v{__version__}" in ci and f"rev: v{__version__}" in ci
    assert "id: polar-meters-validate" in ci and "id: polar-meters-test" in ci


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_documented_completion_works(shell: str) -> None:
    (line,) = [x for x in section("Install").splitlines() if f"={shell}_source" in x]
    var = re.search(r"(_[A-Z_]+_COMPLETE)=", line).group(1)  # type: ignore[union-attr]
    env = {**os.environ, var: f"{shell}_source"}
    done = subprocess.run([sys.executable, "-c", "from reconciler.cli.main import main; main()"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and "polar-meters" in done.stdout and "_POLAR_METERS_COMPLETE" in done.stdout
