"""What the commands share: options, and how the pipeline's run is shown on the terminal."""

from __future__ import annotations

from collections.abc import Sequence

import click

from reconciler.cli.envopts import environments_of, paths_or_project, project_of, single_environment
from reconciler.config.project import Environment
from reconciler.config.types import Config
from reconciler.environments import environment_meters
from reconciler.pipeline import Connection, Reporter, connect, load_valid_config
from reconciler.polar.servers import Target
from reconciler.render.diagnostics import report_diagnostics
from reconciler.render.progress import Progress

paths_argument = click.argument("paths", nargs=-1, type=click.Path(path_type=str))


def _debug_line(text: str) -> None:
    click.echo(f"debug: {text}", err=True)


def connection(ctx: click.Context, environment: Environment | None = None) -> Connection:
    """The program's options (--server, --token …) as the pipeline takes them; for
    ENVIRONMENT (one of several), else for the one --env chose, if any."""
    opts = ctx.find_root().obj or {}
    return Connection(
        server=opts.get("server"),
        token=opts.get("token"),
        organization_id=opts.get("organization_id"),
        rate_limit=opts.get("rate_limit"),
        parallelism=opts.get("parallelism"),
        debug=_debug_line if opts.get("debug") else None,
        environment=environment or single_environment(ctx),
        project=project_of(ctx),
    )


def connections(ctx: click.Context) -> list[Connection]:
    """One connection per environment asked for (--env A --env B, --all-envs)."""
    return [connection(ctx, env) for env in environments_of(ctx)]


def reporter(ctx: click.Context, fmt: str = "text") -> Reporter:
    """Diagnostics on stderr (or as GitHub annotations); progress counters on a terminal,
    but not over --debug's lines."""
    quiet = bool((ctx.find_root().obj or {}).get("debug"))

    def diagnostics(config: Config) -> None:
        report_diagnostics(config, "github" if fmt == "github" else "text")

    def progress(label: str, unit: str) -> Progress:
        return Progress(label, unit, quiet=quiet)

    return Reporter(diagnostics=diagnostics, progress=progress)


def valid_config(ctx: click.Context, paths: Sequence[str], strict: bool = False) -> Config:
    """The configuration at PATHS, else at the project file's paths."""
    return load_valid_config(paths_or_project(ctx, paths), reporter(ctx), strict)


def environment_config(ctx: click.Context, paths: Sequence[str]) -> Config:
    """:func:`valid_config` as the environment --env chose sees it (`id:` pins resolved,
    as plan reads them)."""
    config = valid_config(ctx, paths)
    config.meters = environment_meters(config.meters, project_of(ctx), single_environment(ctx))
    return config


def target_from_context(ctx: click.Context, organization_id: str | None) -> Target:
    return connect(connection(ctx), organization_id)


#: validate, test, plan and apply: warnings stop the run as errors do.
strict_option = click.option(
    "--strict", is_flag=True, help="Treat every warning about the configuration as an error."
)

prune_options = [
    click.option(
        "--prune",
        is_flag=True,
        help="Archive managed meters (tagged by polar-meters) that are no longer configured. "
        "Meters polar-meters does not manage are never archived.",
    ),
    click.option(
        "--max-archive",
        type=click.IntRange(min=0),
        default=5,
        show_default=True,
        help="With --prune, refuse to archive more meters than this.",
    ),
]


def with_prune_options(f):  # type: ignore[no-untyped-def]
    for option in reversed(prune_options):
        f = option(f)
    return f


def targeting_options(f):  # type: ignore[no-untyped-def]
    """--target KEY / --exclude KEY (repeatable), like `terraform plan -target`."""
    f = click.option(
        "--exclude", "exclude", multiple=True, metavar="KEY",
        help="Leave this configured meter out of the plan (repeatable).",
    )(f)
    return click.option(
        "--target", "target", multiple=True, metavar="KEY",
        help="Plan only this configured meter (repeatable); the plan says how many it left "
        "out. Not with --prune.",
    )(f)
