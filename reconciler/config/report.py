"""Printing a configuration's diagnostics: shared by validate, plan and apply."""

from __future__ import annotations

import click

from reconciler.config.types import Config


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def report_diagnostics(config: Config) -> bool:
    """Print every diagnostic on stderr, one line each; with errors, a count line too.

    Returns True when there is no error (warnings alone do not stop anything).
    """
    for diagnostic in config.diagnostics:
        click.echo(str(diagnostic), err=True)
    if not config.errors:
        return True
    counts = plural(len(config.errors), "error")
    if config.warnings:
        counts += f", {plural(len(config.warnings), 'warning')}"
    click.echo(f"{counts} in {plural(len(config.files), 'file')}.", err=True)
    return False
