"""Existing remote meters → the project's own YAML, ready to adopt. Pure: no I/O.

Keys come from names (lowercase, `-` separated, made unique) unless a meter already carries
an ownership tag; every meter is pinned with `id:` so the next plan adopts exactly it.
Strings are quoted whenever a plain scalar could be read as anything but that string.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import yaml

from reconciler.config.schema import meter_key_max_length
from reconciler.model import RemoteMeter

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_ ./()-]*")
_RISKY_WORDS = {"yes", "no", "on", "off", "y", "n", "true", "false", "null", "~"}


def ascii_text(text: str) -> str:
    """Letters without their accents (``Ünïcode café`` → ``Unicode cafe``, ``ß`` → ``ss``);
    what has no ASCII form is dropped."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss").replace("ẞ", "SS"))
    return decomposed.encode("ascii", "ignore").decode("ascii")


def derive_key(name: str, taken: set[str]) -> str:
    """A valid, unused key from a meter name: ``"API calls (v2)"`` → ``api-calls-v2``; at most
    as long as the schema allows."""
    most = meter_key_max_length()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_text(name).lower()).strip("-")[:most].strip("-") or "meter"
    key, n = base, 2
    while key in taken:
        suffix = f"-{n}"
        key = base[: most - len(suffix)].rstrip("-") + suffix
        n += 1
    return key


class _Dumper(yaml.SafeDumper):
    pass


class _Clause(dict):  # type: ignore[type-arg]
    """A filter clause, written on one line: {property: name, operator: eq, value: x}."""


def _represent_clause(dumper: yaml.SafeDumper, value: _Clause) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=True)


def _flow_clauses(flt: Any) -> Any:
    if isinstance(flt, dict) and "clauses" in flt:
        return {**flt, "clauses": [_flow_clauses(c) for c in flt["clauses"]]}
    return _Clause(flt) if isinstance(flt, dict) else flt


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    plain = (
        _PLAIN.fullmatch(value) is not None
        and value == value.strip()
        and value.lower() not in _RISKY_WORDS
    )
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=None if plain else '"')


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Clause, _represent_clause)


def meter_mapping(meter: RemoteMeter, pin: bool = True, environment: str | None = None) -> dict[str, Any]:
    spec = meter.spec
    out: dict[str, Any] = {
        "name": spec["name"],
        "filter": _flow_clauses(spec["filter"]),
        "aggregation": spec["aggregation"],
    }
    out["unit"] = spec["unit"]
    if spec["custom_label"] is not None:
        out["custom_label"] = spec["custom_label"]
    if spec["custom_multiplier"] is not None:
        out["custom_multiplier"] = spec["custom_multiplier"]
    if spec["metadata"]:
        out["metadata"] = spec["metadata"]
    if spec["archived"]:
        out["archived"] = True
    if pin:
        out["id"] = _Clause({environment: meter.id}) if environment else meter.id  # one line
    return out


def _dump(value: Any, indent: int) -> str:
    text = yaml.dump(
        value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000
    )
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


def to_yaml(
    meters: list[RemoteMeter], schema_ref: str, organization_id: str | None = None,
    pins: bool = True, environment: str | None = None,
) -> str:
    """The configuration file for `meters`, keys derived and unique; with PINS, each meter's
    `id:` (needed only until the next apply tags it: without, same-name adoption finds it),
    with ENVIRONMENT that environment's (`id: {ENV: …}`)."""
    lines = [f"# yaml-language-server: $schema={schema_ref}", "# Imported by polar-meters import.", "version: 1"]
    if organization_id:
        lines.append(f"organization_id: {organization_id}")
    if not meters:
        lines.append("meters: {}")
        return "\n".join(lines) + "\n"
    lines.append("meters:")
    taken = {m.key for m in meters if m.key}
    for meter in sorted(meters, key=lambda m: (m.created_at or "", m.id)):
        key = meter.key or derive_key(str(meter.spec["name"]), taken)
        taken.add(key)
        archived = ", archived" if meter.archived else ""
        name = " ".join(str(meter.spec["name"]).split())
        lines.append(f"  # {name} — id {meter.id}, created {meter.created_at}{archived}")
        lines.append(_dump({key: meter_mapping(meter, pins, environment)}, 2).rstrip("\n"))
    return "\n".join(lines) + "\n"
