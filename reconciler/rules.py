"""Polar's enums, limits and constants: the one copy, read from Polar's server code
(server/polar/meter/, kit/metadata.py, kit/schemas.py, event/, rate_limit.py; see NOTES.md).

The emulator, the engine, the client and the checks import them from here. The configuration's
JSON Schema (``schemas/meters.schema.json``) is the only copy of the configuration's rules;
the parts of it that restate Polar's rules are fixed by :data:`SCHEMA_RULES` below, and a test
(tests/test_rules.py) fails when the committed schema and this module disagree. The schema
stays a hand-written file (its prose, order and layout are the configuration's), so this
module does not read it at import, and nothing needs a generation step to run.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

# -- meters (server/polar/meter/schemas.py, filter.py, aggregation.py) ------------------------

UNITS = ("scalar", "token", "custom")
DEFAULT_UNIT = "scalar"
#: The unit that takes ``custom_label`` (and only it).
CUSTOM_UNIT = "custom"
NAME_MIN_LENGTH = 3
#: ``custom_multiplier`` is a BIGINT column.
BIGINT_MAX = 2**63 - 1

#: A meter's or organization's id: Polar's ids are UUIDs of version 4 (another version: 422
#: ``uuid_version``). The schemas' ``pattern`` says it anchored, as JSON Schema needs.
UUID4 = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
UUID4_PATTERN = f"^{UUID4}$"

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "like", "not_like")
ORDER_OPERATORS = ("gt", "gte", "lt", "lte")
LIKE_OPERATORS = ("like", "not_like")
CONJUNCTIONS = ("and", "or")
#: A clause value: a string of at most this many characters, an int32 or a boolean.
CLAUSE_STRING_MAX = 1000
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
#: Polar strips one leading ``metadata.`` from filter and aggregation properties.
METADATA_PREFIX = "metadata."
#: Clause properties that are event columns, not metadata paths (Event._filterable_fields).
EVENT_COLUMNS = ("name", "source", "timestamp")

AGGREGATION_FUNCTIONS = ("count", "sum", "max", "min", "avg", "unique")
#: Functions over a number at a property (the others: count takes none, unique any value).
NUMBER_FUNCTIONS = ("sum", "max", "min", "avg")

# -- metadata (kit/metadata.py) -----------------------------------------------------------------

METADATA_MAX_KEYS = 50
METADATA_KEY_MIN = 1
METADATA_KEY_MAX = 40
METADATA_STRING_MIN = 1
METADATA_STRING_MAX = 500

# -- events (event/schemas.py, models/event.py) ---------------------------------------------------

EVENT_NAME_MAX = 128
EVENT_SOURCES = ("system", "user")
#: ``_cost.amount``: at most this many decimal places.
COST_DECIMAL_PLACES = 12

# -- quantities (meter/endpoints.py, kit/time_queries.py) -------------------------------------

INTERVALS = ("year", "month", "week", "day", "hour")
#: The longest span Polar answers per interval, in calendar days.
MAX_SPAN_DAYS = {"hour": 7, "day": 366, "week": 7 * 53, "month": 365 * 4, "year": 365 * 10}
#: Polar refuses quantities that start before this.
EARLIEST_QUANTITIES = datetime(2023, 1, 1, tzinfo=UTC)

# -- the API around them ---------------------------------------------------------------------

API_VERSIONS = ("2026-04", "2026-10")  # the first is the default
METER_SORTINGS = ("created_at", "-created_at", "name", "-name")
EVENT_SORTINGS = ("timestamp", "-timestamp")
#: A list's ``limit`` above this is silently capped to it.
PAGE_LIMIT_MAX = 100
#: Requests per minute and organization, by server.
RATE_LIMITS = {"production": 500, "sandbox": 100}


# -- where the configuration's schema restates these ------------------------------------------

#: Metadata keys polar-meters keeps for itself (its ownership tag).
OWN_METADATA_KEYS = 1

SCHEMA_RULES: dict[str, Any] = {
    "/definitions/meter/properties/name/minLength": NAME_MIN_LENGTH,
    "/definitions/meter/properties/unit/enum": list(UNITS),
    "/definitions/meter/properties/unit/default": DEFAULT_UNIT,
    "/definitions/meter/allOf/0/if/properties/unit/const": CUSTOM_UNIT,
    "/definitions/meter/allOf/1/if/properties/unit/enum": [u for u in UNITS if u != CUSTOM_UNIT],
    "/definitions/filter/properties/conjunction/enum": list(CONJUNCTIONS),
    "/definitions/clause/properties/operator/enum": list(OPERATORS),
    "/definitions/clause/properties/value/maxLength": CLAUSE_STRING_MAX,
    "/definitions/clause/properties/value/minimum": INT32_MIN,
    "/definitions/clause/properties/value/maximum": INT32_MAX,
    "/definitions/aggregation/properties/func/enum": list(AGGREGATION_FUNCTIONS),
    "/definitions/aggregation/allOf/1/if/properties/func/enum": [
        f for f in AGGREGATION_FUNCTIONS if f != "count"
    ],
    "/definitions/metadata/propertyNames/minLength": METADATA_KEY_MIN,
    "/definitions/metadata/propertyNames/maxLength": METADATA_KEY_MAX,
    "/definitions/metadata/additionalProperties/minLength": METADATA_STRING_MIN,
    "/definitions/metadata/additionalProperties/maxLength": METADATA_STRING_MAX,
    "/definitions/metadata/allOf/0/maxProperties": METADATA_MAX_KEYS - OWN_METADATA_KEYS,
    "/properties/organization_id/pattern": UUID4_PATTERN,
    "/definitions/meter/properties/id/pattern": UUID4_PATTERN,
    "/definitions/meter/properties/id/additionalProperties/pattern": UUID4_PATTERN,
}

#: The same for the project file's schema (schemas/project.schema.json).
PROJECT_SCHEMA_RULES: dict[str, Any] = {
    "/definitions/environment/properties/organization_id/pattern": UUID4_PATTERN,
}


def _parts(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]


def _step(node: Any, part: str) -> Any:
    return node[int(part)] if isinstance(node, list) else node[part]


def with_rules(schema: dict[str, Any], rules: dict[str, Any] | None = None) -> dict[str, Any]:
    """``schema`` with every :data:`SCHEMA_RULES` value written in (a copy). KeyError or
    IndexError when a place no longer exists: the schema was restructured, update the pointer."""
    result = copy.deepcopy(schema)
    for pointer, value in (SCHEMA_RULES if rules is None else rules).items():
        *path, last = _parts(pointer)
        node: Any = result
        for part in path:
            node = _step(node, part)
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return result


def schema_differences(schema: dict[str, Any], rules: dict[str, Any] | None = None) -> list[str]:
    """One line per place where ``schema`` does not say what these rules (by default
    :data:`SCHEMA_RULES`) say."""
    found = []
    for pointer, value in (SCHEMA_RULES if rules is None else rules).items():
        node: Any = schema
        try:
            for part in _parts(pointer):
                node = _step(node, part)
        except (KeyError, IndexError, ValueError, TypeError):
            found.append(f"{pointer}: missing (reconciler/rules.py says {value!r})")
            continue
        if node != value:
            found.append(f"{pointer}: {node!r}, but reconciler/rules.py says {value!r}")
    return found
