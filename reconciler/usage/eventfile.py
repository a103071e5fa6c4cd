"""Sample events, read from a file or given inline, each parsed as Polar would ingest it.

Files: JSON Lines (``.jsonl``/``.ndjson``, one event a line, blank lines skipped), a JSON list
(``.json``) or a YAML list (``.yaml``/``.yml``, read as strictly as meter files). Every event
keeps where it came from (``file:line``), for error messages and for showing which events a
meter matched. Nothing here raises for bad input: problems come back located.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.config.yamlnodes import load_yaml
from reconciler.errors import UserError
from reconciler.model import Diagnostic, Location
from reconciler.usage.engine import Event, EventError, parse_event

JSONL_SUFFIXES = (".jsonl", ".ndjson")
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class SampleEvent:
    event: Event
    where: str  # "events/llm.jsonl:3", "meters/llm.yaml:41:11"
    raw: dict[str, Any]  # as written


@dataclass
class EventBatch:
    events: list[SampleEvent] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)

    def add(
        self, raw: Any, location: Location, now: datetime, short: bool = False, label: str = ""
    ) -> None:
        try:
            event = parse_event(raw, now)
        except EventError as exc:
            self.problem(f"{label}: bad event: {exc}" if label else f"bad event: {exc}", location)
            return
        where = f"{location.file}:{location.line}" if short else str(location)
        self.events.append(SampleEvent(event, where, raw))

    def problem(self, message: str, location: Location | None) -> None:
        self.problems.append(Diagnostic("error", message, location))



def read_event_file(path: Path, display: str | None = None, now: datetime | None = None) -> EventBatch:
    """The events of one file, by its suffix; unreadable files are one problem."""
    display = display or str(path)
    now = now or datetime.now(UTC)
    batch = EventBatch()
    try:
        if path.exists() and not path.is_file():  # a FIFO or a device would block a read
            batch.problem(f"{display}: not a regular file", None)
            return batch
        data = path.read_bytes()
    except FileNotFoundError:
        batch.problem(f"{display}: no such events file", None)
        return batch
    except OSError as exc:
        batch.problem(f"{display}: cannot read: {exc.strerror}", None)
        return batch
    suffix = path.suffix.lower()
    if suffix in YAML_SUFFIXES:
        _read_yaml(data, display, now, batch)
        return batch
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        batch.problem(f"not valid UTF-8 (byte offset {exc.start})", Location(display, 1, 1))
        return batch
    if suffix in JSONL_SUFFIXES:
        _read_jsonl(text, display, now, batch)
    elif suffix == ".json":
        _read_json_list(text, display, now, batch)
    else:
        batch.problem(
            f"{display}: unknown events file type {suffix or '(no suffix)'!r}: use .jsonl "
            "(one JSON event a line), .json or .yaml (a list of events)",
            None,
        )
    return batch


def inline_events(
    items: list[Any], locations: list[Location], labels: list[str], now: datetime
) -> EventBatch:
    """Events written in a meter file, each with the position of its mapping and its path
    (for messages)."""
    batch = EventBatch()
    for raw, location, label in zip(items, locations, labels, strict=True):
        batch.add(raw, location, now, label=label)
    return batch


def load_events_option(path: str) -> list[SampleEvent]:
    """For a command-line option: every event of the file, or one UserError listing every
    problem, a line each."""
    batch = read_event_file(Path(path), path)
    if batch.problems:
        raise UserError("\n".join(str(p) for p in batch.problems))
    return batch.events


def _read_jsonl(text: str, display: str, now: datetime, batch: EventBatch) -> None:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            batch.problem(f"not a JSON event: {exc.msg}", Location(display, number, exc.colno))
            continue
        batch.add(raw, Location(display, number, 1), now, short=True)


def _position(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def _read_json_list(text: str, display: str, now: datetime, batch: EventBatch) -> None:
    """A JSON list of events, item by item, so that each keeps its line."""
    decoder = json.JSONDecoder()
    index = _skip_space(text, 0)
    if not text.startswith("[", index):
        line, col = _position(text, index)
        batch.problem("expected a JSON list of events ([...])", Location(display, line, col))
        return
    index = _skip_space(text, index + 1)
    if text.startswith("]", index):
        index = _skip_space(text, index + 1)
    else:
        while True:
            try:
                raw, end = decoder.raw_decode(text, index)
            except json.JSONDecodeError as exc:
                batch.problem(f"not JSON: {exc.msg}", Location(display, exc.lineno, exc.colno))
                return
            line, col = _position(text, index)
            batch.add(raw, Location(display, line, col), now)
            index = _skip_space(text, end)
            if text.startswith(",", index):
                index = _skip_space(text, index + 1)
                continue
            if text.startswith("]", index):
                index = _skip_space(text, index + 1)
                break
            line, col = _position(text, index)
            batch.problem("not JSON: expected ',' or ']'", Location(display, line, col))
            return
    if index < len(text):
        line, col = _position(text, index)
        batch.problem("not JSON: extra data after the list", Location(display, line, col))


def _read_yaml(data: bytes, display: str, now: datetime, batch: EventBatch) -> None:
    doc = load_yaml(data)
    for problem in doc.problems:
        line, col = problem.position or (1, 1)
        batch.problem(problem.message, Location(display, line, col))
    if doc.problems:
        return
    if not isinstance(doc.value, list):
        batch.problem("expected a YAML list of events", Location(display, 1, 1))
        return
    for index, raw in enumerate(doc.value):
        line, col = doc.position((index,)) or (1, 1)
        batch.add(raw, Location(display, line, col), now)
