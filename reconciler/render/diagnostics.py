"""Printing a configuration's diagnostics: shared by validate, plan and apply.

``text``: one ``path:line:col: message`` line each on stderr. ``github``: GitHub Actions
workflow commands (``::error file=…,line=…,col=…::message``) on stdout, so the problems show
as annotations on the pull request's files.
"""

from __future__ import annotations

import click

from reconciler.config.types import Config, Diagnostic
from reconciler.plan.types import Plan


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(diagnostic: Diagnostic, title: str | None = None) -> str:
    """One GitHub Actions workflow command for a diagnostic (``title``: the annotation's
    heading, GitHub's ``title=``)."""
    props = []
    if diagnostic.location:
        loc = diagnostic.location
        props = [f"file={_escape_property(loc.file)}", f"line={loc.line}", f"col={loc.col}"]
    if title:
        props.append(f"title={_escape_property(title)}")
    head = f"::{diagnostic.severity}"
    if props:
        head += " " + ",".join(props)
    return f"{head}::{_escape_data(diagnostic.text)}"


def report_diagnostics(config: Config, fmt: str = "text") -> bool:
    """Print every diagnostic, one line each; with errors, a count line too (stderr).

    Returns True when there is no error (warnings alone do not stop anything).
    """
    for diagnostic in config.diagnostics:
        if fmt == "github":
            click.echo(github_annotation(diagnostic))
        else:
            click.echo(str(diagnostic), err=True)
    if not config.errors:
        return True
    counts = plural(len(config.errors), "error")
    if config.warnings:
        counts += f", {plural(len(config.warnings), 'warning')}"
    click.echo(f"{counts} in {plural(len(config.files), 'file')}.", err=True)
    return False


def plan_annotations(plan: Plan, name_environment: bool = False) -> list[str]:
    """The plan's own problems (a change Polar would refuse) and caveats, each on the line
    of the meter it is about; with ``name_environment`` (several environments planned at
    once, whose meters share those lines), each names the plan's environment first and as
    its title."""
    env = str(plan.environment) if name_environment and plan.environment else None
    head = f"{env}: " if env else ""
    found = [Diagnostic("error", f"{head}{a.key}: {a.problem}", a.location)
             for a in plan.actions if a.problem]
    found += [Diagnostic("warning", f"{head}{a.key}: {a.caveat}", a.location)
              for a in plan.actions if a.caveat]
    return [github_annotation(d, env) for d in found]
