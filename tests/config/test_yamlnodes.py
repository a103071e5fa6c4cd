"""YAML → values with positions: the YAML 1.1 traps, duplicates, aliases, bad bytes."""

from __future__ import annotations

import time

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.config.yamlnodes import MAX_DEPTH, YamlDocument, _too_deep, load_yaml
from tests.support.strategies import yaml_values as values


def load(text: str) -> YamlDocument:
    return load_yaml(text.encode())


def only_value(text: str) -> object:
    doc = load(text)
    assert doc.problems == []
    return doc.value


def problem(text: str | bytes) -> tuple[str, tuple[int, int] | None]:
    doc = load_yaml(text.encode() if isinstance(text, str) else text)
    assert len(doc.problems) == 1, doc.problems
    return doc.problems[0].message, doc.problems[0].position


# --- accepted values --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True), ("True", True), ("TRUE", True), ("false", False), ("FALSE", False),
        ("42", 42), ("-7", -7), ("+5", 5), ("0", 0),
        ("1.5", 1.5), ("1.0", 1.0), ("2.0e+3", 2000.0), ("1.", 1.0), (".5", 0.5),
        ("~", None), ("null", None), ("", None),
        ("'yes'", "yes"), ('"012"', "012"), ('"2024-01-01"', "2024-01-01"), ("'1e3'", "1e3"),
        ("api_call", "api_call"), ("1.2.3", "1.2.3"), ("yesterday", "yesterday"),
        ("|\n  a\n  b\n", "a\nb\n"),
    ],
)
def test_accepted_scalars(text: str, value: object) -> None:
    got = only_value(f"v: {text}\n")["v"]  # type: ignore[index]
    assert got == value and type(got) is type(value)


# --- YAML 1.1 traps ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("yes", "write true or false"), ("No", "write true or false"),
        ("on", "write true or false"), ("OFF", "write true or false"),
        ("y", "write true or false"), ("n", "write true or false"),
        ("tRue", "write true or false"),
        ("012", "octal"), ("0o12", "plain decimal"), ("0x1F", "hexadecimal"),
        ("0b101", "binary"), ("1_000", "digit separators"), ("1:30", "base-60"),
        ("09", "plain decimal"), ("1e3", "plain decimal"), ("1.0e3", "plain decimal"),
        ("-.5", "plain decimal"), ("1_0.5", "plain decimal"),
        (".inf", "finite"), ("-.Inf", "finite"), (".nan", "finite"),
        ("2024-01-01", "quote it"), ("2024-01-01T10:00:00Z", "quote it"),
        ("!!binary aGVsbG8=", "unsupported YAML tag"), ("!custom x", "unsupported YAML tag"),
    ],
)
def test_traps_are_refused_at_their_position(text: str, fragment: str) -> None:
    message, position = problem(f"a: 1\nvalue: {text}\n")
    assert fragment in message
    assert position == (2, 8)


def test_a_refused_value_names_the_text_and_how_to_quote_it() -> None:
    message, _ = problem("v: 012\n")
    assert message.startswith("012 is an octal number") and '("012")' in message


@pytest.mark.parametrize("key", ["on", "yes", "1", "~", "1.5", "2024-01-01", "true"])
def test_keys_must_be_strings(key: str) -> None:
    message, position = problem(f"a: 1\n{key}: 2\n")
    assert "keys must be strings, quote it" in message
    assert position == (2, 1)


def test_quoted_keys_and_odd_plain_keys_are_strings() -> None:
    assert only_value("'on': 1\n\"1\": 2\ny: 3\n") == {"on": 1, "1": 2, "y": 3}


def test_collection_key_is_refused() -> None:
    message, _ = problem("? [a, b]\n: 1\n")
    assert "plain strings" in message


# --- duplicate keys ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "first"),
    [
        ("a: 1\nb: 2\na: 3\n", (3, 1), "line 1, column 1"),
        ("m:\n  x:\n    k: 1\n    k: 2\n", (4, 5), "line 3, column 5"),
        ("m: {k: 1, j: 2, k: 3}\n", (1, 17), "line 1, column 5"),
        ("l:\n  - {p: 1}\n  - p: 1\n    p: 2\n", (4, 5), "line 3, column 5"),
    ],
)
def test_duplicate_keys_name_both_places(
    text: str, position: tuple[int, int], first: str
) -> None:
    message, where = problem(text)
    assert message.startswith("duplicate key") and first in message
    assert where == position


# --- anchors, aliases, merges -----------------------------------------------------------


def test_aliases_and_merge_keys() -> None:
    text = (
        "base: &b {unit: token, metadata: {team: ai}}\n"
        "m:\n"
        "  <<: *b\n"
        "  unit: custom\n"
        "  again: *b\n"
    )
    assert only_value(text) == {
        "base": {"unit": "token", "metadata": {"team": "ai"}},
        "m": {"unit": "custom", "again": {"unit": "token", "metadata": {"team": "ai"}},
              "metadata": {"team": "ai"}},
    }


def test_merge_list_first_source_wins() -> None:
    text = "a: &a {k: 1}\nb: &b {k: 2, j: 2}\nc: {<<: [*a, *b]}\n"
    assert only_value(text)["c"] == {"k": 1, "j": 2}  # type: ignore[index]


def test_merge_of_a_scalar_is_refused() -> None:
    message, _ = problem("a: {<<: 1}\n")
    assert "<< must merge a mapping" in message


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefghi", "bcdefghij"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    start = time.process_time()
    message, _ = problem("\n".join(lines) + "\n")
    assert "alias bomb" in message
    assert time.process_time() - start < 5


def test_alias_inside_its_own_anchor_is_refused() -> None:
    message, _ = problem("a: &a [1, *a]\n")
    assert f"more than {MAX_DEPTH} levels" in message and "own anchor" in message


# --- depth ------------------------------------------------------------------------------


def test_very_deep_nesting_is_refused_without_recursion_error() -> None:
    text = "f:\n" + "".join("  " * i + "- c:\n" for i in range(1, 3000))
    doc = load(text)
    assert len(doc.problems) == 1
    assert doc.problems[0].message == f"nested more than {MAX_DEPTH} levels deep"


@pytest.mark.parametrize(
    "text",
    [
        "f:\n" + "".join("  " * i + "- c:\n" for i in range(1, 200)),
        "a: {b: " + "[" * 100 + "]" * 100 + "}\n",
        "a:\n  - x\n  - {k: [[1], " + "{v: " * 80 + "1" + "}" * 80 + "]}\n",
    ],
)
def test_too_deep_for_libyaml_is_refused_where_the_builder_would(text: str) -> None:
    """libyaml (0.2.6 and later) refuses 1,000 levels itself; the problem is then found from
    its events, and must be the one the builder reports for shallower documents."""
    built = load(text).problems
    assert len(built) == 1 and built[0].message == f"nested more than {MAX_DEPTH} levels deep"
    assert _too_deep(text) == built[0]


def test_nesting_up_to_the_limit_is_fine() -> None:
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert load(text).problems == []


# --- bytes, characters, documents -------------------------------------------------------


def test_non_utf8_is_located() -> None:
    message, position = problem(b"a: 1\nb: caf\xe9\n")
    assert "not valid UTF-8" in message and "0xe9" in message
    assert position == (2, 7)


def test_utf8_bom_is_accepted() -> None:
    assert load_yaml("\ufeffa: é\n".encode()).value == {"a": "é"}


@pytest.mark.parametrize(
    ("data", "fragment", "position"),
    [
        (b"a: 1\nb: x\x00y\n", "NUL character", (2, 5)),
        (b"a: \x01\n", "control character U+0001", (1, 4)),
        (b'a: "x\\0y"\n', "NUL character", (1, 4)),
    ],
)
def test_nul_and_control_characters(
    data: bytes, fragment: str, position: tuple[int, int]
) -> None:
    message, where = problem(data)
    assert fragment in message and where == position


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n", "---\n"])
def test_empty_documents(text: str) -> None:
    message, position = problem(text)
    assert "empty" in message and position == (1, 1)


@pytest.mark.parametrize(
    ("text", "fragment", "position"),
    [
        ("a:\n\tb: 1\n", "tab character", (2, 1)),
        ("a: [1, 2\nb: 3\n", "YAML error", (2, 2)),
        ("a: 1\n---\nb: 2\n", "single document", (2, 1)),
        ("a: b: c\n", "YAML error", (1, 5)),
        ("a: 'x\n", "YAML error", (2, 1)),
    ],
)
def test_syntax_errors_are_one_located_line(
    text: str, fragment: str, position: tuple[int, int]
) -> None:
    message, where = problem(text)
    assert fragment in message and "\n" not in message
    assert where == position


# --- positions --------------------------------------------------------------------------


def test_positions_of_nodes_and_keys() -> None:
    text = "meters:\n  api-calls:\n    filter:\n      clauses:\n        - {property: x, value: 3}\n"
    doc = load(text)
    assert doc.position(("meters", "api-calls")) == (3, 5)
    assert doc.position(("meters", "api-calls"), prefer_key=True) == (2, 3)
    assert doc.position(("meters", "api-calls", "filter", "clauses", 0)) == (5, 11)
    assert doc.position(("meters", "api-calls", "filter", "clauses", 0, "value")) == (5, 32)
    assert doc.position(("meters", "api-calls", "filter", "clauses", 0, "value"),
                        prefer_key=True) == (5, 25)
    assert doc.position(("nope",)) is None


def test_many_problems_are_all_reported() -> None:
    doc = load("a: yes\nb: 012\nc: {d: 1, d: 2}\ne: 2024-01-01\n")
    assert sorted(p.position for p in doc.problems if p.position) == [
        (1, 4), (2, 4), (3, 11), (4, 4)
    ]


# --- properties -------------------------------------------------------------------------


def pyyaml(text: str) -> object:
    """What PyYAML's own C-accelerated safe loader reads (the parser we build on)."""
    return yaml.load(text, Loader=yaml.CSafeLoader)


@pytest.mark.equivalence
@settings(max_examples=300, deadline=None)
@given(values, st.booleans())
def test_when_nothing_is_refused_the_value_is_what_pyyaml_reads(value: object, flow: bool) -> None:
    text = yaml.safe_dump({"v": value}, default_flow_style=flow, allow_unicode=True)
    doc = load(text)
    if not doc.problems:
        assert doc.value == pyyaml(text)
        assert all(isinstance(p, tuple) for p in doc.positions)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789+-._:eExXoObBnNyYtTrRuUfFaAlLsS~ \t'\"#", max_size=10))
def test_any_scalar_text_is_accepted_or_refused_but_never_crashes(text: str) -> None:
    doc = load(f"v: {text}\n")
    for p in doc.problems:
        assert p.position is not None and "\n" not in p.message
    if not doc.problems:
        assert doc.value == pyyaml(f"v: {text}\n")
