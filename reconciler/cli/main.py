"""The `polar-meters` command group. One module per command lives beside this one."""

from __future__ import annotations

import sys

import click

from reconciler import __version__
from reconciler.errors import UserError


class Group(click.Group):
    """Turns a UserError anywhere below into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            if not getattr(exc, "reported", False):  # a configuration's errors are shown already
                click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="polar-meters")
@click.option(
    "--server",
    envvar="POLAR_SERVER",
    default=None,
    metavar="production|sandbox|local|URL",
    help="Polar server to talk to (env POLAR_SERVER, default production). "
    "`local` runs the emulator in-process with state in .polar-meters/local.json.",
)
@click.option(
    "--token",
    envvar="POLAR_ACCESS_TOKEN",
    default=None,
    help="Polar access token (env POLAR_ACCESS_TOKEN). Never printed.",
)
@click.option(
    "--organization-id",
    envvar="POLAR_ORGANIZATION_ID",
    default=None,
    help="Organization to manage (env POLAR_ORGANIZATION_ID, else the configuration's "
    "organization_id). Needed with personal tokens; with organization tokens, checked "
    "against the meters the token reads.",
)
@click.option(
    "--rate-limit",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Requests per minute at most (default: Polar's limit, production 500, sandbox 100; "
    "no pacing for local and URLs).",
)
@click.option(
    "--parallelism",
    type=click.IntRange(min=1, max=64),
    default=None,
    metavar="N",
    help="Requests in flight at once (default 4).",
)
@click.option(
    "--debug",
    is_flag=True,
    help="Log each request and response (method, path, status, time) to stderr; "
    "the token is never shown.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    server: str | None,
    token: str | None,
    organization_id: str | None,
    rate_limit: int | None,
    parallelism: int | None,
    debug: bool,
) -> None:
    """Polar usage meters as code: validate, plan and apply meter definitions kept in YAML."""
    ctx.ensure_object(dict)
    ctx.obj.update(
        server=server,
        token=token,
        organization_id=organization_id,
        rate_limit=rate_limit,
        parallelism=parallelism,
        debug=debug,
    )


def _register() -> None:
    from reconciler.cli import (
        apply,
        customermeters,
        emulator,
        importcmd,
        plan,
        quantities,
        schema,
        testcmd,
        validate,
    )

    for module in (validate, testcmd, schema, plan, apply, importcmd, quantities,
                   customermeters, emulator):
        cli.add_command(module.command)


_register()


def main() -> None:
    cli(prog_name="polar-meters")
