"""A problem found in a document, by path, before it is given a file position; and wording."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from reconciler.config.types import Severity
from reconciler.config.yamlnodes import Path

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Finding:
    """One problem at a path of the document.

    ``at_key``: place it at the mapping key of ``path`` (e.g. an unknown field) rather than
    at its value. ``covers_schema``: this explains the value better than the schema would,
    so schema errors at or below ``path`` are dropped.
    """

    path: Path
    message: str
    severity: Severity = "error"
    at_key: bool = False
    covers_schema: bool = False

    def text(self) -> str:
        where = describe_path(self.path)
        return f"{where}: {self.message}" if where else self.message


def describe_path(path: Path, most: int = 12) -> str:
    """``meters.api-calls.filter.clauses[1].operator``; odd keys as ``metadata['a b']``.

    Beyond ``most`` parts, the middle is elided: ``meters.m.filter.clauses[0]….value``.
    """
    if len(path) > most:
        head, tail = path[: most // 2], path[-(most // 2) :]
        return f"{describe_path(head)}…{describe_path(tail)}"
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _BARE_KEY.fullmatch(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{quote(part)}]")
    return "".join(out)


def quote(text: str, limit: int = 60) -> str:
    """A string in quotes, shortened past ``limit`` characters."""
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return repr(shown)


def describe_value(value: Any) -> str:
    """A short, human description of a YAML value (never a deep repr)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
