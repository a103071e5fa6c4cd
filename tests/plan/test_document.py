from __future__ import annotations

import json

import pytest

from reconciler.errors import UserError
from reconciler.plan import document as planfile
from reconciler.plan.staleness import stale_reasons
from tests.support.builders import remote, sample_plan


def test_json_round_trip_keeps_everything_apply_needs() -> None:
    p, _ = sample_plan()
    doc = json.loads(planfile.dumps(p))
    assert doc["format_version"] == "1.0"
    assert doc["summary"] == {"create": 1, "update": 1, "adopt": 1, "archive": 0, "unarchive": 0, "unchanged": 0, "unmanaged": 0, "missing": 1}
    back = planfile.from_document(doc)
    assert [(a.kind, a.key, a.meter_id, a.request) for a in back.actions] == [
        (a.kind, a.key, a.meter_id, a.request) for a in p.actions
    ]
    assert [c for a in back.actions for c in a.changes] == [c for a in p.actions for c in a.changes]
    assert back.seen == p.seen and back.missing == p.missing
    assert json.loads(planfile.dumps(back)) | {"created_at": None} == doc | {"created_at": None}


def test_absent_sides_are_omitted_not_null() -> None:
    p, _ = sample_plan()
    adopt = next(a for a in json.loads(planfile.dumps(p))["actions"] if a["action"] == "adopt")
    tag = next(c for c in adopt["changes"] if c["path"] == "metadata.polar_meters_key")
    assert "before" not in tag and tag["after"] == "storage"


@pytest.mark.parametrize(
    "doc, message",
    [
        ({}, "not a polar-meters plan"),
        ({"format_version": "2.0"}, "not supported"),
        ({"format_version": "1.0", "server": {}}, "corrupt plan"),
        ([1, 2], "not a polar-meters plan"),
    ],
)
def test_bad_documents_are_refused(doc, message) -> None:
    with pytest.raises(UserError, match=message):
        planfile.from_document(doc)


def test_corrupt_file_has_location(tmp_path) -> None:
    path = tmp_path / "plan.json"
    path.write_text('{"format_version": "1.0",\n  oops')
    with pytest.raises(UserError, match=r"plan.json:2:3: corrupt plan"):
        planfile.read(path)


def test_fresh_plan_is_not_stale() -> None:
    p, remote_now = sample_plan()
    assert stale_reasons(p, remote_now) == []


def test_changed_disappeared_and_conflicting_meters_make_it_stale() -> None:
    p, (r1, r2, r3) = sample_plan()
    r1.raw = {**r1.raw, "name": "Edited", "modified_at": "2026-03-01T00:00:00Z"}
    r1.modified_at = "2026-03-01T00:00:00Z"
    newcomer = remote(None, name="New meter")
    reasons = stale_reasons(p, [r1, newcomer])
    assert any("changed" in r and r1.id in r for r in reasons)
    assert any("disappeared" in r and r2.id in r for r in reasons)
    assert any("disappeared" in r and r3.id in r for r in reasons)
    assert any(newcomer.id in r and "New meter" in r for r in reasons)


def test_unrelated_new_meter_does_not_make_it_stale() -> None:
    p, remote_now = sample_plan()
    assert stale_reasons(p, remote_now + [remote(None, name="Unrelated")]) == []
