"""Bad input never reaches Polar: `plan` and `apply` on every bad configuration (and
`apply --plan` on every bad plan file) give one-line errors, located where there is a place,
exit 1, no traceback, and the emulator receives not one request.

The corpus is tests/bad_configs/ (its expectations live in test_config_cli.py) plus inputs
made here: a 10 MB file, 1,000-deep YAML, unreadable files, a directory without YAML, plan
files that are corrupt or from a newer format.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reconciler.emulator.core import Emulator
from reconciler.emulator.server import start_background
from tests.conftest import RunningEmulator
from tests.support.cases import ALL_CASES
from tests.support.e2e import Api, Run
from tests.support.inproc import invoke
from tests.support.paths import BAD

LOCATED = re.compile(r"^[^:]+:\d+:\d+: .+$")
UNLOCATED = re.compile(r"^[^:]+: .+$")
COUNT = re.compile(r"^\d+ errors?(, \d+ warnings?)? in \d+ files?\.$")
COMMANDS = [("plan",), ("apply", "--auto-approve"), ("plan", "--format", "json"),
            ("plan", "--format", "github")]


_APIS: dict[str, Api] = {}  # one HTTP client per emulator: making one takes 50 ms


def api(emu: RunningEmulator) -> Api:
    if emu.url not in _APIS:
        _APIS[emu.url] = Api(emu)
    return _APIS[emu.url]


@pytest.fixture(scope="module")
def shared_emu() -> Iterator[RunningEmulator]:
    core = Emulator()
    with start_background(core) as server:
        yield RunningEmulator(server.url, core.token, core.organization_id, core)
    _APIS.pop(server.url).http.close()


@pytest.fixture
def emu(shared_emu: RunningEmulator) -> RunningEmulator:
    """One emulator for the module (nothing here may change it), its request log emptied."""
    api(shared_emu).clear_requests()
    return shared_emu


def run_against(emu: RunningEmulator, *args: str) -> Run:
    return invoke(*args, env={"POLAR_SERVER": emu.url, "POLAR_ACCESS_TOKEN": emu.token})


def assert_refused_without_a_request(emu: RunningEmulator, result: Run) -> list[str]:
    """Exit 1, no traceback, nothing on stdout, and the emulator saw nothing."""
    assert result.code == 1, result.text
    assert "Traceback" not in result.text
    assert api(emu).requests() == []
    if result.out.startswith("::error "):  # --format github: annotations on stdout
        return result.out.splitlines() + result.err.splitlines()
    assert result.out == ""
    return result.err.splitlines()


def assert_config_errors(lines: list[str], github: bool = False) -> None:
    if github:  # annotations, then the count
        lines = [ln for ln in lines if not ln.startswith("::error ")]
    *problems, count = lines
    assert COUNT.match(count), lines
    assert problems and all(LOCATED.match(ln) or UNLOCATED.match(ln) for ln in problems), lines


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("case", sorted(ALL_CASES))
def test_bad_corpus_sends_nothing(case: str, command: tuple[str, ...],
                                  emu: RunningEmulator) -> None:
    file, line, col, fragment = ALL_CASES[case]
    result = run_against(emu, *command, str(BAD / case))
    lines = assert_refused_without_a_request(emu, result)
    if command[-1] == "github":
        assert any(ln.startswith(f"::error file={BAD / file},line={line},col={col}::")
                   for ln in lines), lines
        return
    assert_config_errors(lines)
    expected = f"{BAD / file}:{line}:{col}: "
    assert any(ln.startswith(expected) and fragment.format(BAD=BAD) in ln for ln in lines), lines


# -- inputs made here ---------------------------------------------------------------------------

VALID_METER = """\
version: 1
meters:
  m1:
    name: Meter one
    filter: {conjunction: and, clauses: []}
    aggregation: {func: count}
"""


def huge_file(tmp: Path) -> tuple[Path, str]:
    path = tmp / "huge.yaml"
    meter = VALID_METER.split("meters:\n")[1]
    with path.open("w") as f:
        f.write("version: 1\nmeters:\n")
        for i in range(10 * 1024 * 1024 // len(meter) + 1):
            f.write(meter.replace("m1:", f"m{i}:"))
    assert path.stat().st_size > 10 * 1024 * 1024
    return path, f"{path}:1:1: the file is {path.stat().st_size:,} bytes, more than the 8 MiB"


def deep_yaml(tmp: Path) -> tuple[Path, str]:
    path = tmp / "deep.yaml"
    path.write_text(VALID_METER + "    metadata: {note: " + "[" * 1000 + "]" * 1000 + "}\n")
    return path, f"{path}:7:"


def no_yaml_directory(tmp: Path) -> tuple[Path, str]:
    (tmp / "meters").mkdir()
    (tmp / "meters" / "README.txt").write_text("the meters are elsewhere\n")
    (tmp / "meters" / ".hidden.yaml").write_text(VALID_METER)
    return tmp / "meters", f"{tmp / 'meters'}: no *.yaml or *.yml file in this directory"


def missing_path(tmp: Path) -> tuple[Path, str]:
    return tmp / "nowhere.yaml", f"{tmp / 'nowhere.yaml'}: no such file or directory"


def fifo_in_directory(tmp: Path) -> tuple[Path, str]:
    (tmp / "meters").mkdir()
    os.mkfifo(tmp / "meters" / "pipe.yaml")  # reading it would block for ever
    return tmp / "meters", f"{tmp / 'meters' / 'pipe.yaml'}: cannot read: not a regular file"


def link_loop_in_directory(tmp: Path) -> tuple[Path, str]:
    (tmp / "meters").mkdir()
    (tmp / "meters" / "ok.yaml").write_text(VALID_METER)
    (tmp / "meters" / "loop.yaml").symlink_to("loop.yaml")
    return tmp / "meters", f"{tmp / 'meters' / 'loop.yaml'}: cannot read: Too many levels"


def broken_link(tmp: Path) -> tuple[Path, str]:
    (tmp / "meters").mkdir()
    (tmp / "meters" / "gone.yaml").symlink_to(tmp / "deleted.yaml")
    return tmp / "meters", f"{tmp / 'meters' / 'gone.yaml'}: cannot read: No such file"


MADE: dict[str, Callable[[Path], tuple[Path, str]]] = {
    "10 MB file": huge_file,
    "1,000-deep YAML": deep_yaml,
    "directory without YAML": no_yaml_directory,
    "missing path": missing_path,
    "FIFO named .yaml": fifo_in_directory,
    "symlink loop": link_loop_in_directory,
    "broken symlink": broken_link,
}


@pytest.mark.parametrize("command", COMMANDS[:2], ids=" ".join)
@pytest.mark.parametrize("case", sorted(MADE))
def test_made_inputs_send_nothing(case: str, command: tuple[str, ...], tmp_path: Path,
                                  emu: RunningEmulator) -> None:
    path, expected = MADE[case](tmp_path)
    lines = assert_refused_without_a_request(emu, run_against(emu, *command, str(path)))
    assert_config_errors(lines)
    assert any(ln.startswith(expected) for ln in lines), lines


def test_an_unreadable_file_sends_nothing(tmp_path: Path, emu: RunningEmulator) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text(VALID_METER.replace("clauses: []", "clauses: [oops"))  # readable by root
    path.chmod(0)
    try:
        lines = assert_refused_without_a_request(emu, run_against(emu, "plan", str(path)))
    finally:
        path.chmod(0o600)
    assert_config_errors(lines)
    if os.geteuid() == 0:
        # root reads any file whatever its mode: only the parse error of its content can be
        # seen here (the FIFO, link and missing-path cases cover `cannot read`).
        assert any(ln.startswith(f"{path}:5:") for ln in lines), lines
    else:
        assert lines[0] == f"{path}: cannot read: Permission denied"


# -- bad plan files -----------------------------------------------------------------------------


def good_plan(emu: RunningEmulator, tmp: Path) -> dict:
    config = tmp / "meters.yaml"
    config.write_text(VALID_METER)
    out = tmp / "plan.json"
    made = run_against(emu, "plan", "--out", str(out), str(config))
    assert made.code == 0, made.text
    api(emu).clear_requests()
    return json.loads(out.read_text())


PLAN_FILES: dict[str, tuple[Callable[[dict], str | bytes], str]] = {
    "truncated": (lambda doc: json.dumps(doc, indent=2)[:200], r":\d+:\d+: corrupt plan \("),
    "not json": (lambda doc: "plan: yes\n", r":1:1: corrupt plan \(Expecting value\)"),
    "empty": (lambda doc: "", r":1:1: corrupt plan \(Expecting value\)"),
    "not utf-8": (lambda doc: b"\xff\xfe{}", r": corrupt plan \(not UTF-8\)"),
    "a list": (lambda doc: "[1, 2]", r": not a polar-meters plan \(no format_version\)"),
    "newer format": (lambda doc: json.dumps({**doc, "format_version": "2.0"}),
                     r": plan format 2.0 is not supported by polar-meters .* \(it reads 1.x\)"),
    "unreadable version": (lambda doc: json.dumps({**doc, "format_version": "two"}),
                           r": unreadable format_version 'two'"),
    "actions missing": (lambda doc: json.dumps({k: v for k, v in doc.items() if k != "actions"}),
                        r": corrupt plan \(KeyError\('actions'\)\)"),
    "action of an unknown kind": (
        lambda doc: json.dumps({**doc, "actions": [{**doc["actions"][0], "action": "delete"}]}),
        r": corrupt plan \(ValueError\(\"unknown action 'delete'\"\)\)"),
    "request that is not a write": (
        lambda doc: json.dumps({**doc, "actions": [
            {**doc["actions"][0], "request": {"method": "GET", "path": "/", "body": {}}}]}),
        r": corrupt plan \(ValueError\('bad request'\)\)"),
}


@pytest.mark.parametrize("case", sorted(PLAN_FILES))
def test_a_bad_plan_file_sends_nothing(case: str, tmp_path: Path, emu: RunningEmulator) -> None:
    make, expected = PLAN_FILES[case]
    content = make(good_plan(emu, tmp_path))
    path = tmp_path / "bad-plan.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    lines = assert_refused_without_a_request(emu, run_against(emu, "apply", "--plan", str(path)))
    assert len(lines) == 1, lines
    assert re.match(f"Error: {re.escape(str(path))}{expected}", lines[0]), lines[0]


def test_a_plan_file_that_is_a_directory_sends_nothing(tmp_path: Path,
                                                       emu: RunningEmulator) -> None:
    (tmp_path / "plan.json").mkdir()
    lines = assert_refused_without_a_request(
        emu, run_against(emu, "apply", "--plan", str(tmp_path / "plan.json")))
    assert lines == [(f"Error: {tmp_path / 'plan.json'}: not a regular file; a plan file is what "
                     "`plan --out` wrote")]
