"""The README's environments section: its project file is valid, and its two-environment PR
comment is what polar-meters makes for the change it describes (regenerate it with
`python -m tests.support.readme_environments`)."""

from __future__ import annotations

from pathlib import Path

from reconciler.config.project import parse_project
from tests.support.readme_environments import (
    README,
    documented,
    normalised,
    pr_comment,
    readme_block,
)


def test_the_readme_environments_comment_is_real(tmp_path: Path) -> None:
    made = readme_block(pr_comment(tmp_path))
    assert normalised(documented()) == normalised(made)


def test_the_readme_project_file_is_valid() -> None:
    section = README.read_text().split("## Environments\n", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert block.startswith("# polar-meters.yaml")
    project = parse_project(Path("polar-meters.yaml"), block.encode())
    assert list(project.environments) == ["sandbox", "production"]
    assert project.environments["production"].protected
