"""The plan's live review (plan/live.py) as text and markdown: each meter's figures over the
window, its warnings, and one line for the whole plan."""

from __future__ import annotations

import html

from reconciler.plan.live import LiveReview, MeterImpact
from reconciler.plan.types import Action, Plan
from reconciler.render.numbers import number_text
from reconciler.render.style import Styler


def _events(count: int) -> str:
    return f"{number_text(count)} event{'' if count == 1 else 's'}"


def _percent(review: LiveReview) -> str:
    return f"{number_text(review.threshold)}%"


def figures(impact: MeterImpact, review: LiveReview) -> str:
    """``new filter over the last 30 days: keeps 9,120 of 10,000 events, drops 880, adds
    1,200``; for a new filter, ``filter over the last 30 days: matches 4,210 events``."""
    span = f"over the last {review.days} days"
    if impact.before is None:
        return f"filter {span}: matches {_events(impact.matches)}"
    return (f"new filter {span}: keeps {number_text(impact.kept or 0)} of "
            f"{_events(impact.before)}, drops {number_text(impact.dropped or 0)}, "
            f"adds {number_text(impact.added or 0)}")


def flag_text(review: LiveReview) -> str:
    return f"moves more than {_percent(review)} of events"


def summary_line(review: LiveReview) -> str:
    """One line for the whole plan."""
    if review.unavailable:
        return review.unavailable
    head = (f"Recent events (last {review.days} days, counted by Polar): "
            f"{len(review.meters)} new or changed filter(s) checked")
    flagged = len(review.flagged)
    parts = [head]
    if flagged:
        parts.append(f"{flagged} filter change{'s' if flagged > 1 else ''} "
                     f"move{'' if flagged > 1 else 's'} more than {_percent(review)} of events")
    if review.skipped:
        parts.append(f"{review.skipped} more not checked (past --live-limit)")
    return "; ".join(parts) + "."


def action_live_lines(plan: Plan, action: Action, s: Styler) -> list[str]:
    """The action's figures and warnings, indented as its field lines."""
    impact = plan.live.impact(action.key) if plan.live is not None else None
    if impact is None or plan.live is None:
        return []
    text = figures(impact, plan.live)
    if impact.flagged:
        out = [s(f"      ! {text} — {flag_text(plan.live)}", fg="yellow", bold=True)]
    else:
        out = [f"      = {text}"]
    return out + [s(f"      ! warning: {w}", fg="yellow") for w in impact.warnings]


def plan_live_lines(plan: Plan, s: Styler) -> list[str]:
    if plan.live is None or (not plan.live.meters and not plan.live.unavailable
                             and not plan.live.skipped):
        return []
    colour = "yellow" if plan.live.flagged or plan.live.unavailable else None
    return [s(summary_line(plan.live), fg=colour), ""]


def markdown_head(plan: Plan) -> list[str]:
    """The one-line summary at the top of the comment."""
    lines = plan_live_lines(plan, Styler(False))
    if not lines or plan.live is None:
        return []
    kind = "WARNING" if plan.live.flagged else "NOTE"
    return [f"> [!{kind}]", f"> {html.escape(lines[0], quote=False)}", ""]


def markdown_block(plan: Plan, action: Action) -> str:
    """The action's figures and warnings, for its `<details>` block."""
    impact = plan.live.impact(action.key) if plan.live is not None else None
    if impact is None or plan.live is None:
        return ""
    text = html.escape(figures(impact, plan.live), quote=False)
    line = f"**Recent events:** {text}"
    if impact.flagged:
        line += f" — ⚠️ **{flag_text(plan.live)}**"
    warnings = [f"- ⚠️ {html.escape(w, quote=False)}" for w in impact.warnings]
    return "\n" + "\n".join([line, *([""] + warnings if warnings else [])]) + "\n"
