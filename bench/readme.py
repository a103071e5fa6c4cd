"""The README's Performance figures, written from a bench run (``bench/results/latest.json``).

``make bench`` ends with ``python -m bench.readme``, which replaces what stands between the two
marker lines of README.md with :func:`render` of the committed results; the test
``tests/e2e/test_bench_readme.py`` fails when the two differ, so the README states the figures
of the committed run and no other.

    python -m bench.readme [--results FILE] [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"
README = ROOT / "README.md"
BEGIN = "<!-- bench: written by `make bench` (bench/readme.py) from bench/results/latest.json -->"
END = "<!-- /bench -->"


def _machine(results: dict[str, Any]) -> list[str]:
    m = results["machine"]
    load = ", ".join(f"{x:.1f}" for x in m["load_average"])
    after = ", ".join(f"{x:.1f}" for x in m["load_average_after"])
    bench = results["bench"]
    return [
        (f"Measured by `make bench` ({results['finished_at']}, {bench['wall_s'] / 60:.0f} "
        f"minutes) on {m['cpu_model']}, {m['cpus']} cores, Python {m['python']}, shared with "
        f"other work: load average {load} at the start and {after} at the end, the bench at "
        f"nice {m['niceness']}. The figures in bold are ratios to references measured in the "
        "same run (for CPU: on the same files, in the same process), so that they hold on "
        "another machine; the seconds beside them only illustrate this one."),
    ]


def _cpu_table(results: dict[str, Any]) -> list[str]:
    flow = results["cpu"]
    lines = [
        (f"**Load + validate + plan of {flow['meters']:,} meters**, CPU without network "
        "(`bench/config_cpu.py`: fresh processes, each measured once and cold, its lazy imports "
        "and the validator's compilation included; each process' ratio to the references it "
        "measured next on the same files; medians):"),
        "",
        ("| meters written | × PyYAML's C loader alone | × C loader + jsonschema "
        "| × `json.loads` | this machine | peak RSS |"),
        "|---|---:|---:|---:|---:|---:|",
    ]
    labels = {"cpu": "flow style (`- {property: name, operator: eq, value: api_call}`)",
              "cpu_block": "block style (as `yaml.safe_dump` writes them)"}
    for name, label in labels.items():
        c = results[name]
        jsonschema = (f"**{c['total_vs_yaml_c_jsonschema']:.2f}×**"
                      if "total_vs_yaml_c_jsonschema" in c else "(as flow style)")
        lines.append(
            f"| {label}, {c['yaml_bytes'] / 1e6:.1f} MB, {c['processes']} processes "
            f"| **{c['total_vs_yaml_c']:.2f}×** | {jsonschema} | **{c['total_vs_json_loads']:.0f}×** "
            f"| {c['total_cpu_s']:.2f} s against {c['ref_yaml_c_s']:.2f} s "
            f"| {c['peak_rss_mb']:.0f} MB |"
        )
    lines += [
        "",
        (f"On this machine (flow style): load + validate {flow['load_cpu_s']:.2f} s, plan "
        f"{flow['plan_cpu_s']:.2f} s; PyYAML's C loader alone {flow['ref_yaml_c_s']:.2f} s, "
        f"the C loader plus jsonschema {flow['ref_yaml_c_jsonschema_s']:.2f} s, `json.loads` "
        f"of the same content as JSON {flow['ref_json_loads_s']:.3f} s. Making Polar's "
        f"{flow['meters']:,} answers into remote meters adds {flow['remote_cpu_s']:.2f} s, "
        "outside the total. In block style the jsonschema reference is not measured again: it "
        "validates the same documents."),
    ]
    return lines


def _cli(results: dict[str, Any]) -> list[str]:
    c = results.get("cli")
    if not c:
        return []
    runs = len(next(r for r in results["plan"] if r["meters"] == c["meters"])["plan_runs_cpu_s"])
    return [
        (f"**The whole `polar-meters plan` of {c['meters']:,} meters** through the emulator "
        f"(interpreter start, imports, 100 pages of JSON, remote meters, rendering; the "
        f"median of the {runs} runs below): **{c['vs_yaml_c']:.2f}× PyYAML's C loader alone** on "
        f"its files, {c['vs_json_loads']:.0f}× `json.loads` ({c['plan_command_cpu_s']:.2f} s "
        f"here, {c['outside_load_plan_remote_cpu_s']:.2f} s of it outside loading, planning "
        f"and building the remote meters)."),
    ]


def _plan_table(results: dict[str, Any]) -> list[str]:
    lines = [
        (f"**Plan against the Terraform way**: `polar-meters --parallelism "
        f"{results['parallelism']} plan` against `bench/terraform_way.py` (the same loading, "
        "planning and output, but each meter read with its own GET, "
        f"{results['parallelism']} at a time, as a Terraform provider refreshes resources; "
        "both print the same plan, which the bench checks), against the emulator in its own "
        f"process adding {results['latency_ms']} ms in its handler to every request "
        "(kept-alive connections: no proxy, no connection set-up inside the latency). Each "
        f"plan runs {len(results['plan'][0]['plan_runs_wall_s'])} times, the fastest wall time "
        "kept; the baseline once:"),
        "",
        ("| meters | requests (plan vs one GET per meter) | plan faster by "
        "| this machine: wall time | plan CPU | plan peak RSS |"),
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["plan"]:
        plan, base = row["plan"], row["baseline"]
        lines.append(
            f"| {row['meters']:,} | {plan['requests']:,} vs {base['requests']:,} "
            f"| **{row['speedup']:.1f}×** | {plan['wall_s']:.2f} s vs {base['wall_s']:.2f} s "
            f"| {row['plan_median_cpu_s']:.2f} s | {plan['peak_rss_mb']:.0f} MB |"
        )
    largest = max(results["plan"], key=lambda row: row["meters"])
    lines += [
        "",
        ("The speed-up is the one figure here that is not CPU against CPU: the baseline waits "
        "out its latencies while the plan mostly computes, so it is lower where the CPU is "
        f"slower or busy (here the plan of {largest['meters']:,} took "
        f"{largest['plan']['wall_s']:.2f} s for {largest['plan']['cpu_s']:.2f} s of CPU)."),
    ]
    return lines


def _files(results: dict[str, Any]) -> list[str]:
    f = results["files"]
    one, many = f["one_file"], f["many_files"]
    return [
        (f"**The same 10,000 meters as 10,000 one-meter files: {f['total_ratio']:.2f}×** the "
        f"CPU of one 10,000-meter file (load + validate + plan; load + validate alone "
        f"{f['load_ratio']:.2f}×; {many['total_cpu_s']:.2f} s against "
        f"{one['total_cpu_s']:.2f} s here; {one['processes']} processes each, taking turns)."),
    ]


def _apply(results: dict[str, Any]) -> list[str]:
    a = results["apply"]
    return [
        (f"**`apply` of {a['created']:,} creates** ({a['requests']:,} requests: each create's "
        f"key looked up before and its copies after) against an emulator allowing "
        f"{a['rate_limit_per_minute']:,} requests a minute, with `--rate-limit "
        f"{a['rate_limit_per_minute']}`: **{a['share_of_limit']:.0%} of the limit** sustained "
        f"({a['sustained_per_minute']:,} a minute); 429 answered: {a['answered_429']}."),
    ]


def _diff(results: dict[str, Any]) -> list[str]:
    d = results.get("diff")
    if not d:
        return []
    return [
        (f"**The plan's tree diff: {d['vs_deepdiff']:.3f}×** DeepDiff's CPU on the same "
        f"{d['meters']:,} meters whose filter gained a clause ({d['ours_cpu_s']:.2f} s against "
        f"{d['deepdiff_cpu_s']:.2f} s here), which is why DeepDiff is only a test oracle now."),
    ]


def _targets(results: dict[str, Any]) -> list[str]:
    lines = ["The targets (bench/targets.py says why each value), in this run:", ""]
    lines += [f"- {'met' if t['met'] else '**not met**'}: {t['target']} (measured {t['measured']})"
              for t in results["targets"]]
    return lines


def render(results: dict[str, Any]) -> str:
    """The README text between the markers (the markers excluded)."""
    parts = [
        _machine(results), _cpu_table(results), _cli(results), _plan_table(results),
        _files(results), _diff(results), _apply(results), _targets(results),
    ]
    return "\n\n".join("\n".join(part) for part in parts if part)


def section(readme: str) -> str:
    """What stands between the markers in ``readme``."""
    start = readme.index(BEGIN) + len(BEGIN)
    return readme[start:readme.index(END, start)].strip("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--check", action="store_true", help="exit 1 if the README differs")
    args = parser.parse_args()
    wanted = render(json.loads(args.results.read_text()))
    readme = README.read_text()
    if args.check:
        sys.exit(0 if section(readme) == wanted else 1)
    start = readme.index(BEGIN) + len(BEGIN)
    end = readme.index(END, start)
    README.write_text(readme[:start] + "\n" + wanted + "\n" + readme[end:])
    print(f"README.md: Performance figures of {args.results.name}")


if __name__ == "__main__":
    main()
