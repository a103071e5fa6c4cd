"""`import --env ENV --merge`: write one environment's pins into an existing meter file.

Only `id:` lines change (or are added under the meter's key); every other line, comment
and blank stays as it was. A meter is matched to a configured key by its tag, else by its
name (one configured meter of that name). What cannot be merged safely is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.config.yamlnodes import load_yaml
from reconciler.errors import UserError
from reconciler.model import RemoteMeter


@dataclass
class Merged:
    text: str
    pinned: list[str] = field(default_factory=list)  # keys given this environment's pin
    unmatched: list[RemoteMeter] = field(default_factory=list)  # no configured key


def _keys_by_meter(configured: dict[str, Any], meters: Sequence[RemoteMeter]) -> dict[str, RemoteMeter]:
    by_name: dict[str, list[str]] = {}
    for configured_key, spec in configured.items():
        if isinstance(spec, dict):
            by_name.setdefault(str(spec.get("name")), []).append(configured_key)
    found: dict[str, RemoteMeter] = {}
    for meter in meters:
        named = by_name.get(str(meter.spec["name"]), [])
        key: str | None = named[0] if len(named) == 1 else None
        if meter.key is not None and meter.key in configured:
            key = meter.key
        if key is not None and key not in found:
            found[key] = meter
    return found


def merge_pins(name: str, data: bytes, env: str, meters: Sequence[RemoteMeter]) -> Merged:
    """``data`` (the file ``name``) with ``env``'s pin for each meter it configures."""
    doc = load_yaml(data)
    configured = doc.value.get("meters") if isinstance(doc.value, dict) else None
    if doc.problems or not isinstance(configured, dict):
        raise UserError(f"{name}: --merge needs a valid meter file (run polar-meters validate {name})")
    lines = data.decode("utf-8").splitlines(keepends=True)
    found = _keys_by_meter(configured, meters)
    result = Merged("")
    edits: list[tuple[int, bool, str]] = []  # (0-based line, replace?, new line)
    for key, meter in found.items():
        pins = _pins(name, key, configured[key].get("id"), env, meter.id)
        if pins is None:
            continue
        edits.append(_edit(name, doc, lines, key, pins, "id" in configured[key]))
        result.pinned.append(key)
    for line, replace, text in sorted(edits, reverse=True):
        lines[line:line + 1 if replace else line] = [text]
    result.text = "".join(lines)
    result.unmatched = [m for m in meters if m not in found.values()]
    return result


def _pins(name: str, key: str, existing: Any, env: str, meter_id: str) -> dict[str, str] | None:
    """The meter's pins with ``env``'s; None when it already holds exactly that."""
    if isinstance(existing, str):
        raise UserError(f"{name}: meters.{key}.id is a plain id, for every environment: write it "
                        f"as {{ENV: {existing}}} first, then merge {env}'s pin")
    pins = dict(existing or {})
    if pins.get(env) == meter_id:
        return None
    pins[env] = meter_id
    return pins


def _edit(name: str, doc: Any, lines: list[str], key: str, pins: dict[str, str],
          has_id: bool) -> tuple[int, bool, str]:
    flow = "{" + ", ".join(f"{e}: {i}" for e, i in pins.items()) + "}"
    key_line, key_col = doc.position(("meters", key), prefer_key=True)
    first = doc.position(("meters", key, "name"), prefer_key=True)
    if first is None or first[0] == key_line:
        raise UserError(f"{name}:{key_line}:{key_col}: meters.{key} is written on one line: "
                        "--merge edits block-style meters only")
    if has_id:
        line, col = doc.position(("meters", key, "id"), prefer_key=True)
        value_line = doc.position(("meters", key, "id"))[0]
        if value_line != line:
            raise UserError(f"{name}:{line}:{col}: meters.{key}.id spans several lines: write it "
                            "on one line ({ENV: ID, …}) to merge into it")
        return line - 1, True, " " * (col - 1) + f"id: {flow}\n"
    return key_line, False, " " * (first[1] - 1) + f"id: {flow}\n"
