"""`make bench`: plan N meters in a few requests, against the Terraform way (issue 6).

For N = 100, 1,000 and 10,000 meters, against the emulator (a subprocess) answering every
request after ``--latency-ms 50``:

- **plan**: ``polar-meters --parallelism 10 plan`` (the real CLI, a subprocess): one list
  request per 100 meters, pages after the first read concurrently; run 3 times, the fastest
  kept (all three are in the JSON);
- **baseline**: ``bench.terraform_way``: the same loading, planning and output, but remote
  state read as a Terraform provider refreshes it, one GET per meter, 10 at a time.

Both print the same plan (checked). Then **apply** of 1,000 creates against an emulator that
allows 3,000 requests a minute (``polar-meters --rate-limit 3000 apply``): the sustained
request rate, read from the emulator's counters while it runs, and the 429s it answered.
Last, **cpu**: ``bench/config_cpu.py --repeat 5`` (load + validate + plan of 10,000 meters, no
network; the best of 5), for the meters written in flow style (``{property: ..., ...}``) and
again in block style (**cpu_block**).

Prints a table and writes everything to bench/results/latest.json.

    python -m bench.run [--sizes 100,1000,10000] [--latency-ms 50] [--out FILE] [--skip-apply]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Self

import httpx

from bench.emulator_proc import Emulator, running
from bench.measure import Measured, run_measured
from bench.workload import make_workload

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"
PARALLELISM = 10
PLAN_RUNS = 3  # plans of each size; the fastest is kept (the baseline runs once: 55 s)
APPLY_METERS = 1000
APPLY_RATE_LIMIT = 3000  # requests per minute, the emulator's and the client's


def _summary(measured: Measured, requests: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "requests": len(requests),
        "list_requests": sum(1 for r in requests if r["path"] == "/v1/meters/"),
        "wall_s": round(measured.wall_s, 3),
        "cpu_s": round(measured.cpu_s, 3),
        "peak_rss_mb": round(measured.peak_rss_mb, 1),
    }


def _checked(measured: Measured, what: str) -> Measured:
    if measured.exit_code != 0:
        raise SystemExit(f"{what} failed (exit {measured.exit_code}):\n{measured.stderr[-2000:]}")
    return measured


def concurrency_check(emulator: Emulator, latency_ms: int) -> dict[str, Any]:
    """10 requests at once should take about one latency, not ten: the emulator delays each
    in its own connection thread (a serialising emulator would make the baseline unfair)."""
    with httpx.Client(base_url=emulator.url, timeout=30,
                      headers={"Authorization": f"Bearer {emulator.token}"},
                      limits=httpx.Limits(max_connections=PARALLELISM)) as http:
        def one(_: int) -> None:
            http.get("/v1/meters/", params={"limit": 1}).raise_for_status()

        with ThreadPoolExecutor(PARALLELISM) as pool:
            list(pool.map(one, range(PARALLELISM)))  # open the connections
            started = time.perf_counter()
            list(pool.map(one, range(PARALLELISM)))
            wall = time.perf_counter() - started
    return {"concurrent_requests": PARALLELISM, "latency_ms": latency_ms,
            "wall_ms": round(wall * 1000, 1), "serialised_would_take_ms": PARALLELISM * latency_ms}


def plan_row(size: int, work: Path, latency_ms: int) -> dict[str, Any]:
    workload = make_workload(work / f"plan-{size}", size)
    ids_file = work / f"plan-{size}" / "ids.json"
    ids_file.write_text(json.dumps(workload.ids))
    with running(workload.state_file, "--latency-ms", str(latency_ms)) as emulator:
        env = {"POLAR_SERVER": emulator.url, "POLAR_ACCESS_TOKEN": emulator.token}
        check = concurrency_check(emulator, latency_ms)
        plans: list[Measured] = []
        for _ in range(PLAN_RUNS):  # the fastest: the others met more of the machine's noise
            emulator.clear()
            plans.append(_checked(run_measured(
                ["-m", "reconciler", "--parallelism", str(PARALLELISM), "plan",
                 str(workload.config_dir)], env), f"plan of {size}"))
            plan_requests = emulator.requests()
        plan = min(plans, key=lambda m: m.wall_s)
        emulator.clear()
        baseline = _checked(run_measured(
            ["-m", "bench.terraform_way", "--server", emulator.url, "--token", emulator.token,
             "--ids", str(ids_file), "--parallelism", str(PARALLELISM),
             str(workload.config_dir)]), f"baseline of {size}")
        baseline_requests = emulator.requests()
    if plan.stdout.strip() != baseline.stdout.strip():
        raise SystemExit(f"N={size}: the plan and the baseline disagree")
    row = {
        "meters": size,
        "updates_in_plan": workload.changed,
        "max_list_requests": math.ceil(size / 100) + 1,
        "plan": _summary(plan, plan_requests),
        "plan_runs_wall_s": [round(m.wall_s, 3) for m in plans],
        "baseline": _summary(baseline, baseline_requests),
        "concurrency_check": check,
    }
    row["speedup"] = round(baseline.wall_s / plan.wall_s, 1)
    return row


class _RateProbe:
    """Reads the emulator's request counter every `interval` seconds from a thread."""

    def __init__(self, emulator: Emulator, interval: float = 0.2) -> None:
        self.emulator, self.interval = emulator, interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), self.emulator.faults()["requests"]))
            self._stop.wait(self.interval)

    def sustained_per_minute(self) -> float:
        """Requests a minute from the first sample with a request to the first with all."""
        final = self.samples[-1][1]
        moving = [(t, n) for t, n in self.samples if n > 0]
        start = moving[0]
        end = next((t, n) for t, n in moving if n == final)
        elapsed = end[0] - start[0]
        return (end[1] - start[1]) / elapsed * 60 if elapsed > 0 else 0.0


def apply_row(work: Path, latency_ms: int) -> dict[str, Any]:
    workload = make_workload(work / "apply", APPLY_METERS, seeded=False)
    with running(None, "--latency-ms", str(latency_ms),
                 "--rate-limit", str(APPLY_RATE_LIMIT)) as emulator:
        env = {"POLAR_SERVER": emulator.url, "POLAR_ACCESS_TOKEN": emulator.token}
        emulator.clear()
        with _RateProbe(emulator) as probe:
            apply = _checked(run_measured(
                ["-m", "reconciler", "--rate-limit", str(APPLY_RATE_LIMIT),
                 "--parallelism", str(PARALLELISM), "apply", "--auto-approve",
                 str(workload.config_dir)], env), "apply")
            time.sleep(probe.interval * 2)
        requests = emulator.requests()
        faults = emulator.faults()
    created = sum(1 for r in requests if r["method"] == "POST" and r["status"] == 201)
    rate = probe.sustained_per_minute()
    return {
        "meters": APPLY_METERS,
        "created": created,
        "requests": faults["requests"],
        "rate_limit_per_minute": APPLY_RATE_LIMIT,
        "sustained_per_minute": round(rate),
        "share_of_limit": round(rate / APPLY_RATE_LIMIT, 3),
        "answered_429": faults["rate_limited"],
        "429_shown_to_user": bool(re.search(r"\b429\b|rate limited", apply.stdout + apply.stderr)),
        "wall_s": round(apply.wall_s, 3),
        "cpu_s": round(apply.cpu_s, 3),
        "peak_rss_mb": round(apply.peak_rss_mb, 1),
    }


def cpu_row(style: str = "flow") -> dict[str, Any]:
    command = ["bench/config_cpu.py", "--repeat", "5", "--style", style]
    measured = _checked(run_measured(command), "config_cpu")
    result: dict[str, Any] = json.loads(measured.stdout.strip().splitlines()[-1])
    return result


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def targets(results: dict[str, Any]) -> dict[str, bool]:
    """Issue 6's targets, each met or not by this run."""
    met: dict[str, bool] = {}
    for row in results["plan"]:
        met[f"plan of {row['meters']}: at most {row['max_list_requests']} list requests"] = (
            row["plan"]["list_requests"] <= row["max_list_requests"]
        )
    largest = max(results["plan"], key=lambda row: row["meters"])
    if largest["meters"] >= 10_000:
        met[f"plan of {largest['meters']}: at least 20x faster than the baseline"] = (
            largest["speedup"] >= 20
        )
    if "apply" in results:
        apply = results["apply"]
        met["apply: at least 90% of the rate limit, no 429 shown"] = (
            apply["share_of_limit"] >= 0.9 and not apply["429_shown_to_user"]
        )
    for name, style in (("cpu", ""), ("cpu_block", " (block style)")):
        if name in results:
            cpu = results[name]
            met[f"load + validate + plan of 10,000{style}: at most 1 s CPU"] = (
                cpu["total_cpu_s"] <= 1.0
            )
            met[f"load + validate + plan of 10,000{style}: at most 200 MB"] = (
                cpu["peak_rss_mb"] <= 200
            )
    return met


def print_table(results: dict[str, Any]) -> None:
    head = (f"{'N':>6} | {'requests':>17} | {'wall time (s)':>17} | {'ratio':>6} | "
            f"{'CPU (s)':>6} | {'peak RSS (MB)':>13}")
    print(head)
    print("-" * len(head))
    for row in results["plan"]:
        p, b = row["plan"], row["baseline"]
        print(f"{row['meters']:>6} | {p['requests']:>6} vs {b['requests']:>7} | "
              f"{p['wall_s']:>6.2f} vs {b['wall_s']:>7.2f} | {row['speedup']:>5.1f}x | "
              f"{p['cpu_s']:>6.2f} | {p['peak_rss_mb']:>13.1f}")
    print("(plan vs baseline: one GET per meter, parallelism 10; "
          f"emulator latency {results['latency_ms']} ms; CPU and RSS of the plan command)")
    if "apply" in results:
        a = results["apply"]
        print(f"\napply: {a['created']} creates, {a['requests']} requests in {a['wall_s']:.1f} s; "
              f"sustained {a['sustained_per_minute']}/min = {a['share_of_limit']:.0%} of the "
              f"{a['rate_limit_per_minute']}/min limit; 429 answered {a['answered_429']}, "
              f"shown to the user: {'yes' if a['429_shown_to_user'] else 'no'}")
    for name in ("cpu", "cpu_block"):
        if name not in results:
            continue
        c = results[name]
        print(f"cpu (no network, {c['meters']} meters, {c.get('style', 'flow')} style): "
              f"load + validate {c['load_cpu_s']:.2f} s, "
              f"plan {c['plan_cpu_s']:.2f} s, total {c['total_cpu_s']:.2f} s "
              f"(+ {c['remote_cpu_s']:.2f} s making Polar's answers into remote meters); "
              f"peak RSS {c['peak_rss_mb']:.0f} MB")
    print()
    for target, met in results["targets"].items():
        print(f"{'met    ' if met else 'NOT met'}  {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--skip-apply", action="store_true")
    parser.add_argument("--skip-cpu", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": machine(), "latency_ms": args.latency_ms,
                               "parallelism": PARALLELISM, "plan": []}
    with tempfile.TemporaryDirectory(prefix="polar-meters-bench-") as tmp:
        work = Path(tmp)
        for size in (int(s) for s in args.sizes.split(",")):
            print(f"plan of {size} meters...", file=sys.stderr, flush=True)
            results["plan"].append(plan_row(size, work, args.latency_ms))
        if not args.skip_apply:
            print(f"apply of {APPLY_METERS} creates...", file=sys.stderr, flush=True)
            results["apply"] = apply_row(work, args.latency_ms)
    if not args.skip_cpu:
        print("load + validate + plan CPU...", file=sys.stderr, flush=True)
        results["cpu"] = cpu_row()
        results["cpu_block"] = cpu_row("block")
    results["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    results["targets"] = targets(results)
    print_table(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
