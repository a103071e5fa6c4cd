"""The README's Performance tables are those of the committed bench run (issue 6): a new
`make bench` whose results are committed without the README (or the other way round) fails."""

from __future__ import annotations

import json

from tests.support.paths import ROOT

RESULTS = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())
README = (ROOT / "README.md").read_text()


def test_the_plan_table_is_the_committed_run() -> None:
    for row in RESULTS["plan"]:
        plan, base = row["plan"], row["baseline"]
        line = (
            f"| {row['meters']:,} | {plan['requests']:,} vs {base['requests']:,} "
            f"| {plan['wall_s']:.2f} s vs {base['wall_s']:.2f} s | {row['speedup']:.1f}× "
            f"| {plan['cpu_s']:.2f} s | {plan['peak_rss_mb']:.0f} MB |"
        )
        assert line in README, line


def test_the_cpu_table_is_the_committed_run() -> None:
    for name, label in (("cpu", "flow style"), ("cpu_block", "block style")):
        cpu = RESULTS[name]
        cells = (
            f"| {cpu['yaml_bytes'] / 1e6:.1f} MB | {cpu['load_cpu_s']:.2f} s "
            f"| {cpu['plan_cpu_s']:.2f} s | {cpu['total_cpu_s']:.2f} s "
            f"| {cpu['peak_rss_mb']:.0f} MB |"
        )
        rows = [line for line in README.splitlines() if line.startswith(f"| {label}")]
        assert len(rows) == 1 and rows[0].endswith(cells), (rows, cells)
    apply = RESULTS["apply"]
    assert f"sustained {apply['sustained_per_minute']:,} requests a minute" in README


def test_the_committed_run_met_every_target() -> None:
    assert RESULTS["targets"] and all(RESULTS["targets"].values()), RESULTS["targets"]
