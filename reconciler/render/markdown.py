"""The plan as a pull-request comment: title, summary table, one collapsible diff per meter.

The first line is a hidden marker so a workflow can find its own comment and update it
instead of adding one per push. The comment stays under GitHub's 65,536-character limit:
past the budget, meter details are left out and the comment says how many.
"""

from __future__ import annotations

import html
import re

from reconciler.plan.locks import ALLOW_PREDICTED, predicted_locks
from reconciler.plan.types import Action, Plan
from reconciler.render.archives import held_markdown, held_markdown_head
from reconciler.render.changes import change_lines
from reconciler.render.live import markdown_block, markdown_head
from reconciler.render.preview import preview_markdown
from reconciler.render.text import create_lines, targeting_line

MARKER = "<!-- polar-meters:plan -->"
LIMIT = 65_000
SYMBOL = {"create": "+", "update": "~", "adopt": "~", "archive": "-", "unarchive": "+"}


def _fence(body: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


def _details(action: Action, live: str = "") -> str:
    if action.kind == "create":
        lines = [f"+ {path}: {text}" for path, text in create_lines(action)]
    else:
        lines = [f"{sign} {text}" for sign, _, text in change_lines(action.changes)]
    body = "\n".join(lines)
    fence = _fence(body)
    ident = f" · `{action.meter_id}`" if action.meter_id else ""
    note = f" — {html.escape(action.note)}" if action.note else ""
    summary = (
        f"<code>{SYMBOL[action.kind]} {html.escape(action.key)}</code> "
        f"{html.escape(action.name)} — <b>{action.kind}</b>{ident}{note}"
    )
    if action.problem:
        summary += " ⛔"
    extra = ""
    if action.problem:
        extra = f"\n> [!CAUTION]\n> {html.escape(action.problem)}\n"
    elif action.caveat:
        kind = "WARNING" if action.lock == "predicted" else "NOTE"
        extra = f"\n> [!{kind}]\n> {html.escape(action.caveat)}\n"
    return (
        f"<details><summary>{summary}</summary>\n{extra}{live}\n{fence}diff\n{body}\n{fence}\n\n</details>"
    )


def _left_alone(plan: Plan) -> list[str]:
    """The meters the plan saw and does nothing to, where the reader should know."""
    head: list[str] = []
    if plan.missing:
        keys = ", ".join(f"`{r.key}`" for r in plan.missing)
        head.append(
            f"{len(plan.missing)} managed meter(s) missing from the configuration, left alone: {keys}"
        )
        head.append("")
    if plan.retired:
        head += [f"{len(plan.retired)} archived earlier, not in the configuration.", ""]
    if plan.redundant_pins:
        keys = ", ".join(f"`{k}`" for k in plan.redundant_pins[:20])
        head += [(f"{len(plan.redundant_pins)} `id:` pin(s) no longer needed, the tag "
                  f"identifies these meters: {keys}; they can be removed."), ""]
    if plan.duplicates:
        dups = ", ".join(f"`{r.id}` duplicate of `{r.key}`" for r in plan.duplicates[:20])
        head += [(f"{len(plan.duplicates)} more meter(s) carry a configured key, left alone "
                 f"(`apply --resolve-duplicates` archives and untags them): {dups}"), ""]
    return head


def _lock_notes(plan: Plan) -> list[str]:
    """The comment's callouts for locked meters: confirmed (apply refuses the plan) and
    predicted (apply refuses those changes unless allowed)."""
    out = []
    if plan.problems:
        out += [
            "> [!CAUTION]",
            (f"> {len(plan.problems)} change(s) would be refused by Polar (locked meters); "
            "apply will refuse this plan."),
            "",
        ]
    predicted = predicted_locks(plan.actions)
    if predicted:
        keys = ", ".join(f"`{html.escape(a.key)}`" for a in predicted)
        out += [
            "> [!WARNING]",
            (f"> {len(predicted)} filter or aggregation change(s) to meters with matched events, "
             f"which Polar locks at its next billing run: {keys}. Apply refuses them unless "
             f"`{ALLOW_PREDICTED}` is given."),
            "",
        ]
    return out


def render_markdown(plan: Plan, limit: int = LIMIT) -> str:
    org = f"`{plan.organization_id}`" if plan.organization_id else "the token's organization"
    head = [
        MARKER,
        f"### polar-meters plan · {plan.server} · organization {org}",
        "",
        "| create | update | adopt | archive | unarchive | unchanged | not managed |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        (f"| {plan.count('create')} | {plan.count('update')} | {plan.count('adopt')} "
        f"| {plan.count('archive')} | {plan.count('unarchive')} "
        f"| {len(plan.unchanged)} | {len(plan.unmanaged)} |"),
        "",
    ]
    archived = [a for a in plan.actions if a.kind == "archive"]
    if archived:
        names = ", ".join(f"`{a.key}`" for a in archived)
        head += [
            "> [!WARNING]",
            (f"> This plan **archives {len(archived)} meter(s)**: {names}. Archived meters stop "
            "counting new events."),
            "",
        ]
    head += _lock_notes(plan)
    head += held_markdown_head(plan)
    head += markdown_head(plan)
    if plan.preview is not None:
        head += preview_markdown(plan.preview)
    if not plan.has_changes:
        head.append("**No changes.** Polar's meters match the configuration.")
    head += _left_alone(plan)
    if plan.targeting.active:
        head += [f"> {targeting_line(plan)}", ""]
    text = "\n".join(head)
    blocks = [_details(a, markdown_block(plan, a) + held_markdown(a)) for a in plan.actions]
    reserve = 200  # room for the "left out" line
    shown = 0
    for block in blocks:
        if len(text) + len(block) + 2 + reserve > limit:
            break
        text += "\n" + block + "\n"
        shown += 1
    if shown < len(blocks):
        left = len(blocks) - shown
        text += (
            f"\n_{left} of {len(blocks)} changed meters not shown here (comment size limit); "
            "the full plan is in the plan file._\n"
        )
    return text
