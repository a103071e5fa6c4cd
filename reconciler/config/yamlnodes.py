"""YAML bytes → plain Python values, with the position of every node, refusing YAML 1.1 traps.

PyYAML implements YAML 1.1, where many plain scalars silently become something else than what
was written. A misread value in a meter is a wrong invoice, so the rule here is:

- **Booleans**: a plain scalar is a boolean only when spelled ``true`` or ``false`` (also
  ``True``/``TRUE``/``False``/``FALSE``). ``yes``, ``no``, ``on``, ``off``, ``y``, ``n`` in any
  case, and odd casings such as ``tRue`` (text to YAML, surely not meant), are errors: write
  true/false, or quote the text.
- **Integers** only in plain decimal form (``42``, ``-7``). Octal (``012``, ``0o12``), hex
  (``0x1F``), binary (``0b101``), digit separators (``1_000``) and base 60 (``1:30``) are errors:
  write the number in decimal, or quote it.
- **Floats** only in plain decimal form (``1.5``, ``2.0e+3``); ``.inf``/``.nan`` are errors, and so
  is text that reads as a number in other YAML versions but as a string in YAML 1.1 (``1e3``).
- **Dates and timestamps** (``2024-01-01``) are errors: quote them.
- **Mapping keys** must be strings: a plain key that resolves to anything else (``on:``, ``1:``,
  ``~:``) is an error asking to quote it.
- **Duplicate keys** in a mapping are an error naming both places (PyYAML keeps the last one).
- **Anchors, aliases and merge keys** (``<<``) work; expanding more nodes than a generous bound
  (an alias bomb, or an alias inside its own anchor) is an error.
- Collections nest at most 64 levels deep (about 30 levels of filter groups).
- The file must be UTF-8 without NUL or other control characters, and hold exactly one
  non-empty document. Other tags (``!!binary``, ``!custom``) are refused.

Nothing here knows about meters: :func:`load_yaml` returns the value, where each node and each
mapping key starts (1-based line and column, by path), and the problems found. When a value
is refused, a best guess is left at its path so the rest of the file can still be checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    MappingStartEvent,
    ScalarEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.config.yamlsimple import read_simple

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path = tuple[str | int, ...]
Position = tuple[int, int]  # 1-based line and column

_TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
MAP, SEQ, MERGE, TIMESTAMP = (_TAG + t for t in ("map", "seq", "merge", "timestamp"))

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

_YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}
_DECIMAL_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_DECIMAL_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][-+]?[0-9]+)?")
# Plain text that YAML 1.1 keeps as a string but other readers (YAML 1.2) take as a number.
_NUMBER_LIKE = re.compile(
    r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?0o[0-7]+|[-+]?\.(?:inf|nan)",
    re.IGNORECASE,
)
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


@dataclass(frozen=True)
class Problem:
    """Something refused, at a position (None: the file as a whole)."""

    message: str
    position: Position | None
    path: Path | None = None


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


def load_yaml(data: bytes) -> YamlDocument:
    """Decode, parse and build one YAML document; never raises for bad input."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8", errors="replace")
        return _failed(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x}): save the file as UTF-8",
            _offset_position(good, len(good)),
        )
    text = text.removeprefix("\ufeff")
    bad = _NOT_PRINTABLE.search(text)
    if bad:
        char = bad.group()
        what = "NUL character" if char == "\0" else f"control character U+{ord(char):04X}"
        return _failed(f"{what} not allowed in YAML", _offset_position(text, bad.start()))
    simple = read_simple(text, _plain_value, MAX_DEPTH, RECORDED_DEPTH)
    if simple is not None:
        value, positions, key_positions = simple
        return YamlDocument(value, positions, key_positions, rest=lambda: _all_positions(text))
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" in str(exc.problem):  # libyaml 0.2.6 stops at 1,000 levels
            deep = _too_deep(text)
            if deep is not None:
                return YamlDocument(problems=[deep])
        return _failed(_syntax_message(exc, text), _mark_position(exc.problem_mark))
    except yaml.YAMLError as exc:
        return _failed(f"YAML error: {_one_line(str(exc))}", None)
    except RecursionError:
        return _failed("nested too deeply for the YAML parser", None)
    if root is None or (root.tag == NULL and root.value == ""):
        return _failed("the file is empty: expected `version: 1` and `meters:`", (1, 1))
    if "&" not in text:  # no anchor, so no alias: nothing can expand
        built = _Builder().build_unaliased(root)
        if built is not None:
            return built
    return _Builder().build(root)


def _too_deep(text: str) -> Problem | None:
    """The problem the builder reports for a document nested past MAX_DEPTH, found from
    libyaml's events (for documents libyaml itself refuses to compose, too deep for it)."""
    frames: list[list[Any]] = []  # [path, mapping?, next index (list) or key (mapping)]
    expect_key = object()
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, CollectionEndEvent):
                frames.pop()
                continue
            if not isinstance(event, (ScalarEvent, AliasEvent, CollectionStartEvent)):
                continue
            path: Path = ()
            if frames:
                frame = frames[-1]
                if not frame[1]:
                    path, frame[2] = (*frame[0], frame[2]), frame[2] + 1
                elif frame[2] is expect_key:
                    if not isinstance(event, ScalarEvent):
                        return None  # a collection or alias as a key: leave it to libyaml
                    frame[2] = event.value
                    continue
                else:
                    path, frame[2] = (*frame[0], frame[2]), expect_key
            if isinstance(event, CollectionStartEvent):
                if len(path) > MAX_DEPTH:
                    message = f"nested more than {MAX_DEPTH} levels deep"
                    return Problem(message, _mark_position(event.start_mark), path)
                mapping = isinstance(event, MappingStartEvent)
                frames.append([path, mapping, expect_key if mapping else 0])
    except yaml.YAMLError:
        pass
    return None


def _all_positions(text: str) -> tuple[dict[Path, Position], dict[Path, Position]]:
    read = read_simple(text, _plain_value, MAX_DEPTH)
    assert read is not None, "the simple reader read this text once already"
    return read[1], read[2]


def _failed(message: str, position: Position | None) -> YamlDocument:
    return YamlDocument(problems=[Problem(message, position)])


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _mark_position(mark: Any) -> Position | None:
    return (mark.line + 1, mark.column + 1) if mark is not None else None


def _offset_position(text: str, offset: int) -> Position:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _syntax_message(exc: yaml.MarkedYAMLError, text: str) -> str:
    mark = exc.problem_mark
    if mark is not None:
        lines = text.split("\n")
        if mark.line < len(lines) and lines[mark.line][mark.column : mark.column + 1] == "\t":
            return "YAML error: tab character: YAML indentation must use spaces"
    parts = [p for p in (exc.context, exc.problem) if p]
    return "YAML error: " + _one_line(": ".join(parts) if parts else str(exc))


def _position(node: Node) -> Position:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
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
                children = []
                for key_node, value_node in self.pairs(node, path):
                    key = self.key(key_node, path)
                    if key is None:
                        continue
                    child = (*path, key)
                    if key in mapping:
                        self.duplicate(key, key_node, child)
                        continue
                    mapping[key] = None
                    doc.key_positions[child] = _position(key_node)
                    children.append((value_node, child, mapping, key))
                stack.extend(reversed(children))
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
        positions, key_positions = doc.positions, doc.key_positions
        scalars: dict[tuple[str, bool, str], tuple[Any, str | None]] = {}
        holder: dict[str, Any] = {}
        # Nodes typed Any: dispatch is on `type(node) is …` (faster here than isinstance,
        # which is what mypy narrows on).
        stack: list[tuple[Any, Path, Any, Any]] = [(root, (), holder, "root")]
        pop, push = stack.pop, stack.append
        while stack:
            node, path, container, slot = pop()
            mark = node.start_mark
            positions[path] = (mark.line + 1, mark.column + 1)
            kind = type(node)
            if kind is ScalarNode:
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
                pairs = []
                for key_node, value_node in node.value:
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
                stack.extend(pairs)
            else:
                return None
        doc.value = holder.get("root")
        return doc

    @property
    def aliased(self) -> bool:
        """Whether some node was reached twice, i.e. aliases are in use."""
        return self.expanded > len(self.distinct)

    def problem(self, message: str, node: Node, path: Path | None) -> None:
        self.doc.problems.append(Problem(message, _position(node), path))

    def duplicate(self, key: str, key_node: Node, child: Path) -> None:
        line, col = self.doc.key_positions[child]
        self.problem(
            f"duplicate key {key!r} (first defined at line {line}, column {col})", key_node, child
        )

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
        return [(c, depth) for c in candidates if isinstance(c, MappingNode)]

    def key(self, node: Node, path: Path) -> str | None:
        if not isinstance(node, ScalarNode):
            self.problem("mapping keys must be plain strings, not collections", node, path)
            return None
        if node.tag != STR:
            kind = _KINDS.get(node.tag, node.tag)
            self.problem(
                f"mapping key {node.value!r} is read as {kind} by YAML 1.1: keys must be "
                f'strings, quote it ("{node.value}")',
                node,
                path,
            )
            return None
        return node.value

    def scalar(self, node: ScalarNode, path: Path) -> Any:
        value, message = _scalar(node)
        if message:
            self.problem(message, node, path)
        return value


_KINDS = {BOOL: "a boolean", INT: "an integer", FLOAT: "a number", NULL: "null",
          TIMESTAMP: "a date"}


def _scalar(node: ScalarNode) -> tuple[Any, str | None]:
    """The value of a scalar node, and why it is refused (None when it is accepted)."""
    return _scalar_text(node.tag, node.value, not node.style)  # style None or "": plain


def _plain_value(tag: str, text: str) -> Any:
    """For :mod:`yamlsimple`: an accepted plain scalar's value; ValueError if refused."""
    value, message = _scalar_text(tag, text, True)
    if message:
        raise ValueError(message)
    return value


def _scalar_text(tag: str, text: str, plain: bool) -> tuple[Any, str | None]:
    if tag == STR:
        if "\0" in text:
            return text, "NUL character not allowed (Polar rejects strings holding NUL)"
        if not plain:
            return text, None
        lowered = text.lower()
        if lowered in _YAML11_BOOLS or lowered in ("true", "false"):
            return text, _bool_message(text)
        if _NUMBER_LIKE.fullmatch(text):
            return text, (
                f"{text} is read as text by YAML 1.1 but as a number elsewhere: write the "
                f'number in plain decimal form, or quote it ("{text}") if text is meant'
            )
        return text, None
    if tag == BOOL:
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true", None
        return lowered in ("yes", "on", "y"), _bool_message(text)
    if tag == INT:
        return _integer(text)
    if tag == FLOAT:
        return _float(text)
    if tag == NULL:
        return None, None
    if tag == TIMESTAMP:
        return text, f'{text} is read as a date by YAML 1.1: quote it ("{text}")'
    return text, f"unsupported YAML tag {tag}: quote the value if text is meant"


def _bool_message(text: str) -> str:
    return (
        f"{text} is ambiguous (a boolean to some YAML readers, text to others): write true "
        f'or false, or quote it ("{text}") if text is meant'
    )


def _integer(text: str) -> tuple[Any, str | None]:
    if _DECIMAL_INT.fullmatch(text):
        if len(text) > 100:
            return text, f"{text[:20]}… is too large a number"
        return int(text), None
    digits = text.lstrip("+-").lower()
    if "_" in digits:
        kind = "a number with digit separators"
    elif ":" in digits:
        kind = "a base-60 number"
    elif digits.startswith("0x"):
        kind = "a hexadecimal number"
    elif digits.startswith("0b"):
        kind = "a binary number"
    else:
        kind = "an octal number"
    return text, (
        f"{text} is {kind} in YAML 1.1: write the integer in plain decimal, or quote it "
        f'("{text}") if text is meant'
    )


def _float(text: str) -> tuple[Any, str | None]:
    if _DECIMAL_FLOAT.fullmatch(text):
        value = float(text)
        if value not in (float("inf"), float("-inf")):
            return value, None
        return text, f"{text} is too large a number"
    if text.lstrip("+-").lower() in (".inf", ".nan"):
        return text, f"{text} (infinity or not-a-number) is not accepted: write a finite number"
    return text, (
        f"{text} is not a plain decimal number (YAML 1.1 reads digit separators and base 60): "
        f'write it in plain decimal, or quote it ("{text}") if text is meant'
    )
