"""Differences between two meter specs as a tree diff: one change per edit a reviewer made.

Dicts are compared key by key, lists (a filter's clauses) are aligned, not compared index
by index: an inserted clause is one addition, a removed one one removal, a clause or group
that moved is one move (``moved_from`` says where it was), a changed value one change at
its path. Paths name the place in ``after`` (in ``before`` for a removal).
"""

from __future__ import annotations

import json
import marshal
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from reconciler.model import SPEC_FIELDS, format_path


class _Absent:
    """Marks the side of a change where the field does not exist."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()
_CLAUSE_FIELDS = ("property", "operator", "value")


@dataclass(frozen=True)
class FieldChange:
    """One edit: ``filter.clauses[1].value: "a" → "b"``; ``before`` ABSENT for an addition,
    ``after`` ABSENT for a removal; ``moved_from`` set for a value that moved (unchanged)
    from that path to ``path``."""

    path: str
    before: Any
    after: Any
    moved_from: str | None = None

    @property
    def field(self) -> str:
        """The top-level spec field this change belongs to (``filter``, ``metadata``…)."""
        return re.split(r"[.\[]", self.path, maxsplit=1)[0]

    @property
    def kind(self) -> str:
        """``add``, ``remove``, ``move`` or ``change``."""
        if self.moved_from is not None:
            return "move"
        if self.before is ABSENT:
            return "add"
        return "remove" if self.after is ABSENT else "change"


def identical(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down: ``True`` is not ``1``, ``1.0`` is not
    ``1`` (marshal's version 0 writes each type its own way, without references or interning
    marks, so equal bytes mean equal values of equal types), NaN is not NaN. Keys in another
    order, or a value marshal cannot write, make it False (:func:`same` decides)."""
    if a != b:
        return False
    try:
        return marshal.dumps(a, 0) == marshal.dumps(b, 0)
    except ValueError:
        return False


def _key(value: Any) -> str:
    """A value's identity for alignment: equal JSON of equal types, keys in any order."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)


def same(a: Any, b: Any) -> bool:
    """The same JSON value, types included, keys in any order; NaN is never the same."""
    return identical(a, b) or (a == b and _key(a) == _key(b))


def is_clause(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == set(_CLAUSE_FIELDS)


def is_group(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"conjunction", "clauses"}


Path = list[Any]


class _Tree:
    """One diff's walk, with each place's path in BEFORE and in AFTER: the changes found in
    the order of the tree, and the removals and additions (a removal and an addition of the
    same value become one move)."""

    def __init__(self) -> None:
        self.found: list[tuple[int, Path, FieldChange]] = []
        self.removed: list[tuple[int, Path, Any]] = []
        self.added: list[tuple[int, Path, Any]] = []
        self.seq = 0

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def walk(self, before: Any, after: Any, pa: Path, pb: Path) -> None:
        if same(before, after):
            return
        if isinstance(before, dict) and isinstance(after, dict):
            self._dicts(before, after, pa, pb)
        elif isinstance(before, list) and isinstance(after, list):
            self._lists(before, after, pa, pb)
        else:
            self._change(pb, before, after)

    def _change(self, pb: Path, before: Any, after: Any) -> None:
        self.found.append((self._next(), pb, FieldChange(format_path(pb), before, after)))

    def _dicts(self, before: dict[str, Any], after: dict[str, Any], pa: Path, pb: Path) -> None:
        if is_clause(before) and is_clause(after):
            differ = [f for f in _CLAUSE_FIELDS if not same(before[f], after[f])]
            if len(differ) > 1:  # another clause: one line, not a line a field
                self._change(pb, before, after)
                return
        for k in {**before, **after}:
            if k not in after:
                self.found.append((self._next(), [*pa, k],
                                   FieldChange(format_path([*pa, k]), before[k], ABSENT)))
            elif k not in before:
                self._change([*pb, k], ABSENT, after[k])
            else:
                self.walk(before[k], after[k], [*pa, k], [*pb, k])

    def _lists(self, before: list[Any], after: list[Any], pa: Path, pb: Path) -> None:
        for i1, i2, j1, j2 in _unequal_stretches([_key(v) for v in before],
                                                 [_key(v) for v in after]):
            pairs = dict(_pairs(before[i1:i2], after[j1:j2]))
            paired_b = {j: i for i, j in pairs.items()}
            for j in range(j2 - j1):
                if j in paired_b:
                    i = paired_b[j]
                    self.walk(before[i1 + i], after[j1 + j], [*pa, i1 + i], [*pb, j1 + j])
                else:
                    self.added.append((self._next(), [*pb, j1 + j], after[j1 + j]))
            self.removed += [(self._next(), [*pa, i1 + i], before[i1 + i])
                             for i in range(i2 - i1) if i not in pairs]

    def changes(self) -> list[tuple[int, Path, FieldChange]]:
        """Everything found, the removals and additions of equal values matched into moves."""
        out = list(self.found)
        waiting: dict[str, list[int]] = {}
        for index, (_, _, value) in enumerate(self.removed):
            waiting.setdefault(_key(value), []).append(index)
        moved: set[int] = set()
        for seq, pb, value in self.added:
            origins = waiting.get(_key(value))
            if origins:
                origin = origins.pop(0)
                moved.add(origin)
                out.append((seq, pb, FieldChange(format_path(pb), value, value,
                                                 moved_from=format_path(self.removed[origin][1]))))
            else:
                out.append((seq, pb, FieldChange(format_path(pb), ABSENT, value)))
        out += [(seq, pa, FieldChange(format_path(pa), value, ABSENT))
                for index, (seq, pa, value) in enumerate(self.removed) if index not in moved]
        return out


# Above this many cells the exact alignment gives way to difflib's (which can report a
# needless move when a list repeats an item); filters' lists are a few clauses long.
_EXACT_CELLS = 250_000


def _unequal_stretches(a: list[str], b: list[str]) -> list[tuple[int, int, int, int]]:
    """The stretches (i1, i2, j1, j2) where two lists differ, between the items of a longest
    common subsequence: the fewest removals and additions, so one inserted item is one
    addition even among repeated items."""
    if len(a) * len(b) > _EXACT_CELLS:
        matcher = SequenceMatcher(None, a, b, autojunk=False)
        return [(i1, i2, j1, j2) for op, i1, i2, j1, j2 in matcher.get_opcodes()
                if op != "equal"]
    n, m = len(a), len(b)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best[i][j] = (best[i + 1][j + 1] + 1 if a[i] == b[j]
                          else max(best[i + 1][j], best[i][j + 1]))
    out, i, j, si, sj = [], 0, 0, 0, 0
    while i < n and j < m:
        if a[i] == b[j]:
            if (si, sj) != (i, j):
                out.append((si, i, sj, j))
            i, j = i + 1, j + 1
            si, sj = i, j
        elif best[i + 1][j] > best[i][j + 1]:
            i += 1
        else:
            j += 1
    if (si, sj) != (n, m):
        out.append((si, n, sj, m))
    return out


def _likeness(a: Any, b: Any) -> int:
    """How alike two list items are, 0 when they are different things: two clauses (more
    when only one field was edited), two groups (their edit is shown inside), two dicts."""
    if is_clause(a) and is_clause(b):
        return 2 if sum(same(a[f], b[f]) for f in _CLAUSE_FIELDS) == 2 else 1
    if is_group(a) and is_group(b):
        shared = {_key(c) for c in a["clauses"]} & {_key(c) for c in b["clauses"]}
        return 1 + len(shared) + int(a["conjunction"] == b["conjunction"])
    if isinstance(a, dict) and isinstance(b, dict) and not (is_clause(a) or is_clause(b)):
        return 1
    return 0


def _pairs(before: list[Any], after: list[Any]) -> list[tuple[int, int]]:
    """The edited items of a replaced stretch: the order-keeping pairing of the most alike
    items (a weighted longest common subsequence; stretches are a few clauses long)."""
    n, m = len(before), len(after)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            like = _likeness(before[i], after[j])
            best[i][j] = max(best[i + 1][j], best[i][j + 1],
                             best[i + 1][j + 1] + like if like else 0)
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        like = _likeness(before[i], after[j])
        if like and best[i][j] == best[i + 1][j + 1] + like:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def _field_order(parts: Path) -> int:
    return SPEC_FIELDS.index(parts[0]) if parts and parts[0] in SPEC_FIELDS else len(SPEC_FIELDS)


def tree_changes(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Every difference between two specs, in spec field order, then in the tree's order."""
    tree = _Tree()
    tree.walk(before, after, [], [])
    found = tree.changes()
    found.sort(key=lambda item: (_field_order(item[1]), item[0]))
    return [change for _, _, change in found]


def diff_specs(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Every difference between two normalised specs, in spec field order.

    Identical specs (most of them, in a plan of many meters) cost one comparison.
    """
    if identical(before, after):
        return []
    return tree_changes(before, after)


__all__ = ["ABSENT", "FieldChange", "diff_specs", "format_path", "identical", "is_clause",
           "is_group", "same", "tree_changes"]
