"""What reading YAML gives: a value, where each node and key starts, and the problems found.

Shared by the readers (:mod:`yamlnodes` over libyaml, :mod:`yamlbuild`, :mod:`yamlsimple`);
nothing here knows about meters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based line and column
#: Expanding aliases may visit at most this many nodes beyond 10 per distinct node.
EXPANSION_ALLOWANCE = 100_000
#: Collections may nest this deep (about 30 levels of filter groups): deeper input is refused
#: so that every later step (schema validation, normalisation, diffing) stays far from
#: Python's recursion limit, and so that recorded paths stay short.
MAX_DEPTH = 64
#: A document read by :mod:`yamlsimple` first records the positions this deep only (the
#: top level, each meter and its key): deeper ones are read again when first asked for.
RECORDED_DEPTH = 2
#: Merge keys (``<<``) may chain through at most this many mappings.
MAX_MERGE_DEPTH = 32

@dataclass(frozen=True)
class Problem:
    """Something refused, at a position (None: the file as a whole).

    ``guessed``: the value left at ``path`` is a guess (a refused scalar or key), so what the
    schema would say at or below it is not reported; a duplicate key keeps the first value,
    which is checked as any other."""

    message: str
    position: Position | None
    path: Path | None = None
    guessed: bool = True


@dataclass
class YamlDocument:
    value: Any = None
    positions: dict[Path, Position] = field(default_factory=dict)
    key_positions: dict[Path, Position] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: When only the shallow positions were recorded: gives them all (see :meth:`complete`).
    rest: Callable[[], tuple[dict[Path, Position], dict[Path, Position]]] | None = field(
        default=None, compare=False, repr=False
    )

    def position(self, path: Path, prefer_key: bool = False) -> Position | None:
        """Where the node at ``path`` starts; with ``prefer_key``, where its key does."""
        found = self._position(path, prefer_key)
        if found is None and self.rest is not None:
            self.complete()
            found = self._position(path, prefer_key)
        return found

    def complete(self) -> YamlDocument:
        """Record every position (a document read by :mod:`yamlsimple` starts with only
        the shallow ones, which is all a valid meter file needs)."""
        if self.rest is not None:
            self.positions, self.key_positions = self.rest()
            self.rest = None
        return self

    def _position(self, path: Path, prefer_key: bool) -> Position | None:
        if prefer_key and path in self.key_positions:
            return self.key_positions[path]
        return self.positions.get(path) or self.key_positions.get(path)
