"""`polar-meters diff --env A --env B`: compare what two environments' organizations hold
for the configured keys, field by field: the promotion check before applying to production."""

from __future__ import annotations

import sys

import click

from reconciler.cli.common import connections, paths_argument, reporter
from reconciler.cli.options import program_options
from reconciler.environments import environment_meters
from reconciler.pipeline import config_paths, connect, load_valid_config, read_remote
from reconciler.plan.promotion import compare
from reconciler.render.promotion import render_comparison
from reconciler.render.style import use_color


@click.command("diff")
@paths_argument
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when the environments differ (0: they do not, 1: error).")
@program_options
@click.pass_context
def command(ctx: click.Context, paths: tuple[str, ...], detailed_exitcode: bool) -> None:
    """Compare two environments (--env SOURCE --env TARGET) for the meters in PATHS.

    Reads both organizations, never writes. Shows, per configured key, each field where the
    TARGET's meter differs from the SOURCE's, and the meters only one of them has.
    """
    sides = connections(ctx)
    if len(sides) != 2:
        raise click.UsageError(
            "diff compares two environments: --env SOURCE --env TARGET "
            "(e.g. polar-meters --env sandbox --env production diff)"
        )
    report = reporter(ctx)
    config = load_valid_config(config_paths(paths, sides[0]), report)
    held = []
    for side in sides:
        meters = environment_meters(config.meters, side.project, side.environment)
        held.append((meters, read_remote(connect(side, config.organization_id), report)))
    source, target = (side.environment.name for side in sides if side.environment is not None)
    comparison = compare(source, held[0], target, held[1])
    click.echo(render_comparison(comparison, color=use_color()))
    if detailed_exitcode and comparison.differs:
        sys.exit(2)
