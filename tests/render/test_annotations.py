from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from reconciler.cli.validate import command as validate
from reconciler.config.types import Diagnostic
from reconciler.model import Location
from reconciler.render.diagnostics import github_annotation


def test_annotation_escapes_data_and_properties() -> None:
    d = Diagnostic("error", "50% off,\nreally", Location("dir,x/a:b.yaml", 3, 7))
    assert github_annotation(d) == "::error file=dir%2Cx/a%3Ab.yaml,line=3,col=7::50%25 off,%0Areally"


def test_warning_without_location() -> None:
    assert github_annotation(Diagnostic("warning", "no meters are defined")) == "::warning::no meters are defined"


def test_validate_github_format_prints_located_annotations(tmp_path: Path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text("version: 1\nmeters:\n  x:\n    name: ab\n    filter: {conjunction: and, clauses: []}\n    aggregation: {func: count}\n")
    result = CliRunner().invoke(validate, ["--format", "github", str(bad)])
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert len(lines) == 1
    assert lines[0].startswith(f"::error file={bad},line=4,col=11::")
