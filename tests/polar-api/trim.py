"""Make `polar-api.2026-10.json` from Polar's published OpenAPI document.

    python tests/polar-api/trim.py PATH/TO/2026-10.openapi.json

Keeps the paths polar-meters talks to (meters, events, customer meters, products, benefits)
and every component schema they reference, unchanged; drops the rest of the 2.7 MB document.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

PATHS = (
    "/v1/meters/", "/v1/meters/{id}", "/v1/meters/{id}/quantities",
    "/v1/customer-meters/", "/v1/customer-meters/{id}",
    "/v1/events/", "/v1/events/names", "/v1/events/{id}", "/v1/events/ingest",
    "/v1/products/", "/v1/products/{id}", "/v1/benefits/", "/v1/benefits/{id}",
)
OUT = Path(__file__).with_name("polar-api.2026-10.json")


def refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node))
    return set()


def trim(spec: dict[str, Any]) -> dict[str, Any]:
    paths = {p: spec["paths"][p] for p in PATHS}
    wanted: set[str] = set()
    todo = refs(paths)
    while todo:
        ref = todo.pop()
        if ref in wanted:
            continue
        wanted.add(ref)
        _, _, kind, name = ref.split("/", 3)
        todo |= refs(spec["components"][kind][name])
    components: dict[str, dict[str, Any]] = {}
    for ref in sorted(wanted):
        _, _, kind, name = ref.split("/", 3)
        components.setdefault(kind, {})[name] = spec["components"][kind][name]
    keep = {k: v for k, v in spec.items() if k not in ("paths", "components", "webhooks")}
    return {**keep, "paths": paths, "components": components}


if __name__ == "__main__":
    source = json.loads(Path(sys.argv[1]).read_text())
    OUT.write_text(json.dumps(trim(source), indent=1, sort_keys=False) + "\n")
    print(f"wrote {OUT}")
