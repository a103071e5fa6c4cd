"""Archives refused ahead (plan/archives.py) as text and markdown: on the action, the
products and benefits that hold its meter and what to do; on the plan, how many."""

from __future__ import annotations

import html

from reconciler.plan.archives import refusal_text
from reconciler.plan.types import Action, Plan
from reconciler.render.style import Styler


def held(plan: Plan) -> list[Action]:
    return [a for a in plan.actions if a.held_by]


def held_lines(action: Action, s: Styler) -> list[str]:
    if not action.held_by:
        return []
    text = f"{refusal_text(action.held_by)} (apply will not send this archive)"
    return [s(f"      ! refused ahead: {text}", fg="red", bold=True)]


def held_summary_lines(plan: Plan, s: Styler) -> list[str]:
    count = len(held(plan))
    if not count:
        return []
    return [s(f"{count} archive(s) Polar would refuse, a product or benefit uses the meter "
              "(marked ! refused ahead): apply will not send them; the other actions still run.",
              fg="red", bold=True)]


def held_markdown(action: Action) -> str:
    if not action.held_by:
        return ""
    text = html.escape(refusal_text(action.held_by), quote=False)
    return f"\n> [!CAUTION]\n> Refused ahead: {text} (apply will not send this archive)\n"


def held_markdown_head(plan: Plan) -> list[str]:
    actions = held(plan)
    if not actions:
        return []
    keys = ", ".join(f"`{a.key}`" for a in actions)
    return ["> [!CAUTION]",
            (f"> {len(actions)} archive(s) would be refused by Polar, a product or benefit uses "
             f"the meter: {keys}; apply will not send them, the other actions still run."), ""]
