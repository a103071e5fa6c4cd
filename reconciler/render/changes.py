"""An action's changes as diff lines, for text and markdown alike: ``+`` an added value (a
clause, a group, a field), ``-`` a removed one, ``~`` a changed value at its path, or a clause
or group that moved (once, with where it was). Clauses and groups read as filters do."""

from __future__ import annotations

import json
from typing import Any

from reconciler.model import clause_text
from reconciler.plan.diff import ABSENT, FieldChange, is_clause, is_group

#: The symbol and colour of each kind of change.
CHANGE_SYMBOLS = {
    "add": ("+", "green"),
    "remove": ("-", "red"),
    "change": ("~", "yellow"),
    "move": ("~", "yellow"),
}


def group_text(group: dict[str, Any]) -> str:
    """A filter group on one line: ``(region eq "eu" or region eq "us")``."""
    if not group["clauses"]:
        return f"({group['conjunction']}: no clauses, matches every event)"
    joiner = f" {group['conjunction']} "
    return "(" + joiner.join(value_text(c) for c in group["clauses"]) + ")"


def value_text(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    if is_clause(value):
        return clause_text(value)
    if is_group(value) and isinstance(value["clauses"], list):
        return group_text(value)
    return json.dumps(value, ensure_ascii=False)


def change_text(change: FieldChange) -> str:
    """The line of one change, without its symbol."""
    kind = change.kind
    if kind == "add":
        return f"{change.path}: {value_text(change.after)}"
    if kind == "remove":
        return f"{change.path}: {value_text(change.before)}"
    if kind == "move":
        return f"{change.path}: {value_text(change.after)} (moved from {change.moved_from})"
    return f"{change.path}: {value_text(change.before)} → {value_text(change.after)}"


def change_lines(changes: list[FieldChange]) -> list[tuple[str, str, str]]:
    """Each change as (symbol, colour, text)."""
    return [(*CHANGE_SYMBOLS[c.kind], change_text(c)) for c in changes]
