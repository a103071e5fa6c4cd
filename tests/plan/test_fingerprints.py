"""A plan's fingerprints compute their digests only when asked, and stay equal to the ones
a saved plan reads back (issue 6)."""

from __future__ import annotations

import json

from reconciler.model import content_digest
from reconciler.plan import document as planfile
from reconciler.plan.types import Fingerprint
from tests.support.builders import sample_plan


def test_digests_are_computed_when_asked_and_equal_to_the_saved_ones() -> None:
    plan, remote = sample_plan()
    assert all(f.digest is None for f in plan.seen)  # nothing computed while planning
    by_id = {m.id: m for m in remote}
    assert [f.content_digest() for f in plan.seen] == [
        content_digest(by_id[f.id].raw) for f in plan.seen
    ]
    back = planfile.from_document(json.loads(planfile.dumps(plan)))
    assert all(f.digest is not None for f in back.seen)
    assert back.seen == plan.seen
    assert {*back.seen} == {*plan.seen}  # hashes agree too


def test_fingerprints_differ_when_the_content_does() -> None:
    made = Fingerprint("id", "k", "Name", None, raw={"a": 1})
    assert made != Fingerprint("id", "k", "Name", None, digest=content_digest({"a": 2}))
    assert made == Fingerprint("id", "k", "Name", None, digest=content_digest({"a": 1}))
