"""Every problem of a file at once, empty filters, `--strict`, `x-` fragments and the
organization id (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config.load import load_config
from reconciler.errors import InvalidConfiguration
from reconciler.pipeline import Connection, PlanRequest, plan_run
from tests.conftest import RunningEmulator
from tests.support.e2e import Api, Run
from tests.support.inproc import invoke

ONE = """\
version: 1
meters:
  m:
    name: API calls
    filter: {conjunction: and, clauses: [{property: name, operator: eq, value: api_call}]}
    aggregation: {func: count}
"""
EMPTY = ONE.replace("[{property: name, operator: eq, value: api_call}]", "[]")


def messages(path: Path, strict: bool = False) -> list[str]:
    return [str(d) for d in load_config([str(path)], strict=strict).diagnostics]


def test_a_duplicate_key_hides_no_other_problem(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("""\
version: 1
meters:
  m:
    name: ab
    filter: {conjunction: xor, clauses: []}
    aggregation: {func: count}
    colour: red
  m:
    name: Other
""")
    assert messages(path) == [
        f"{path}:4:11: meters.m.name: 'ab' is too short: at least 3 characters",
        (f"{path}:5:27: meters.m.filter.conjunction: 'xor' is not one of and, or (did you mean "
         "'or'?)"),
        (f"{path}:5:41: warning: meters.m.filter.clauses: empty: the meter counts every event of "
         "the organization, whatever its name; add a clause (e.g. {property: name, operator: eq, "
         "value: api_call}) if that is not meant"),
        f"{path}:7:5: meters.m.colour: unknown field 'colour'",
        f"{path}:8:3: meters.m: duplicate key 'm' (first defined at line 3, column 3)",
    ]


def test_a_duplicate_field_hides_no_other_problem(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(ONE.replace("    name: API calls\n", "    name: ab\n    name: abc\n")
                    .replace("conjunction: and", "conjunction: xor") + "    colour: red\n")
    shown = messages(path)
    assert [m.split(": ", 1)[1] for m in shown] == [
        "meters.m.name: 'ab' is too short: at least 3 characters",
        "meters.m.name: duplicate key 'name' (first defined at line 4, column 5)",
        "meters.m.filter.conjunction: 'xor' is not one of and, or (did you mean 'or'?)",
        "meters.m.colour: unknown field 'colour'",
    ]


def test_an_empty_filter_is_a_warning_that_says_what_it_counts(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(EMPTY)
    config = load_config([str(path)])
    assert config.errors == [] and [m.key for m in config.meters] == ["m"]
    assert [str(w) for w in config.warnings] == [(
        f"{path}:5:41: warning: meters.m.filter.clauses: empty: the meter counts every event of "
        "the organization, whatever its name; add a clause (e.g. {property: name, operator: eq, "
        "value: api_call}) if that is not meant")]


def test_an_empty_nested_group_is_a_warning_too(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(ONE.replace("value: api_call}]", "value: api_call}, "
                                "{conjunction: or, clauses: []}]"))
    (warning,) = load_config([str(path)]).warnings
    assert "meters.m.filter.clauses[1].clauses: empty: this group matches every event" in str(
        warning)


def test_strict_makes_every_warning_an_error(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(EMPTY)
    config = load_config([str(path)], strict=True)
    assert config.warnings == [] and len(config.errors) == 1
    assert str(config.errors[0]).endswith("if that is not meant (an error under --strict)")


def _run(emu: RunningEmulator, *args: str) -> Run:
    return invoke(*args, env={"POLAR_SERVER": emu.url, "POLAR_ACCESS_TOKEN": emu.token})


@pytest.mark.parametrize("command", [("validate",), ("test",), ("plan",),
                                     ("apply", "--auto-approve")], ids=" ".join)
def test_strict_on_each_command_stops_on_a_warning(tmp_path: Path, emu: RunningEmulator,
                                                   command: tuple[str, ...]) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(EMPTY)
    assert _run(emu, *command, str(path)).code == 0
    Api(emu).clear_requests()
    run = _run(emu, *command, "--strict", str(path))
    assert run.code == 1 and "Traceback" not in run.err
    assert "(an error under --strict)" in run.err
    assert Api(emu).requests() == []


def test_the_pipeline_carries_strict(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(EMPTY)
    nowhere = Connection(server="http://127.0.0.1:9", token="polar_oat_x")
    with pytest.raises(InvalidConfiguration):  # before any request: port 9 is never dialled
        plan_run(PlanRequest([str(path)], strict=True), nowhere)


def test_strict_with_a_saved_plan_checks_the_files_it_was_made_from(
    tmp_path: Path, emu: RunningEmulator
) -> None:
    path, saved = tmp_path / "m.yaml", tmp_path / "plan.json"
    path.write_text(EMPTY)
    assert _run(emu, "plan", "--out", str(saved), str(path)).code == 0
    Api(emu).clear_requests()
    alone = _run(emu, "apply", "--plan", str(saved), "--strict")
    assert alone.code == 1 and "--strict checks the configuration: give the PATHS" in alone.err
    with_paths = _run(emu, "apply", "--plan", str(saved), "--strict", str(path))
    assert with_paths.code == 1 and "(an error under --strict)" in with_paths.err
    assert Api(emu).requests() == []
    assert _run(emu, "apply", "--plan", str(saved), str(path)).code == 0


def test_x_keys_hold_shared_fragments_and_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("""\
version: 1
x-filters:
  api: &api {conjunction: and, clauses: [{property: name, operator: eq, value: api_call}]}
x-team: &team {team: ai}
meters:
  m:
    name: API calls
    filter: *api
    aggregation: {func: count}
    metadata: *team
""")
    config = load_config([str(path)])
    assert config.diagnostics == []
    (meter,) = config.meters
    assert meter.spec["filter"]["clauses"] == [
        {"property": "name", "operator": "eq", "value": "api_call"}]
    assert meter.spec["metadata"] == {"team": "ai"}


def test_other_unknown_top_level_keys_are_still_errors(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("x-ok: 1\nxfilters: 2\n" + ONE)
    assert messages(path) == [f"{path}:2:1: xfilters: unknown field 'xfilters'"]


@pytest.mark.parametrize("value", ["not-a-uuid", "1dbfc517-0bbf-4301-9ba8-555ca42b973", "12345"])
def test_an_organization_id_that_is_not_a_uuid_is_a_located_error(tmp_path: Path,
                                                                  value: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(ONE.replace("meters:\n", f"organization_id: {value}\nmeters:\n"))
    (error,) = load_config([str(path)]).errors
    assert str(error).startswith(f"{path}:2:18: organization_id: ")
