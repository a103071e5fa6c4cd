"""The ``tests:`` section of meter files: sample events and what each meter must make of them.

Collected while a file is loaded (so ``validate`` and ``plan`` check them too): an events file
is resolved relative to the YAML file that names it and read at once, so a missing file or a
bad event is a located diagnostic like any other. Expectations naming a key that no file
defines are refused once every file is read (:func:`unknown_keys`).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.config.types import Diagnostic
from reconciler.config.yamlnodes import YamlDocument
from reconciler.model import MESSAGE_PATH_PARTS, Location, format_path
from reconciler.usage.eventfile import EventBatch, SampleEvent, inline_events, read_event_file


@dataclass
class MeterTest:
    name: str
    location: Location
    source: str  # the events file as shown, or "inline"
    events: list[SampleEvent]
    expect: dict[str, dict[str, Any]]  # meter key -> {"total": …, "matched": …}
    expect_locations: dict[str, Location] = field(default_factory=dict)


def collect_tests(
    name: str, doc: YamlDocument, bad: set[Any], now: datetime | None = None
) -> tuple[list[MeterTest], list[Diagnostic]]:
    """The tests of one file without schema errors, and the problems of their events (a test
    whose events have problems is kept, so that its expectations are checked too)."""
    tests = doc.value.get("tests") if isinstance(doc.value, dict) else None
    if not isinstance(tests, dict):
        return [], []
    now = now or datetime.now(UTC)
    files: dict[str, EventBatch] = {}  # each events file read once per meter file
    found: list[MeterTest] = []
    problems: list[Diagnostic] = []
    for test_name, test in tests.items():
        if test_name in bad or not isinstance(test, dict):
            continue
        path = ("tests", test_name)
        events = test["events"]
        if isinstance(events, str):
            batch, source, missing = _from_file(name, events, files, now)
            if missing:
                where = doc.location(name, (*path, "events"))
                problems.append(Diagnostic("error", missing, where, (*path, "events")))
        else:
            at = [(*path, "events", i) for i in range(len(events))]
            places = [doc.location(name, p) for p in at]
            labels = [format_path(p, MESSAGE_PATH_PARTS) for p in at]
            batch = inline_events(events, places, labels, now)
            source = "inline"
            problems.extend(batch.problems)
        expect = test["expect"]
        found.append(MeterTest(
            name=test_name,
            location=doc.location(name, path, at_key=True),
            source=source,
            events=batch.events,
            expect=expect,
            expect_locations={k: doc.location(name, (*path, "expect", k), at_key=True)
                              for k in expect},
        ))
    for batch in files.values():
        problems.extend(batch.problems)
    return found, problems


def _from_file(
    name: str, given: str, files: dict[str, EventBatch], now: datetime
) -> tuple[EventBatch, str, str | None]:
    """The events file named in ``name`` (relative to it), read once; or why it cannot be."""
    path = Path(os.path.normpath(Path(name).parent / given))
    display = str(path)
    if display not in files:
        if not path.is_file():
            what = "is not a file" if path.exists() else "no such events file"
            relative = f" (relative to this file: {display})" if display != given else ""
            return EventBatch(), display, f"{given}: {what}{relative}"
        files[display] = read_event_file(path, display, now)
    return files[display], display, None


def unknown_keys(tests: Iterable[MeterTest], known: AbstractSet[str]) -> list[Diagnostic]:
    """An error for each expectation naming a meter key that no file defines (``known``:
    every key defined; sorted only when a name is unknown, for the suggestion)."""
    problems = []
    for test in tests:
        for key in test.expect:
            if key in known:
                continue
            close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(Diagnostic(
                "error", f"no meter has the key {key!r}{hint}", test.expect_locations[key],
                ("tests", test.name, "expect", key),
            ))
    return problems
