"""A fast reader for the plain YAML that meter files are written in, or None.

libyaml through PyYAML spends most of its time making a Python object for every event, node
and mark (about 0.9 s for 10,000 meters). Most meter files use a small part of YAML: block
mappings and sequences, one-line flow mappings and sequences, plain scalars without
``:`` or ``#``, and one-line quoted strings without escapes. This reads exactly that, straight
into values and positions, and gives up (returns None) on anything else, or on anything
:mod:`yamlnodes` would report: then :func:`yamlnodes.load_yaml` reads the file with libyaml
as before. So a document read here has no problems, and its value, node positions and key
positions are the ones libyaml and the general builder give (tests/config/test_yamlsimple.py
compares them).

Plain scalars are resolved by PyYAML's own resolver and judged by the same rules
(:mod:`yamltraps`); any scalar they refuse sends the file to the general path.

Below the depth whose positions are recorded (inside each meter), no column is needed, and
the common lines are read without regular expressions: a flow mapping of plain words is taken
apart with ``str.split`` (each piece checked as a whole word), and a `key: word` line whose
key and word were seen before is found with ``str.partition`` and a dictionary. Anything
these shortcuts are not sure of goes the regular way, so they change speed, not results
(``bench/config_cpu.py``: loading 10,000 meters took 0.93 s before them, 0.45 s to 0.61 s
after, in the committed runs).
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.config.yamldoc import Path, Position
from reconciler.config.yamlflow import (
    KEY_LINE,
    KEY_SCALAR_LINE,
    PLAIN_BLOCK,
    QUOTED,
    GiveUp,
    LineReader,
    Where,
)

#: Line breaks other than \n, tabs and a BOM: left to libyaml.
_UNSUPPORTED = re.compile("[\r\t\x85\u2028\u2029\ufeff]")


def read_simple(
    text: str,
    max_depth: int,
    record_depth: int | None = None,
) -> tuple[Any, dict[Path, Position], dict[Path, Position]] | None:
    """(value, node positions, key positions), or None to read the text the general way.

    With ``record_depth``, only the positions of nodes and keys at
    most that deep are recorded (a third of the time goes into recording them all); reading
    the same text again without it gives them all.
    """
    if _UNSUPPORTED.search(text):
        return None
    try:
        return _Reader(text, max_depth, record_depth).document()
    except GiveUp:
        return None
    except (IndexError, RecursionError):  # a shape not foreseen here: libyaml knows better
        return None

class _Reader(LineReader):
    def __init__(self, text: str, max_depth: int, record_depth: int | None) -> None:
        super().__init__(max_depth, record_depth)
        # the lines that hold something: (line number (1-based), indent, content)
        self.lines: list[tuple[int, int, str]] = []
        for number, line in enumerate(text.split("\n"), 1):
            content = line.lstrip(" ")
            if not content or content[0] == "#":
                continue
            indent = len(line) - len(content)
            if indent == 0 and content.startswith(("---", "...", "%")):
                raise GiveUp
            self.lines.append((number, indent, content))
        self.at = 0

    def document(self) -> tuple[Any, dict[Path, Position], dict[Path, Position]]:
        if not self.lines or self.lines[0][1] != 0:
            raise GiveUp
        value = self.block_node(0, ())
        if self.at != len(self.lines):
            raise GiveUp
        return value, self.positions, self.key_positions

    # -- block context ----------------------------------------------------------------------

    def block_node(self, indent: int, path: Where) -> Any:
        """The mapping or sequence whose first line is the current one, at ``indent``."""
        if self.too_deep(path):
            raise GiveUp
        content = self.lines[self.at][2]
        if content[0] == "-" and content[1:2] in (" ", ""):
            return self.block_sequence(indent, path)
        # a mapping, or a scalar on a line of its own (which may go on over several lines):
        # block_mapping gives up on a first line that is not `key:`
        return self.block_mapping(indent, path)

    def block_mapping(self, indent: int, path: Where) -> dict[str, Any]:
        lines = self.lines
        if type(path) is not int:
            self.positions[path] = (lines[self.at][0], indent + 1)  # type: ignore[index]
        # the children's paths, or (when their positions are not recorded) their depth
        depth = self.child(path, "")
        record = type(depth) is not int
        mapping: dict[str, Any] = {}
        end = len(lines)
        while self.at < end:
            number, line_indent, content = lines[self.at]
            if line_indent != indent:
                break
            self.at += 1
            if record or not self.known_entry(mapping, content, number, indent, depth):
                self.entry(mapping, content, number, indent, path if record else depth)
        return mapping

    def known_entry(
        self, mapping: dict[str, Any], content: str, number: int, indent: int, depth: Where
    ) -> bool:
        """A `key: word|{...}|[...]` or `key:` line whose key was seen before, read without
        regular expressions (positions not recorded); False to read it the regular way."""
        keys, words = self.keys, self.block_words
        key, colon, word = content.partition(": ")
        if not colon:
            if content[-1] != ":" or content[:-1] not in keys:
                return False
            key = content[:-1]  # its value below
            if key in mapping:
                raise GiveUp
            mapping[key] = self.nested(indent, depth, allow_indentless=True)
            return True
        if key not in keys:
            return False
        if word in words:
            value = words[word]
        elif word[:1] in ("{", "["):
            value = self.inline(word, number, 0, depth)
        elif PLAIN_BLOCK.fullmatch(word) or QUOTED.fullmatch(word):
            value = words[word] = self.value(word, number, 0, depth)
        else:
            return False
        if key in mapping:
            raise GiveUp
        mapping[key] = value
        self.no_continuation(indent)  # the value going on over the next lines
        return True

    def entry(
        self, mapping: dict[str, Any], content: str, number: int, indent: int, where: Where
    ) -> None:
        """One `key: ...` line of a block mapping at ``where`` (its path, or its children's
        depth when their positions are not recorded)."""
        whole = KEY_SCALAR_LINE.match(content)
        match = whole or KEY_LINE.match(content)
        if match is None:
            raise GiveUp
        key = match.group(1)
        if key not in self.keys:
            key = self.key(key)
        if key in mapping:
            raise GiveUp  # a duplicate: the general path words it
        record = type(where) is not int
        child = (*where, key) if record else where  # type: ignore[misc]
        if record:
            self.key_positions[child] = (number, indent + 1)  # type: ignore[index]
        if whole:  # `key: scalar`, the most common line
            word = whole.group(2)
            mapping[key] = self.value(word, number, indent + 1 + whole.start(2), child)
        else:
            rest = content[match.end():]
            if not rest or rest[0] == "#":
                mapping[key] = self.nested(indent, child, allow_indentless=True)
                return
            mapping[key] = self.inline(rest, number, indent + 1 + match.end(), child)
        self.no_continuation(indent)  # the value going on over the next lines

    def block_sequence(self, indent: int, path: Where) -> list[Any]:
        lines = self.lines
        number, _, content = lines[self.at]
        if type(path) is not int:
            self.positions[path] = (number, indent + 1)  # type: ignore[index]
        depth = self.child(path, 0)
        record = type(depth) is not int  # else the items' depth: no position recorded
        items: list[Any] = []
        at, end = self.at, len(lines)
        while at < end:
            number, line_indent, content = lines[at]
            if line_indent != indent or content[0] != "-":
                break
            if content[1:2] != " ":
                raise GiveUp  # "-" alone (its item on the next lines), or "-x"
            rest = content[1:].lstrip(" ")
            item_indent = indent + len(content) - len(rest)  # where the item starts, 0-based
            child = (*path, len(items)) if record else depth  # type: ignore[misc]
            if not rest or rest[0] == "#":
                raise GiveUp  # the item on the next lines
            if not record and rest[0] == "{" and rest[-1] == "}":  # `- {key: word, ...}`
                too_deep = depth > self.max_depth  # type: ignore[operator]
                flat = None if too_deep else self.flat_mapping(rest[1:-1])
                if flat is not None:
                    at += 1
                    items.append(flat)
                    if at < end and lines[at][1] > indent:
                        raise GiveUp  # the item going on over the next lines
                    continue
            self.at = at
            if (rest[0] == "-" and rest[1:2] in (" ", "")) or self.key_line(rest):
                lines[at] = (number, item_indent, rest)  # the item starts a block
                items.append(self.block_node(item_indent, child))
            else:
                self.at += 1
                items.append(self.inline(rest, number, item_indent + 1, child))
                self.no_continuation(indent)
            at = self.at
        self.at = at
        return items

    def key_line(self, content: str) -> bool:
        """Whether ``content`` starts with a key: `key:` or `key: ...`."""
        key, colon, _ = content.partition(": ")
        if (colon and key in self.keys) or (content[-1] == ":" and content[:-1] in self.keys):
            return True
        return KEY_LINE.match(content) is not None

    def nested(self, indent: int, path: Where, allow_indentless: bool) -> Any:
        """The block value of a key whose line ends after the colon."""
        if self.at == len(self.lines):
            raise GiveUp  # an empty value
        _, next_indent, content = self.lines[self.at]
        if next_indent > indent:
            return self.block_node(next_indent, path)
        if allow_indentless and next_indent == indent and content[0] == "-":
            if self.too_deep(path):
                raise GiveUp
            return self.block_sequence(indent, path)
        raise GiveUp  # an empty value

    def no_continuation(self, indent: int) -> None:
        """After a value on its key's line, the next line must not be indented deeper."""
        if self.at < len(self.lines) and self.lines[self.at][1] > indent:
            raise GiveUp
