"""`polar-meters plan`: show what apply would change, and optionally save it."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from reconciler.cli.common import (
    connection,
    connections,
    paths_argument,
    reporter,
    strict_option,
    targeting_options,
    with_prune_options,
)
from reconciler.cli.envopts import several_environments
from reconciler.cli.options import program_options
from reconciler.cli.plan_envs import plan_environments, plan_file_in, print_environments
from reconciler.errors import PlanError
from reconciler.files import write_text
from reconciler.pipeline import PlanRequest, plan_run
from reconciler.plan import document as planfile
from reconciler.plan.live import (
    DEFAULT_LIMIT,
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW,
    WINDOWS,
    LiveOptions,
)
from reconciler.plan.targeting import Targeting
from reconciler.plan.types import Plan
from reconciler.render.diagnostics import github_annotation, plan_annotations
from reconciler.render.markdown import render_markdown
from reconciler.render.style import use_color
from reconciler.render.text import render_text
from reconciler.usage.eventfile import load_events_option
from reconciler.usage.preview import make_preview


@click.command("plan")
@paths_argument
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown", "github"]),
    default="text",
    show_default=True,
    help="text for people, json (the plan document) for programs, markdown for a PR "
    "comment; github: text, with configuration problems as GitHub Actions annotations.",
)
@click.option(
    "--out",
    metavar="FILE",
    help="Save the plan document here, for `apply --plan FILE`; with several environments "
    "a directory, holding ENV.json for each.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes (0: none, 1: error).",
)
@click.option(
    "--events",
    "events_path",
    metavar="FILE",
    help="Sample events (.jsonl, or a .json/.yaml list): show what each changed filter or "
    "aggregation makes of them, total and matched events, before → after. Read locally.",
)
@click.option(
    "--window",
    type=click.Choice(list(WINDOWS)),
    default=DEFAULT_WINDOW,
    show_default=True,
    help="Review each new or changed filter against the organization's events of this last "
    "span, counted by Polar (needs events:read).",
)
@click.option(
    "--live-limit",
    type=click.IntRange(min=0),
    default=DEFAULT_LIMIT,
    show_default=True,
    metavar="N",
    help="Review at most N new or changed filters (3 requests each); the plan says how many "
    "it skipped.",
)
@click.option(
    "--live-threshold",
    type=click.FloatRange(min=0, max=100),
    default=DEFAULT_THRESHOLD,
    show_default=True,
    metavar="PERCENT",
    help="Flag a filter change that drops or adds more than this share of the events.",
)
@click.option(
    "--no-live",
    is_flag=True,
    help="Skip the review against recent events: no events request is sent.",
)
@with_prune_options
@targeting_options
@strict_option
@program_options
@click.pass_context
def command(
    ctx: click.Context,
    paths: tuple[str, ...],
    fmt: str,
    out: str | None,
    detailed_exitcode: bool,
    events_path: str | None,
    window: str,
    live_limit: int,
    live_threshold: float,
    no_live: bool,
    prune: bool,
    max_archive: int,
    target: tuple[str, ...],
    exclude: tuple[str, ...],
    strict: bool,
) -> None:
    """Compare the meter files in PATHS (default meters/) with Polar and show the plan.

    Exit 0 on success (with --detailed-exitcode: 0 no changes, 2 changes), 1 on errors,
    including changes Polar would refuse (a locked meter's filter or aggregation).
    """
    preview = None
    if events_path:  # read first: a bad events file stops the run before any request
        events = load_events_option(events_path)
        preview = functools.partial(make_preview, events=events, source=events_path)
    live = None if no_live else LiveOptions(window, live_limit, live_threshold)
    request = PlanRequest(paths, prune=prune, max_archive=max_archive,
                          targeting=Targeting(target, exclude), preview=preview,
                          strict=strict, live=live)
    try:
        if several_environments(ctx):  # one section (and with --out DIR, one file) each
            plans = plan_environments(request, connections(ctx), reporter(ctx, fmt), out)
            _preview_warnings(plans)
            print_environments(plans, fmt, out, detailed_exitcode)
            return
        plan = plan_run(request, connection(ctx), reporter(ctx, fmt)).plan
    except PlanError as exc:
        if fmt == "github":  # each on the meter's line, and the error as usual
            for diagnostic in exc.diagnostics:
                click.echo(github_annotation(diagnostic))
        raise
    _preview_warnings([plan])
    if out and plan.environment and Path(out).is_dir():
        out = plan_file_in(out, plan.environment)
    if out:
        write_text(out, planfile.dumps(plan), "plan file")
    if fmt == "json":
        click.echo(planfile.dumps(plan), nl=False)
    elif fmt == "markdown":
        click.echo(render_markdown(plan))
    else:
        if fmt == "github":
            for line in plan_annotations(plan):
                click.echo(line)
        click.echo(render_text(plan, color=use_color()))
        if out:
            click.echo(f"\nSaved the plan to {out}. Apply exactly it with: polar-meters apply --plan {out}")
    if plan.problems:
        sys.exit(1)
    if detailed_exitcode and plan.has_changes:
        sys.exit(2)


def _preview_warnings(plans: list[Plan]) -> None:
    for plan in plans:
        if plan.preview is not None:
            for line in plan.preview.warnings():
                click.echo(f"warning: {line}", err=True)
