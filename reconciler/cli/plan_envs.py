"""`plan` for several environments: one plan each, printed as sections, saved one file each."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from reconciler.errors import UserError
from reconciler.files import write_text
from reconciler.pipeline import Connection, PlanRequest, Reporter, plan_run
from reconciler.plan import document as planfile
from reconciler.plan.types import Plan
from reconciler.render.diagnostics import plan_annotations
from reconciler.render.environments import render_environments_markdown, render_environments_text
from reconciler.render.style import use_color


def plan_file_in(directory: str, environment: str) -> str:
    """Where `plan --out DIR` saves an environment's plan: DIR/ENV.json."""
    return str(Path(directory) / f"{environment}.json")


def out_directory(out: str) -> str:
    """``out`` as a directory for plan files, made if it is missing."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise UserError(f"--out {out}: with several environments, --out names a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"--out {out}: cannot make the directory ({exc.strerror})") from None
    return out


def plan_environments(
    request: PlanRequest, connections: Sequence[Connection], reporter: Reporter, out: str | None
) -> list[Plan]:
    """Plan every environment first (nothing is printed until all are read), then save."""
    plans = [plan_run(request, connection, reporter).plan for connection in connections]
    if out:
        directory = out_directory(out)
        for plan in plans:
            write_text(plan_file_in(directory, str(plan.environment)), planfile.dumps(plan), "plan file")
    return plans


def print_environments(plans: Sequence[Plan], fmt: str, out: str | None, detailed_exitcode: bool) -> None:
    if fmt == "json":
        documents = {str(p.environment): planfile.to_document(p) for p in plans}
        click.echo(json.dumps({"environments": documents}, indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(render_environments_markdown(plans))
    else:
        if fmt == "github":
            for plan in plans:
                for line in plan_annotations(plan, name_environment=True):
                    click.echo(line)
        click.echo(render_environments_text(plans, color=use_color()))
        if out:
            files = ", ".join(plan_file_in(out, str(p.environment)) for p in plans)
            click.echo(f"\nSaved the plans to {files}. Apply one exactly with: "
                       "polar-meters --env NAME apply --plan FILE")
    if any(p.problems for p in plans):
        sys.exit(1)
    if detailed_exitcode and any(p.has_changes for p in plans):
        sys.exit(2)
