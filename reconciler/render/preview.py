"""The sample-events preview of a plan (``plan --events``), as text lines and as markdown."""

from __future__ import annotations

from reconciler.render.numbers import change_text, number_text
from reconciler.usage.preview import MeterPreview, Preview, Stat


def _events(count: int) -> str:
    return f"{count:,} event{'' if count == 1 else 's'}"


def headline(preview: Preview) -> str:
    return f"Over {_events(preview.events)} from {preview.source}:"


def meter_line(meter: MeterPreview) -> str:
    """``llm-tokens: total 12,400 → 7,440 (−40.0%), matched 31 → 19 events``."""
    after, before = meter.after, meter.before
    if before is None:
        return (f"{meter.key}: total {number_text(after.total)}, matched "
                f"{_events(after.matched)} (new meter)")
    total = f"{number_text(before.total)} → {number_text(after.total)} {change_text(before.total, after.total)}"
    return f"{meter.key}: total {total}, matched {before.matched:,} → {_events(after.matched)}"


def preview_lines(preview: Preview) -> list[str]:
    if not preview.meters:
        return [headline(preview)[:-1] + ": no meter's filter or aggregation changes."]
    return [headline(preview)] + [f"  {meter_line(m)}" for m in preview.meters]


def _cell(stat: Stat | None, total: bool) -> str:
    if stat is None:
        return "—"
    return number_text(stat.total) if total else f"{stat.matched:,}"


def preview_markdown(preview: Preview) -> list[str]:
    title = f"**Sample events:** {_events(preview.events)} from `{preview.source}`"
    if not preview.meters:
        return [title + ": no meter's filter or aggregation changes.", ""]
    rows = [title, "", "| meter | total before | total after | change | matched before | matched after |",
            "|---|---:|---:|---:|---:|---:|"]
    for m in preview.meters:
        change = change_text(m.before.total, m.after.total)[1:-1] if m.before else "new"
        rows.append(
            f"| `{m.key}` | {_cell(m.before, True)} | {_cell(m.after, True)} | {change} "
            f"| {_cell(m.before, False)} | {_cell(m.after, False)} |"
        )
    return rows + [""]
