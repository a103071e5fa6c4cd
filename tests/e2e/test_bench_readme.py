"""The README's Performance figures are those of the committed bench run (issues 6, 12): a new
`make bench` whose results are committed without the README (or the other way round) fails.
It tests no code; it keeps the README's figures the committed run's, stated as ratios."""

from __future__ import annotations

import json

from bench.readme import render, section
from tests.support.paths import ROOT

RESULTS = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())
README = (ROOT / "README.md").read_text()


def test_the_performance_section_is_the_committed_run() -> None:
    assert section(README) == render(RESULTS)


def test_the_cpu_figures_are_ratios_to_references_of_the_same_run_on_a_named_machine() -> None:
    text = section(README)
    flow, block = RESULTS["cpu"], RESULTS["cpu_block"]
    assert RESULTS["machine"]["cpu_model"] in text and f"{RESULTS['machine']['cpus']} cores" in text
    for cpu in (flow, block):
        row = next(line for line in text.splitlines() if line.startswith(f"| {cpu['style']} style"))
        assert f"| **{cpu['total_vs_yaml_c']:.2f}×** |" in row, row
        assert f"| **{cpu['total_vs_json_loads']:.0f}×** |" in row, row
    assert f"**{flow['total_vs_yaml_c_jsonschema']:.2f}×**" in text
    assert f"**{RESULTS['cli']['vs_yaml_c']:.2f}× PyYAML's C loader alone**" in text
    assert f"**The same 10,000 meters as 10,000 one-meter files: {RESULTS['files']['total_ratio']:.2f}×**" in text


def test_every_target_is_stated_with_what_the_committed_run_measured() -> None:
    targets = RESULTS["targets"]
    assert len(targets) >= 12, targets  # counts, speed-up, apply, CPU ratios, memory, files
    for t in targets:
        verdict = "met" if t["met"] else "**not met**"
        assert f"- {verdict}: {t['target']} (measured {t['measured']})" in README, t
