"""Quantities over time as rows: a label per bucket, an optional bar of unicode blocks, the
quantity. Bars only where a person reads them (a terminal); plain rows otherwise."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo

from reconciler.render.numbers import number_text
from reconciler.rules import INTERVALS
from reconciler.timestamps import TimestampError, parse_timestamp
from reconciler.usage.engine.quantities import truncate

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
    """The start of the bucket holding ``timestamp`` (a point of Polar's series, which need not
    be a bucket's start: a week's series from a Sunday holds Monday-Sunday weeks), in
    ``zone``, as precise as its interval: ``2026-10-01``."""
    try:
        moment = parse_timestamp(timestamp, naive=zone)
    except TimestampError:
        return timestamp
    if interval in INTERVALS:
        moment = truncate(moment, interval, zone)
    return moment.astimezone(zone).strftime(LABELS.get(interval, "%Y-%m-%d %H:%M"))


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
