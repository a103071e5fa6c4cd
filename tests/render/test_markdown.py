from __future__ import annotations

from reconciler.render.markdown import MARKER, render_markdown
from tests.support.builders import desired, plan, remote


def test_comment_has_marker_title_table_and_diffs() -> None:
    d = desired("api-calls", name="API requests")
    out = render_markdown(plan([d, desired("new", name="New")], [remote("api-calls")]))
    assert out.splitlines()[0] == MARKER
    assert "### polar-meters plan · local · organization `1dbfc517" in out
    assert "| 1 | 1 | 0 | 0 | 0 | 0 | 0 |" in out
    assert "<details><summary><code>~ api-calls</code>" in out
    assert '~ name: "API calls" → "API requests"' in out
    assert "```diff" in out


def test_no_changes_says_so() -> None:
    assert "**No changes.**" in render_markdown(plan([desired("a")], [remote("a")]))


def test_size_cap_leaves_out_details_and_says_how_many() -> None:
    big = [desired(f"m{i}", name=f"Meter {i} " + "x" * 400) for i in range(400)]
    out = render_markdown(plan(big, []))
    assert len(out) <= 65_000
    shown = out.count("<details>")
    assert 0 < shown < 400
    assert f"_{400 - shown} of 400 changed meters not shown here" in out


def test_backticks_in_values_cannot_break_the_fence() -> None:
    out = render_markdown(plan([desired("a", name="```evil")], []))
    assert "````diff" in out


def test_pins_the_tag_makes_redundant_are_said_in_the_comment_too() -> None:
    r = remote("api-calls")
    out = render_markdown(plan([desired("api-calls", pin=r.id)], [r]))
    assert ("1 `id:` pin(s) no longer needed, the tag identifies these meters: `api-calls`; "
            "they can be removed.") in out
