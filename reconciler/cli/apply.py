"""`polar-meters apply`: plan (or read a saved plan), confirm, send each change, report it."""

from __future__ import annotations

import re
import sys

import click

from reconciler.apply.applier import Outcome, apply_plan
from reconciler.cli.common import (
    current_organization,
    load_valid_config,
    paths_argument,
    plan_from_context,
    read_locks,
    read_remote,
    target_from_context,
    with_prune_options,
)
from reconciler.errors import UserError
from reconciler.plan import document as planfile
from reconciler.plan.staleness import stale_reasons
from reconciler.plan.types import Plan
from reconciler.polar.servers import Target
from reconciler.render.style import Styler, use_color
from reconciler.render.text import render_text

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")

PAST = {
    "create": "created",
    "update": "updated",
    "adopt": "adopted",
    "archive": "archived",
    "unarchive": "unarchived",
}


def _confirm() -> None:
    if not sys.stdin.isatty():
        raise UserError(
            "refusing to apply without confirmation: standard input is not a terminal; "
            "pass --auto-approve"
        )
    answer = click.prompt(
        "Apply these changes? Only 'yes' will be accepted", default="", show_default=False
    )
    if answer.strip() != "yes":
        raise UserError("apply cancelled; nothing was changed")


def _check_digest(path: str, plan: Plan, paths: tuple[str, ...]) -> None:
    """A saved plan given with PATHS must have been made from exactly those files' bytes."""
    config = load_valid_config(paths)
    digest = config.digest
    if digest != plan.config_digest:
        raise UserError(
            f"{path} was not made from the configuration at {' '.join(paths)} (digest "
            f"{plan.config_digest}, the files now: {digest}); nothing was sent: re-run plan on "
            "these files"
        )


def _check_reviewed(plan: Plan, expected: str) -> None:
    """The merge policy: the plan of this commit must be the one reviewed."""
    digest = planfile.actions_digest(plan)
    if digest != expected:
        raise UserError(
            f"refusing to apply: this plan (actions digest {digest}) is not the plan that was "
            f"reviewed ({expected}); nothing was sent. Review this plan in a pull request, or "
            "apply without the reviewed-plan check"
        )


def _expected_digest(expect_digest: str | None, reviewed_plan: str | None) -> str | None:
    if expect_digest and reviewed_plan:
        raise UserError("give either --expect-digest or --reviewed-plan, not both")
    if reviewed_plan:
        return planfile.actions_digest(planfile.read(reviewed_plan))
    if expect_digest is not None and not DIGEST.fullmatch(expect_digest):
        raise UserError(
            f"--expect-digest {expect_digest[:80]!r} is not an actions digest (sha256:<64 hex>, "
            "the plan document's actions_digest)"
        )
    return expect_digest


def _saved_plan(ctx: click.Context, path: str, paths: tuple[str, ...]) -> tuple[Target, Plan]:
    """Read a saved plan and make sure it still describes these files, this server and its
    meters."""
    plan = planfile.read(path)
    if paths:
        _check_digest(path, plan, paths)
    target = target_from_context(ctx, plan.organization_id)
    if plan.server_url != target.base_url:
        raise UserError(
            f"{path} was made against {plan.server} ({plan.server_url}), not "
            f"{target.name} ({target.base_url}); run plan against this server"
        )
    remote = read_remote(target)
    org = current_organization(target, remote)
    if plan.organization_id and org and org != plan.organization_id:
        raise UserError(
            f"{path} was made for organization {plan.organization_id}, not {org}; "
            "run plan against this organization"
        )
    reasons = stale_reasons(plan, remote) or planfile.disagreements(plan, remote)
    if reasons:
        shown = "; ".join(reasons[:5]) + (f"; and {len(reasons) - 5} more" if len(reasons) > 5 else "")
        raise UserError(f"the plan is stale: re-run plan ({shown})")
    read_locks(target, plan)  # a meter may have processed its first events since
    return target, plan


@click.command("apply")
@paths_argument
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
@click.option(
    "--plan",
    "plan_path",
    metavar="FILE",
    help="Apply exactly this saved plan (from `plan --out`), without asking; refused if stale. "
    "With PATHS, also refused unless it was made from exactly those files.",
)
@click.option(
    "--expect-digest",
    metavar="DIGEST",
    help="Merge policy: plan PATHS and refuse (nothing sent) unless the plan's actions digest "
    "is DIGEST, that of the plan reviewed in the pull request.",
)
@click.option(
    "--reviewed-plan",
    metavar="FILE",
    help="Merge policy: like --expect-digest, with the digest of this saved plan.",
)
@with_prune_options
@click.pass_context
def command(
    ctx: click.Context,
    paths: tuple[str, ...],
    auto_approve: bool,
    plan_path: str | None,
    expect_digest: str | None,
    reviewed_plan: str | None,
    prune: bool,
    max_archive: int,
) -> None:
    """Plan the meter files in PATHS (default meters/) against Polar and apply the changes."""
    color = use_color()
    s = Styler(color)
    expected = _expected_digest(expect_digest, reviewed_plan)
    if plan_path:
        if prune:
            raise UserError("--prune goes with PATHS: a saved plan already holds its archive actions")
        if expected:
            raise UserError("--expect-digest and --reviewed-plan plan PATHS afresh: not with --plan")
        target, plan = _saved_plan(ctx, plan_path, paths)
        click.echo(render_text(plan, color=color))
    else:
        planned = plan_from_context(ctx, paths, prune=prune, max_archive=max_archive)
        target, plan = planned.target, planned.plan
        click.echo(render_text(plan, color=color))
        if expected is not None:
            _check_reviewed(plan, expected)
    if plan.problems:
        keys = ", ".join(a.key for a in plan.problems)
        raise UserError(
            f"refusing to apply: Polar would refuse the changes marked ! error ({keys}); "
            "nothing was sent"
        )
    if plan.has_changes and not plan_path and not auto_approve:
        _confirm()
    if not plan.has_changes:
        return
    click.echo("")

    def report(outcome: Outcome) -> None:
        a = outcome.action
        if outcome.ok:
            note = f" — {outcome.note}" if outcome.note else ""
            click.echo(s(f"{a.key}: {PAST[a.kind]}", fg="green") + f" ({outcome.meter_id}){note}")
        else:
            click.echo(s(f"{a.key}: {a.kind} failed", fg="red", bold=True) + f": {outcome.error}")

    with target.client() as client:
        result = apply_plan(plan, client, on_outcome=report)
    click.echo("")
    done = ", ".join(f"{result.count(k)} {PAST[k]}" for k in ("create", "update", "adopt"))
    for kind in ("archive", "unarchive"):
        if plan.count(kind):
            done += f", {result.count(kind)} {PAST[kind]}"
    if result.interrupted:
        keys = ", ".join(a.key for a in result.not_done) or "none"
        failed = f", {len(result.failed)} failed" if result.failed else ""
        click.echo(
            s(f"Interrupted: {done}{failed}; not started: {keys}.", fg="red", bold=True)
            + " Run apply again to finish."
        )
        sys.exit(130)
    if result.ok:
        click.echo(s(f"Apply complete: {done}.", bold=True))
        return
    click.echo(
        s(f"Apply incomplete: {done}, {len(result.failed)} failed.", fg="red", bold=True)
        + " Fix the cause and run apply again: it picks up where this one stopped."
    )
    sys.exit(1)
