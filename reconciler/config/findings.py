"""A problem found in a document, by path, before it is given a file position; and wording."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.config.types import Severity
from reconciler.config.yamlnodes import Path
from reconciler.model import format_path, quote


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
    """A path in a message: the one formatter (model.format_path), long ones elided."""
    return format_path(path, most)


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


__all__ = ["Finding", "describe_path", "describe_value", "quote"]
