"""The README's JSON plan section lists exactly the fields the plan document holds."""

from __future__ import annotations

import re

from reconciler.plan.document import to_document
from reconciler.plan.live import LiveReview, MeterImpact
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


def test_documented_live_fields_are_the_documents() -> None:
    [bullet] = [b for b in _bullets(_json_section()) if b.startswith("`live`")]
    body = re.sub(r"\([^()]*\)", "", bullet.split(":", 1)[1].split("`meters`", 1)[0])
    documented = set(re.findall(r"`([a-z_]+)`", body)) | {"meters"}
    impact = MeterImpact("k", "change", 3, before=2, kept=1, dropped=1, added=2)
    review = LiveReview("30d", "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", 10.0, (impact,))
    assert documented == set(review.document())
    each = re.search(r"`\{([a-z_, ]+)\}`", bullet.replace("\n    ", " "))
    assert each is not None
    assert set(each.group(1).replace(" ", "").split(",")) == set(impact.document())
