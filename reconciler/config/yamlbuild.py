"""Values from libyaml's composed nodes, with positions, refusing what :mod:`yamltraps` refuses.

Built with an explicit stack (any depth, no recursion). Duplicate keys are an error naming
both places (PyYAML keeps the last one); anchors, aliases and merge keys (``<<``) work, and
expanding more nodes than a generous bound (an alias bomb, or an alias inside its own anchor)
is an error. When a value is refused, a best guess is left at its path so the rest of the file
can still be checked.
"""

from __future__ import annotations

from typing import Any, cast

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.config.yamldoc import (
    EXPANSION_ALLOWANCE,
    MAX_DEPTH,
    MAX_MERGE_DEPTH,
    Path,
    Position,
    YamlDocument,
    yaml_problem,
)
from reconciler.config.yamltraps import MAP, MERGE, SEQ, STR, key_problem, scalar_value


def _position(node: Node) -> Position:
    return node.start_mark.line + 1, node.start_mark.column + 1


class Builder:
    """Builds values from composed nodes with an explicit stack (any depth, no recursion)."""

    def __init__(self) -> None:
        self.doc = YamlDocument()
        self.expanded = 0
        self.distinct: set[int] = set()

    def build(self, root: Node) -> YamlDocument:
        doc = self.doc
        holder: dict[str, Any] = {}
        stack: list[tuple[Node, Path, Any, Any]] = [(root, (), holder, "root")]
        while stack:
            node, path, container, slot = stack.pop()
            self.expanded += 1
            self.distinct.add(id(node))
            if self.expanded > EXPANSION_ALLOWANCE + 10 * len(self.distinct):
                self.problem(
                    "aliases expand to too many nodes (an alias bomb, or an alias inside its "
                    "own anchor): refusing to expand them",
                    node,
                    path,
                )
                return YamlDocument(problems=doc.problems)
            doc.positions[path] = _position(node)
            if len(path) > MAX_DEPTH and not isinstance(node, ScalarNode):
                hint = " (is an alias used inside its own anchor?)" if self.aliased else ""
                self.problem(f"nested more than {MAX_DEPTH} levels deep{hint}", node, path)
                container[slot] = None
            elif isinstance(node, ScalarNode):
                container[slot] = self.scalar(node, path)
            elif isinstance(node, SequenceNode):
                self.check_tag(node, SEQ, path)
                items: list[Any] = [None] * len(node.value)
                container[slot] = items
                for index in range(len(node.value) - 1, -1, -1):
                    stack.append((node.value[index], (*path, index), items, index))
            elif isinstance(node, MappingNode):
                self.check_tag(node, MAP, path)
                mapping: dict[str, Any] = {}
                container[slot] = mapping
                children = self.own_pairs(self.pairs(node, path), path, mapping)
                stack.extend(children or ())  # pairs() leaves no merge key
        doc.value = holder.get("root")
        return doc

    def build_unaliased(self, root: Node) -> YamlDocument | None:
        """:meth:`build` for a document without aliases, about twice as fast; None when a
        merge key (``<<``) turns up, for :meth:`build` to do it.

        Without aliases every node is visited once, so there is no expansion to bound, and
        without merge keys a mapping's pairs are its own. Everything else is as in
        :meth:`build`: the same values, positions and problems, in the same order.
        """
        doc = self.doc
        positions = doc.positions
        scalars: dict[tuple[str, bool, str], tuple[Any, str | None]] = {}
        holder: dict[str, Any] = {}
        stack: list[tuple[Node, Path, Any, Any]] = [(root, (), holder, "root")]
        pop, push = stack.pop, stack.append
        while stack:
            node, path, container, slot = pop()
            mark = node.start_mark
            positions[path] = (mark.line + 1, mark.column + 1)
            kind = type(node)
            if kind is ScalarNode:
                node = cast(ScalarNode, node)
                plain = not node.style
                if node.tag == STR and not plain and "\0" not in node.value:
                    container[slot] = node.value  # quoted text: taken as written
                    continue
                cache_key = (node.tag, plain, node.value)
                found = scalars.get(cache_key)
                if found is None:
                    found = scalars[cache_key] = _scalar(node)
                if found[1]:
                    self.problem(found[1], node, path)
                container[slot] = found[0]
            elif len(path) > MAX_DEPTH:
                self.problem(f"nested more than {MAX_DEPTH} levels deep", node, path)
                container[slot] = None
            elif kind is SequenceNode:
                self.check_tag(node, SEQ, path)
                children = node.value
                items: list[Any] = [None] * len(children)
                container[slot] = items
                for index in range(len(children) - 1, -1, -1):
                    push((children[index], (*path, index), items, index))
            elif kind is MappingNode:
                self.check_tag(node, MAP, path)
                mapping: dict[str, Any] = {}
                container[slot] = mapping
                pairs = self.own_pairs(cast(MappingNode, node).value, path, mapping)
                if pairs is None:
                    return None
                stack.extend(pairs)
            else:
                return None
        doc.value = holder.get("root")
        return doc

    def own_pairs(
        self, given: list[tuple[Node, Node]], path: Path, mapping: dict[str, Any]
    ) -> list[tuple[Node, Path, Any, Any]] | None:
        """The children to build of the mapping at ``path`` with these pairs, last first
        (a refused or repeated key is a problem); None when a merge key turns up."""
        key_positions = self.doc.key_positions
        pairs = []
        for key_node, value_node in given:
            if type(key_node) is ScalarNode and key_node.tag == STR:
                key = key_node.value
            elif key_node.tag == MERGE:
                return None
            else:
                key = self.key(key_node, path)
                if key is None:
                    continue
            child = (*path, key)
            if key in mapping:
                self.duplicate(key, key_node, child)
                continue
            mapping[key] = None
            mark = key_node.start_mark
            key_positions[child] = (mark.line + 1, mark.column + 1)
            pairs.append((value_node, child, mapping, key))
        pairs.reverse()
        return pairs

    @property
    def aliased(self) -> bool:
        """Whether some node was reached twice, i.e. aliases are in use."""
        return self.expanded > len(self.distinct)

    def problem(self, message: str, node: Node, path: Path | None) -> None:
        self.doc.problems.append(yaml_problem(message, _position(node), path))

    def duplicate(self, key: str, key_node: Node, child: Path) -> None:
        line, col = self.doc.key_positions[child]
        message = f"duplicate key {key!r} (first defined at line {line}, column {col})"
        self.doc.problems.append(yaml_problem(message, _position(key_node), child, masks=False))

    def check_tag(self, node: Node, expected: str, path: Path) -> None:
        if node.tag != expected:
            self.problem(f"unsupported YAML tag {node.tag}", node, path)

    def pairs(self, node: MappingNode, path: Path) -> list[tuple[Node, Node]]:
        """The mapping's own pairs, then those merged in by ``<<`` for keys not given."""
        own: list[tuple[Node, Node]] = []
        merged: list[tuple[Node, Node]] = []
        sources: list[tuple[MappingNode, int]] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:
                sources.extend(self.merge_sources(key_node, value_node, path, 1))
            else:
                own.append((key_node, value_node))
        visited = {id(node)}
        while sources:
            source, depth = sources.pop(0)
            if id(source) in visited:
                continue
            visited.add(id(source))
            self.expanded += len(source.value)
            for key_node, value_node in source.value:
                if key_node.tag == MERGE:
                    sources.extend(self.merge_sources(key_node, value_node, path, depth + 1))
                else:
                    merged.append((key_node, value_node))
        given = {k.value for k, _ in own if isinstance(k, ScalarNode)}
        for key_node, value_node in merged:
            if isinstance(key_node, ScalarNode) and key_node.value not in given:
                given.add(key_node.value)
                own.append((key_node, value_node))
        return own

    def merge_sources(
        self, key_node: Node, value_node: Node, path: Path, depth: int
    ) -> list[tuple[MappingNode, int]]:
        if depth > MAX_MERGE_DEPTH:
            self.problem(f"merge keys (<<) nested more than {MAX_MERGE_DEPTH} deep", key_node, path)
            return []
        candidates = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        if not all(isinstance(c, MappingNode) for c in candidates):
            self.problem("<< must merge a mapping or a list of mappings", key_node, path)
            return []
        return [(cast(MappingNode, c), depth) for c in candidates]

    def key(self, node: Node, path: Path) -> str | None:
        if not isinstance(node, ScalarNode):
            self.problem("mapping keys must be plain strings, not collections", node, path)
            return None
        problem = key_problem(node.tag, node.value)
        if problem:
            self.problem(problem, node, path)
            return None
        return node.value

    def scalar(self, node: ScalarNode, path: Path) -> Any:
        value, message = _scalar(node)
        if message:
            self.problem(message, node, path)
        return value


def _scalar(node: ScalarNode) -> tuple[Any, str | None]:
    """The value of a scalar node, and why it is refused (None when it is accepted)."""
    return scalar_value(node.tag, node.value, not node.style)  # style None or "": plain
