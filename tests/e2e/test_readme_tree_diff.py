"""The README's tree diff of a nested filter change is what polar-meters prints (issue 16)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import RunningEmulator
from tests.support.e2e import ROOT, Api, copy_examples
from tests.support.inproc import invoke

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PROMPT = "$ polar-meters --server local plan examples/meters/   # after the edit above\n"
BEFORE = """\
        - {property: name, operator: eq, value: llm_request}
        - conjunction: or            # only the premium models
          clauses:
            - {property: model, operator: eq, value: gpt-4o}
            - {property: model, operator: like, value: claude-opus}
"""
#: The edit the README describes: a region clause before the group, a model added to the
#: group, and one model's value changed.
AFTER = """\
        - {property: name, operator: eq, value: llm_request}
        - {property: region, operator: eq, value: eu}
        - conjunction: or            # only the premium models
          clauses:
            - {property: model, operator: eq, value: gpt-4.1}
            - {property: model, operator: like, value: claude-opus}
            - {property: model, operator: like, value: gemini-pro}
"""


def test_the_readme_tree_diff_is_real(emu: RunningEmulator, tmp_path: Path) -> None:
    meters = copy_examples(tmp_path)
    env = Api(emu).env
    assert invoke("apply", "--auto-approve", str(meters), env=env).code == 0
    path = meters / "llm-tokens.yaml"
    text = path.read_text()
    assert text.count(BEFORE) == 1
    path.write_text(text.replace(BEFORE, AFTER))
    run = invoke("plan", str(meters), env=env)
    assert run.code == 0, run.text
    readme = (ROOT / "README.md").read_text()
    assert AFTER in readme  # the edit shown is the edit made
    shown = readme.split(PROMPT, 1)[1].split("```", 1)[0]
    documented = shown.splitlines()
    actual = run.out.splitlines()
    assert documented[0].startswith("Polar: local · organization ")
    assert actual[0].startswith(f"Polar: {emu.url} · organization ")
    assert [UUID.sub("<id>", line) for line in documented[1:]] == [
        UUID.sub("<id>", line) for line in actual[1:]
    ]
