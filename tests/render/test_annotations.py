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
    assert len(lines) == 2
    assert lines[0].startswith(f"::error file={bad},line=4,col=11::")
    assert lines[1].startswith(f"::warning file={bad},line=5,col=41::meters.x.filter.clauses: empty")


def test_plan_level_errors_are_annotated_on_the_meters_line() -> None:
    from reconciler.render.diagnostics import plan_annotations
    from tests.support.builders import desired, plan, remote

    r = remote("a")
    d = desired("a", aggregation={"func": "count"})
    d.location = Location("meters/a.yaml", 7, 3)
    [line] = plan_annotations(plan([d], [r], locks={r.id: "confirmed"}))
    assert line.startswith("::error file=meters/a.yaml,line=7,col=3::a: the meter is locked")


def test_plan_errors_are_annotated_on_the_meters_line(emu, tmp_path: Path) -> None:
    from tests.support.inproc import invoke

    path = tmp_path / "meters.yaml"
    path.write_text(
        "version: 1\nmeters:\n  ghost:\n    id: 5b0e2a7c-9a53-4c1e-9a0b-7f6b1d2c3e4f\n    name: Ghost\n"
        "    filter: {conjunction: and, clauses: []}\n    aggregation: {func: count}\n"
    )
    run = invoke("plan", "--format", "github", str(path), "--server", emu.url, "--token", emu.token)
    assert run.code == 1
    assert f"::error file={path},line=3,col=3::key 'ghost'" in run.out.replace("%3A", ":"), run.text
