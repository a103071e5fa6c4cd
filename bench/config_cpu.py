"""CPU and memory of loading, validating and planning many meters (issues 6, 12, 15), no
network, with reference figures measured in the same process on the same files.

Writes N realistic meters (nested filter groups, metadata, custom units, some pinned ids)
over ``--files`` YAML files in a temporary directory, then runs ``--repeat`` fresh processes.
Each measures with ``time.process_time``, once and cold (what one ``plan`` pays: the lazy
imports and compiled validators of a first call included; interpreter start and the import of
``reconciler`` itself not):

- ``load_cpu_s``: ``load_config`` (read, parse, validate, check, normalise);
- ``plan_cpu_s``: ``make_plan`` against remote meters equal to the configuration, built with
  ``remote_from_api`` from the same specs plus the ownership tag (``--changed`` of them
  differ, so the plan has that many updates);
- ``remote_cpu_s``: building those remote meters (what reading Polar's answers costs beyond
  the network), reported apart;
- ``peak_rss_mb``: the process' peak resident set after those (before the references);

then, in the same process on the same files, the references:

- ``ref_yaml_c_s``: reading every file and ``yaml.load(..., Loader=yaml.CSafeLoader)``;
- ``ref_yaml_c_jsonschema_s``: that, plus jsonschema's Draft 7 validator built from
  ``schemas/meters.schema.json`` and every error of every document listed (none: they are
  valid);
- ``ref_json_loads_s``: ``json.loads`` of the same documents as JSON text.

``--references yaml`` measures only the first and the last (jsonschema takes longer than all
the rest of a process, and validates the same documents whatever the style they were
written in); ``--references none`` none of them.

It prints one JSON line: the median of each figure over the processes, ``total_cpu_s`` (load +
plan), and the ratios of ``total_cpu_s`` to each reference (the median of each process' own
ratio, so a process slowed by the machine is compared with itself). With several ``--files``
(``--files 1,10000``), the same meters are written in each layout, the processes of the
layouts take turns (what the machine does meanwhile falls on all of them alike), and one line
is printed per layout.

    python bench/config_cpu.py [--meters 10000] [--files 10[,N...]] [--changed 100] [--repeat 5]
                               [--style flow|block] [--references all|yaml|none]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reconciler.config.load import load_config
from reconciler.model import TAG_KEY, DesiredMeter, RemoteMeter, remote_from_api
from reconciler.plan.planner import make_plan

ORGANIZATION = "1dbfc517-0bbf-4301-9ba8-555ca42b9737"
EVENTS = ["api_call", "llm_request", "storage_sample", "job_finished", "upload", "search"]
PROPERTIES = ["tier", "region", "model", "plan", "endpoint", "status", "_llm.total_tokens"]
TEXTS = ["pro", "free", "eu-west-1", "us-east-1", "gpt-4o", "claude", "enterprise", "v2"]
TEAMS = ["ai-platform", "storage", "search", "billing", "growth"]


def _clause(rng: random.Random) -> str:
    prop = rng.choice(PROPERTIES)
    if rng.random() < 0.4:
        operator, value = rng.choice(["gt", "gte", "lt", "lte", "eq"]), str(rng.randint(0, 10**6))
    else:
        operator, value = rng.choice(["eq", "ne", "like"]), rng.choice(TEXTS)
    return f"{{property: {prop}, operator: {operator}, value: {value}}}"


def _group(rng: random.Random, indent: str, depth: int) -> list[str]:
    """A filter group's ``conjunction``/``clauses`` lines, block style, at ``indent``."""
    lines = [f"{indent}conjunction: {rng.choice(['and', 'or'])}", f"{indent}clauses:"]
    for _ in range(rng.randint(1, 3)):
        if depth < 2 and rng.random() < 0.3:
            inner = _group(rng, indent + "    ", depth + 1)
            lines.append(f"{indent}  - {inner[0].strip()}")
            lines.extend(inner[1:])
        else:
            lines.append(f"{indent}  - {_clause(rng)}")
    return lines


def meter_yaml(key: str, rng: random.Random) -> list[str]:
    """One meter, as a configuration author would write it."""
    lines = [f"  {key}:", f"    name: Meter {key.replace('-', ' ')}", "    filter:"]
    lines.append("      conjunction: and")
    lines.append("      clauses:")
    lines.append(f"        - {{property: name, operator: eq, value: {rng.choice(EVENTS)}}}")
    for _ in range(rng.randint(0, 2)):
        if rng.random() < 0.5:
            inner = _group(rng, "          ", 1)
            lines.append(f"        - {inner[0].strip()}")
            lines.extend(inner[1:])
        else:
            lines.append(f"        - {_clause(rng)}")
    if rng.random() < 0.3:
        lines.append("    aggregation: {func: count}")
    else:
        func = rng.choice(["sum", "max", "min", "avg", "unique"])
        lines.append(f"    aggregation: {{func: {func}, property: {rng.choice(PROPERTIES)}}}")
    roll = rng.random()
    if roll < 0.2:
        lines += ["    unit: custom", "    custom_label: request", "    custom_multiplier: 1000"]
    elif roll < 0.5:
        lines.append("    unit: token")
    pairs = [f"team: {rng.choice(TEAMS)}", f"cost_center: {rng.randint(1000, 9999)}"]
    if rng.random() < 0.5:
        pairs.append(f"product_line: {rng.choice(TEXTS)}")
    if rng.random() < 0.3:
        pairs.append("billable: true")
    lines.append(f"    metadata: {{{', '.join(pairs)}}}")
    if rng.random() < 0.05:
        lines.append(f"    id: {uuid.UUID(int=rng.getrandbits(128), version=4)}")
    return lines


def write_files(directory: Path, meters: int, files: int, seed: int, style: str = "flow") -> None:
    """The meter files; with ``style="block"`` the same meters with every mapping and list in
    block style (clauses as `- property: ...` lines), as yaml.safe_dump writes them."""
    rng = random.Random(seed)
    per_file = -(-meters // files)
    for index in range(files):
        keys = range(index * per_file, min(meters, (index + 1) * per_file))
        lines = ["version: 1", f"organization_id: {ORGANIZATION}", "meters:"]
        for number in keys:
            lines.extend(meter_yaml(f"meter-{number:06d}", rng))
            lines.append("")
        text = "\n".join(lines) + "\n"
        if style == "block":
            text = yaml.safe_dump(yaml.load(text, Loader=yaml.CSafeLoader), sort_keys=False,
                                  default_flow_style=False, width=1000)
        (directory / f"meters-{index:03d}.yaml").write_text(text)


def api_item(meter: DesiredMeter, rng: random.Random, changed: bool) -> dict[str, Any]:
    """What Polar would answer for this meter (tagged with its key)."""
    spec = meter.spec
    name = spec["name"] + (" (old)" if changed else "")
    return {
        "id": meter.id or str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "created_at": "2025-01-01T00:00:00Z",
        "modified_at": "2025-01-02T00:00:00Z",
        "organization_id": ORGANIZATION,
        "name": name,
        "unit": spec["unit"],
        "custom_label": spec["custom_label"],
        "custom_multiplier": spec["custom_multiplier"],
        "filter": json.loads(json.dumps(spec["filter"])),
        "aggregation": dict(spec["aggregation"]),
        "metadata": {**spec["metadata"], TAG_KEY: meter.key},
        "archived_at": "2025-01-03T00:00:00Z" if spec["archived"] else None,
    }


def measure(directory: Path, changed: int, seed: int, wanted: str = "all") -> dict[str, float]:
    """One cold load + plan of ``directory``, then the references on the same files."""
    start = time.process_time()
    config = load_config([directory])
    load_cpu = time.process_time() - start
    if config.diagnostics:
        raise SystemExit(f"unexpected diagnostics, e.g. {config.diagnostics[0]}")
    rng = random.Random(seed + 1)  # not the files' sequence: pinned ids must not recur
    changed_keys = {m.key for m in rng.sample(config.meters, min(changed, len(config.meters)))}
    items = [api_item(m, rng, m.key in changed_keys) for m in config.meters]
    start = time.process_time()
    remote: list[RemoteMeter] = [remote_from_api(item) for item in items]
    remote_cpu = time.process_time() - start
    start = time.process_time()
    plan = make_plan(config.meters, remote, server="bench", organization_id=ORGANIZATION)
    plan_cpu = time.process_time() - start
    if len(plan.actions) != len(changed_keys) or len(plan.unchanged) != len(config.meters) - len(
        changed_keys
    ):
        raise SystemExit(f"unexpected plan: {len(plan.actions)} actions")
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    result = {"load_cpu_s": load_cpu, "plan_cpu_s": plan_cpu, "remote_cpu_s": remote_cpu,
              "total_cpu_s": load_cpu + plan_cpu, "peak_rss_mb": peak_kb / 1024,
              "meters_loaded": len(config.meters)}
    del config, items, remote, plan
    gc.collect()
    if wanted != "none":
        result.update(references(sorted(directory.glob("*.yaml")), wanted == "all"))
    return result


def references(files: list[Path], with_jsonschema: bool = True) -> dict[str, float]:
    """PyYAML's C loader, the same plus jsonschema, and json.loads: CPU seconds, same files."""
    start = time.process_time()
    documents = [yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader) for path in files]
    yaml_c = time.process_time() - start
    result = {"ref_yaml_c_s": yaml_c}
    if with_jsonschema:
        result["ref_yaml_c_jsonschema_s"] = yaml_c + _jsonschema_cpu(documents)
    texts = [json.dumps(document) for document in documents]
    del documents
    gc.collect()
    start = time.process_time()
    loaded = [json.loads(text) for text in texts]
    result["ref_json_loads_s"] = time.process_time() - start
    del loaded
    return result


def _jsonschema_cpu(documents: list[Any]) -> float:
    """jsonschema's Draft 7 validator built and every error of every document listed."""
    import jsonschema

    schema = json.loads((ROOT / "schemas" / "meters.schema.json").read_text())
    start = time.process_time()
    validator = jsonschema.Draft7Validator(schema)
    errors = [error for document in documents for error in validator.iter_errors(document)]
    spent = time.process_time() - start
    if errors:
        raise SystemExit(f"jsonschema refuses the generated meters: {errors[0].message}")
    return spent


#: Ratio name -> the reference that ``total_cpu_s`` is divided by.
RATIOS = {
    "vs_yaml_c": "ref_yaml_c_s",
    "vs_yaml_c_jsonschema": "ref_yaml_c_jsonschema_s",
    "vs_json_loads": "ref_json_loads_s",
}
FIGURES = ("load_cpu_s", "plan_cpu_s", "remote_cpu_s", "total_cpu_s", "peak_rss_mb",
           *RATIOS.values())


def summarise(runs: list[dict[str, float]]) -> dict[str, Any]:
    """Medians of the figures, and the median of each run's own ratios."""
    result: dict[str, Any] = {
        name: round(statistics.median(r[name] for r in runs), 3) for name in FIGURES
        if name in runs[0]
    }
    result["peak_rss_mb"] = round(result["peak_rss_mb"], 1)
    for name, reference in RATIOS.items():
        if reference not in runs[0]:
            continue
        ratios = [r["total_cpu_s"] / r[reference] for r in runs]
        ratio = statistics.median(ratios)
        result[f"total_{name}"] = round(ratio, 3 if ratio < 10 else 1)
        result[f"runs_total_{name}"] = [round(x, 3 if ratio < 10 else 1) for x in ratios]
    result["runs_total_cpu_s"] = [round(r["total_cpu_s"], 3) for r in runs]
    return result


def _child(directory: Path, changed: int, seed: int, wanted: str) -> dict[str, float]:
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", str(directory),
               "--changed", str(changed), "--seed", str(seed), "--references", wanted]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"config_cpu --measure failed:\n{done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--meters", type=int, default=10_000)
    parser.add_argument("--files", default="10",
                        help="files the meters are spread over; several: 1,10000")
    parser.add_argument("--changed", type=int, default=100, help="remote meters that differ")
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes, median kept")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--style", choices=["flow", "block"], default="flow",
                        help="clauses, aggregation and metadata as {...} (flow) or in block style")
    parser.add_argument("--references", choices=["all", "yaml", "none"], default="all",
                        help="all; yaml: the C loader and json.loads only; none")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # one child's run
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.changed, args.seed, args.references)))
        return
    layouts = [int(n) for n in args.files.split(",")]
    with tempfile.TemporaryDirectory(prefix="polar-meters-bench-") as tmp:
        directories = [Path(tmp) / f"files-{files}" for files in layouts]
        for directory, files in zip(directories, layouts, strict=True):
            directory.mkdir()
            write_files(directory, args.meters, files, args.seed, args.style)
        runs: list[list[dict[str, float]]] = [[] for _ in layouts]
        for _ in range(max(1, args.repeat)):  # the layouts take turns
            for directory, layout_runs in zip(directories, runs, strict=True):
                layout_runs.append(_child(directory, args.changed, args.seed, args.references))
        sizes = [sum(p.stat().st_size for p in d.iterdir()) for d in directories]
    for files, size, layout_runs in zip(layouts, sizes, runs, strict=True):
        print(json.dumps({
            "bench": "config_cpu",
            "style": args.style,
            "meters": int(layout_runs[0]["meters_loaded"]),
            "files": files,
            "yaml_bytes": size,
            "changed": args.changed,
            "processes": len(layout_runs),
            **summarise(layout_runs),
            "python": sys.version.split()[0],
        }))


if __name__ == "__main__":
    main()
