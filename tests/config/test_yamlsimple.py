"""The fast builder for documents without anchors gives exactly what the general one gives:
values, positions, key positions and problems, in order (issue 6)."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.config import yamlnodes
from reconciler.config.yamlbuild import Builder
from reconciler.config.yamlnodes import Loader, YamlDocument, load_yaml
from reconciler.config.yamlsimple import read_simple
from tests.support.paths import ROOT
from tests.support.strategies import yaml_values as plain_values

#: Every test here compares the fast readers with libyaml and the general builder.
pytestmark = pytest.mark.equivalence


def _utf8(path: Path) -> bool:
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return False  # refused before building: nothing to compare
    return True


CORPUS = sorted(
    path
    for path in [*(ROOT / "tests" / "bad_configs").rglob("*.y*ml"),
                 *(ROOT / "examples").rglob("*.y*ml")]
    if _utf8(path)
)


def both(text: str) -> tuple[object, object]:
    root = yaml.compose(text, Loader=Loader)
    if root is None:
        return None, None
    fast = Builder().build_unaliased(root)
    slow = Builder().build(root)
    return fast, slow


def same(text: str) -> None:
    try:
        fast, slow = both(text)
    except yaml.YAMLError:
        return  # refused by the parser: neither builder runs
    if slow is None:  # no document at all: load_yaml stops before building
        return
    if fast is None:  # a merge key: left to the general builder
        assert "<<" in text or "!!merge" in text
        return
    assert fast == slow


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_example_and_bad_config_builds_the_same(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if "&" not in text and "\0" not in text:
        same(text)


def test_merge_keys_are_left_to_the_general_builder() -> None:
    fast, slow = both("base: {a: 1}\nmeter:\n  <<: {a: 1}\n  b: 2\n")
    assert fast is None and slow is not None


def test_problems_come_in_the_same_order_with_the_same_positions() -> None:
    same("a: yes\nb: 012\nc: {d: 1, d: 2}\ne: 2024-01-01\nf: 'x'\n1: z\n[x]: y\ng: !custom v\n")


TRAPS = ["yes", "On", "012", "0x1F", "1_000", "1e3", ".inf", "2024-01-01", "tRue", "~", "1:30"]
values = st.one_of(
    plain_values, st.dictionaries(st.text(max_size=5), st.sampled_from(TRAPS), max_size=4)
)


@settings(max_examples=200, deadline=None)
@given(values, st.booleans())
def test_any_document_builds_the_same(value: object, flow: bool) -> None:
    text = yaml.safe_dump({"v": value}, default_flow_style=flow, allow_unicode=True)
    same(text.replace("'", ""))  # unquoted too, so that YAML 1.1 traps appear plain


# --- the simple reader (yamlsimple) against libyaml and the general builder -------------


def general(data: bytes) -> YamlDocument:
    with mock.patch.object(yamlnodes, "read_simple", lambda *args: None):
        return load_yaml(data)


def agrees(text: str) -> bool:
    """load_yaml gives what the general path gives; True when the simple reader read it."""
    data = text.encode()
    slow = general(data)
    shallow = load_yaml(data)  # positions recorded down to RECORDED_DEPTH, the rest on demand
    for path in [*slow.positions, *slow.key_positions]:
        if len(path) <= yamlnodes.RECORDED_DEPTH:
            for prefer_key in (False, True):
                assert shallow.position(path, prefer_key) == slow.position(path, prefer_key)
    assert shallow.rest is None or len(shallow.positions) <= len(slow.positions)
    lazy = load_yaml(data)
    for path in [*slow.positions, *slow.key_positions, ("no", "such", "path")]:
        for prefer_key in (False, True):
            assert lazy.position(path, prefer_key) == slow.position(path, prefer_key)
    assert lazy == slow
    assert load_yaml(data).complete() == slow
    return read_simple(text, yamlnodes.MAX_DEPTH) is not None


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_simple_reader_agrees_on_every_example_and_bad_config(path: Path) -> None:
    data = path.read_bytes()
    assert load_yaml(data).complete() == general(data)


def test_the_simple_reader_reads_the_examples() -> None:
    for path in (ROOT / "examples" / "meters").glob("*.yaml"):
        assert agrees(path.read_text()), path


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb:\n- x\n- y\nc: 2\n",  # an indentless sequence
        "a:\n  - k: 1\n    j: 2\n  - - 3\n    - 4\n",
        "a: {b: [1, {c: d}], e: []}\n",
        "a: 'x: #y'  # comment\nb: \"q, r\"\n",
        "a: b\n  c\n",  # a plain scalar going on over two lines
        "a: b\n c: d\n",
        "a:\nb: 1\n",  # an empty value
        "a: {b: 1,}\n",
        "a: [1, 2\n",
        "  a: 1\n",
        "a: -\n",
        "- a\n- b\n",
        "a: yes\n",
        "a: 1\na: 2\n",
        "on: 1\n",
        "a: b #c\n",
        "a: b#c\n",
        "a: {b: c}#d\n",
        "a:   # nothing yet\n  b: 1\n",
        "a: x y  z \n",
        "a:\n    - 1\n  b: 2\n",
        "a: 1\n---\nb: 2\n",
        "a: é ü\n",
        "'a': \"\"\n",
        "a: [b: c]\n",
        "a: {b}\n",
        "a: {'b': 1, \"c\": 2}\n",
        "a: 2024-01-01\n",
        "a: 1_000\n",
        "a: ~\nb: null\nc: Null\n",
        "a: -1\nb: -x\nc: .5\nd: +3\n",
        "a: =\n",
        "a" * 1100 + ": 1\n",  # libyaml's limit on a key's length
        "x: {" + "b" * 1100 + ": 1}\n",
        "x: {a: " + "b" * 1100 + "}\n",
    ],
)
def test_the_simple_reader_agrees_or_steps_aside(text: str) -> None:
    agrees(text)


words = st.text(alphabet="abcxyz019 _-.:#,'\"{}[]~é", min_size=1, max_size=8)
leaves = st.one_of(words, st.integers(-5, 5), st.booleans(), st.none())
trees = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(words, inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(trees, st.sampled_from([False, None]), st.sampled_from([2, 4]))
def test_the_simple_reader_agrees_on_any_dumped_document(
    tree: object, flow: bool | None, indent: int
) -> None:
    text = yaml.safe_dump({"root": tree}, default_flow_style=flow, indent=indent,
                          allow_unicode=True, width=1000)
    agrees(text)
    agrees(text.replace("'", ""))  # the same without quotes: other scalars, traps


@settings(max_examples=200, deadline=None)
@given(trees, st.sampled_from([False, None]), st.sampled_from([2, 4]))
def test_the_simple_reader_agrees_on_any_dumped_document_seen_twice(
    tree: object, flow: bool | None, indent: int
) -> None:
    """The same tree in two meters, below the recorded depth: the second read through the
    shortcuts, with what the first one remembered."""
    text = yaml.safe_dump({"meters": {"one": {"root": tree}, "two": {"root": tree}}},
                          default_flow_style=flow, indent=indent, allow_unicode=True,
                          width=1000)
    agrees(text)
    agrees(text.replace("'", ""))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.sampled_from(
    ["a: 1", "b:", "- c", "- d: 2", "-", "e: {f: g}", "h: [1, i]", "# c", "", "j: 'k'",
     "l: m n", "o: p # q", "- - r", "s: t: u", "v: yes"])), max_size=8))
def test_the_simple_reader_agrees_on_odd_indentation(lines: list[tuple[int, str]]) -> None:
    agrees("".join(" " * indent + line + "\n" for indent, line in lines))


# Below the recorded depth the reader takes shortcuts (flow mappings split with str.split,
# `key: word` lines seen before found without a regex): each text here is nested deeper than
# RECORDED_DEPTH and repeated, so that the second copy goes through those shortcuts.
FLOWS = [
    "{a: b, c: d}", "{a: b , c: d}", "{ a: b }", "{a: b,c}", "{a:  b}", "{a: b,, c: d}",
    "{a: b, }", "{a: 'x, y'}", "{a: \"q: r\"}", "{'a': b}", "{a: b, a: c}", "{a: yes}",
    "{on: 1}", "{a: 012}", "{a: 0}", "{a: 8704, b: -3}", "{a: 0999}", "{a: b c}", "{a: b #c}",
    "{a: b} # c", "{a: b}#c", "{a: {b: c}}", "{a: [1, 2]}", "{}", "{a}", "{a: }", "{: b}",
    "{a: b}x", "{-a: b}", "{a: -}", "{a: -1}", "{a: 1.5}", "{a: ~}", "{a: 2024-01-01}",
    "{a: 1e3}", "{a: b:c}", "{a: b: c}", "{a: é}", "{a: 1_000}", "{a: +5}", "{a: 1٣}",
    "{a: " + "9" * 120 + "}",
]
LINES = [
    "k: v", "k:  v", "k: v ", "k: v # c", "k: 'v'", "k: \"v: w\"", "k: v: w", "k: v, w",
    "k: -", "k: - x", "k: [a, b]", "k: yes", "k: 7", "k: 07", "k: ''", "k: 'it''s'",
    "k:\n  n: 1", "k:\n- 1", "k:", "k: {a: b}", "k: {a: b}  # c", "'k': v", "on: v",
    "k: v\n  w", "k: v\nk: v", "k: 1٣", "k: 12",
]


def _twice(body: str, then: str | None = None) -> str:
    """``body`` in two meters (``then`` in the second, if given), below the recorded depth."""
    def indented(text: str) -> str:
        return "".join(f"      {line}\n" for line in text.split("\n"))
    return f"meters:\n  one:\n    f:\n{indented(body)}  two:\n    f:\n{indented(then or body)}"


@pytest.mark.parametrize("line", ["k: v", "k: {a: b}", "- {a: b}", "k:\n  j: 1"])
def test_a_line_seen_before_may_not_go_on_below(line: str) -> None:
    for below in ("  w", "  - w", "  j: w"):
        assert not agrees(_twice(line, f"{line}\n{below}"))


@pytest.mark.parametrize("flow", FLOWS)
def test_the_flow_shortcut_agrees_or_steps_aside(flow: str) -> None:
    agrees(_twice(f"x: {flow}\ny: 1"))
    agrees(_twice(f"- {flow}\n- {flow}"))
    agrees(_twice(f"- k: {flow}\n  j: {flow}"))


@pytest.mark.parametrize("line", LINES)
def test_the_known_line_shortcut_agrees_or_steps_aside(line: str) -> None:
    agrees(_twice(f"{line}\nz: 1"))
    agrees(_twice(f"- {line}\n- {line}"))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.sampled_from(LINES + [f"x: {f}" for f in FLOWS]
                                                              + [f"- {f}" for f in FLOWS])),
                max_size=8))
def test_the_shortcuts_agree_on_any_mix(lines: list[tuple[int, str]]) -> None:
    agrees(_twice("\n".join(" " * indent + line for indent, line in lines)))


@pytest.mark.parametrize("style", ["flow", "block"])
def test_the_bench_meters_are_read_by_the_simple_reader(tmp_path: Path, style: str) -> None:
    from bench.config_cpu import write_files

    write_files(tmp_path, 300, 1, seed=3, style=style)
    assert agrees((tmp_path / "meters-000.yaml").read_text())
