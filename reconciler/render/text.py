"""The plan as text, in Terraform's spirit: + create, ~ update/adopt, - archive,
+ unarchive, then a summary."""

from __future__ import annotations

import json
from typing import Any

from reconciler.model import clause_text
from reconciler.plan.diff import format_path, is_clause
from reconciler.plan.locks import ALLOW_PREDICTED, predicted_locks
from reconciler.plan.types import Action, Plan
from reconciler.render.archives import held_lines, held_summary_lines
from reconciler.render.changes import change_lines, value_text
from reconciler.render.live import action_live_lines, plan_live_lines
from reconciler.render.preview import preview_lines
from reconciler.render.style import Styler

SYMBOLS = {
    "create": ("+", "green"),
    "update": ("~", "yellow"),
    "adopt": ("~", "cyan"),
    "archive": ("-", "red"),
    "unarchive": ("+", "green"),
}


def _flatten(value: Any, parts: list[Any]) -> list[tuple[str, str]]:
    if is_clause(value):
        return [(format_path(parts), clause_text(value))]
    if isinstance(value, dict) and value:
        out: list[tuple[str, str]] = []
        for k, v in value.items():
            out.extend(_flatten(v, parts + [k]))
        return out
    if isinstance(value, list) and value:
        out = []
        for i, v in enumerate(value):
            out.extend(_flatten(v, parts + [i]))
        return out
    return [(format_path(parts), value_text(value))]


def create_lines(action: Action) -> list[tuple[str, str]]:
    """The fields a create sets, as (path, text), skipping unset optional ones."""
    spec = dict(action.after)
    for name in ("custom_label", "custom_multiplier"):
        if spec.get(name) is None:
            spec.pop(name, None)
    if not spec.get("archived"):
        spec.pop("archived", None)
    if not spec.get("metadata"):
        spec.pop("metadata", None)
    return _flatten(spec, [])


def header(plan: Plan) -> str:
    org = plan.organization_id or "(the token's organization)"
    env = f"Environment {plan.environment} · " if plan.environment else ""
    return f"{env}Polar: {plan.server} · organization {org}"


def targeting_line(plan: Plan) -> str:
    return (f"Targeting ({plan.targeting.describe()}): {plan.left_out} configured meter(s) "
            "left out of this plan.")


def summary(plan: Plan) -> str:
    if not plan.has_changes:
        return "No changes. Polar's meters match the configuration."
    unarchive = f", {plan.count('unarchive')} to unarchive" if plan.count("unarchive") else ""
    return (
        f"Plan: {plan.count('create')} to create, {plan.count('update')} to update, "
        f"{plan.count('adopt')} to adopt, {plan.count('archive')} to archive{unarchive}."
    )


def action_lines(action: Action, s: Styler, extra: list[str] | None = None) -> list[str]:
    """One action: its head line, each field it sets or changes, EXTRA lines (the live
    review's), its error or warning."""
    symbol, colour = SYMBOLS[action.kind]
    ident = f" ({action.meter_id})" if action.meter_id else ""
    note = f" — {action.note}" if action.note else ""
    out = [
        s(f"  {symbol} {action.key}", fg=colour, bold=True)
        + f" {json.dumps(action.name, ensure_ascii=False)}: {action.kind}{ident}{note}"
    ]
    if action.kind == "create":
        out += [s(f"      + {path}: {text}", fg="green") for path, text in create_lines(action)]
    else:
        out += [s(f"      {sign} {text}", fg=hue) for sign, hue, text in change_lines(action.changes)]
    out += extra or []
    if action.problem:
        out.append(s(f"      ! error: {action.problem}", fg="red", bold=True))
    if action.caveat:
        out.append(s(f"      ! warning: {action.caveat}", fg="yellow"))
    return [*out, ""]


def left_alone_lines(plan: Plan, s: Styler) -> list[str]:
    """The counts of what the plan leaves as it is, and the duplicates it found."""
    extras = [f"{len(plan.unchanged)} unchanged", f"{len(plan.unmanaged)} not managed here"]
    if plan.missing:
        extras.append(
            f"{len(plan.missing)} managed but missing from the configuration "
            f"({', '.join(ref.key or ref.id for ref in plan.missing)}; left alone, "
            "--prune archives them)"
        )
    if plan.redundant_pins:
        extras.append(
            f"{len(plan.redundant_pins)} `id:` pin(s) no longer needed, the tag identifies "
            f"these meters ({', '.join(plan.redundant_pins[:20])}): they can be removed"
        )
    if plan.retired:
        extras.append(f"{len(plan.retired)} archived earlier, not in the configuration")
    out = [", ".join(extras) + "."]
    if plan.duplicates:
        listed = ", ".join(f"{ref.id} duplicate of {ref.key}" for ref in plan.duplicates[:20])
        more = f" and {len(plan.duplicates) - 20} more" if len(plan.duplicates) > 20 else ""
        out.append(
            s(f"{len(plan.duplicates)} more meter(s) carry a configured key: {listed}{more}. "
              "Left alone; `apply --resolve-duplicates` archives and untags them.", fg="yellow")
        )
    return out


def lock_lines(plan: Plan, s: Styler) -> list[str]:
    """What the plan knows of locks: confirmed ones (Polar refuses: apply refuses the plan)
    and predicted ones (apply refuses them unless allowed)."""
    out = []
    if plan.problems:
        out.append(s(f"{len(plan.problems)} change(s) Polar would refuse (marked ! error): "
                     "apply will refuse this plan until they are resolved.", fg="red", bold=True))
    predicted = predicted_locks(plan.actions)
    if predicted:
        keys = ", ".join(a.key for a in predicted)
        out.append(s(f"{len(predicted)} filter or aggregation change(s) to meters Polar will "
                     f"lock at its next billing run ({keys}): apply refuses them unless "
                     f"{ALLOW_PREDICTED} is given.", fg="yellow", bold=True))
    return out


def render_text(plan: Plan, color: bool = False) -> str:
    s = Styler(color)
    out = [s(header(plan), bold=True), ""]
    if plan.targeting.active:
        out += [s(targeting_line(plan), fg="yellow"), ""]
    if plan.has_changes:
        out += ["polar-meters will perform the following actions:", ""]
    for action in plan.actions:
        out += action_lines(action, s, action_live_lines(plan, action, s) + held_lines(action, s))
    out += plan_live_lines(plan, s)
    if plan.preview is not None:
        out += [*preview_lines(plan.preview), ""]
    out.append(s(summary(plan), bold=True))
    return "\n".join(out + lock_lines(plan, s) + held_summary_lines(plan, s)
                     + left_alone_lines(plan, s))
