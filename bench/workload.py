"""Meter sets for the benchmark: N meters as YAML files, and an emulator state file in which
Polar already holds them (tagged with their keys), a few of them renamed since.

The emulator is seeded through its state file (``polar-meters emulator --state FILE``) rather
than by N HTTP creates: seeding 10,000 meters over HTTP at 50 ms would take longer than
the benchmark itself.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.config_cpu import ORGANIZATION, api_item, write_files
from reconciler.config.load import load_config
from reconciler.emulator.core import STATE_FORMAT

#: Emulator token of the benchmark (not a secret: it exists only in the bench's emulator).
TOKEN = "polar_oat_bench-" + "0" * 32


__all__ = ["ORGANIZATION", "TOKEN", "Workload", "make_workload"]


@dataclass(frozen=True)
class Workload:
    meters: int
    config_dir: Path
    state_file: Path
    ids: list[str]  # every remote meter's id, what a Terraform state file would hold
    changed: int  # remote meters renamed since: the plan has this many updates


def write_state(path: Path, items: list[dict[str, Any]]) -> None:
    """An emulator state file holding `items` (Polar's meter JSON) for the bench token."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    meters = []
    for index, item in enumerate(items):
        created = start + timedelta(seconds=index)  # distinct: Polar's sort has no tie-breaker
        meters.append({**item, "created_at": created.isoformat(), "modified_at": None,
                       "locked": False})
    state = {"format": STATE_FORMAT, "organization_id": ORGANIZATION, "token": TOKEN,
             "extra_tokens": {}, "meters": meters}
    path.write_text(json.dumps(state), encoding="utf-8")


def make_workload(directory: Path, meters: int, *, seed: int = 6, changed_share: float = 0.01,
                  seeded: bool = True) -> Workload:
    """Write N meters' YAML under ``directory/meters`` and, when ``seeded``, a state file in
    which Polar has them all, ``changed_share`` of them renamed (updates in the plan)."""
    config_dir = directory / "meters"
    config_dir.mkdir(parents=True, exist_ok=True)
    write_files(config_dir, meters, max(1, meters // 1000), seed)
    state_file = directory / "state.json"
    if not seeded:  # nothing to pin to: every meter is a create
        for file in config_dir.glob("*.yaml"):
            lines = file.read_text().splitlines(keepends=True)
            file.write_text("".join(x for x in lines if not x.startswith("    id: ")))
        write_state(state_file, [])
        return Workload(meters, config_dir, state_file, [], 0)
    config = load_config([config_dir])
    if config.diagnostics:
        raise SystemExit(f"generated meters are not valid: {config.diagnostics[0]}")
    rng = random.Random(seed + 1)
    count = round(len(config.meters) * changed_share)
    renamed = {m.key for m in rng.sample(config.meters, count)}
    items = [api_item(m, rng, m.key in renamed) for m in config.meters]
    write_state(state_file, items)
    return Workload(meters, config_dir, state_file, [i["id"] for i in items], count)
