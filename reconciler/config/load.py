"""Load meter files into a :class:`Config`: every problem of every file, each where it is.

Nothing here raises for bad input, and nothing touches the network. ``Config.meters`` holds
only meters without errors of their own; callers must refuse to go on while
``config.errors`` is not empty (the meters may then be partial).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reconciler.config.checks import check_document
from reconciler.config.discovery import (
    DEFAULT_PATH,
    Unreadable,
    digest,
    expand_paths,
    read_file,
)
from reconciler.config.findings import describe_value
from reconciler.config.metertests import MeterTest, collect_tests, unknown_keys
from reconciler.config.schema_errors import schema_findings
from reconciler.config.types import Config, Diagnostic
from reconciler.config.yamlnodes import YamlDocument, load_yaml
from reconciler.gcpause import gc_paused
from reconciler.model import DesiredMeter, Location, NodePath, normalize_spec


def load_config(paths: Sequence[str | Path], strict: bool = False) -> Config:
    """Read, validate and collect the meters of every file in ``paths`` (default ``meters/``);
    with ``strict``, every warning is an error (``--strict``)."""
    config = Config()
    found = expand_paths(paths or [DEFAULT_PATH])
    config.diagnostics.extend(found.problems)
    config.complete = found.complete
    loaded: list[LoadedFile] = []
    read: list[tuple[str, bytes]] = []
    with gc_paused():
        for display, path in found.files:
            try:
                data = read_file(display, path)
            except Unreadable as exc:
                config.diagnostics.append(exc.diagnostic)
                config.complete = False
                continue
            config.files.append(display)
            read.append((display, data))
            loaded.append(load_file(display, data))
    config.digest = digest(read)
    _merge(loaded, config)
    if strict:
        config.diagnostics = [_strictly(d) for d in config.diagnostics]
    return config


def _strictly(diagnostic: Diagnostic) -> Diagnostic:
    if diagnostic.severity != "warning":
        return diagnostic
    return replace(diagnostic, severity="error",
                   message=f"{diagnostic.message} (an error under --strict)")


@dataclass
class LoadedFile:
    """One file's diagnostics and meters, before files are compared with each other."""

    name: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    keys: list[tuple[str, Location]] = field(default_factory=list)  # every key, valid or not
    meters: list[DesiredMeter] = field(default_factory=list)  # the meters without errors
    organization_id: tuple[str, Location] | None = None
    tests: list[MeterTest] = field(default_factory=list)  # those without schema errors


def load_file(name: str, data: bytes) -> LoadedFile:
    """Parse, validate and check one file's bytes."""
    result = LoadedFile(name)
    doc = load_yaml(data)
    result.diagnostics = [p.in_file(name) for p in doc.problems]
    value = doc.value
    if value is None:
        return result
    if not isinstance(value, dict) or not value.keys() & {"version", "meters"}:
        # not a meter file (a .env, another tool's YAML): nothing of it is quoted
        message = f"the top level must be a mapping (version: 1, meters: ...), not {_excerpt(value)}"
        result.diagnostics = [Diagnostic("error", message).in_file(name, doc.position(()))]
        return result
    checked = list(check_document(value))
    masked = {d.path for d in [*doc.problems, *checked] if d.masks and d.path is not None}
    checked.extend(d for d in schema_findings(value) if not _under(d.path or (), masked))
    result.diagnostics += [
        d.in_file(name, doc.position(d.path or (), prefer_key=d.at_key)) for d in checked
    ]
    errors = [d.path for d in result.diagnostics if d.severity == "error" and d.path is not None]
    bad_keys = {p[1] for p in errors if len(p) > 1 and p[0] == "meters"}
    org_ok = not any(p[:1] == ("organization_id",) for p in errors)
    _collect(result, doc, bad_keys, org_ok)
    bad_tests = {p[1] for p in errors if len(p) > 1 and p[0] == "tests"}
    result.tests, problems = collect_tests(name, doc, bad_tests)
    result.diagnostics.extend(problems)
    return result


def _excerpt(value: Any) -> str:
    """What a file that is not a meter file holds, redacted: its kind, and at most the first
    three characters of a text."""
    if isinstance(value, dict):
        return "a mapping without version: or meters: (is this a meter file?)"
    if isinstance(value, str) and len(value) > 3:
        return f"a text ({value[:3]!r}…, {len(value)} characters)"
    return describe_value(value)


def _collect(result: LoadedFile, doc: YamlDocument, bad_keys: set[Any], org_ok: bool) -> None:
    """The file's organization and meters; those with errors of their own are left out."""
    value = doc.value
    org = value.get("organization_id")
    if isinstance(org, str) and org_ok:
        result.organization_id = (org.lower(), doc.location(result.name, ("organization_id",)))
    meters = value.get("meters")
    if not isinstance(meters, dict):
        return
    for key, meter in meters.items():
        location = doc.location(result.name, ("meters", key), at_key=True)
        result.keys.append((key, location))
        if key in bad_keys or not isinstance(meter, dict):
            continue
        pin = meter.get("id")
        if isinstance(pin, dict):
            pins = {env: str(value).lower() for env, value in pin.items()}
            result.meters.append(DesiredMeter(key, normalize_spec(meter), None, location, pins))
            continue
        result.meters.append(
            DesiredMeter(key, normalize_spec(meter), pin.lower() if pin else None, location)
        )


def _merge(loaded: list[LoadedFile], config: Config) -> None:
    """Put files together: one definition per key, one organization, one key per pinned id."""
    keys: dict[str, Location] = {}
    pins: dict[str, tuple[str, Location | None]] = {}
    duplicates: set[tuple[str, Location]] = set()
    every_key = {key for file in loaded for key, _ in file.keys}
    for file in loaded:
        file.diagnostics.extend(unknown_keys(file.tests, every_key))
        config.tests.extend(file.tests)
        for key, location in file.keys:
            if key in keys:
                duplicates.add((key, location))
                file.diagnostics.append(Diagnostic(
                    "error", f"defined again (first at {keys[key]})", location, ("meters", key)
                ))
            else:
                keys[key] = location
        if file.organization_id:
            org, location = file.organization_id
            if config.organization_id is None:
                config.organization_id, config.organization_id_location = org, location
            elif org != config.organization_id:
                file.diagnostics.append(Diagnostic(
                    "error",
                    f"{org} differs from {config.organization_id} "
                    f"(at {config.organization_id_location}): all files must name the same one",
                    location,
                    ("organization_id",),
                ))
        for meter in file.meters:
            if (meter.key, meter.location) in duplicates:
                continue
            taken = [(pin, pins[pin]) for pin in _pinned_ids(meter) if pin in pins]
            if taken:
                pin, (other, where) = taken[0]
                file.diagnostics.append(Diagnostic(
                    "error",
                    f"{pin} is already pinned by {other!r} (at {where}): one meter, one key",
                    meter.location,
                    ("meters", meter.key, "id"),
                ))
                continue
            for pin in _pinned_ids(meter):
                pins[pin] = (meter.key, meter.location)
            config.meters.append(meter)
        config.diagnostics.extend(_sorted_unique(file.diagnostics))
    if loaded and not keys and not config.errors:
        config.diagnostics.append(Diagnostic("warning", "no meters are defined"))


def _pinned_ids(meter: DesiredMeter) -> list[str]:
    """The meter's pins (a meter id is one organization's: pins of two environments never
    name the same meter)."""
    return list((meter.pins or {}).values()) or ([meter.id] if meter.id else [])


def _sorted_unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    unique = dict.fromkeys(diagnostics)
    return sorted(unique, key=lambda d: (d.location.line, d.location.col) if d.location else (0, 0))


def _under(path: NodePath, flagged: set[NodePath]) -> bool:
    return any(path[:i] in flagged for i in range(len(path) + 1))
