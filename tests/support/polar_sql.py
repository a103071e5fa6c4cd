"""Meter filters and aggregations as SQL over an events table with a JSONB metadata column:
what Polar's server builds for quantities (server/polar/meter/filter.py and aggregation.py
``get_sql_clause``/``get_sql_column``, meter/service.py ``get_quantities``), written here from
NOTES.md and a reading of that code, for the oracle suite to run on a real PostgreSQL.

Everything is built as SQL text with ``%s`` parameters (psycopg), never from the engine.
"""

from __future__ import annotations

from typing import Any

TABLE = """
CREATE TABLE events (
    id integer PRIMARY KEY,
    name text NOT NULL,
    source text NOT NULL,
    timestamp timestamptz NOT NULL,
    user_metadata jsonb NOT NULL,
    customer_id text,
    external_customer_id text
)
"""
#: Polar's Event.resolved_customer_id (models/event.py): the event's own customer id as
#: text, else its external customer id, unresolved.
RESOLVED_CUSTOMER = (
    "CASE WHEN customer_id IS NOT NULL THEN CAST(customer_id AS VARCHAR) "
    "ELSE external_customer_id END"
)
EPOCH = "CAST(EXTRACT(epoch FROM timestamp) AS BIGINT)"
_COMPARE = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

Sql = tuple[str, list[Any]]


def _strip(prop: str) -> str:
    return prop.removeprefix("metadata.")


def _path(prop: str, last: str) -> Sql:
    """``user_metadata -> 'a' ->> 'b'`` (``last``: ``->`` for JSONB, ``->>`` for text)."""
    parts = prop.split(".")
    sql = "user_metadata" + " -> %s::text" * (len(parts) - 1) + f" {last} %s::text"
    return f"({sql})", parts


def _text_value(value: Any) -> str:
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def _like(operator: str, column: str, params: list[Any], value: Any) -> Sql:
    escaped = _text_value(value).replace("/", "//").replace("%", "/%").replace("_", "/_")
    sql = f"({column} LIKE '%%' || %s::text || '%%' ESCAPE '/')"
    return (sql if operator == "like" else f"(NOT {sql})"), [*params, escaped]


def _column_clause(prop: str, operator: str, value: Any) -> Sql:
    allowed = int if prop == "timestamp" else str
    if not isinstance(value, allowed):
        return "FALSE", []
    column = EPOCH if prop == "timestamp" else prop
    if operator in ("like", "not_like"):
        text = f"CAST({column} AS VARCHAR)" if prop == "timestamp" else column
        return _like(operator, text, [], value)
    return f"({column} {_COMPARE[operator]} %s)", [value]


def clause_sql(clause: dict[str, Any]) -> Sql:
    prop, operator, value = _strip(clause["property"]), clause["operator"], clause["value"]
    if prop in ("name", "source", "timestamp"):
        return _column_clause(prop, operator, value)
    text, text_params = _path(prop, "->>")
    if operator in ("like", "not_like"):
        return _like(operator, text, text_params, value)
    node, node_params = _path(prop, "->")
    compare = _COMPARE[operator]
    params: list[Any] = [*node_params, *text_params, _text_value(value)]
    branches = f"WHEN jsonb_typeof({node}) = 'string' THEN {text} {compare} %s "
    if isinstance(value, int):  # a number, or a boolean as 1/0
        branches += f"WHEN jsonb_typeof({node}) = 'number' THEN CAST({text} AS FLOAT) {compare} %s "
        params += [*node_params, *text_params, int(value)]
    if isinstance(value, bool):
        branches += (f"WHEN jsonb_typeof({node}) = 'boolean' THEN "
                     f"CAST({text} AS BOOLEAN) {compare} %s ")
        params += [*node_params, *text_params, value]
    return f"(CASE {branches}END)", params


def filter_sql(filter_: dict[str, Any]) -> Sql:
    parts: list[str] = []
    params: list[Any] = []
    for item in filter_.get("clauses") or ():
        sql, item_params = filter_sql(item) if "clauses" in item else clause_sql(item)
        parts.append(sql)
        params += item_params
    if not parts:
        return "TRUE", []
    joiner = " OR " if filter_.get("conjunction") == "or" else " AND "
    return "(" + joiner.join(parts) + ")", params


def aggregation_clause(aggregation: dict[str, Any]) -> Sql:
    """The rows an aggregation can read (``get_sql_clause``)."""
    if aggregation["func"] in ("count", "unique"):
        return "TRUE", []
    prop = _strip(aggregation["property"])
    if prop in ("name", "source", "timestamp"):
        return ("TRUE" if prop == "timestamp" else "FALSE"), []
    node, params = _path(prop, "->")
    return f"(jsonb_typeof({node}) = 'number')", params


def aggregation_column(aggregation: dict[str, Any]) -> Sql:
    func = aggregation["func"]
    if func == "count":
        return "COUNT(id)", []
    prop = _strip(aggregation["property"])
    if func == "unique":
        node, params = _path(prop, "->")
        return f"COUNT(DISTINCT {node})", params
    if prop in ("name", "source", "timestamp"):
        column = EPOCH if prop == "timestamp" else prop
        return f"{func.upper()}(CAST({column} AS FLOAT))", []
    text, params = _path(prop, "->>")
    return f"{func.upper()}(CAST({text} AS FLOAT))", params


def meter_where(filter_: dict[str, Any], aggregation: dict[str, Any]) -> Sql:
    where, params = filter_sql(filter_)
    extra, extra_params = aggregation_clause(aggregation)
    return f"{where} AND {extra}", params + extra_params


def _sql_function(func: str, column: str) -> str:
    """AggregationFunction.get_sql_function."""
    if func == "count":
        return f"COUNT({column})"
    if func == "unique":
        return f"COUNT(DISTINCT {column})"
    return f"{func.upper()}({column})"


def _buckets(where: str, column: str, interval: str, customer_aggregation: str | None) -> str:
    """The per-period quantities: the meter's column per period, or (with a customer
    aggregation) the column per period and resolved customer, combined per period."""
    if customer_aggregation is None:
        return (f"SELECT date_trunc('{interval}', timestamp) AS day, {column} AS quantity "
                f"FROM events WHERE {where} GROUP BY 1")
    per_customer = (f"SELECT date_trunc('{interval}', timestamp) AS day, "
                    f"{RESOLVED_CUSTOMER} AS customer, {column} AS quantity "
                    f"FROM events WHERE {where} GROUP BY 1, 2")
    combined = _sql_function(customer_aggregation, "per_customer.quantity")
    return (f"SELECT per_customer.day AS day, {combined} AS quantity "
            f"FROM ({per_customer}) AS per_customer GROUP BY 1")


def quantities_sql(filter_: dict[str, Any], aggregation: dict[str, Any], interval: str,
                   customer_aggregation: str | None = None) -> Sql:
    """Rows (timestamp, quantity, total) as Polar's get_quantities computes them, with or
    without ``customer_aggregation_function``, under the session's time zone. Parameters:
    start and end, then the returned ones."""
    where, where_params = meter_where(filter_, aggregation)
    column, column_params = aggregation_column(aggregation)
    func = aggregation["func"]
    step = f"'1 {interval}'::interval"
    if func in ("count", "sum"):
        total = "COALESCE(SUM(buckets.quantity) OVER (ORDER BY series.ts), 0)"
    elif func in ("max", "min"):
        total = f"COALESCE({func.upper()}(buckets.quantity) OVER (ORDER BY series.ts), 0)"
    else:
        total = f"COALESCE((SELECT {column} FROM events WHERE {where}), 0)"
    sql = (
        f"WITH series AS (SELECT generate_series(%s::timestamptz, %s::timestamptz, {step}) AS ts), "
        f"buckets AS ({_buckets(where, column, interval, customer_aggregation)}) "
        f"SELECT series.ts, COALESCE(buckets.quantity, 0), {total} FROM series "
        f"LEFT JOIN buckets ON buckets.day = date_trunc('{interval}', series.ts) "
        "ORDER BY series.ts"
    )
    params = [*column_params, *where_params]
    if func in ("avg", "unique"):
        params += [*column_params, *where_params]
    return sql, params
