"""Plans of several environments at once: a summary table, then one section each.

The PR comment keeps a single marker and stays under GitHub's size limit: each
environment's section gets an equal share of the budget.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.plan.types import Plan
from reconciler.render.markdown import LIMIT, MARKER, render_markdown
from reconciler.render.style import Styler
from reconciler.render.text import render_text
from reconciler.render.text import summary as text_summary

COLUMNS = ("create", "update", "adopt", "archive", "unarchive")
#: Where a one-plan comment's body starts: after marker, title, blank, table (3), blank.
TABLE_END = 7


def _name(plan: Plan) -> str:
    return plan.environment or plan.server


def summary_table(plans: Sequence[Plan]) -> list[str]:
    """environment × create/update/adopt/archive/unarchive/unchanged, in markdown."""
    rows = [
        "| environment | " + " | ".join(COLUMNS) + " | unchanged | not managed |",
        "|---|" + "---:|" * (len(COLUMNS) + 2),
    ]
    for plan in plans:
        counts = " | ".join(str(plan.count(kind)) for kind in COLUMNS)  # type: ignore[arg-type]
        rows.append(f"| **{_name(plan)}** | {counts} | {len(plan.unchanged)} "
                    f"| {len(plan.unmanaged)} |")
    return rows


def render_environments_markdown(plans: Sequence[Plan], limit: int = LIMIT) -> str:
    """One PR comment: the summary table, then each environment's plan under its heading."""
    changed = [_name(p) for p in plans if p.has_changes]
    verdict = (f"Changes in {', '.join(changed)}." if changed
               else "**No changes** in any environment.")
    head = [MARKER, f"### polar-meters plan · {len(plans)} environments", "",
            *summary_table(plans), "", verdict, ""]
    text = "\n".join(head)
    share = max(1_000, (limit - len(text)) // max(1, len(plans)) - 100)
    for plan in plans:
        # the marker, title and summary table of the one-plan comment: the table above has it
        section = render_markdown(plan, limit=share).split("\n")
        title = section[1].replace("### polar-meters plan · ", f"#### {_name(plan)} · ", 1)
        text += "\n" + "\n".join([title, "", *section[TABLE_END:]]).rstrip("\n") + "\n"
    return text


def render_environments_text(plans: Sequence[Plan], color: bool = False) -> str:
    """Each environment's plan as `plan` prints it, then one summary line each."""
    s = Styler(color)
    rule = "─" * 60
    parts = [render_text(plan, color=color) + "\n" for plan in plans]
    width = max(len(_name(p)) for p in plans)
    lines = [f"  {_name(p).ljust(width)}  {text_summary(p)}" for p in plans]
    return f"\n{rule}\n\n".join(parts) + f"\n{rule}\n" + s("Environments:", bold=True) + "\n" + "\n".join(lines)
