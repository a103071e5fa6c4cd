"""A fast reader for the plain YAML that meter files are written in, or None.

libyaml through PyYAML spends most of its time making a Python object for every event, node
and mark (about 0.9 s for 10,000 meters). Most meter files use a small part of YAML: block
mappings and sequences, one-line flow mappings and sequences, plain scalars without
``:`` or ``#``, and one-line quoted strings without escapes. This reads exactly that, straight
into values and positions, and gives up (returns None) on anything else, or on anything
:mod:`yamlnodes` would report: then :func:`yamlnodes.load_yaml` reads the file with libyaml
as before. So a document read here has no problems, and its value, node positions and key
positions are the ones libyaml and the general builder give (tests/test_perf_yaml.py
compares them).

Plain scalars are resolved by PyYAML's own resolver and judged by the same rules
(``yamlnodes._scalar_text``); any scalar it refuses sends the file to the general path.

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
from collections.abc import Callable
from typing import Any

import yaml

Path = tuple[str | int, ...]
Position = tuple[int, int]
#: Where a node is: its path when its position is recorded, else only its depth.
_Where = Path | int

#: Line breaks other than \n, tabs and a BOM: left to libyaml.
_UNSUPPORTED = re.compile("[\r\t\x85\u2028\u2029\ufeff]")
_SAFE = r"\w.()+$=/~"  # what plain scalars may hold here, besides inner spaces (and commas,
# in block context): never ':' or '#', so that a plain scalar ends where these patterns stop
_BLOCK_WORD = rf"(?!-(?: |$))[{_SAFE}-](?:[{_SAFE}, -]*[{_SAFE},-])?"
_FLOW_WORD = rf"(?!-(?: |$))[{_SAFE}-](?:[{_SAFE} -]*[{_SAFE}-])?"
_QUOTED_WORD = r"\"[^\"\\\n]*\"|'[^'\n]*'"  # one line, no escapes
_PLAIN_BLOCK = re.compile(_BLOCK_WORD)
_PLAIN_FLOW = re.compile(_FLOW_WORD)
_QUOTED = re.compile(_QUOTED_WORD)
_KEY_LINE = re.compile(rf"({_BLOCK_WORD}|{_QUOTED_WORD}):(?: +|$)")
_KEY_SCALAR_LINE = re.compile(  # `key: scalar  # comment`, the most common line
    rf"({_BLOCK_WORD}|{_QUOTED_WORD}): +({_BLOCK_WORD}|{_QUOTED_WORD}) *(?: #.*)?$"
)
_FLOW_PAIR = re.compile(  # `key: scalar,` or `key: scalar}`, the most common flow entry
    rf"({_FLOW_WORD}|{_QUOTED_WORD}): +({_FLOW_WORD}|{_QUOTED_WORD}) *([,}}])"
)
_FLOW_PLAIN = re.compile(_FLOW_WORD)
_END = re.compile(r" *(?: #.*)?$")
_SPACES = re.compile(r" *")


class _GiveUp(Exception):
    """Not the plain YAML read here: let libyaml read it."""


def read_simple(
    text: str,
    judge: Callable[[str, str], Any],
    max_depth: int,
    record_depth: int | None = None,
) -> tuple[Any, dict[Path, Position], dict[Path, Position]] | None:
    """(value, node positions, key positions), or None to read the text the general way.

    ``judge(tag, text)`` is the value of an accepted plain scalar, raising ValueError when
    it would be a problem. With ``record_depth``, only the positions of nodes and keys at
    most that deep are recorded (a third of the time goes into recording them all); reading
    the same text again without it gives them all.
    """
    if _UNSUPPORTED.search(text):
        return None
    try:
        return _Reader(text, judge, max_depth, record_depth).document()
    except _GiveUp:
        return None
    except (IndexError, RecursionError):  # a shape not foreseen here: libyaml knows better
        return None


class _Reader:
    def __init__(
        self, text: str, judge: Callable[[str, str], Any], max_depth: int,
        record_depth: int | None,
    ) -> None:
        self.judge = judge
        self.max_depth = max_depth
        self.record_depth = max_depth + 1 if record_depth is None else record_depth
        self.resolver = yaml.resolver.Resolver()
        # first characters some implicit tag (bool, int, float, null…) may start with: a plain
        # scalar starting with any other is a string, as the resolver itself would find
        self.implicit = frozenset(self.resolver.yaml_implicit_resolvers)
        self.scalars: dict[str, Any] = {}
        self.keys: set[str] = set()
        self.block_words: dict[str, Any] = {}  # scalars seen as a whole `key: word` line
        self.flats: dict[str, dict[str, Any]] = {}  # flow mappings read by flat_mapping
        self.flow_keys: set[str] = set()  # plain keys seen whole in a flow mapping
        self.flow_words: dict[str, Any] = {}  # plain scalars seen whole in a flow mapping
        self.positions: dict[Path, Position] = {}
        self.key_positions: dict[Path, Position] = {}
        # the lines that hold something: (line number (1-based), indent, content)
        self.lines: list[tuple[int, int, str]] = []
        for number, line in enumerate(text.split("\n"), 1):
            content = line.lstrip(" ")
            if not content or content[0] == "#":
                continue
            indent = len(line) - len(content)
            if indent == 0 and content.startswith(("---", "...", "%")):
                raise _GiveUp
            self.lines.append((number, indent, content))
        self.at = 0

    def document(self) -> tuple[Any, dict[Path, Position], dict[Path, Position]]:
        if not self.lines or self.lines[0][1] != 0:
            raise _GiveUp
        value = self.block_node(0, ())
        if self.at != len(self.lines):
            raise _GiveUp
        return value, self.positions, self.key_positions

    def child(self, where: _Where, key: str | int) -> _Where:
        """Where a child of ``where`` is: its path while positions are recorded."""
        if type(where) is int:
            return where + 1
        depth = len(where)  # type: ignore[arg-type]
        return (*where, key) if depth < self.record_depth else depth + 1  # type: ignore[misc]

    def too_deep(self, where: _Where) -> bool:
        return (where if type(where) is int else len(where)) > self.max_depth  # type: ignore

    # -- block context ----------------------------------------------------------------------

    def block_node(self, indent: int, path: _Where) -> Any:
        """The mapping or sequence whose first line is the current one, at ``indent``."""
        if self.too_deep(path):
            raise _GiveUp
        content = self.lines[self.at][2]
        if content[0] == "-" and content[1:2] in (" ", ""):
            return self.block_sequence(indent, path)
        # a mapping, or a scalar on a line of its own (which may go on over several lines):
        # block_mapping gives up on a first line that is not `key:`
        return self.block_mapping(indent, path)

    def block_mapping(self, indent: int, path: _Where) -> dict[str, Any]:
        lines, keys, words = self.lines, self.keys, self.block_words
        number = lines[self.at][0]
        if type(path) is not int:
            self.positions[path] = (number, indent + 1)  # type: ignore[index]
        # the children's paths, or (when their positions are not recorded) their depth
        depth = self.child(path, "")
        record = type(depth) is not int
        mapping: dict[str, Any] = {}
        at, end = self.at, len(lines)
        while at < end:
            number, line_indent, content = lines[at]
            if line_indent != indent:
                break
            at += 1
            if not record:  # a key seen before needs no regex: `key: word|{...}|[...]`, `key:`
                key, colon, word = content.partition(": ")
                value: Any = _UNKNOWN
                if not colon:
                    if content[-1] == ":" and content[:-1] in keys:  # its value below
                        key = content[:-1]
                        if key in mapping:
                            raise _GiveUp
                        self.at = at
                        mapping[key] = self.nested(indent, depth, allow_indentless=True)
                        at = self.at
                        continue
                elif key in keys:
                    if word in words:
                        value = words[word]
                    elif word[:1] in ("{", "["):
                        value = self.inline(word, number, 0, depth)
                    elif _PLAIN_BLOCK.fullmatch(word) or _QUOTED.fullmatch(word):
                        value = words[word] = self.value(word, number, 0, depth)
                if value is not _UNKNOWN:
                    if key in mapping:
                        raise _GiveUp
                    mapping[key] = value
                    if at < end and lines[at][1] > indent:
                        raise _GiveUp  # the value going on over the next lines
                    continue
            whole = _KEY_SCALAR_LINE.match(content)
            match = whole or _KEY_LINE.match(content)
            if match is None:
                raise _GiveUp
            key = match.group(1)
            if key not in keys:
                key = self.key(key)
            if key in mapping:
                raise _GiveUp  # a duplicate: the general path words it
            child = (*path, key) if record else depth  # type: ignore[misc]
            if record:
                self.key_positions[child] = (number, indent + 1)  # type: ignore[index]
            if whole:  # `key: scalar`, the most common line
                word = whole.group(2)
                mapping[key] = self.value(word, number, indent + 1 + whole.start(2), child)
                if at < end and lines[at][1] > indent:
                    raise _GiveUp  # the value going on over the next lines
                continue
            self.at = at
            rest = content[match.end():]
            if not rest or rest[0] == "#":
                mapping[key] = self.nested(indent, child, allow_indentless=True)
            else:
                mapping[key] = self.inline(rest, number, indent + 1 + match.end(), child)
                self.no_continuation(indent)
            at = self.at
        self.at = at
        return mapping

    def block_sequence(self, indent: int, path: _Where) -> list[Any]:
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
                raise _GiveUp  # "-" alone (its item on the next lines), or "-x"
            rest = content[1:].lstrip(" ")
            item_indent = indent + len(content) - len(rest)  # where the item starts, 0-based
            child = (*path, len(items)) if record else depth  # type: ignore[misc]
            if not rest or rest[0] == "#":
                raise _GiveUp  # the item on the next lines
            if not record and rest[0] == "{" and rest[-1] == "}":  # `- {key: word, ...}`
                too_deep = depth > self.max_depth  # type: ignore[operator]
                flat = None if too_deep else self.flat_mapping(rest[1:-1])
                if flat is not None:
                    at += 1
                    items.append(flat)
                    if at < end and lines[at][1] > indent:
                        raise _GiveUp  # the item going on over the next lines
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
        return _KEY_LINE.match(content) is not None

    def nested(self, indent: int, path: _Where, allow_indentless: bool) -> Any:
        """The block value of a key whose line ends after the colon."""
        if self.at == len(self.lines):
            raise _GiveUp  # an empty value
        _, next_indent, content = self.lines[self.at]
        if next_indent > indent:
            return self.block_node(next_indent, path)
        if allow_indentless and next_indent == indent and content[0] == "-":
            if self.too_deep(path):
                raise _GiveUp
            return self.block_sequence(indent, path)
        raise _GiveUp  # an empty value

    def no_continuation(self, indent: int) -> None:
        """After a value on its key's line, the next line must not be indented deeper."""
        if self.at < len(self.lines) and self.lines[self.at][1] > indent:
            raise _GiveUp

    def key(self, text: str) -> str:
        if len(text) > _SIMPLE_KEY_MOST:
            raise _GiveUp
        if text[0] in "\"'":
            return text[1:-1]
        if text not in self.keys:
            if self.tag(text) != _STR:
                raise _GiveUp  # `on:`, `1:`: the general path words it
            self.keys.add(text)
        return text

    def tag(self, word: str) -> str:
        """The tag PyYAML's resolver gives a plain scalar (never empty here)."""
        if word[0] not in self.implicit and None not in self.implicit:
            return _STR
        if word[0] != "0" and word.isdigit() and word.isascii():
            return _INT  # [1-9][0-9]*: no float, timestamp or base 60 without '.', '-' or ':'
        return str(self.resolver.resolve(yaml.ScalarNode, word, (True, False)))

    # -- one line: a scalar or a flow collection ---------------------------------------------

    def inline(self, text: str, line: int, column: int, path: _Where) -> Any:
        """The value written at 1-based ``column`` of ``line``: all of ``text`` but a comment."""
        if text[0] in "[{":
            value, end = self.flow(text, 0, line, column, path)
        else:
            value, end = self.scalar(text, 0, line, column, path, _PLAIN_BLOCK)
        if not _END.match(text, end):
            raise _GiveUp
        return value

    def flow(self, text: str, at: int, line: int, column: int, path: _Where) -> tuple[Any, int]:
        """A flow node at ``text[at]``; ``column`` is where ``text`` starts (1-based)."""
        opening = text[at : at + 1]
        if opening not in ("[", "{"):
            return self.scalar(text, at, line, column, path, _PLAIN_FLOW)
        if self.too_deep(path):
            raise _GiveUp
        if type(path) is int and opening == "{":
            close = text.find("}", at)
            flat = self.flat_mapping(text[at + 1 : close]) if close > 0 else None
            if flat is not None:
                return flat, close + 1
        if type(path) is not int:
            self.positions[path] = (line, column + at)  # type: ignore[index]
        closing = "]" if opening == "[" else "}"
        value: Any = [] if opening == "[" else {}
        at = _SPACES.match(text, at + 1).end()  # type: ignore[union-attr]
        if text[at : at + 1] == closing:
            return value, at + 1
        while True:
            pair = _FLOW_PAIR.match(text, at) if opening == "{" else None
            if pair:  # the common entry, `key: scalar` then `,` or `}`, in one match
                key = self.key(pair.group(1))
                if key in value:
                    raise _GiveUp
                child = self.child(path, key)
                if type(child) is not int:
                    self.key_positions[child] = (line, column + at)  # type: ignore[index]
                value[key] = self.value(pair.group(2), line, column + pair.start(2), child)
                at = pair.end()
                if pair.group(3) == "}":
                    return value, at
                at = _SPACES.match(text, at).end()  # type: ignore[union-attr]
                if text[at : at + 1] in (closing, ""):
                    raise _GiveUp  # a trailing comma
                continue
            if opening == "[":
                item, at = self.flow(text, at, line, column, self.child(path, len(value)))
                value.append(item)
            else:
                match = _QUOTED.match(text, at) or _PLAIN_FLOW.match(text, at)
                if match is None or text[match.end() : match.end() + 2] != ": ":
                    raise _GiveUp
                key = self.key(match.group())
                if key in value:
                    raise _GiveUp
                child = self.child(path, key)
                if type(child) is not int:
                    self.key_positions[child] = (line, column + at)  # type: ignore[index]
                at = _SPACES.match(text, match.end() + 2).end()  # type: ignore[union-attr]
                value[key], at = self.flow(text, at, line, column, child)
            at = _SPACES.match(text, at).end()  # type: ignore[union-attr]
            mark = text[at : at + 1]
            if mark == closing:
                return value, at + 1
            if mark != ",":
                raise _GiveUp
            at = _SPACES.match(text, at + 1).end()  # type: ignore[union-attr]
            if text[at : at + 1] in (closing, ""):
                raise _GiveUp  # a trailing comma

    def flat_mapping(self, inner: str) -> dict[str, Any] | None:
        """``{inner}`` when it is plain words only, `key: word, key: word`, else None.

        Recording no position, this takes the common flow mapping apart with ``split``:
        each key and word must be a whole plain flow scalar (no ',', ':', '#', quotes,
        brackets or outer spaces), so the pieces are exactly the entries YAML reads.
        """
        seen = self.flats.get(inner)
        if seen is not None:
            return seen.copy()
        words, keys = self.flow_words, self.flow_keys
        value: dict[str, Any] = {}
        for entry in inner.strip(" ").split(", "):
            pair = entry.split(": ")
            if len(pair) != 2:
                return None
            key, word = pair
            if key not in keys:
                if not _FLOW_PLAIN.fullmatch(key):
                    return None
                keys.add(self.key(key))
            if key in value:
                raise _GiveUp
            if word in words:
                value[key] = words[word]
            elif _FLOW_PLAIN.fullmatch(word):
                value[key] = words[word] = self.value(word, 0, 0, 0)
            else:
                return None
        self.flats[inner] = value.copy()
        return value

    def scalar(
        self, text: str, at: int, line: int, column: int, path: _Where, plain: re.Pattern[str]
    ) -> tuple[Any, int]:
        match = _QUOTED.match(text, at) or plain.match(text, at)
        if match is None:
            raise _GiveUp
        return self.value(match.group(), line, column + at, path), match.end()

    def value(self, word: str, line: int, column: int, path: _Where) -> Any:
        """The value of a whole scalar ``word`` (quoted, or plain) at ``column``."""
        if type(path) is not int:
            self.positions[path] = (line, column)  # type: ignore[index]
        if word[0] in "\"'":
            return word[1:-1]
        try:
            return self.scalars[word]
        except KeyError:
            try:
                value = self.scalars[word] = self.judge(self.tag(word), word)
            except ValueError:
                raise _GiveUp from None
            return value


_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_UNKNOWN = object()  # a line the fast path of block_mapping leaves to the regular expressions
#: libyaml refuses a key whose colon comes more than 1,024 characters after its start.
_SIMPLE_KEY_MOST = 1000
