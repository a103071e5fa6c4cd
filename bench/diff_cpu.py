"""The plan's tree diff (reconciler/plan/diff.py) against DeepDiff, the library it replaced
(issue 16): CPU of the field differences of 3,000 changed meters, both in this process on
the same pairs, ours the fastest of three runs, DeepDiff's of one (about 8 s, steady).

Each pair is a meter whose nested filter gained a clause at the front of its outer group
(every later clause moves one place: the case an index-by-index comparison handles worst),
and whose name changed in one meter of ten. DeepDiff's figure includes only its comparison,
not the turning of its result into paths: ours is charged with all of its work.

    python -m bench.diff_cpu [--meters 3000]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from typing import Any

from reconciler.plan.diff import diff_specs

METERS = 3_000


def _clause(rng: random.Random, index: int) -> dict[str, Any]:
    operator = rng.choice(["eq", "ne", "gt", "like"])
    return {"property": f"p{index}", "operator": operator, "value": rng.choice(["a", 3, True])}


def _spec(rng: random.Random, index: int) -> dict[str, Any]:
    inner = {"conjunction": "or", "clauses": [_clause(rng, i) for i in range(3)]}
    clauses = [_clause(rng, i) for i in range(rng.randint(2, 6))]
    return {"name": f"Meter {index}", "unit": "scalar", "custom_label": None,
            "custom_multiplier": None,
            "filter": {"conjunction": "and", "clauses": [*clauses, inner]},
            "aggregation": {"func": "sum", "property": "tokens"},
            "metadata": {"team": "ai", "cost_center": index}, "archived": False}


def pairs(meters: int, seed: int = 16) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    rng = random.Random(seed)
    found = []
    for index in range(meters):
        before = _spec(rng, index)
        after = json.loads(json.dumps(before))
        after["filter"]["clauses"].insert(0, {"property": "region", "operator": "eq",
                                              "value": "eu"})
        if index % 10 == 0:
            after["name"] += " v2"
        found.append((before, after))
    return found


def _cpu(work: Callable[[], Any]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def measure(meters: int = METERS) -> dict[str, Any]:
    from deepdiff import DeepDiff  # a test extra: the package no longer depends on it

    work = pairs(meters)
    ours = min(_cpu(lambda: [diff_specs(a, b) for a, b in work]) for _ in range(3))
    theirs = _cpu(lambda: [DeepDiff(a, b) for a, b in work])
    return {"meters": meters, "ours_cpu_s": round(ours, 3), "deepdiff_cpu_s": round(theirs, 3),
            "vs_deepdiff": ours / theirs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=METERS)
    print(json.dumps(measure(parser.parse_args().meters), indent=2))


if __name__ == "__main__":
    main()
