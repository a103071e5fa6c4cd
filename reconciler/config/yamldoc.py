"""What reading YAML gives: a value, where each node and key starts, and the problems found.

Shared by the readers (:mod:`yamlnodes` over libyaml, :mod:`yamlbuild`, :mod:`yamlsimple`);
nothing here knows about meters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.model import Diagnostic, Location, NodePath

Path = NodePath
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

def yaml_problem(
    message: str, position: Position | None, path: Path | None = None, masks: bool = True
) -> Diagnostic:
    """Something refused, at a position of the document (None: the document as a whole);
    the loader names the file. ``masks``: the value left at ``path`` is a guess (a refused
    scalar or key), so what the schema would say at or below it is not reported; a
    duplicate key keeps the first value, which is checked as any other."""
    location = Location("", *position) if position else None
    return Diagnostic("error", message, location, path, masks=masks)


@dataclass
class YamlDocument:
    value: Any = None
    positions: dict[Path, Position] = field(default_factory=dict)
    key_positions: dict[Path, Position] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)
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

    def location(self, file: str, path: Path, at_key: bool = False) -> Location:
        """Where the node at ``path`` is in FILE (its key's place with ``at_key``); 1:1 when
        the document does not say."""
        line, col = self.position(path, prefer_key=at_key) or (1, 1)
        return Location(file, line, col)

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
