from __future__ import annotations

from reconciler.render.text import render_text
from tests.support.builders import desired, plan, remote


def test_create_lists_fields_and_summary() -> None:
    out = render_text(plan([desired("api-calls")], []))
    assert '  + api-calls "API calls": create' in out
    assert '      + filter.clauses[1].clauses[1]: tier ne 3' in out
    assert '      + aggregation.property: "tokens"' in out
    assert "custom_label" not in out
    assert "Plan: 1 to create, 0 to update, 0 to adopt, 0 to archive." in out
    assert "\x1b[" not in out


def test_no_changes_and_counts() -> None:
    out = render_text(plan([desired("api-calls")], [remote("api-calls"), remote(None, name="X")]))
    assert "No changes." in out
    assert "1 unchanged, 1 not managed here." in out


def test_colour_only_when_asked() -> None:
    assert "\x1b[" in render_text(plan([desired("api-calls")], []), color=True)


def test_header_names_server_and_organization() -> None:
    out = render_text(plan([], []))
    assert out.splitlines()[0] == "Polar: local · organization 1dbfc517-0bbf-4301-9ba8-555ca42b9737"
