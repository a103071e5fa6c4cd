"""The baseline: plan the way a Terraform provider refreshes, one GET per meter.

Terraform keeps every resource's id in its state file and refreshes each one with its own
read request, ``-parallelism=10`` at a time. This does exactly that against Polar (the ids
come from a file, as from a state file), then plans and prints like ``polar-meters plan``:
same configuration loading and validation, same planner, same output. Only the way remote
state is read differs.

    python -m bench.terraform_way --server URL --token T --ids ids.json [--parallelism 10] PATHS
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from reconciler.config.load import load_config
from reconciler.pipeline import parse_remote
from reconciler.plan.planner import make_plan
from reconciler.polar.servers import resolve_target
from reconciler.render.text import render_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--ids", type=Path, required=True, help="JSON list of meter ids")
    parser.add_argument("--parallelism", type=int, default=10)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    config = load_config(args.paths)
    if config.errors:
        raise SystemExit(f"invalid configuration: {config.errors[0]}")
    ids: list[str] = json.loads(args.ids.read_text())
    target = resolve_target(args.server, args.token, None, config.organization_id)
    target.tune(None, args.parallelism, None)
    with target.client() as client, ThreadPoolExecutor(args.parallelism) as pool:
        items = list(pool.map(client.get_meter, ids))
    remote = parse_remote(items)
    plan = make_plan(config.meters, remote, server=target.name,
                     organization_id=config.organization_id)
    print(render_text(plan, color=False))


if __name__ == "__main__":
    main()
