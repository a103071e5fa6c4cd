"""The fast builder for documents without anchors gives exactly what the general one gives:
values, positions, key positions and problems, in order (issue 6)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.config.yamlnodes import _Builder, _Loader
from tests.test_config_yaml import values as plain_values

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted(
    [*(ROOT / "tests" / "bad_configs").rglob("*.y*ml"), *(ROOT / "examples").rglob("*.y*ml")]
)


def both(text: str) -> tuple[object, object]:
    root = yaml.compose(text, Loader=_Loader)
    if root is None:
        return None, None
    fast = _Builder().build_unaliased(root)
    slow = _Builder().build(root)
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
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        pytest.skip("not UTF-8: refused before building")
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
