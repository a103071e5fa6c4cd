"""Field-level differences between two meter specs, from deepdiff, as readable paths."""

from __future__ import annotations

import marshal
import re
from dataclasses import dataclass
from typing import Any

from reconciler.model import SPEC_FIELDS, format_path


class _Absent:
    """Marks the side of a change where the field does not exist."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class FieldChange:
    """One changed leaf (or added/removed subtree): ``filter.clauses[1].value: "a" → "b"``."""

    path: str
    before: Any
    after: Any

    @property
    def field(self) -> str:
        """The top-level spec field this change belongs to (``filter``, ``metadata``…)."""
        return re.split(r"[.\[]", self.path, maxsplit=1)[0]


def _sort_key(parts: list[Any]) -> tuple[Any, ...]:
    head = SPEC_FIELDS.index(parts[0]) if parts and parts[0] in SPEC_FIELDS else len(SPEC_FIELDS)
    return (head, [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in parts[1:]])


def identical(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down: ``True`` is not ``1``, ``1.0`` is not
    ``1`` (marshal's version 0 writes each type its own way, without references or interning
    marks, so equal bytes mean equal values of equal types), NaN is not NaN. For JSON-like
    values this holds only when deepdiff finds no difference; keys in another order, or a
    value marshal cannot write, make it False (deepdiff decides)."""
    if a != b:
        return False
    try:
        return marshal.dumps(a, 0) == marshal.dumps(b, 0)
    except ValueError:
        return False


def diff_specs(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Every difference between two normalised specs, in spec field order.

    Identical specs (most of them, in a plan of many meters) skip deepdiff, which costs about
    a millisecond a meter even when there is nothing to find.
    """
    if identical(before, after):
        return []
    fields = [k for k in {**before, **after} if not (k in before and k in after
                                                      and identical(before[k], after[k]))]
    return deepdiff_changes(  # deepdiff only over the fields that differ
        {k: before[k] for k in fields if k in before}, {k: after[k] for k in fields if k in after}
    )


def deepdiff_changes(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Every difference deepdiff finds, in spec field order."""
    from deepdiff import DeepDiff  # imported when first needed: a plan without changes never is

    tree = DeepDiff(before, after, view="tree", threshold_to_diff_deeper=0, verbose_level=2)
    found: list[tuple[list[Any], FieldChange]] = []
    for kind, levels in tree.items():
        for level in levels:
            parts = level.path(output_format="list")
            t1 = ABSENT if kind.endswith("_added") else level.t1
            t2 = ABSENT if kind.endswith("_removed") else level.t2
            found.append((parts, FieldChange(format_path(parts), t1, t2)))
    found.sort(key=lambda pair: _sort_key(pair[0]))
    return [change for _, change in found]


__all__ = ["ABSENT", "FieldChange", "deepdiff_changes", "diff_specs", "format_path", "identical"]
