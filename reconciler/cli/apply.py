"""`polar-meters apply`: plan (or read a saved plan), confirm, send each change, report it."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

import click

from reconciler.apply.applier import ApplyResult, Outcome
from reconciler.cli.common import (
    connection,
    paths_argument,
    reporter,
    strict_option,
    targeting_options,
    with_prune_options,
)
from reconciler.cli.envopts import single_environment
from reconciler.cli.options import program_options
from reconciler.cli.protect import confirm_apply
from reconciler.errors import Interrupted, UserError
from reconciler.pipeline import (
    Planned,
    PlanRequest,
    apply_run,
    check_appliable,
    plan_run,
    saved_plan_run,
)
from reconciler.plan import document as planfile
from reconciler.plan.targeting import Targeting
from reconciler.plan.types import Plan
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
    try:
        answer = click.prompt(
            "Apply these changes? Only 'yes' will be accepted", default="", show_default=False
        )
    except click.Abort:  # Ctrl-C (or end of input) at the prompt: as an interrupt, exit 130
        click.echo("", err=True)
        raise Interrupted("apply cancelled; nothing was changed") from None
    if answer.strip() != "yes":
        raise UserError("apply cancelled; nothing was changed")


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
@targeting_options
@click.option(
    "--resolve-duplicates",
    is_flag=True,
    help="Archive and untag the other meters tagged with a configured key (left by "
    "overlapping runs or a dashboard copy); the key keeps its `id:`-pinned meter, else "
    "the oldest active one.",
)
@click.option(
    "--allow-predicted-lock-change",
    is_flag=True,
    help="Send a filter or aggregation change to a meter that has matched events (Polar "
    "locks it at its next billing run): if Polar refuses, the refusal is reported and the "
    "other changes still applied. A confirmed lock is never sent.",
)
@strict_option
@program_options
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
    target: tuple[str, ...],
    exclude: tuple[str, ...],
    resolve_duplicates: bool,
    allow_predicted_lock_change: bool,
    strict: bool,
) -> None:
    """Plan the meter files in PATHS (default meters/) against Polar and apply the changes."""
    color = use_color()
    expected = _expected_digest(expect_digest, reviewed_plan)
    if plan_path:
        _refuse_with_saved_plan(paths, prune, resolve_duplicates, bool(expected),
                                bool(target or exclude), strict)
        planned = saved_plan_run(plan_path, connection(ctx), reporter(ctx), paths, strict)
        click.echo(render_text(planned.plan, color=color))
    else:
        request = PlanRequest(paths, prune=prune, max_archive=max_archive,
                              targeting=Targeting(target, exclude),
                              resolve_duplicates=resolve_duplicates, strict=strict)
        planned = plan_run(request, connection(ctx), reporter(ctx))
        click.echo(render_text(planned.plan, color=color))
        if expected is not None:
            _check_reviewed(planned.plan, expected)
    check_appliable(planned.plan, allow_predicted_lock_change)
    if planned.plan.has_changes:  # a protected environment asks even for a saved plan
        confirm_apply(single_environment(ctx), auto_approve, bool(plan_path), _confirm)
        _apply(planned, Styler(color))


def _refuse_with_saved_plan(paths: tuple[str, ...], prune: bool, resolve_duplicates: bool,
                            reviewed: bool, targeted: bool, strict: bool) -> None:
    """The options that plan afresh make no sense with --plan FILE, a plan already made."""
    if prune or resolve_duplicates:
        flag = "--prune" if prune else "--resolve-duplicates"
        raise UserError(f"{flag} goes with PATHS: a saved plan already holds its archive actions")
    if reviewed:
        raise UserError("--expect-digest and --reviewed-plan plan PATHS afresh: not with --plan")
    if targeted:
        raise UserError("--target/--exclude go with PATHS: a saved plan records its targeting")
    if strict and not paths:
        raise UserError("--strict checks the configuration: give the PATHS the saved plan "
                        "was made from (a saved plan holds no warnings to check)")


def _apply(planned: Planned, s: Styler) -> None:
    click.echo("")
    result = apply_run(planned, on_outcome=_reporter(s))
    click.echo("")
    _summary(planned.plan, result, s)


def _reporter(s: Styler) -> Callable[[Outcome], None]:
    def report(outcome: Outcome) -> None:
        a = outcome.action
        if outcome.ok:
            note = f" — {outcome.note}" if outcome.note else ""
            click.echo(s(f"{a.key}: {PAST[a.kind]}", fg="green") + f" ({outcome.meter_id}){note}")
        else:
            click.echo(s(f"{a.key}: {a.kind} failed", fg="red", bold=True) + f": {outcome.error}")

    return report


def _summary(plan: Plan, result: ApplyResult, s: Styler) -> None:
    """What was done, what was not; exit 130 when interrupted, 1 when something failed."""
    done = ", ".join(f"{result.count(k)} {PAST[k]}" for k in ("create", "update", "adopt"))
    for kind in ("archive", "unarchive"):
        if plan.count(kind):
            done += f", {result.count(kind)} {PAST[kind]}"
    for note in result.resolved:
        click.echo(s(note, fg="yellow"))
    if result.interrupted:
        keys = ", ".join(a.key for a in result.not_done) or "none"
        failed = f", {len(result.failed)} failed" if result.failed else ""
        click.echo(
            s(f"Interrupted: {done}{failed}; not started: {keys}.", fg="red", bold=True)
            + " Run apply again to finish."
        )
        if result.abandoned:
            click.echo(
                "Interrupted again: requests that were in flight may have completed; the next "
                "apply will reconcile them (a created meter carries its key and is found).",
                err=True,
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
