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
from tests.support.cases import ALL_CASES
from tests.support.paths import BAD, ROOT

EXAMPLES = ROOT / "examples" / "meters"
LOCATED = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)$")

# file in tests/bad_configs -> (line, col, message fragment), reported for that file

# directories in tests/bad_configs -> (file reported, line, col, message fragment)


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
    # A line that does not match fails the test (None is not indexable).
    reported = {LOCATED.match(line)["file"]  # type: ignore[index]
                for line in result.stderr.splitlines()[:-1]}
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
