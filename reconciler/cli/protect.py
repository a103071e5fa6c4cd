"""A protected environment (`protected: true` in polar-meters.yaml) is applied only after
its name is typed on a terminal, or with --auto-approve: like deleting a repository on GitHub."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from reconciler.config.project import Environment
from reconciler.errors import Interrupted, UserError


def confirm_protected(env: Environment, auto_approve: bool) -> None:
    """Return when applying to ``env`` is confirmed; raise (nothing sent) otherwise."""
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise UserError(
            f"refusing to apply: environment {env.name} is protected and standard input is not "
            "a terminal; pass --auto-approve (e.g. after a GitHub Environment approval)"
        )
    click.echo(f"Environment {env.name} is protected: these changes reach its organization "
               f"{env.organization_id}.")
    try:
        answer = click.prompt(f"Type the environment's name ({env.name}) to apply", default="",
                              show_default=False)
    except click.Abort:  # Ctrl-C (or end of input) at the prompt: as an interrupt, exit 130
        click.echo("", err=True)
        raise Interrupted("apply cancelled; nothing was changed") from None
    if answer.strip() != env.name:
        raise UserError(f"apply cancelled: {answer.strip()!r} is not {env.name!r}; nothing was changed")


def confirm_apply(env: Environment | None, auto_approve: bool, saved_plan: bool,
                  ordinary: Callable[[], None]) -> None:
    """A protected environment's confirmation (also for a saved plan), else ``ordinary``'s
    (none for a saved plan or with --auto-approve)."""
    if env is not None and env.protected:
        confirm_protected(env, auto_approve)
    elif not saved_plan and not auto_approve:
        ordinary()
