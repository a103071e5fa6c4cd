"""`polar-meters validate`: check meter files offline, every problem at once."""

from __future__ import annotations

import sys

import click

from reconciler.cli.common import strict_option
from reconciler.cli.envopts import paths_or_project, project_of
from reconciler.config.load import load_config
from reconciler.environments import unknown_pin_environments
from reconciler.render.diagnostics import plural, report_diagnostics


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "github"]),
    default="text",
    show_default=True,
    help="github: print problems as GitHub Actions annotations (::error file=…,line=…).",
)
@strict_option
def command(paths: tuple[str, ...], fmt: str, strict: bool) -> None:
    """Check the meter files in PATHS (files or directories, default meters/).

    Prints each problem as `path:line:col: message` and exits 1 on any error.
    Never makes a network request.
    """
    ctx = click.get_current_context()
    config = load_config(paths_or_project(ctx, paths), strict=strict)
    project = project_of(ctx)
    if project is not None:  # pins of environments the project does not declare
        config.diagnostics.extend(unknown_pin_environments(config.meters, project))
    if not report_diagnostics(config, fmt):
        sys.exit(1)
    summary = f"Valid: {plural(len(config.meters), 'meter')} in {plural(len(config.files), 'file')}"
    if config.warnings:
        summary += f" ({plural(len(config.warnings), 'warning')})"
    click.echo(summary + ".")
