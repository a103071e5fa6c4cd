"""`polar-meters diff` as text: what the second environment lacks that the first has."""

from __future__ import annotations

import json

from reconciler.plan.promotion import Comparison, KeyComparison
from reconciler.render.changes import change_lines
from reconciler.render.style import Styler


def _title(k: KeyComparison) -> str:
    return f"{k.key} {json.dumps(k.name, ensure_ascii=False)}"


def render_comparison(c: Comparison, color: bool = False) -> str:
    s = Styler(color)
    out = [s(f"Comparing {c.target} with {c.source}: {len(c.keys)} configured meters "
             "(ids and timestamps ignored).", bold=True), ""]
    if c.differs:
        out += [f"Each change reads {c.target} → {c.source}:", ""]
    for k in c.keys:
        if k.status == "differs":
            fields = "field differs" if len(k.changes) == 1 else "fields differ"
            out.append(s(f"  ~ {_title(k)}", fg="yellow", bold=True) + f": {len(k.changes)} {fields}")
            out += [s(f"      {sign} {text}", fg=hue) for sign, hue, text in change_lines(k.changes)]
        elif k.status == "only_source":
            out.append(s(f"  + {_title(k)}", fg="green", bold=True) + f": only in {c.source}")
        elif k.status == "only_target":
            out.append(s(f"  - {_title(k)}", fg="red", bold=True) + f": only in {c.target}")
    if c.differs:
        out.append("")
    out.append(s(_verdict(c), bold=True))
    return "\n".join(out)


def _verdict(c: Comparison) -> str:
    same = len(c.with_status("same"))
    neither = len(c.with_status("neither"))
    rest = f"{same} identical" + (f", {neither} in neither organization" if neither else "")
    if not c.differs:
        return f"No differences: {c.target} holds what {c.source} holds ({rest})."
    n = c.change_count
    return f"{c.target} lacks {'this change' if n == 1 else f'these {n} changes'} that {c.source} has ({rest})."
