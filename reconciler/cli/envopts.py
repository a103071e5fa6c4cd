"""The CLI side of environments: the project file and the environments a command is for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from reconciler.config.project import Environment, Project, load_project
from reconciler.environments import Overrides, default_paths, select_environments


def _options(ctx: click.Context) -> dict[str, Any]:
    root = ctx.find_root()
    root.ensure_object(dict)
    return root.obj


def project_of(ctx: click.Context) -> Project | None:
    """The project file (read once per run), or None without one."""
    opts = _options(ctx)
    if "_project" not in opts:
        opts["_project"] = load_project(opts.get("project"))
    return opts["_project"]


def environments_of(ctx: click.Context) -> list[Environment]:
    """The environments asked for (--env …, --all-envs); [] when the run is not about
    environments."""
    opts = _options(ctx)
    overrides = Overrides(
        opts.get("server"),
        opts.get("organization_id"),
        opts.get("token") if "token" in opts.get("given", ()) else None,
    )
    return select_environments(project_of(ctx), opts.get("envs") or (), bool(opts.get("all_envs")),
                               overrides)


def several_environments(ctx: click.Context) -> bool:
    """Whether the command is for several environments (a section each)."""
    return len(environments_of(ctx)) > 1 or bool(_options(ctx).get("all_envs"))


def single_environment(ctx: click.Context) -> Environment | None:
    """The one environment of a command that works on one (None: no environments)."""
    envs = environments_of(ctx)
    if len(envs) > 1 or (envs and _options(ctx).get("all_envs")):
        names = ", ".join(e.name for e in envs)
        raise click.UsageError(
            f"{ctx.info_name} works on one environment at a time, not {names}"
        )
    return envs[0] if envs else None


def paths_or_project(ctx: click.Context, paths: Sequence[str]) -> list[str]:
    """PATHS as given, else the project file's `paths`, else [] (meters/)."""
    return default_paths(paths, project_of(ctx))
