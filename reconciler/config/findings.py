"""Wording shared by the configuration's checks: how a value is described in a message.

A problem found in a document is a :class:`~reconciler.model.Diagnostic` with a ``path``
and no location yet; the loader places it (``at_key``: at the mapping key of its path).
"""

from __future__ import annotations

from typing import Any

from reconciler.model import quote


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


__all__ = ["describe_value", "quote"]
