"""`polar-meters validate` and `polar-meters schema`, driven through their click commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from jsonschema import Draft7Validator

from reconciler.cli.schema import command as schema_command
from reconciler.cli.validate import command as validate_command

ROOT = Path(__file__).resolve().parent.parent
BAD = Path(__file__).resolve().parent / "bad_configs"
EXAMPLES = ROOT / "examples" / "meters"
LOCATED = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)$")

# file in tests/bad_configs -> (line, col, message fragment), reported for that file
CASES: dict[str, tuple[int, int, str]] = {
    "malformed.yaml": (4, 1, "YAML error: while parsing a flow node"),
    "tab.yaml": (4, 1, "tab character: YAML indentation must use spaces"),
    "dup-top-key.yaml": (4, 1, "duplicate key 'meters' (first defined at line 3"),
    "dup-meter-field.yaml": (8, 5, "duplicate key 'name' (first defined at line 5"),
    "dup-clause-field.yaml": (6, 80, "duplicate key 'value'"),
    "dup-meter-key.yaml": (8, 3, "duplicate key 'm1' (first defined at line 4"),
    "wrong-type-name.yaml": (5, 5, "meters.m1.name: expected a string, not a list"),
    "wrong-type-clauses.yaml": (6, 32, "clauses: expected a list, not a mapping"),
    "unknown-field.yaml": (7, 5, "unknown field 'agregation' (did you mean 'aggregation'?)"),
    "value-yes.yaml": (6, 77, 'write true or false, or quote it ("yes")'),
    "value-float.yaml": (6, 77, 'write 1 or "1.0"'),
    "value-octal.yaml": (6, 77, "012 is an octal number"),
    "value-date.yaml": (6, 77, "read as a date by YAML 1.1: quote it"),
    "value-int32.yaml": (6, 77, "2147483648 is too large: at most 2147483647"),
    "value-inf.yaml": (8, 23, "write a finite number"),
    "unknown-operator.yaml": (6, 66, "operator: 'equals' is not one of eq, ne, gt"),
    "unknown-conjunction.yaml": (6, 27, "'xor' is not one of and, or"),
    "count-with-property.yaml": (7, 32, "count takes no property"),
    "sum-without-property.yaml": (7, 5, "need the property to aggregate"),
    "unknown-func.yaml": (7, 25, "'median' is not one of count, sum"),
    "custom-without-label.yaml": (4, 3, "unit custom needs a custom_label"),
    "label-with-scalar.yaml": (8, 5, "custom_label is only allowed with unit: custom"),
    "multiplier-zero.yaml": (10, 24, "must be greater than 0"),
    "multiplier-hex.yaml": (10, 24, "0x10 is a hexadecimal number"),
    "name-too-short.yaml": (5, 11, "'AB' is too short: at least 3 characters"),
    "missing-filter.yaml": (4, 3, "meters.m1: missing required field 'filter'"),
    "key-uppercase.yaml": (4, 3, "meters.Api-Calls: bad key: meter keys are lowercase"),
    "key-too-long.yaml": (4, 3, "key too long: 41 characters, at most 40"),
    "key-on.yaml": (9, 7, "mapping key 'on' is read as a boolean"),
    "metadata-51-keys.yaml": (8, 5, "more than 49 keys"),
    "metadata-value-too-long.yaml": (8, 22, "too long: 501 characters, at most 500"),
    "metadata-key-too-long.yaml": (8, 16, "key too long: 41 characters"),
    "reserved-tag.yaml": (8, 16, "polar_meters_key is reserved"),
    "order-operator-string.yaml": (6, 77, "gt compares numbers"),
    "bad-id.yaml": (8, 9, "meters.m1.id: expected a string"),
    "version-2.yaml": (2, 10, "version: must be 1"),
    "missing-version.yaml": (2, 1, "missing required field 'version'"),
    "top-level-list.yaml": (2, 1, "the top level must be a mapping"),
    "nul.yaml": (5, 16, "NUL character"),
    "non-utf8.yaml": (5, 14, "not valid UTF-8 (byte 0xe9)"),
    "empty.yaml": (1, 1, "the file is empty"),
    "comments-only.yaml": (1, 1, "the file is empty"),
    "alias-bomb.yaml": (3, 4, "alias bomb"),
    "deep-filter.yaml": (7, 881, "nested more than 64 levels deep"),
    "same-pin.yaml": (9, 3, "is already pinned by 'm1'"),
}

# directories in tests/bad_configs -> (file reported, line, col, message fragment)
DIRECTORY_CASES: dict[str, tuple[str, int, int, str]] = {
    "dup-across-files": (
        "dup-across-files/b.yaml", 4, 3,
        "meters.m1: defined again (first at {BAD}/dup-across-files/a.yaml:4:3)",
    ),
    "org-conflict": (
        "org-conflict/b.yaml", 3, 18,
        "all files must name the same one",
    ),
}
ALL_CASES = {**{k: (k, *v) for k, v in CASES.items()}, **DIRECTORY_CASES}


def validate(*args: str) -> Result:
    return CliRunner().invoke(validate_command, list(args))


def test_every_bad_config_has_a_case() -> None:
    assert sorted(p.name for p in BAD.iterdir()) == sorted(ALL_CASES)


@pytest.mark.parametrize("case", sorted(ALL_CASES))
def test_bad_config_gives_a_located_one_line_error(case: str) -> None:
    file, line, col, fragment = ALL_CASES[case]
    result = validate(str(BAD / case))
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    *lines, count = result.stderr.splitlines()
    assert re.fullmatch(r"\d+ errors?(, \d+ warnings?)? in \d+ files?\.", count)
    expected_prefix = f"{BAD / file}:{line}:{col}: "
    matching = [m for m in lines if m.startswith(expected_prefix)]
    assert matching, f"no line at {expected_prefix}: {lines}"
    assert fragment.format(BAD=BAD) in matching[0]
    assert all(LOCATED.match(m) for m in lines)
    assert result.stdout == ""


def test_examples_are_valid() -> None:
    result = validate(str(EXAMPLES))
    assert result.exit_code == 0, result.output
    assert result.stdout == "Valid: 7 meters in 3 files.\n"
    assert result.stderr == ""


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_each_example_is_valid_on_its_own_with_the_modeline(example: str) -> None:
    path = EXAMPLES / example
    first = path.read_text().splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    schema = (path.parent / first[len(prefix):]).resolve()
    assert schema == (ROOT / "schemas" / "meters.schema.json").resolve()
    assert validate(str(path)).exit_code == 0


def test_counts_and_warnings(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "version: 1\nmeters:\n"
        "  m1:\n    name: One\n"
        "    filter:\n      conjunction: and\n"
        "      clauses: [{property: metadata.x, operator: like, value: a%}]\n"
        "    aggregation: {func: count}\n"
    )
    (tmp_path / "b.yml").write_text("version: 1\nmeters:\n  m2: {name: ab}\n")
    result = validate(str(tmp_path))
    assert result.exit_code == 1
    err = result.stderr.splitlines()
    assert err[-1] == "3 errors, 2 warnings in 2 files."  # m2: name too short, 2 fields missing
    assert sum(line.split(": ", 1)[1].startswith("warning: ") for line in err[:-1]) == 2

    (tmp_path / "b.yml").unlink()
    result = validate(str(tmp_path))
    assert result.exit_code == 0
    assert result.stdout == "Valid: 1 meter in 1 file (2 warnings).\n"
    assert len(result.stderr.splitlines()) == 2


def test_default_path_is_meters_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = validate()
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "meters/: no such file or directory",
        "1 error in 0 files.",
    ]
    (tmp_path / "meters").mkdir()
    (tmp_path / "meters" / "x.yaml").write_text("version: 1\nmeters: {}\n")
    result = validate()
    assert result.exit_code == 0
    assert result.stdout == "Valid: 0 meters in 1 file (1 warning).\n"


def test_validate_makes_no_network_request(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("validate opened a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert validate(str(EXAMPLES)).exit_code == 0
    assert validate(str(BAD)).exit_code == 1


def test_the_whole_corpus_at_once_reports_every_file() -> None:
    result = validate(str(BAD))
    reported = {LOCATED.match(line)["file"] for line in result.stderr.splitlines()[:-1]}
    files = {str(p) for p in BAD.rglob("*.yaml")}
    assert files - reported == {str(BAD / "org-conflict" / "a.yaml")}  # the first org is fine


# --- schema -----------------------------------------------------------------------------


SCHEMA_FILE = ROOT / "schemas" / "meters.schema.json"


def test_schema_command_prints_exactly_the_file() -> None:
    result = CliRunner().invoke(schema_command, [])
    assert result.exit_code == 0
    assert result.stdout == SCHEMA_FILE.read_text(encoding="utf-8")


def test_schema_file_is_valid_draft7_and_shipped_in_the_package() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["$id"]
    packaged = ROOT / "reconciler" / "meters.schema.json"
    assert packaged.resolve() == SCHEMA_FILE.resolve()


def test_every_schema_object_forbids_unknown_fields() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    objects = [schema, *(d for d in schema["definitions"].values() if d.get("type") == "object")]
    for node in objects:
        if node is schema["definitions"]["metadata"]:
            continue  # user keys
        assert node.get("additionalProperties") is False, node.get("title")
        assert node.get("description"), node.get("title")
