"""Filter changes read as a tree diff in the text plan and the PR comment (issue 16)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text
from tests.support.builders import desired, plan, remote, spec

REGION = {"property": "region", "operator": "eq", "value": "eu"}


def edited(edit: Any) -> dict[str, Any]:
    f = copy.deepcopy(spec()["filter"])  # [name eq "api_call", (tier eq "pro" or tier ne 3)]
    edit(f)
    return f


EDITS = {
    "insert": (lambda f: f["clauses"].insert(1, REGION),
               ['+ filter.clauses[1]: region eq "eu"']),
    "remove": (lambda f: f["clauses"].pop(0),
               ['- filter.clauses[0]: name eq "api_call"']),
    "move": (lambda f: f["clauses"].reverse(),
             ['~ filter.clauses[0]: (tier eq "pro" or tier ne 3) (moved from filter.clauses[1])']),
    "nested edit": (lambda f: f["clauses"][1]["clauses"][1].update(value=4),
                    ["~ filter.clauses[1].clauses[1].value: 3 → 4"]),
    "nested insert": (lambda f: f["clauses"][1]["clauses"].append(REGION),
                      ['+ filter.clauses[1].clauses[2]: region eq "eu"']),
    "value change": (lambda f: f["clauses"][0].update(value="api_request"),
                     ['~ filter.clauses[0].value: "api_call" → "api_request"']),
    "conjunction change": (lambda f: f["clauses"][1].update(conjunction="and"),
                           ['~ filter.clauses[1].conjunction: "or" → "and"']),
}


def planned(edit: Any):
    return plan([desired("api-calls", filter=edited(edit))], [remote("api-calls")])


@pytest.mark.parametrize("name", list(EDITS))
def test_text_shows_one_line_per_edit(name: str) -> None:
    edit, lines = EDITS[name]
    out = render_text(planned(edit)).splitlines()
    head = out.index(next(line for line in out if "api-calls" in line and ": update" in line))
    assert [line.strip() for line in out[head + 1:] if line.startswith("      ")] == lines


@pytest.mark.parametrize("name", list(EDITS))
def test_markdown_shows_one_line_per_edit(name: str) -> None:
    edit, lines = EDITS[name]
    out = render_markdown(planned(edit))
    body = out.split("```diff\n", 1)[1].split("\n```", 1)[0]
    assert body.splitlines() == lines


def test_an_inserted_group_reads_as_a_filter() -> None:
    group = {"conjunction": "or", "clauses": [REGION, {**REGION, "value": "us"}]}
    out = render_text(planned(lambda f: f["clauses"].insert(1, group)))
    assert '      + filter.clauses[1]: (region eq "eu" or region eq "us")' in out
