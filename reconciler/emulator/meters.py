"""A meter as the emulator keeps it, and how Polar's database stores and lists meters:
JSONB metadata, ILIKE name queries, the name collation, one listing page."""

from __future__ import annotations

import itertools
import json
import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from reconciler.emulator.refusals import PolarRequestValidationError, field_error
from reconciler.emulator.timefmt import moment, optional_moment, optional_timestamp, timestamp
from reconciler.rules import PAGE_LIMIT_MAX

MAX_LIMIT = PAGE_LIMIT_MAX
T = TypeVar("T")

_LOCKED_MESSAGE = "This field can't be updated because the meter is already aggregating events."


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total_count: int
    max_page: int

    def to_json(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "pagination": {"total_count": self.total_count, "max_page": self.max_page},
        }


def page_of(items: list[Any], page: int, limit: int) -> Page:
    """Page `page` of `items`, `limit` capped at 100 like Polar does, silently."""
    limit = min(limit, MAX_LIMIT)
    start = (page - 1) * limit
    return Page(items[start : start + limit], len(items), math.ceil(len(items) / limit))


def copied(value: Any) -> Any:
    """A copy of a JSON value (dicts, lists, scalars): copy.deepcopy without its memo, ~4x
    faster, which matters when a 10,000-meter organization is listed page by page."""
    if type(value) is dict:
        return {key: copied(item) for key, item in value.items()}
    if type(value) is list:
        return [copied(item) for item in value]
    return value


def _jsonb_number(value: float) -> int | float:
    """What PostgreSQL's JSONB gives back for a float: its plain decimal text, re-read."""
    number = Decimal(repr(value))
    return json.loads(format(abs(number) if number.is_zero() else number, "f"))


def jsonb_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Metadata as stored in JSONB: keys by length then bytes, floats as decimal text."""
    def stored(value: Any) -> Any:
        return _jsonb_number(value) if isinstance(value, float) else value

    keys = sorted(metadata, key=lambda key: (len(key.encode()), key.encode()))
    return {key: stored(metadata[key]) for key in keys}


def jsonb_text(value: Any) -> str:
    """`user_metadata[key]->>` as text: the JSON text of a non-string."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return json.dumps(value)


def ilike(query: str) -> re.Pattern[str]:
    """`name ILIKE '%query%'`: `%` and `_` are wildcards, a backslash escapes."""
    pattern = f"%{query}%"
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def name_key(name: str) -> tuple[str, str]:
    """An approximation of a locale collation: case-insensitive, lowercase first on ties."""
    return name.casefold(), name.swapcase()


def shuffled_ties(items: list[T], key: Callable[[T], Any]) -> list[T]:
    """`items` (sorted by `key`) with each run of equal keys in a new random order: what a
    sort without a tie-breaker may give on every query."""
    result: list[T] = []
    for _, run in itertools.groupby(items, key):
        tied = list(run)
        random.shuffle(tied)
        result.extend(tied)
    return result


@dataclass
class MeterRecord:
    id: str
    organization_id: str
    name: str
    unit: str
    custom_label: str | None
    custom_multiplier: int | None
    filter: dict[str, Any]
    aggregation: dict[str, Any]
    metadata: dict[str, Any]
    created_at: datetime
    modified_at: datetime | None = None
    archived_at: datetime | None = None
    locked: bool = field(default=False)

    def to_json(self) -> dict[str, Any]:
        """The Meter schema, in Polar's field order (no lock flag: Polar hides it)."""
        return {
            "metadata": copied(self.metadata),
            "created_at": timestamp(self.created_at),
            "modified_at": optional_timestamp(self.modified_at),
            "id": self.id,
            "name": self.name,
            "unit": self.unit,
            "custom_label": self.custom_label,
            "custom_multiplier": self.custom_multiplier,
            "filter": copied(self.filter),
            "aggregation": copied(self.aggregation),
            "organization_id": self.organization_id,
            "archived_at": optional_timestamp(self.archived_at),
        }

    def to_state(self) -> dict[str, Any]:
        return {**self.to_json(), "locked": self.locked}

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> MeterRecord:
        """A meter from its state entry: the Meter schema plus `locked`."""
        return cls(
            id=data["id"], organization_id=data["organization_id"], name=data["name"],
            unit=data["unit"], custom_label=data["custom_label"],
            custom_multiplier=data["custom_multiplier"], filter=data["filter"],
            aggregation=data["aggregation"], metadata=data["metadata"], created_at=moment(data["created_at"]),
            modified_at=optional_moment(data["modified_at"]),
            archived_at=optional_moment(data["archived_at"]),
            locked=bool(data.get("locked")),
        )


def sort_key(meter: MeterRecord, sorting: Sequence[str]) -> tuple[Any, ...]:
    return tuple(
        name_key(meter.name) if c.removeprefix("-") == "name" else meter.created_at
        for c in sorting
    )


def sorted_meters(meters: list[MeterRecord], sorting: Sequence[str]) -> list[MeterRecord]:
    for criterion in reversed(sorting):
        by_name = criterion.removeprefix("-") == "name"
        meters.sort(
            key=(lambda m: name_key(m.name)) if by_name else (lambda m: m.created_at),
            reverse=criterion.startswith("-"),
        )
    return meters


def check_update(meter: MeterRecord, data: dict[str, Any], held: str | None) -> None:
    """Polar's refusals of an update: a locked meter's filter or aggregation, an archive
    while a product or benefit holds the meter (`held`: Polar's message; products.py
    `archive_refusal`). The whole update is refused."""
    if meter.locked:
        refused = [name for name in ("filter", "aggregation") if name in data]
        if refused:
            raise PolarRequestValidationError([
                {"type": "forbidden", "loc": ["body", name], "msg": _LOCKED_MESSAGE,
                 "input": data[name]}
                for name in refused
            ])
    if data.get("is_archived") and held is not None:
        raise field_error("value_error", "is_archived", held, True)
