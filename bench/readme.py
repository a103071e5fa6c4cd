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


def _plan_table(results: dict[str, Any]) -> list[str]:
    lines = [
        ("| meters | requests (plan vs baseline) | wall time (plan vs baseline) | ratio "
        "| plan CPU | plan peak RSS |"),
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["plan"]:
        plan, base = row["plan"], row["baseline"]
        lines.append(
            f"| {row['meters']:,} | {plan['requests']:,} vs {base['requests']:,} "
            f"| {plan['wall_s']:.2f} s vs {base['wall_s']:.2f} s | {row['speedup']:.1f}× "
            f"| {row['plan_median_cpu_s']:.2f} s | {plan['peak_rss_mb']:.0f} MB |"
        )
    return lines


def _conditions(results: dict[str, Any]) -> list[str]:
    machine = results["machine"]
    load = ", ".join(f"{x:.1f}" for x in machine["load_average"])
    after = ", ".join(f"{x:.1f}" for x in machine.get("load_average_after", []))
    return [
        f"Conditions: the emulator in its own process on 127.0.0.1, adding "
        f"{results['latency_ms']} ms in its handler to every request (kept-alive connections: "
        f"no proxy, no connection set-up inside the latency); `--parallelism "
        f"{results['parallelism']}` for both; each plan run 3 times, the fastest wall time "
        f"shown, CPU the median; the baseline once; modules byte-compiled first. Machine: "
        f"{machine['cpus']} cores, Python {machine['python']}, load average {load} at the start"
        + (f" and {after} at the end" if after else "") + f" ({results['finished_at']}).",
    ]


def _cpu_table(results: dict[str, Any]) -> list[str]:
    lines = [
        ("| meters written | YAML | load + validate | plan | total | × C loader "
        "| × C loader + jsonschema | × json.loads | peak RSS |"),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    labels = {"cpu": "flow style (`- {property: name, operator: eq, value: api_call}`)",
              "cpu_block": "block style (as `yaml.safe_dump` writes them)"}
    for name, label in labels.items():
        c = results[name]
        lines.append(
            f"| {label} | {c['yaml_bytes'] / 1e6:.1f} MB | {c['load_cpu_s']:.2f} s "
            f"| {c['plan_cpu_s']:.2f} s | {c['total_cpu_s']:.2f} s | {c['total_vs_yaml_c']:.2f}× "
            f"| {c['total_vs_yaml_c_jsonschema']:.2f}× | {c['total_vs_json_loads']:.0f}× "
            f"| {c['peak_rss_mb']:.0f} MB |"
        )
    c = results["cpu"]
    lines += [
        "",
        (f"The references, in the same processes on the same files (flow style): PyYAML's C "
        f"loader alone {c['ref_yaml_c_s']:.2f} s, the C loader plus jsonschema "
        f"{c['ref_yaml_c_jsonschema_s']:.2f} s, `json.loads` of the same content as JSON "
        f"{c['ref_json_loads_s']:.3f} s. Each figure is the median of {c['processes']} fresh "
        f"processes, each measured once and cold (lazy imports and the validator's compilation "
        f"included, interpreter start not); a ratio is the median of each process' own ratio. "
        f"Making Polar's 10,000 answers into remote meters adds {c['remote_cpu_s']:.2f} s, "
        f"outside the total."),
    ]
    return lines


def _files(results: dict[str, Any]) -> list[str]:
    f = results["files"]
    one, many = f["one_file"], f["many_files"]
    return [
        (f"The same 10,000 meters as 10,000 one-meter files: {many['total_cpu_s']:.2f} s "
        f"(load + validate {many['load_cpu_s']:.2f} s), against {one['total_cpu_s']:.2f} s "
        f"(load + validate {one['load_cpu_s']:.2f} s) as one file: **{f['total_ratio']:.2f}×** "
        f"({many['total_vs_yaml_c']:.2f}× and {one['total_vs_yaml_c']:.2f}× PyYAML's C loader "
        f"on the same files; median of {one['processes']} processes each)."),
    ]


def _cli(results: dict[str, Any]) -> list[str]:
    c = results.get("cli")
    if not c:
        return []
    return [
        (f"The whole `polar-meters plan` of {c['meters']:,} meters above (interpreter start, "
        f"imports, 100 pages of JSON, remote meters, rendering) took "
        f"{c['plan_command_cpu_s']:.2f} s of CPU: **{c['vs_yaml_c']:.2f}× PyYAML's C loader "
        f"alone** on its files; {c['outside_load_plan_remote_cpu_s']:.2f} s of it is outside "
        f"loading, planning and building the remote meters."),
    ]


def _apply_and_targets(results: dict[str, Any]) -> list[str]:
    a = results["apply"]
    lines = [
        (f"`apply` of {a['created']:,} creates against an emulator allowing "
        f"{a['rate_limit_per_minute']:,} requests a minute, with `--rate-limit "
        f"{a['rate_limit_per_minute']}`, sustained {a['sustained_per_minute']:,} requests a "
        f"minute ({a['share_of_limit']:.0%} of the limit); 429 answered: {a['answered_429']}."),
        "",
        ("The targets, checked by the bench (counts, and ratios to the references of the same "
        "run):"),
        "",
    ]
    lines += [f"- {'met' if met else '**not met**'}: {target}"
              for target, met in results["targets"].items()]
    return lines


def render(results: dict[str, Any]) -> str:
    """The README text between the markers (the markers excluded)."""
    parts = [
        _plan_table(results), _conditions(results), _cpu_table(results), _files(results),
        _cli(results), _apply_and_targets(results),
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
