"""The program's options (--server, --token, --organization-id, --env, --all-envs,
--project, --rate-limit, --parallelism, --debug): accepted before the command (`polar-meters --server local plan`) or after it
(`polar-meters plan --server local`), and listed in each command's --help.

Before the command they are the group's (environment variables are read there); after it,
the command's copy of each stores what was given over the group's value. ``given`` (in the
root context's object) names the options given on the command line, not by a variable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

#: (flag, destination, click keyword arguments, environment variable)
PROGRAM_OPTIONS: list[tuple[str, str, dict[str, Any], str | None]] = [
    ("--server", "server", {
        "metavar": "production|sandbox|local|URL",
        "help": "Polar server to talk to (env POLAR_SERVER, default production). "
        "`local` runs the emulator in-process with state in .polar-meters/local.json.",
    }, "POLAR_SERVER"),
    ("--token", "token", {
        "help": "Polar access token (env POLAR_ACCESS_TOKEN). Never printed.",
    }, "POLAR_ACCESS_TOKEN"),
    ("--organization-id", "organization_id", {
        "help": "Organization to manage (env POLAR_ORGANIZATION_ID, else the configuration's "
        "organization_id). Needed with personal tokens; with organization tokens, checked "
        "against the meters the token reads.",
    }, "POLAR_ORGANIZATION_ID"),
    ("--env", "envs", {
        "multiple": True, "metavar": "NAME",
        "help": "Environment of polar-meters.yaml to work on (env POLAR_METERS_ENV): sets the "
        "server, organization and token. Repeat it to plan or diff several.",
    }, "POLAR_METERS_ENV"),
    ("--all-envs", "all_envs", {
        "is_flag": True,
        "help": "Every environment of polar-meters.yaml, in its order (plan, diff).",
    }, None),
    ("--project", "project", {
        "type": click.Path(dir_okay=False, path_type=str), "metavar": "FILE",
        "help": "The project file (default: polar-meters.yaml in this directory or above).",
    }, None),
    ("--rate-limit", "rate_limit", {
        "type": click.IntRange(min=1), "metavar": "N",
        "help": "Requests per minute at most (default: Polar's limit, production 500, sandbox "
        "100; no pacing for local and URLs).",
    }, None),
    ("--parallelism", "parallelism", {
        "type": click.IntRange(min=1, max=64), "metavar": "N",
        "help": "Requests in flight at once (default 4).",
    }, None),
    ("--debug", "debug", {
        "is_flag": True,
        "help": "Log each request and response (method, path, status, time) to stderr; "
        "the token is never shown.",
    }, None),
]


def group_options(f: F) -> F:
    """The options as the group takes them (before the command), environment included."""
    for flag, dest, kwargs, env in reversed(PROGRAM_OPTIONS):
        extra = {"default": None} if not kwargs.get("is_flag") else {}
        f = click.option(flag, dest, envvar=env, **extra, **kwargs)(f)
    return f


def given_in_group(ctx: click.Context) -> set[str]:
    """The group's options given on the command line (not read from a variable)."""
    return {dest for _flag, dest, _kwargs, _env in PROGRAM_OPTIONS
            if ctx.get_parameter_source(dest) == click.core.ParameterSource.COMMANDLINE}


def _store(dest: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def store(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is not None and value is not False and value != ():
            root = ctx.find_root()
            root.ensure_object(dict)
            root.obj[dest] = value
            root.obj.setdefault("given", set()).add(dest)

    return store


def program_options(f: F) -> F:
    """The same options on a command (after its name); what is given there wins."""
    for flag, dest, kwargs, _env in reversed(PROGRAM_OPTIONS):
        extra = {"default": None} if not kwargs.get("is_flag") else {}
        f = click.option(flag, expose_value=False, callback=_store(dest), **extra, **kwargs)(f)
    return f
