"""The meter model both sides are reduced to before they are compared.

A *spec* is a plain dict with exactly these keys, in this order:
``name, unit, custom_label, custom_multiplier, filter, aggregation, metadata, archived``.
Desired meters (from YAML) and remote meters (from Polar) are both normalised with
:func:`normalize_spec`, so that two specs are equal exactly when Polar would store the same
meter. ``metadata`` never holds the ownership tag: that lives beside it as the meter's key.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from reconciler.rules import METADATA_PREFIX

#: Metadata key under which polar-meters records which configuration key owns a meter.
TAG_KEY = "polar_meters_key"

SPEC_FIELDS = (
    "name",
    "unit",
    "custom_label",
    "custom_multiplier",
    "filter",
    "aggregation",
    "metadata",
    "archived",
)



@dataclass(frozen=True)
class Location:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def quote(text: str, limit: int | None = 60) -> str:
    """A string in quotes, shortened past ``limit`` characters (None: never)."""
    shown = text if limit is None or len(text) <= limit else text[: limit - 1] + "…"
    return repr(shown)


def format_path(parts: Sequence[Any], most: int | None = None) -> str:
    """The one path formatter: ``meters.api-calls.filter.clauses[1].operator``, odd keys as
    ``metadata['a b']``. Exact by default (plan diffs); with ``most`` (messages), the middle
    of a path longer than ``most`` parts is elided (``meters.m.filter.clauses[0]….value``)
    and long keys are shortened."""
    if most is not None and len(parts) > most:
        head, tail = parts[: most // 2], parts[-(most // 2):]
        return f"{format_path(head, most)}…{format_path(tail, most)}"
    out = ""
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif _BARE_KEY.fullmatch(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{quote(str(part), None if most is None else 60)}]"
    return out


Severity = Literal["error", "warning"]
#: Where a value is in a document: mapping keys and list indexes, from the top.
NodePath = tuple[str | int, ...]
#: A path in a message keeps at most this many parts (the middle of a longer one is elided).
MESSAGE_PATH_PARTS = 12


@dataclass(frozen=True)
class Diagnostic:
    """One problem: the one type for a located problem (YAML readers, schema and checks,
    events files, meter tests, plan problems, GitHub annotations).

    ``location``: the file, 1-based line and column; None when it is in no file. A YAML
    reader, which does not know the file's name, gives ``file=""``; the loader names it
    (:meth:`in_file`). ``path``: where in the document, shown before the message
    (``meters.m.name: 'ab' is too short``). Two hints for the loader, about a problem that
    has no location yet: ``at_key``, place it at the mapping key of ``path`` (an unknown
    field) rather than at its value; ``masks``, what the schema would say at or below
    ``path`` is not reported (the YAML reader guessed the value, or a check explains it
    better than the schema would).
    """

    severity: Severity
    message: str
    location: Location | None = None
    path: NodePath | None = None
    at_key: bool = False
    masks: bool = False

    @property
    def text(self) -> str:
        """The message after the path it is about, without the location."""
        where = format_path(self.path, MESSAGE_PATH_PARTS) if self.path else ""
        return f"{where}: {self.message}" if where else self.message

    @property
    def position(self) -> tuple[int, int] | None:
        """Line and column, or None."""
        return (self.location.line, self.location.col) if self.location else None

    def in_file(self, file: str, position: tuple[int, int] | None = None) -> Diagnostic:
        """This problem in FILE, at POSITION (by default its own line and column, else 1:1)."""
        line, col = position or self.position or (1, 1)
        return replace(self, location=Location(file, line, col))

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}{prefix}{self.text}"


@dataclass
class DesiredMeter:
    """A meter as the configuration wants it."""

    key: str
    spec: dict[str, Any]
    id: str | None = None
    location: Location | None = None
    #: `id: {ENV: …}`: the pin of each environment; `id` is then the chosen one's, if any
    pins: dict[str, str] | None = None


@dataclass
class RemoteMeter:
    """A meter as Polar has it (normalised), with the raw answer kept for reference."""

    id: str
    spec: dict[str, Any]
    key: str | None
    created_at: str | None = None
    modified_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def archived(self) -> bool:
        return bool(self.spec.get("archived"))


def strip_metadata_prefix(prop: str) -> str:
    """Polar strips one leading ``metadata.`` from filter and aggregation properties."""
    return prop.removeprefix(METADATA_PREFIX)


def clause_text(clause: dict[str, Any]) -> str:
    """A filter clause on one line, as a person reads it: ``name eq "api_call"``. Properties
    are shown as given: normalised specs already hold them as Polar stores them."""
    return f"{clause['property']} {clause['operator']} {json.dumps(clause['value'], ensure_ascii=False)}"


def _normalize_scalar(value: Any) -> Any:
    # Polar turns JSON 1.0 into 1 in clause values; an integral float in metadata is the
    # same number. Booleans are left alone (bool is an int subclass).
    if isinstance(value, float) and not isinstance(value, bool) and value.is_integer():
        return int(value)
    return value


def normalize_filter(flt: Any) -> Any:
    """Canonical form of a filter group: conjunction, clauses (recursively)."""
    if not isinstance(flt, dict):
        return flt
    clauses = []
    for clause in flt.get("clauses") or []:
        if isinstance(clause, dict) and "clauses" in clause:
            clauses.append(normalize_filter(clause))
        elif isinstance(clause, dict):
            prop = clause.get("property")
            clauses.append(
                {
                    "property": strip_metadata_prefix(prop) if isinstance(prop, str) else prop,
                    "operator": clause.get("operator"),
                    "value": _normalize_scalar(clause.get("value")),
                }
            )
        else:
            clauses.append(clause)
    return {"conjunction": flt.get("conjunction"), "clauses": clauses}


def normalize_aggregation(agg: Any) -> Any:
    if not isinstance(agg, dict):
        return agg
    func = agg.get("func")
    if func == "count":
        return {"func": "count"}
    prop = agg.get("property")
    return {"func": func, "property": strip_metadata_prefix(prop) if isinstance(prop, str) else prop}


def normalize_metadata(metadata: Any) -> dict[str, Any]:
    """User metadata without the ownership tag, integral floats as ints, keys sorted."""
    if not metadata:
        return {}
    return {
        k: _normalize_scalar(v) for k, v in sorted(metadata.items()) if k != TAG_KEY
    }


def normalize_spec(data: dict[str, Any]) -> dict[str, Any]:
    """Reduce a meter (YAML mapping or Polar's answer) to the canonical spec.

    ``archived`` comes from ``archived`` (YAML) or ``archived_at`` (Polar).
    """
    unit = data.get("unit") or "scalar"
    archived = bool(data.get("archived")) or data.get("archived_at") is not None
    return {
        "name": data.get("name"),
        "unit": unit,
        "custom_label": data.get("custom_label"),
        "custom_multiplier": data.get("custom_multiplier"),
        "filter": normalize_filter(data.get("filter")),
        "aggregation": normalize_aggregation(data.get("aggregation")),
        "metadata": normalize_metadata(data.get("metadata")),
        "archived": archived,
    }


_REQUIRED = {
    "id": str,
    "name": str,
    "unit": str,
    "filter": dict,
    "aggregation": dict,
    "metadata": dict,
    "created_at": str,
}


_SCALARS = (str, int, float, bool)
#: Deeper than any filter Polar would store for polar-meters (the YAML allows ~30 levels).
_MAX_REMOTE_DEPTH = 100
_CLAUSE_KEYS = ("property", "operator", "value")
_GROUP_KEYS = ("conjunction", "clauses")

# Reading 10,000 meters from Polar is a hot path: each answer is checked and normalised in
# one pass, and the parts Polar already sends in canonical form (nearly all of them) are kept
# as they are rather than copied. The normalisation is normalize_spec's, applied where needed.


def _remote_clause(clause: Any) -> dict[str, Any]:
    if not (
        isinstance(clause, dict)
        and isinstance(prop := clause.get("property"), str)
        and isinstance(clause.get("operator"), str)
        and isinstance(value := clause.get("value"), _SCALARS)
    ):
        raise ValueError("a filter clause is not {property, operator, value}")
    if tuple(clause) == _CLAUSE_KEYS and type(value) is not float and not prop.startswith(
        METADATA_PREFIX
    ):
        return clause
    return {"property": strip_metadata_prefix(prop), "operator": clause["operator"],
            "value": _normalize_scalar(value)}


def _remote_filter(flt: Any, depth: int = 0) -> dict[str, Any]:
    """normalize_filter of a filter from Polar, or ValueError saying what makes it unusable."""
    if depth > _MAX_REMOTE_DEPTH:
        raise ValueError(f"filter nested more than {_MAX_REMOTE_DEPTH} levels deep")
    if not isinstance(flt, dict) or not isinstance(clauses := flt.get("clauses"), list):
        raise ValueError("filter clauses are not a list")
    copied: list[Any] | None = None  # made only once a clause had to be normalised
    for index, clause in enumerate(clauses):
        if isinstance(clause, dict) and "clauses" in clause:
            canonical = _remote_filter(clause, depth + 1)
        else:
            canonical = _remote_clause(clause)
        if copied is None and canonical is not clause:
            copied = clauses[:index]
        if copied is not None:
            copied.append(canonical)
    if copied is None and tuple(flt) == _GROUP_KEYS:
        return flt
    return {"conjunction": flt.get("conjunction"), "clauses": clauses if copied is None else copied}


def _remote_aggregation(agg: dict[str, Any]) -> dict[str, Any]:
    func, prop = agg.get("func"), agg.get("property")
    if not isinstance(func, str) or not isinstance(prop, (str, type(None))):
        raise ValueError("aggregation is not {func, property}")
    keys = tuple(agg)
    if func == "count":
        return agg if keys == ("func",) else {"func": "count"}
    if keys == ("func", "property") and prop is not None and not prop.startswith(METADATA_PREFIX):
        return agg
    return normalize_aggregation(agg)


def _remote_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    if not all(isinstance(k, str) and isinstance(v, _SCALARS) for k, v in metadata.items()):
        raise ValueError("metadata values are not strings, numbers or booleans")
    return normalize_metadata(metadata)


def _remote_spec(item: dict[str, Any]) -> dict[str, Any]:
    """normalize_spec of a meter from Polar, checked on the way (ValueError: what is wrong)."""
    flt = _remote_filter(item["filter"])
    agg = _remote_aggregation(item["aggregation"])
    metadata = _remote_metadata(item["metadata"])
    for name in ("custom_label", "modified_at", "archived_at"):
        if not isinstance(item.get(name), (str, type(None))):
            raise ValueError(f"{name} is not a string")
    multiplier = item.get("custom_multiplier")
    if not isinstance(multiplier, (int, float, type(None))):
        raise ValueError("custom_multiplier is not a number")
    return {
        "name": item["name"],
        "unit": item["unit"] or "scalar",
        "custom_label": item.get("custom_label"),
        "custom_multiplier": multiplier,
        "filter": flt,
        "aggregation": agg,
        "metadata": metadata,
        "archived": bool(item.get("archived")) or item.get("archived_at") is not None,
    }


def remote_from_api(item: dict[str, Any]) -> RemoteMeter:
    """Build a RemoteMeter from one item of Polar's meter list or get answer.

    Raises ValueError naming the field when the answer is not a meter as Polar sends them.
    """
    if not isinstance(item, dict):
        raise ValueError("a meter is not a JSON object")
    for name, kind in _REQUIRED.items():
        if not isinstance(item.get(name), kind):
            raise ValueError(f"meter {item.get('id', '?')} has no valid {name!r}")
    try:
        spec = _remote_spec(item)
    except ValueError as exc:
        raise ValueError(f"meter {item['id']}: {exc}") from None
    tag = item["metadata"].get(TAG_KEY)
    return RemoteMeter(
        id=item["id"],
        spec=spec,
        key=str(tag) if tag is not None else None,
        created_at=item["created_at"],
        modified_at=item.get("modified_at"),
        raw=item,
    )


def content_digest(value: Any) -> str:
    """A stable digest of JSON-like data (key order does not matter)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
