"""Quantities over time as rows: a label per bucket, an optional bar of unicode blocks, the
quantity. Bars only where a person reads them (a terminal); plain rows otherwise."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo

from reconciler.render.numbers import number_text
from reconciler.timestamps import TimestampError, parse_timestamp

EIGHTHS = " ▏▎▍▌▋▊▉"
FULL = "█"
LABELS = {"hour": "%Y-%m-%d %H:%M", "day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m",
          "year": "%Y"}


def bar(value: float, most: float, width: int) -> str:
    """``value`` as a bar of ``width`` columns at ``most``, to an eighth of a column."""
    if most <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / most * width * 8))
    full, part = divmod(eighths, 8)
    return FULL * full + (EIGHTHS[part] if part else "")


def bucket_label(timestamp: str, interval: str, zone: tzinfo) -> str:
    """A bucket's start, in ``zone``, as precise as its interval: ``2026-10-01``."""
    try:
        moment = parse_timestamp(timestamp, naive=zone).astimezone(zone)
    except TimestampError:
        return timestamp
    return moment.strftime(LABELS.get(interval, "%Y-%m-%d %H:%M"))


def chart_rows(
    points: Sequence[tuple[str, float]],
    chart: bool,
    width: int = 40,
    paint: Callable[[str], str] = lambda text: text,
) -> list[str]:
    """One row per (label, quantity): label, bar (when ``chart``), quantity aligned right."""
    if not points:
        return []
    numbers = [number_text(q) for _, q in points]
    label_width = max(len(label) for label, _ in points)
    number_width = max(len(n) for n in numbers)
    most = max(q for _, q in points)
    rows = []
    for (label, quantity), number in zip(points, numbers, strict=True):
        row = label.ljust(label_width) + "  "
        if chart:
            drawn = bar(quantity, most, width)
            row += paint(drawn) + " " * (width - len(drawn)) + "  "
        rows.append(row + number.rjust(number_width))
    return rows
