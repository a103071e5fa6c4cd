"""load_config: files, located diagnostics, checks beyond the schema, the meters built."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.config.load import load_config
from reconciler.config.types import Config, Diagnostic
from reconciler.model import TAG_KEY, Location, normalize_spec
from tests.support.e2e import API_CALLS_YAML
from tests.support.paths import ROOT
from tests.support.strategies import meters

EXAMPLES = ROOT / "examples" / "meters"

METER = API_CALLS_YAML


def with_top(line: str) -> str:
    """METER with ``line`` added after ``version: 1``."""
    return METER.replace("version: 1\n", "version: 1\n" + line)


def small_meter(key: str, aggregation: str = "{func: count}") -> str:
    return (
        f"  {key}:\n    name: Meter {key}\n"
        "    filter: {conjunction: and, clauses: [{property: name, operator: eq, value: e}]}\n"
        f"    aggregation: {aggregation}\n"
    )


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load_text(tmp_path: Path, text: str, name: str = "m.yaml") -> Config:
    return load_config([write(tmp_path, name, text)])


def only(diagnostics: list[Diagnostic]) -> Diagnostic:
    assert len(diagnostics) == 1, [str(d) for d in diagnostics]
    return diagnostics[0]


def at(d: Diagnostic) -> tuple[int, int]:
    assert d.location is not None
    return d.location.line, d.location.col


def where(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the (only) occurrence of ``needle`` in ``text``."""
    assert text.count(needle) == 1, needle
    offset = text.index(needle)
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


# --- the meters built -------------------------------------------------------------------


def test_meter_is_normalised_and_located_at_its_key(tmp_path: Path) -> None:
    config = load_text(tmp_path, METER)
    assert config.diagnostics == []
    (meter,) = config.meters
    assert meter.key == "api-calls"
    assert meter.location == Location(str(tmp_path / "m.yaml"), 3, 3)
    assert meter.id is None
    assert meter.spec == normalize_spec(yaml.safe_load(METER)["meters"]["api-calls"])
    assert meter.spec["metadata"] == {"cost_center": 42, "team": "ai"}
    assert config.files == [str(tmp_path / "m.yaml")]


def test_pin_and_organization_are_lowercased(tmp_path: Path) -> None:
    text = with_top("organization_id: 1DBFC517-0BBF-4301-9BA8-555CA42B9737\n")
    text += "    id: 2F1C3A9E-8D4B-4C1E-9F7A-5B6D2E8C0A13\n"
    config = load_text(tmp_path, text)
    assert config.errors == []
    assert config.meters[0].id == "2f1c3a9e-8d4b-4c1e-9f7a-5b6d2e8c0a13"
    assert config.organization_id == "1dbfc517-0bbf-4301-9ba8-555ca42b9737"
    assert config.organization_id_location == Location(str(tmp_path / "m.yaml"), 2, 18)


def test_same_organization_in_two_files_is_fine(tmp_path: Path) -> None:
    org = "1dbfc517-0bbf-4301-9ba8-555ca42b9737"
    write(tmp_path, "a.yaml", f"version: 1\norganization_id: {org}\nmeters: {{}}\n")
    write(tmp_path, "b.yaml", with_top(f"organization_id: {org.upper()}\n"))
    config = load_config([tmp_path])
    assert config.errors == [] and len(config.meters) == 1


def test_an_invalid_organization_is_not_kept(tmp_path: Path) -> None:
    config = load_text(tmp_path, with_top("organization_id: acme\n"))
    assert only(config.errors).text.startswith("organization_id: must be a UUID")
    assert config.organization_id is None
    assert [m.key for m in config.meters] == ["api-calls"]


def test_a_meter_may_be_keyed_organization_id(tmp_path: Path) -> None:
    config = load_text(tmp_path, METER.replace("api-calls:", "organization_id:"))
    assert config.errors == [] and config.meters[0].key == "organization_id"


def test_a_mistyped_unit_is_one_error(tmp_path: Path) -> None:
    config = load_text(tmp_path, METER.replace("unit: custom", "unit: custm"))
    assert only(config.errors).text == (
        "meters.api-calls.unit: 'custm' is not one of scalar, token, custom "
        "(did you mean 'custom'?)"
    )


def test_archived_is_read(tmp_path: Path) -> None:
    config = load_text(tmp_path, METER + "    archived: true\n")
    assert config.meters[0].spec["archived"] is True


def test_examples_load(tmp_path: Path) -> None:
    config = load_config([EXAMPLES])
    assert config.diagnostics == []
    assert len(config.meters) == 7
    names = [Path(f).name for f in config.files]
    assert names == ["api-calls.yaml", "llm-tokens.yaml", "storage.yaml"]
    for meter in config.meters:
        assert meter.spec["metadata"] and TAG_KEY not in meter.spec["metadata"]


def test_invalid_meters_are_left_out_but_valid_ones_kept(tmp_path: Path) -> None:
    text = METER + small_meter("broken", aggregation="{func: sum}")
    config = load_text(tmp_path, text)
    assert len(config.errors) == 1
    assert [m.key for m in config.meters] == ["api-calls"]


# --- checks beyond the schema -----------------------------------------------------------


def with_clause(clause: str) -> str:
    return METER.replace("{property: tier, operator: eq, value: pro}", clause)


def clause_config(tmp_path: Path, clause: str) -> Config:
    return load_text(tmp_path, with_clause(clause))


def test_metadata_prefix_is_stripped_with_a_warning(tmp_path: Path) -> None:
    config = clause_config(tmp_path, "{property: metadata.tier, operator: eq, value: pro}")
    warning = only(config.warnings)
    assert at(warning) == (11, 26)
    assert "Polar strips the leading 'metadata.'" in warning.text
    assert str(warning).startswith(f"{tmp_path / 'm.yaml'}:11:26: warning: meters.api-calls.")
    assert config.errors == []
    assert config.meters[0].spec["filter"]["clauses"][1]["clauses"][0]["property"] == "tier"


def test_metadata_prefix_on_aggregation(tmp_path: Path) -> None:
    text = METER.replace("property: tokens}", "property: metadata.tokens}")
    config = load_text(tmp_path, text)
    assert at(only(config.warnings)) == where(text, "metadata.tokens")
    assert config.meters[0].spec["aggregation"] == {"func": "sum", "property": "tokens"}


@pytest.mark.parametrize(("value", "warned"), [("a%b", True), ("gpt_4", True), ("gpt-4", False)])
def test_like_wildcards_warn(tmp_path: Path, value: str, warned: bool) -> None:
    config = clause_config(tmp_path, f"{{property: model, operator: like, value: {value}}}")
    assert len(config.warnings) == int(warned)
    assert config.errors == []


@pytest.mark.parametrize("operator", ["gt", "gte", "lt", "lte"])
def test_order_operator_with_a_string_is_an_error(tmp_path: Path, operator: str) -> None:
    text = with_clause(f"{{property: size, operator: {operator}, value: '5'}}")
    error = only(load_text(tmp_path, text).errors)
    assert "unquote it (value: 5)" in error.text and at(error) == where(text, "'5'")


def test_order_operator_with_text_suggests_text_operators(tmp_path: Path) -> None:
    config = clause_config(tmp_path, "{property: size, operator: gt, value: abc}")
    assert "use eq, ne, like or not_like" in only(config.errors).text


@pytest.mark.parametrize(
    ("value", "fragment"), [("1.0", 'write 1 or "1.0"'), ("2.5", 'write "2.5"'), ("1e+40", "float")]
)
def test_float_clause_value_is_one_error(tmp_path: Path, value: str, fragment: str) -> None:
    value = "1.0e+40" if value == "1e+40" else value
    text = with_clause(f"{{property: size, operator: eq, value: {value}}}")
    error = only(load_text(tmp_path, text).diagnostics)
    assert fragment in error.text and at(error) == where(text, value)


def test_reserved_tag_key_is_an_error_at_the_key(tmp_path: Path) -> None:
    config = load_text(tmp_path, METER.replace("{team: ai,", f"{{{TAG_KEY}: x, team: ai,"))
    error = only(config.errors)
    assert at(error) == (17, 16) and "reserved" in error.text


# --- one problem, one diagnostic: the loader's word wins over the schema's --------------


@pytest.mark.parametrize("value", ["yes", "012", "2024-01-01", ".nan", "0x10"])
def test_refused_scalar_gives_one_diagnostic(tmp_path: Path, value: str) -> None:
    text = with_clause(f"{{property: tier, operator: eq, value: {value}}}")
    assert at(only(load_text(tmp_path, text).diagnostics)) == where(text, value)


def test_duplicate_key_gives_one_diagnostic(tmp_path: Path) -> None:
    config = load_text(tmp_path, METER + "    unit: token\n")
    error = only(config.diagnostics)
    assert at(error) == (18, 5)
    assert "duplicate key 'unit' (first defined at line 14, column 5)" in error.text
    assert config.meters == []


# --- schema errors, located -------------------------------------------------------------


def test_missing_field_points_at_the_mapping_key(tmp_path: Path) -> None:
    text = METER.replace("    aggregation: {func: sum, property: tokens}\n", "")
    config = load_text(tmp_path, text)
    error = only(config.errors)
    assert at(error) == (3, 3)
    assert error.text == "meters.api-calls: missing required field 'aggregation'"


def test_missing_clause_field_points_at_the_clause(tmp_path: Path) -> None:
    config = clause_config(tmp_path, "{property: tier, value: pro}")
    error = only(config.errors)
    assert at(error) == (11, 15)
    assert error.text == (
        "meters.api-calls.filter.clauses[1].clauses[0]: missing required field 'operator'"
    )


def test_unknown_fields_each_point_at_their_key(tmp_path: Path) -> None:
    text = METER.replace("    unit: custom\n", "    unti: custom\n    colour: red\n")
    config = load_text(tmp_path, text)
    messages = {(at(d), d.text) for d in config.errors}
    unti = "meters.api-calls.unti: unknown field 'unti' (did you mean 'unit'?)"
    assert ((14, 5), unti) in messages
    assert ((15, 5), "meters.api-calls.colour: unknown field 'colour'") in messages


def test_enum_error_points_at_the_value_and_names_the_path(tmp_path: Path) -> None:
    text = with_clause("{property: tier, operator: equals, value: pro}")
    error = only(load_text(tmp_path, text).errors)
    assert at(error) == where(text, "equals")
    assert error.text == (
        "meters.api-calls.filter.clauses[1].clauses[0].operator: 'equals' is not one of "
        "eq, ne, gt, gte, lt, lte, like, not_like"
    )


def test_bad_meter_key_points_at_the_key(tmp_path: Path) -> None:
    config = load_text(tmp_path, METER.replace("api-calls:", "-api:"))
    assert at(only(config.errors)) == (3, 3)


def test_too_many_metadata_keys_points_at_metadata(tmp_path: Path) -> None:
    keys = ", ".join(f"k{i}: {i}" for i in range(49))
    config = load_text(tmp_path, METER.replace("{team: ai, cost_center: 42}", "{" + keys + "}"))
    assert config.errors == []
    config = load_text(tmp_path, METER.replace("{team: ai, cost_center: 42}", f"{{{keys}, k: 1}}"))
    error = only(config.errors)
    assert at(error) == (17, 5) and "(it has 50)" in error.text


def test_type_error_on_a_mapping_points_at_its_key(tmp_path: Path) -> None:
    config = load_text(tmp_path, METER.replace("    unit: custom\n", "    unit: {a: 1}\n"))
    assert only(config.errors).text == "meters.api-calls.unit: expected a string, not a mapping"
    assert at(only(config.errors)) == (14, 5)


def test_diagnostics_are_in_file_order(tmp_path: Path) -> None:
    text = METER.replace("value: api_call", "value: yes").replace("name: API calls", "name: AB")
    text = text.replace("custom_multiplier: 1000", "custom_multiplier: -1")
    config = load_text(tmp_path, text)
    assert [at(d)[0] for d in config.diagnostics] == [4, 8, 16]


def test_deep_filter_within_the_limit_validates(tmp_path: Path) -> None:
    depth = 25
    clause = "{property: a, operator: eq, value: 1}"
    deep = "{conjunction: or, clauses: [" * depth + clause + "]}" * depth
    text = "version: 1\nmeters:\n" + small_meter("deep").replace(
        "{conjunction: and, clauses: [{property: name, operator: eq, value: e}]}", deep
    )
    config = load_text(tmp_path, text)
    assert config.errors == []
    flt = config.meters[0].spec["filter"]
    for _ in range(depth):
        flt = flt["clauses"][0]
    assert flt == {"property": "a", "operator": "eq", "value": 1}


# --- files and paths --------------------------------------------------------------------


def test_directories_are_read_recursively_in_sorted_order(tmp_path: Path) -> None:
    write(tmp_path, "b.yaml", "version: 1\nmeters:\n" + small_meter("b"))
    write(tmp_path, "a/z.yml", "version: 1\nmeters:\n" + small_meter("az"))
    write(tmp_path, "a/c.yaml", "version: 1\nmeters:\n" + small_meter("ac"))
    write(tmp_path, "notes.txt", "not yaml")
    write(tmp_path, ".hidden.yaml", "not: [valid")
    write(tmp_path, ".git/x.yaml", "not: [valid")
    config = load_config([tmp_path])
    assert config.diagnostics == []
    assert [m.key for m in config.meters] == ["ac", "az", "b"]
    assert config.files == [str(tmp_path / p) for p in ("a/c.yaml", "a/z.yml", "b.yaml")]


def test_a_file_given_twice_is_read_once(tmp_path: Path) -> None:
    path = write(tmp_path, "m.yaml", METER)
    config = load_config([path, tmp_path, str(path)])
    assert config.diagnostics == [] and len(config.meters) == 1


def test_an_explicit_file_is_read_whatever_its_name(tmp_path: Path) -> None:
    config = load_config([write(tmp_path, "meters.conf", METER)])
    assert len(config.meters) == 1


def test_path_problems_are_diagnostics(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "nowhere")
    config = load_config([tmp_path / "missing.yaml", tmp_path / "empty", tmp_path])
    assert [str(d) for d in config.diagnostics] == [
        f"{tmp_path / 'missing.yaml'}: no such file or directory",
        f"{tmp_path / 'empty'}: no *.yaml or *.yml file in this directory",
        f"{tmp_path / 'dangling.yaml'}: cannot read: No such file or directory",
    ]
    assert config.files == []


def test_no_meters_at_all_is_a_warning(tmp_path: Path) -> None:
    config = load_text(tmp_path, "version: 1\nmeters: {}\n")
    assert config.errors == [] and [d.text for d in config.warnings] == ["no meters are defined"]


def test_every_file_reports_all_its_problems(tmp_path: Path) -> None:
    two_errors = METER.replace("name: API calls", "name: AB").replace("func: sum", "func: total")
    write(tmp_path, "a.yaml", two_errors)
    write(tmp_path, "b.yaml", "version: 1\nmeters:\n  x: {name: yes}\n")
    config = load_config([tmp_path])
    files = [d.location.file for d in config.errors if d.location]
    assert files.count(str(tmp_path / "a.yaml")) == 2
    assert files.count(str(tmp_path / "b.yaml")) == 3  # name: yes, filter and aggregation missing


# --- property: any valid meter survives the trip through YAML ---------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.from_regex(r"[a-z0-9][a-z0-9_-]{0,39}", fullmatch=True), meters(), st.booleans())
def test_any_valid_meter_round_trips(key: str, meter: dict[str, Any], flow: bool) -> None:
    text = yaml.safe_dump({"version": 1, "meters": {key: meter}}, default_flow_style=flow,
                          allow_unicode=True, sort_keys=False)
    with tempfile.TemporaryDirectory() as directory:
        config = load_config([write(Path(directory), "m.yaml", text)])
    assert config.errors == [], text
    (loaded,) = config.meters
    assert loaded.key == key
    assert loaded.spec == normalize_spec(meter)
    assert loaded.id == meter.get("id")
