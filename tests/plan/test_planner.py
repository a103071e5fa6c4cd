"""Planning is pure: desired + remote in, Plan out. These tests build both sides by hand."""

from __future__ import annotations

import uuid

import pytest

from reconciler.model import TAG_KEY
from reconciler.plan.planner import PlanError
from tests.support.builders import ORG, desired, plan, remote


def test_create_sends_tag_and_only_set_fields() -> None:
    p = plan([desired("api-calls")], [])
    (a,) = p.actions
    assert a.kind == "create"
    assert a.request.method == "POST" and a.request.path == "/v1/meters/"
    assert a.request.body["metadata"] == {"team": "ai", TAG_KEY: "api-calls"}
    assert "custom_label" not in a.request.body and "organization_id" not in a.request.body


def test_personal_token_sends_organization_id() -> None:
    p = plan([desired("api-calls")], [], send_organization_id=True)
    assert p.actions[0].request.body["organization_id"] == ORG


def test_tagged_and_equal_is_unchanged() -> None:
    p = plan([desired("api-calls")], [remote("api-calls")])
    assert not p.has_changes and p.unchanged == ["api-calls"]


def test_normalisation_hides_representation_differences() -> None:
    d = desired(
        "api-calls",
        filter={
            "conjunction": "and",
            "clauses": [{"property": "metadata.tier", "operator": "eq", "value": 1.0}],
        },
        aggregation={"func": "sum", "property": "metadata.tokens"},
        metadata={"n": 2.0},
    )
    r = remote(
        "api-calls",
        filter={"conjunction": "and", "clauses": [{"property": "tier", "operator": "eq", "value": 1}]},
        metadata={"n": 2},
    )
    assert not plan([d], [r]).has_changes


def test_nested_change_has_exact_path_and_sends_only_filter() -> None:
    d = desired("api-calls")
    d.spec["filter"]["clauses"][1]["clauses"][0]["value"] = "team"
    r = remote("api-calls")
    (a,) = plan([d], [r]).actions
    assert a.kind == "update"
    assert [(c.path, c.before, c.after) for c in a.changes] == [
        ("filter.clauses[1].clauses[0].value", "pro", "team")
    ]
    assert set(a.request.body) == {"filter"}
    assert a.request.path == f"/v1/meters/{r.id}"


def test_rename_is_update_in_place() -> None:
    r = remote("api-calls")
    (a,) = plan([desired("api-calls", name="API requests")], [r]).actions
    assert a.kind == "update" and a.meter_id == r.id
    assert a.request.body == {"name": "API requests"}


def test_metadata_change_resends_whole_dict_with_tag() -> None:
    r = remote("api-calls")
    (a,) = plan([desired("api-calls", metadata={"team": "ml", "x": 1})], [r]).actions
    assert a.request.body == {"metadata": {"team": "ml", "x": 1, TAG_KEY: "api-calls"}}
    assert [c.path for c in a.changes] == ["metadata.team", "metadata.x"]


def test_type_change_is_a_change() -> None:
    d = desired("api-calls")
    d.spec["filter"]["clauses"][1]["clauses"][1]["value"] = "3"
    (a,) = plan([d], [remote("api-calls")]).actions
    assert a.changes[0].before == 3 and a.changes[0].after == "3"


def test_adopt_by_unique_name() -> None:
    r = remote(None)
    (a,) = plan([desired("api-calls")], [r]).actions
    assert a.kind == "adopt" and a.meter_id == r.id
    assert a.request.body == {"metadata": {"team": "ai", TAG_KEY: "api-calls"}}


def test_archived_untagged_meter_is_not_adopted_by_name() -> None:
    p = plan([desired("api-calls")], [remote(None, archived=True)])
    assert [a.kind for a in p.actions] == ["create"]
    assert len(p.unmanaged) == 1


def test_two_untagged_candidates_is_an_error_listing_ids() -> None:
    r1, r2 = remote(None), remote(None)
    with pytest.raises(PlanError) as err:
        plan([desired("api-calls")], [r1, r2])
    assert r1.id in str(err.value) and r2.id in str(err.value)


def test_several_meters_tagged_with_one_key_resolve_to_the_oldest_active() -> None:
    older = remote("api-calls", created_at="2026-01-01T00:00:00Z")
    newer = remote("api-calls", created_at="2026-01-02T00:00:00Z")
    oldest_archived = remote("api-calls", archived=True, created_at="2025-01-01T00:00:00Z")
    p = plan([desired("api-calls")], [newer, oldest_archived, older])
    assert not p.has_changes and p.unchanged == ["api-calls"]
    # the archived copy never conflicts; the later active one is listed, left alone
    assert [(d.id, d.key) for d in p.duplicates] == [(newer.id, "api-calls")]
    assert not p.missing and not p.unmanaged


def test_the_pin_decides_among_meters_tagged_with_one_key() -> None:
    older = remote("api-calls", created_at="2026-01-01T00:00:00Z")
    newer = remote("api-calls", created_at="2026-01-02T00:00:00Z")
    p = plan([desired("api-calls", pin=newer.id)], [older, newer])
    assert [d.id for d in p.duplicates] == [older.id]
    with pytest.raises(PlanError, match="is pinned to"):
        plan([desired("api-calls", pin=str(uuid.uuid4()))], [older, newer])


def test_resolve_duplicates_archives_and_untags_the_others() -> None:
    older = remote("api-calls", created_at="2026-01-01T00:00:00Z")
    newer = remote("api-calls", created_at="2026-01-02T00:00:00Z", metadata={TAG_KEY: "api-calls", "team": "ml"})
    (a,) = plan([desired("api-calls")], [older, newer], resolve_duplicates=True).actions
    assert a.kind == "archive" and a.meter_id == newer.id and a.note == "duplicate of api-calls: archived and untagged"
    assert a.request.body == {"is_archived": True, "metadata": {"team": "ml"}}


def test_managed_meters_archived_earlier_are_done_not_missing() -> None:
    pruned = remote("gone", name="Gone", archived=True)
    p = plan([desired("api-calls")], [remote("api-calls"), pruned])
    assert not p.missing and [r.id for r in p.retired] == [pruned.id]
    assert not plan([desired("api-calls")], [remote("api-calls"), pruned], prune=True).has_changes


def test_pin_adopts_even_with_another_name() -> None:
    r = remote(None, name="Legacy name")
    (a,) = plan([desired("api-calls", pin=r.id)], [r, remote(None)]).actions
    assert a.kind == "adopt" and a.meter_id == r.id
    assert set(a.request.body) == {"name", "metadata"}


def test_pin_to_unknown_meter_is_an_error() -> None:
    with pytest.raises(PlanError, match="not a meter of this organization: the `id:` pin is "
                       "wrong"):  # the pin is the problem, not the meter
        plan([desired("api-calls", pin=str(uuid.uuid4()))], [])


def test_pin_to_a_meter_of_another_configured_key_is_an_error() -> None:
    r = remote("other", name="Other")
    with pytest.raises(PlanError, match="belongs to key 'other'"):
        plan([desired("api-calls", pin=r.id), desired("other", name="Other")], [r])


def test_two_keys_matching_one_meter_is_an_error() -> None:
    r = remote(None)
    with pytest.raises(PlanError, match="both match meter"):
        plan([desired("a"), desired("b", pin=r.id)], [r])


def test_unmanaged_and_missing_are_counted_and_left_alone() -> None:
    p = plan([desired("api-calls")], [remote("api-calls"), remote(None, name="Other"), remote("gone", name="Gone")])
    assert not p.has_changes
    assert [u.name for u in p.unmanaged] == ["Other"]
    assert [m.key for m in p.missing] == ["gone"]


def test_archived_tagged_meter_is_unarchived() -> None:
    r = remote("api-calls", archived=True)
    (a,) = plan([desired("api-calls")], [r]).actions
    assert a.request.body == {"is_archived": False}


def test_unit_change_to_scalar_clears_custom_fields() -> None:
    r = remote("api-calls", unit="custom", custom_label="request", custom_multiplier=1000)
    (a,) = plan([desired("api-calls")], [r]).actions
    assert a.request.body == {"unit": "scalar", "custom_label": None, "custom_multiplier": None}


def test_archived_true_archives_and_removing_it_unarchives() -> None:
    r = remote("api-calls")
    (a,) = plan([desired("api-calls", archived=True)], [r]).actions
    assert a.kind == "archive" and a.request.body == {"is_archived": True}
    (b,) = plan([desired("api-calls")], [remote("api-calls", archived=True)]).actions
    assert b.kind == "unarchive" and b.request.body == {"is_archived": False}


def test_missing_managed_meters_are_left_alone_without_prune() -> None:
    gone = remote("gone", name="Gone")
    p = plan([desired("api-calls")], [remote("api-calls"), gone])
    assert not p.has_changes and [m.id for m in p.missing] == [gone.id]


def test_prune_archives_managed_meters_only() -> None:
    gone, foreign = remote("gone", name="Gone"), remote(None, name="Foreign")
    already = remote("old", name="Old", archived=True)
    p = plan([desired("api-calls")], [remote("api-calls"), gone, foreign, already], prune=True)
    (a,) = p.actions
    assert a.kind == "archive" and a.meter_id == gone.id and a.request.body == {"is_archived": True}
    assert [u.id for u in p.unmanaged] == [foreign.id]


def test_prune_refuses_an_empty_configuration() -> None:
    with pytest.raises(PlanError, match="defines no meters"):
        plan([], [remote("gone", name="Gone")], prune=True)


def test_prune_guard_names_how_many_and_which() -> None:
    many = [remote(f"k{i}", name=f"M{i}") for i in range(6)]
    with pytest.raises(PlanError) as err:
        plan([desired("api-calls")], many, prune=True)
    assert "would archive 6 meters" in str(err.value) and "k5" in str(err.value)
    assert plan([desired("api-calls")], many, prune=True, max_archive=6).count("archive") == 6


def test_locks_turn_filter_changes_into_problems_and_unknowns_into_caveats() -> None:
    from reconciler.plan.locks import lock_candidates

    r1, r2, r3 = remote("a"), remote("b"), remote("c")
    d1 = desired("a", aggregation={"func": "count"})
    d2 = desired("b", aggregation={"func": "count"})
    d3 = desired("c", name="Renamed")
    assert lock_candidates([d1, d2, d3], [r1, r2, r3]) == [r1.id, r2.id]
    p = plan([d1, d2, d3], [r1, r2, r3], locks={r1.id: "confirmed", r2.id: "unknown"})
    a1, a2, a3 = p.actions
    assert a1.problem and "new meter under a new key" in a1.problem and a1.locked is True
    assert a2.caveat and not a2.problem
    assert a3.problem is None and a3.caveat is None
    assert p.problems == [a1]


def test_lock_candidates_tell_true_from_one_and_take_the_pipelines_matching() -> None:
    from reconciler.plan.locks import lock_candidates
    from reconciler.polar.identity import match_meters

    clauses = [{"property": "flag", "operator": "eq", "value": 1}]
    r1, r2 = remote("a"), remote("b", filter={"conjunction": "and", "clauses": clauses})
    d1 = desired("a", name="Renamed")  # no filter or aggregation change: not asked about
    d2 = desired("b", filter={"conjunction": "and", "clauses": [{**clauses[0], "value": True}]})
    matched = match_meters([d1, d2], [r1, r2])
    assert lock_candidates([d1, d2], [r1, r2]) == [r2.id]
    assert lock_candidates([d1, d2], [], matched=matched) == [r2.id]  # the matching given is used
    assert plan([d1, d2], [r1, r2], locks={r2.id: "confirmed"}).problems[0].key == "b"


def test_many_problems_are_a_line_each_the_first_twenty_shown() -> None:
    ghosts = [desired(f"k{i}", pin=str(uuid.uuid4())) for i in range(25)]
    with pytest.raises(PlanError) as err:
        plan(ghosts, [])
    lines = str(err.value).splitlines()
    assert lines[0] == "cannot plan, 25 problems:"
    assert len(lines) == 22 and lines[-1] == "  - and 5 more"
    assert all(line.startswith("  - key 'k") and "not a meter" in line for line in lines[1:21])
    assert len(err.value.diagnostics) == 25  # all of them, for callers


def test_the_prune_guard_lists_twenty_meters_at_the_most() -> None:
    many = [remote(f"k{i}", name=f"M{i}") for i in range(30)]
    with pytest.raises(PlanError) as err:
        plan([desired("api-calls")], many, prune=True)
    message = str(err.value)
    assert "would archive 30 meters" in message and "k19 (" in message
    assert "k20 (" not in message and "and 10 more" in message and "\n" not in message


def test_adopt_is_said_once_and_a_differing_same_name_adoption_is_loud() -> None:
    r = remote(None)
    (a,) = plan([desired("api-calls", pin=r.id, name="Renamed")], [r]).actions
    assert a.kind == "adopt" and a.note == "pinned by id"
    (b,) = plan([desired("api-calls", aggregation={"func": "count"})], [remote(None)]).actions
    assert b.kind == "adopt" and b.note == "untagged meter with the same name"
    assert b.caveat and "ADOPTING BY NAME CHANGES ITS AGGREGATION" in b.caveat


def test_an_untagged_meter_with_the_same_filter_and_aggregation_is_pointed_out() -> None:
    renamed = remote(None, name="Renamed in the dashboard")
    (a,) = plan([desired("api-calls")], [renamed]).actions
    assert a.kind == "create" and a.note and f"pin it with `id: {renamed.id}`" in a.note


def test_pins_the_tag_makes_redundant_are_noted() -> None:
    r = remote("api-calls")
    p = plan([desired("api-calls", pin=r.id)], [r])
    assert not p.has_changes and p.redundant_pins == ["api-calls"]
