"""The `polar-meters` command group. One module per command lives beside this one."""

from __future__ import annotations

import signal
import sys
from typing import Any

import click

from reconciler import __version__
from reconciler.cli.options import given_in_group, group_options
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
@group_options
@click.pass_context
def cli(ctx: click.Context, **options: Any) -> None:
    """Polar usage meters as code: validate, plan and apply meter definitions kept in YAML."""
    ctx.ensure_object(dict)
    ctx.obj.update(options, given=given_in_group(ctx))


def _register() -> None:
    from reconciler.cli import (
        apply,
        customermeters,
        diff,
        emulator,
        importcmd,
        plan,
        quantities,
        schema,
        testcmd,
        validate,
    )

    for module in (validate, testcmd, schema, plan, apply, diff, importcmd, quantities,
                   customermeters, emulator):
        cli.add_command(module.command)


_register()


def main() -> None:
    # SIGTERM (what CI sends on cancel) is handled exactly as Ctrl-C: the interrupt handling
    # of each command (apply: no new request, in-flight ones reported) applies to both.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    cli(prog_name="polar-meters")
