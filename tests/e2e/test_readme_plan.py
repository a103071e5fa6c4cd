"""The plan shown in the README is what polar-meters prints for the change it describes."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import RunningEmulator
from tests.support.e2e import ROOT, Api, copy_examples
from tests.support.inproc import invoke

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EXPORTS = """\
  exports:
    name: CSV exports
    filter:
      conjunction: and
      clauses:
        - {property: name, operator: eq, value: export_finished}
    aggregation: {func: sum, property: rows}
    unit: custom
    custom_label: row
    metadata: {team: data, cost_center: 4400}

tests:"""


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def test_the_readme_plan_is_real(emu: RunningEmulator, tmp_path: Path) -> None:
    meters = copy_examples(tmp_path)
    env = Api(emu).env
    assert invoke("apply", "--auto-approve", str(meters), env=env).code == 0
    api_calls = meters / "api-calls.yaml"
    edit(api_calls, "operator: lt, value: 500}      # server errors are not billed",
         "operator: lt, value: 400}      # client and server errors are not billed")
    edit(api_calls, "custom_multiplier: 1000 ", "custom_multiplier: 100  ")
    edit(api_calls, "\ntests:", "\n" + EXPORTS)
    run = invoke("plan", str(meters), env=env)
    assert run.code == 0, run.text
    readme = (ROOT / "README.md").read_text()
    shown = readme.split("$ polar-meters --server local plan examples/meters/\n", 1)[1]
    documented = shown.split("```", 1)[0].splitlines()
    actual = run.out.splitlines()
    assert documented[0].startswith("Polar: local · organization ")
    assert actual[0].startswith(f"Polar: {emu.url} · organization ")
    assert [UUID.sub("<id>", line) for line in documented[1:]] == [
        UUID.sub("<id>", line) for line in actual[1:]
    ]
