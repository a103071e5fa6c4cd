"""Numbers for people: thousands separators, no needless decimals, signed percentages."""

from __future__ import annotations


def number_text(value: float) -> str:
    """``12400`` → ``12,400``; ``1234.5`` → ``1,234.5``; ``2.0`` → ``2``; at most 4 decimals."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return f"{int(value):,}"
    text = f"{value:,.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def change_text(before: float, after: float) -> str:
    """``(−40.0%)``, ``(+12.5%)``, ``(no change)``; from zero, ``(from 0)``."""
    if before == after:
        return "(no change)"
    if before == 0:
        return "(from 0)"
    percent = (after - before) / abs(before) * 100
    sign = "+" if percent > 0 else "−"
    return f"({sign}{abs(percent):,.1f}%)"
