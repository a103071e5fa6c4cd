"""YAML bytes → plain Python values, with the position of every node, refusing YAML 1.1 traps.

Which scalars and keys are refused is :mod:`yamltraps` (one copy, for both readers). Here:

- The file must be UTF-8 without NUL or other control characters, and hold exactly one
  non-empty document.
- Collections nest at most 64 levels deep (about 30 levels of filter groups).
- Plain meter YAML is read by the fast reader (:mod:`yamlsimple`); anything else, or
  anything it is not sure of, by libyaml and the general builder (:mod:`yamlbuild`), which
  also refuse duplicate keys and bound what aliases may expand to.

Nothing here knows about meters: :func:`load_yaml` returns the value, where each node and each
mapping key starts (1-based line and column, by path), and the problems found. When a value
is refused, a best guess is left at its path so the rest of the file can still be checked.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    MappingStartEvent,
    ScalarEvent,
)

from reconciler.config.yamlbuild import Builder
from reconciler.config.yamldoc import (
    MAX_DEPTH,
    RECORDED_DEPTH,
    Path,
    Position,
    YamlDocument,
    yaml_problem,
)
from reconciler.config.yamlsimple import read_simple
from reconciler.config.yamltraps import NULL
from reconciler.model import Diagnostic

try:
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as Loader  # type: ignore[assignment]

__all__ = ["MAX_DEPTH", "Path", "Position", "YamlDocument", "load_yaml"]

_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)

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
    simple = read_simple(text, MAX_DEPTH, RECORDED_DEPTH)
    if simple is not None:
        value, positions, key_positions = simple
        return YamlDocument(value, positions, key_positions, rest=lambda: _all_positions(text))
    try:
        root = yaml.compose(text, Loader=Loader)
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
        built = Builder().build_unaliased(root)
        if built is not None:
            return built
    return Builder().build(root)


def _too_deep(text: str) -> Diagnostic | None:
    """The problem the builder reports for a document nested past MAX_DEPTH, found from
    libyaml's events (for documents libyaml itself refuses to compose, too deep for it)."""
    frames: list[list[Any]] = []  # [path, mapping?, next index (list) or key (mapping)]
    expect_key = object()
    try:
        for event in yaml.parse(text, Loader=Loader):
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
                    return yaml_problem(message, _mark_position(event.start_mark), path)
                mapping = isinstance(event, MappingStartEvent)
                frames.append([path, mapping, expect_key if mapping else 0])
    except yaml.YAMLError:
        pass
    return None


def _all_positions(text: str) -> tuple[dict[Path, Position], dict[Path, Position]]:
    read = read_simple(text, MAX_DEPTH)
    assert read is not None, "the simple reader read this text once already"
    return read[1], read[2]


def _failed(message: str, position: Position | None) -> YamlDocument:
    return YamlDocument(problems=[yaml_problem(message, position)])


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

