"""The fast YAML reader's words and one-line values: scalars and flow collections.

The base of :class:`yamlsimple._Reader` (the block context is there): what the two share,
the patterns of the plain YAML read fast, and the reading of a value written on one line.
A plain scalar's tag is PyYAML's resolver's, and whether it is accepted is :mod:`yamltraps`'.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from reconciler.config.yamldoc import Path, Position
from reconciler.config.yamltraps import INT, STR, plain_value

#: Where a node is: its path when its position is recorded, else only its depth.
Where = Path | int

_SAFE = r"\w.()+$=/~"  # what plain scalars may hold here, besides inner spaces (and commas,
# in block context): never ':' or '#', so that a plain scalar ends where these patterns stop
_BLOCK_WORD = rf"(?!-(?: |$))[{_SAFE}-](?:[{_SAFE}, -]*[{_SAFE},-])?"
_FLOW_WORD = rf"(?!-(?: |$))[{_SAFE}-](?:[{_SAFE} -]*[{_SAFE}-])?"
_QUOTED_WORD = r"\"[^\"\\\n]*\"|'[^'\n]*'"  # one line, no escapes
PLAIN_BLOCK = re.compile(_BLOCK_WORD)
_PLAIN_FLOW = re.compile(_FLOW_WORD)
QUOTED = re.compile(_QUOTED_WORD)
KEY_LINE = re.compile(rf"({_BLOCK_WORD}|{_QUOTED_WORD}):(?: +|$)")
KEY_SCALAR_LINE = re.compile(  # `key: scalar  # comment`, the most common line
    rf"({_BLOCK_WORD}|{_QUOTED_WORD}): +({_BLOCK_WORD}|{_QUOTED_WORD}) *(?: #.*)?$"
)
_FLOW_PAIR = re.compile(  # `key: scalar,` or `key: scalar}`, the most common flow entry
    rf"({_FLOW_WORD}|{_QUOTED_WORD}): +({_FLOW_WORD}|{_QUOTED_WORD}) *([,}}])"
)
_FLOW_PLAIN = re.compile(_FLOW_WORD)
_END = re.compile(r" *(?: #.*)?$")
_SPACES = re.compile(r" *")


class GiveUp(Exception):
    """Not the plain YAML read here: let libyaml read it."""


#: libyaml refuses a key whose colon comes more than 1,024 characters after its start.
_SIMPLE_KEY_MOST = 1000


class _Memo:
    """What the reader learnt of words: pure functions of their text, so shared by every
    document read in the process (10,000 one-meter files learn them once, as one file does)."""

    def __init__(self) -> None:
        self.resolver = yaml.resolver.Resolver()
        # first characters some implicit tag (bool, int, float, null…) may start with: a plain
        # scalar starting with any other is a string, as the resolver itself would find
        self.implicit = frozenset(self.resolver.yaml_implicit_resolvers)
        self.scalars: dict[str, Any] = {}
        self.keys: set[str] = set()
        self.flats: dict[str, dict[str, Any]] = {}  # flow mappings read by flat_mapping
        self.flow_keys: set[str] = set()  # plain keys seen whole in a flow mapping
        self.flow_words: dict[str, Any] = {}  # plain scalars seen whole in a flow mapping
        self.block_words: dict[str, Any] = {}  # scalars seen as a whole `key: word` line

    def size(self) -> int:
        return len(self.scalars) + len(self.flats) + len(self.flow_words) + len(self.block_words)


#: Past this many remembered words, the memo starts again (memory stays bounded).
_MEMO_MOST = 200_000
_MEMOS: list[_Memo] = []


def _memo() -> _Memo:
    if not _MEMOS or _MEMOS[0].size() > _MEMO_MOST:
        _MEMOS[:] = [_Memo()]
    return _MEMOS[0]


class LineReader:
    """What the fast reader knows of words and positions, and the reading of one line."""

    def __init__(self, max_depth: int, record_depth: int | None) -> None:
        self.max_depth = max_depth
        self.record_depth = max_depth + 1 if record_depth is None else record_depth
        memo = _memo()
        self.resolver = memo.resolver
        self.implicit = memo.implicit
        self.scalars = memo.scalars
        self.keys = memo.keys
        self.flats = memo.flats
        self.flow_keys = memo.flow_keys
        self.flow_words = memo.flow_words
        self.block_words = memo.block_words
        self.positions: dict[Path, Position] = {}
        self.key_positions: dict[Path, Position] = {}

    def child(self, where: Where, key: str | int) -> Where:
        """Where a child of ``where`` is: its path while positions are recorded."""
        if type(where) is int:
            return where + 1
        depth = len(where)  # type: ignore[arg-type]
        return (*where, key) if depth < self.record_depth else depth + 1  # type: ignore[misc]

    def too_deep(self, where: Where) -> bool:
        return (where if type(where) is int else len(where)) > self.max_depth  # type: ignore

    def key(self, text: str) -> str:
        if len(text) > _SIMPLE_KEY_MOST:
            raise GiveUp
        if text[0] in "\"'":
            return text[1:-1]
        if text not in self.keys:
            if self.tag(text) != STR:
                raise GiveUp  # `on:`, `1:`: the general path words it
            self.keys.add(text)
        return text

    def tag(self, word: str) -> str:
        """The tag PyYAML's resolver gives a plain scalar (never empty here)."""
        if word[0] not in self.implicit and None not in self.implicit:
            return STR
        if word[0] != "0" and word.isdigit() and word.isascii():
            return INT  # [1-9][0-9]*: no float, timestamp or base 60 without '.', '-' or ':'
        return str(self.resolver.resolve(yaml.ScalarNode, word, (True, False)))

    # -- one line: a scalar or a flow collection ---------------------------------------------

    def inline(self, text: str, line: int, column: int, path: Where) -> Any:
        """The value written at 1-based ``column`` of ``line``: all of ``text`` but a comment."""
        if text[0] in "[{":
            value, end = self.flow(text, 0, line, column, path)
        else:
            value, end = self.scalar(text, 0, line, column, path, PLAIN_BLOCK)
        if not _END.match(text, end):
            raise GiveUp
        return value

    def flow(self, text: str, at: int, line: int, column: int, path: Where) -> tuple[Any, int]:
        """A flow node at ``text[at]``; ``column`` is where ``text`` starts (1-based)."""
        opening = text[at : at + 1]
        if opening not in ("[", "{"):
            return self.scalar(text, at, line, column, path, _PLAIN_FLOW)
        if self.too_deep(path):
            raise GiveUp
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
                    raise GiveUp
                child = self.child(path, key)
                if type(child) is not int:
                    self.key_positions[child] = (line, column + at)  # type: ignore[index]
                value[key] = self.value(pair.group(2), line, column + pair.start(2), child)
                at = pair.end()
                if pair.group(3) == "}":
                    return value, at
                at = _SPACES.match(text, at).end()  # type: ignore[union-attr]
                if text[at : at + 1] in (closing, ""):
                    raise GiveUp  # a trailing comma
                continue
            if opening == "[":
                item, at = self.flow(text, at, line, column, self.child(path, len(value)))
                value.append(item)
            else:
                match = QUOTED.match(text, at) or _PLAIN_FLOW.match(text, at)
                if match is None or text[match.end() : match.end() + 2] != ": ":
                    raise GiveUp
                key = self.key(match.group())
                if key in value:
                    raise GiveUp
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
                raise GiveUp
            at = _SPACES.match(text, at + 1).end()  # type: ignore[union-attr]
            if text[at : at + 1] in (closing, ""):
                raise GiveUp  # a trailing comma

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
                raise GiveUp
            if word in words:
                value[key] = words[word]
            elif _FLOW_PLAIN.fullmatch(word):
                value[key] = words[word] = self.value(word, 0, 0, 0)
            else:
                return None
        self.flats[inner] = value.copy()
        return value

    def scalar(
        self, text: str, at: int, line: int, column: int, path: Where, plain: re.Pattern[str]
    ) -> tuple[Any, int]:
        match = QUOTED.match(text, at) or plain.match(text, at)
        if match is None:
            raise GiveUp
        return self.value(match.group(), line, column + at, path), match.end()

    def value(self, word: str, line: int, column: int, path: Where) -> Any:
        """The value of a whole scalar ``word`` (quoted, or plain) at ``column``."""
        if type(path) is not int:
            self.positions[path] = (line, column)  # type: ignore[index]
        if word[0] in "\"'":
            return word[1:-1]
        try:
            return self.scalars[word]
        except KeyError:
            try:
                value = self.scalars[word] = plain_value(self.tag(word), word)
            except ValueError:
                raise GiveUp from None
            return value
