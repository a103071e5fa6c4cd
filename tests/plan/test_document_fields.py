"""The README's JSON plan section lists exactly the fields the plan document holds."""

from __future__ import annotations

import re

from reconciler.plan.document import to_document
from tests.support.builders import sample_plan
from tests.support.paths import ROOT


def _json_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("- **json** prints the plan document")
    return text[start:text.index("- **markdown**", start)]


def _bullets(section: str) -> list[str]:
    return re.findall(r"^  - (.*(?:\n    .*)*)", section, re.MULTILINE)


def test_documented_top_level_fields_are_the_documents() -> None:
    documented = set()
    for bullet in _bullets(_json_section()):
        # a bullet names fields outside parentheses and before a `:`: `a` (…), `b`; `c`: …
        while re.search(r"\([^()]*\)", bullet):
            bullet = re.sub(r"\([^()]*\)", "", bullet)
        for part in re.split(r";\s*", bullet):
            documented |= set(re.findall(r"`([a-z_]+)`", part.split(":", 1)[0]))
    plan, _ = sample_plan()
    held = set(to_document(plan))
    assert documented - {"preview"} == held  # preview: only with --events


def test_documented_summary_counts_are_the_documents() -> None:
    [line] = [b for b in _bullets(_json_section()) if b.startswith("`summary`")]
    documented = set(re.findall(r"`([a-z_]+)`", line)) - {"summary"}
    plan, _ = sample_plan()
    assert documented == set(to_document(plan)["summary"])
