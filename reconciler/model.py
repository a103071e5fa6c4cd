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
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class DesiredMeter:
    """A meter as the configuration wants it."""

    key: str
    spec: dict[str, Any]
    id: str | None = None
    location: Location | None = None


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


def _filter_problem(flt: Any, depth: int = 0) -> str | None:
    if depth > _MAX_REMOTE_DEPTH:
        return f"filter nested more than {_MAX_REMOTE_DEPTH} levels deep"
    if not isinstance(flt, dict) or not isinstance(flt.get("clauses"), list):
        return "filter clauses are not a list"
    for clause in flt["clauses"]:
        if isinstance(clause, dict) and "clauses" in clause:
            problem = _filter_problem(clause, depth + 1)
            if problem:
                return problem
        elif not (
            isinstance(clause, dict)
            and isinstance(clause.get("property"), str)
            and isinstance(clause.get("operator"), str)
            and isinstance(clause.get("value"), _SCALARS)
        ):
            return "a filter clause is not {property, operator, value}"
    return None


def _remote_shape_problem(item: dict[str, Any]) -> str | None:
    """What makes a meter from Polar unusable (so that nothing later trips over it)."""
    problem = _filter_problem(item["filter"])
    if problem:
        return problem
    agg = item["aggregation"]
    prop = agg.get("property")
    if not isinstance(agg.get("func"), str) or not isinstance(prop, (str, type(None))):
        return "aggregation is not {func, property}"
    if not all(isinstance(k, str) and isinstance(v, _SCALARS) for k, v in item["metadata"].items()):
        return "metadata values are not strings, numbers or booleans"
    for name in ("custom_label", "modified_at", "archived_at"):
        if not isinstance(item.get(name), (str, type(None))):
            return f"{name} is not a string"
    if not isinstance(item.get("custom_multiplier"), (int, float, type(None))):
        return "custom_multiplier is not a number"
    return None


def remote_from_api(item: dict[str, Any]) -> RemoteMeter:
    """Build a RemoteMeter from one item of Polar's meter list or get answer.

    Raises ValueError naming the field when the answer is not a meter as Polar sends them.
    """
    if not isinstance(item, dict):
        raise ValueError("a meter is not a JSON object")
    for name, kind in _REQUIRED.items():
        if not isinstance(item.get(name), kind):
            raise ValueError(f"meter {item.get('id', '?')} has no valid {name!r}")
    problem = _remote_shape_problem(item)
    if problem:
        raise ValueError(f"meter {item['id']}: {problem}")
    metadata = item["metadata"]
    tag = metadata.get(TAG_KEY)
    return RemoteMeter(
        id=str(item["id"]),
        spec=normalize_spec(item),
        key=str(tag) if tag is not None else None,
        created_at=item.get("created_at"),
        modified_at=item.get("modified_at"),
        raw=item,
    )


def content_digest(value: Any) -> str:
    """A stable digest of JSON-like data (key order does not matter)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
