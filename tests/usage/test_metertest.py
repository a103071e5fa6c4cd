"""Meter tests (`tests:` in meter files): loading and checking them, `polar-meters test`, and
the events files they read."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli.main import cli as main_cli
from reconciler.config.load import load_config
from reconciler.usage.eventfile import read_event_file
from tests.support.e2e import EXAMPLES, Api
from tests.support.inproc import invoke

HEAD = """\
version: 1
meters:
  tokens:
    name: Tokens
    filter:
      conjunction: and
      clauses:
        - {property: name, operator: eq, value: llm}
    aggregation: {func: sum, property: _llm.total_tokens}
  latency:
    name: Average latency
    filter: {conjunction: and, clauses: []}
    aggregation: {func: avg, property: ms}
"""

def llm(total_tokens: int) -> dict[str, object]:
    """An `_llm` object as Polar's ingest accepts it (vendor, model and the counts required)."""
    return {"vendor": "v", "model": "m", "input_tokens": 0, "output_tokens": 0,
            "total_tokens": total_tokens}


EVENTS = [
    {"name": "llm", "metadata": {"_llm": llm(100), "ms": 1}},
    {"name": "llm", "metadata": {"_llm": llm(250), "ms": 2}},
    {"name": "llm", "metadata": {"model": "x", "ms": 1.5}},
    {"name": "other", "metadata": {"_llm": llm(999)}},
]


LLM = ("{name: llm, metadata: {_llm: {vendor: v, model: m, input_tokens: 0, output_tokens: 0, "
       "total_tokens: 5}, ms: 3}}")


#: The latency meter's filter has no clause: right, and said (issue 16).
LATENCY_COUNTS_ALL = (
    "warning: meters.latency.filter.clauses: empty: the meter counts every event of the "
    "organization, whatever its name; add a clause (e.g. {property: name, operator: eq, "
    "value: api_call}) if that is not meant"
)


def run(*args: str) -> Result:
    return CliRunner().invoke(main_cli, list(args))


def write(tmp_path: Path, tests: str, events: list[dict] | None = None) -> Path:
    (tmp_path / "events").mkdir(exist_ok=True)
    (tmp_path / "events" / "sample.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in (EVENTS if events is None else events))
    )
    path = tmp_path / "meters" / "m.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(HEAD + "tests:\n" + tests)
    return path


def test_the_examples_pass() -> None:
    result = run("test", str(EXAMPLES))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines[:-1]] == [
        ["PASS", "billable-calls"], ["PASS", "tokens-by-model"], ["PASS", "peak-storage-and-staff"]
    ]
    assert "21 events from " in lines[1] and lines[1].endswith("examples/events/llm.jsonl)")
    assert lines[-1] == "3 tests passed."


def test_totals_and_matched_counts_from_a_file_relative_to_the_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, """\
  sample:
    events: ../events/sample.jsonl
    expect:
      tokens: {total: 350, matched: 2}
      latency: {total: 1.5, matched: 3}
""")
    result = run("test", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("PASS sample (2 meters, 4 events from ")


def test_a_failure_shows_expected_actual_and_a_bounded_list_of_matched_events(tmp_path: Path) -> None:
    path = write(tmp_path, """\
  sample:
    events: ../events/sample.jsonl
    expect:
      tokens: {total: 300, matched: 3}
      latency: {total: 1.5}
  inline:
    events: [{name: nope}]
    expect: {tokens: {total: 0}}
""")
    result = run("test", "--max-events", "1", str(path))
    assert result.exit_code == 1
    out = result.stdout
    assert f"FAIL sample (2 meters, 4 events from {tmp_path}/events/sample.jsonl) at {path}:" in out
    assert "  tokens: total expected 300, got 350" in out
    assert "  tokens: matched expected 3, got 2" in out
    assert "  tokens: matched expected 2, got 2" not in out
    assert "    matched 2 of 4 events:" in out
    assert re.search(r"events/sample\.jsonl:1  \{\"name\": \"llm\", \"metadata\": \{\"_llm\"", out)
    assert "events/sample.jsonl:2  " not in out
    assert "      … and 1 more" in out
    assert "  latency: ok (total 1.5)" in out
    assert "PASS inline (1 meter, 1 event inline)" in out
    assert out.splitlines()[-1] == "1 of 2 tests failed."


def test_a_meter_matching_nothing_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "  t:\n    events: [{name: nope}, {name: llm}]\n    expect: {tokens: {matched: 1}}\n")
    result = run("test", str(path))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[2:4] == [
        "    1 more event matched its filter without a number at '_llm.total_tokens': not the meter's",
        "    it matched none of the 2 events",
    ]


def test_select_tests_by_name(tmp_path: Path) -> None:
    path = write(tmp_path, """\
  good: {events: [LLM], expect: {tokens: {matched: 1}}}
  bad: {events: [LLM], expect: {tokens: {matched: 5}}}
""".replace("LLM", LLM))
    assert run("test", "-k", "good", str(path)).exit_code == 0
    assert run("test", str(path)).exit_code == 1
    result = run("test", "-k", "nothing", str(path))
    assert result.exit_code == 1
    assert result.stderr == (f"{path}:12:41: {LATENCY_COUNTS_ALL}\n"
                             "Error: no test named 'nothing' in 1 file\n")


def test_tests_may_name_meters_of_other_files(tmp_path: Path) -> None:
    write(tmp_path, f"  a: {{events: [{LLM}], expect: {{tokens: {{matched: 1}}}}}}\n")
    (tmp_path / "meters" / "z.yaml").write_text(
        f"version: 1\nmeters: {{}}\ntests:\n  b: {{events: [{LLM}], expect: {{latency: {{matched: 1}}}}}}\n"
    )
    result = run("test", str(tmp_path / "meters"))
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("2 tests passed.\n")


def test_no_tests(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(HEAD)
    result = run("test", str(path))
    assert (result.exit_code, result.stdout) == (0, "No tests in 1 file.\n")


# --- validation: located one-line errors, for validate, test and plan alike -------------------

BROKEN = """\
  typo:
    events: [{name: llm}]
    expect:
      tokns: {total: 1}
  missing-file:
    events: ../events/nothing.jsonl
    expect: {tokens: {total: 1}}
  bad-lines:
    events: ../events/sample.jsonl
    expect: {tokens: {total: 1}}
  bad-inline:
    events:
      - {name: llm}
      - {metadata: {a: 1}}
    expect: {tokens: {total: 1}}
  unknown-field:
    events: []
    expect: {tokens: {sum: 1}}
  empty:
    events: []
    expect: {tokens: {}}
"""


def test_problems_are_located_one_line_errors(tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN, events=[{"name": "llm"}])
    with (tmp_path / "events" / "sample.jsonl").open("a") as f:
        f.write('{"name": "llm", "timestamp": "yesterday"}\n\n{"name": \n')
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    events = tmp_path / "events" / "sample.jsonl"
    assert result.stderr.splitlines() == [
        f"{events}:2:1: bad event: timestamp: Input should be a valid datetime or date, input is too short",
        f"{events}:4:10: not a JSON event: Expecting value",
        f"{path}:12:41: {LATENCY_COUNTS_ALL}",
        f"{path}:18:7: tests.typo.expect.tokns: no meter has the key 'tokns' (did you mean 'tokens'?)",
        (f"{path}:20:13: tests.missing-file.events: ../events/nothing.jsonl: no such events file "
        f"(relative to this file: {tmp_path}/events/nothing.jsonl)"),
        f"{path}:28:9: tests.bad-inline.events[1]: bad event: name: Field required",
        f"{path}:32:23: tests.unknown-field.expect.tokens.sum: unknown field 'sum'",
        (f"{path}:35:14: tests.empty.expect.tokens: an expectation is a mapping with total, "
        "matched or both, e.g. {total: 1200, matched: 31}"),
        "7 errors, 1 warning in 1 file.",
    ]
    assert run("test", str(path)).exit_code == 1


def test_plan_stops_at_broken_tests_before_any_request(emu, tmp_path: Path) -> None:
    api = Api(emu)
    path = write(tmp_path, "  t: {events: ../events/gone.jsonl, expect: {tokens: {total: 1}}}\n")
    run_ = invoke("plan", str(path), env=api.env)
    assert run_.code == 1
    assert "tests.t.events: ../events/gone.jsonl: no such events file" in run_.err
    assert "Traceback" not in run_.text
    assert api.requests() == []


# --- events files ---------------------------------------------------------------------------


def test_a_json_list_keeps_each_events_line(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    path.write_text('[\n  {"name": "a"},\n  {"name": "b",\n   "metadata": {"x": 1}},\n  {"nam": 1}\n]\n')
    batch = read_event_file(path, "e.json")
    assert [(e.event.name, e.where) for e in batch.events] == [("a", "e.json:2:3"), ("b", "e.json:3:3")]
    assert [str(p) for p in batch.problems] == ["e.json:5:3: bad event: unknown event field 'nam'"]
    path.write_text('[{"name": "a"} {"name": "b"}]')
    assert [str(p) for p in read_event_file(path, "e.json").problems] == [
        "e.json:1:16: not JSON: expected ',' or ']'"
    ]
    path.write_text('{"name": "a"}')
    assert [str(p) for p in read_event_file(path, "e.json").problems] == [
        "e.json:1:1: expected a JSON list of events ([...])"
    ]


def test_a_yaml_list_is_read_strictly(tmp_path: Path) -> None:
    path = tmp_path / "e.yaml"
    path.write_text("- {name: a, metadata: {n: 1}}\n- name: b\n  timestamp: 2026-10-01\n")
    batch = read_event_file(path, "e.yaml")
    assert batch.events == []  # a YAML problem refuses the file, as with meter files
    assert [str(p) for p in batch.problems] == [
        "e.yaml:3:14: 2026-10-01 is read as a date by YAML 1.1: quote it (\"2026-10-01\")"
    ]


def test_other_suffixes_and_missing_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text("name\n")
    assert "unknown events file type '.csv'" in str(read_event_file(tmp_path / "e.csv").problems[0])
    assert str(read_event_file(tmp_path / "none.jsonl", "none.jsonl").problems[0]) == (
        "none.jsonl: no such events file"
    )
    assert str(read_event_file(tmp_path, "dir.jsonl").problems[0]) == "dir.jsonl: not a regular file"


def test_every_bad_line_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text("x\n" * 25)
    problems = [str(p) for p in read_event_file(path, "e.jsonl").problems]
    assert problems == [f"e.jsonl:{n}:1: not a JSON event: Expecting value" for n in range(1, 26)]


def test_loaded_tests_hold_parsed_events_and_expectations() -> None:
    config = load_config([EXAMPLES])
    assert config.diagnostics == []
    tests = {t.name: t for t in config.tests}
    assert set(tests) == {"billable-calls", "tokens-by-model", "peak-storage-and-staff"}
    inline = tests["peak-storage-and-staff"]
    assert inline.source == "inline" and len(inline.events) == 8
    assert inline.events[0].where.endswith("storage.yaml:34:9")
    assert inline.expect["storage-gb"] == {"total": 40, "matched": 2}


@pytest.mark.parametrize("events", ["[]", "[{name: a}]"])
def test_zero_totals(tmp_path: Path, events: str) -> None:
    path = write(tmp_path, f"  t: {{events: {events}, expect: {{tokens: {{total: 0}}, latency: {{total: 0}}}}}}\n")
    assert run("test", str(path)).exit_code == 0
