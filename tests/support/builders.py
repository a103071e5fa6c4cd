"""Plans, meters and meter files built by hand, for tests of every stage."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from reconciler.model import TAG_KEY, DesiredMeter, normalize_spec, remote_from_api
from reconciler.plan.planner import make_plan

ORG = "1dbfc517-0bbf-4301-9ba8-555ca42b9737"


def spec(name: str = "API calls", **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "filter": {
            "conjunction": "and",
            "clauses": [
                {"property": "name", "operator": "eq", "value": "api_call"},
                {
                    "conjunction": "or",
                    "clauses": [
                        {"property": "tier", "operator": "eq", "value": "pro"},
                        {"property": "tier", "operator": "ne", "value": 3},
                    ],
                },
            ],
        },
        "aggregation": {"func": "sum", "property": "tokens"},
        "metadata": {"team": "ai"},
    }
    base.update(over)
    return base


def desired(key: str, pin: str | None = None, **over: Any) -> DesiredMeter:
    return DesiredMeter(key=key, spec=normalize_spec(spec(**over)), id=pin)


def remote(key: str | None = None, meter_id: str | None = None, archived: bool = False, **over: Any):
    data = spec(**over)
    metadata = dict(data.pop("metadata"))
    if key is not None:
        metadata[TAG_KEY] = key
    item = {
        "metadata": metadata,
        "created_at": "2026-01-01T00:00:00Z",
        "modified_at": None,
        "id": meter_id or str(uuid.uuid4()),
        "unit": "scalar",
        "custom_label": None,
        "custom_multiplier": None,
        "organization_id": ORG,
        "archived_at": "2026-02-01T00:00:00Z" if archived else None,
        **data,
    }
    return remote_from_api(item)


def plan(d, r, **kw):
    return make_plan(d, r, server="local", organization_id=ORG, **kw)


def sample_plan():
    d_changed = desired("api-calls", name="API requests")
    d_changed.spec["metadata"] = {"team": "ml"}
    r1 = remote("api-calls")
    r2 = remote(None, name="Storage")
    r3 = remote("gone", name="Gone")
    p = plan([d_changed, desired("new", name="New meter"), desired("storage", name="Storage")], [r1, r2, r3])
    p.config_digest = "sha256:abc"
    p.config_files = ["meters/a.yaml"]
    return p, [r1, r2, r3]


def meter_file(path: Path, count: int) -> Path:
    lines = ["version: 1", "meters:"]
    for i in range(count):
        lines += [
            f"  m{i:03d}:",
            f"    name: Meter number {i}",
            "    filter:",
            "      conjunction: and",
            f"      clauses: [{{property: name, operator: eq, value: event_{i}}}]",
            "    aggregation: {func: sum, property: tokens}" if i % 2 else
            "    aggregation: {func: count}",
            f"    metadata: {{team: t{i % 7}}}",
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


METER = {
    "name": "API calls",
    "filter": {"conjunction": "and", "clauses": []},
    "aggregation": {"func": "count"},
}


METERS = """\
version: 1
meters:
  alpha:
    name: Alpha
    filter: {conjunction: and, clauses: [{property: name, operator: eq, value: alpha}]}
    aggregation: {func: count}
  beta:
    name: Beta
    filter: {conjunction: and, clauses: [{property: name, operator: eq, value: beta}]}
    aggregation: {func: sum, property: tokens}
"""
