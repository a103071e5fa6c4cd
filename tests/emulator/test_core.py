"""The emulator's core: Polar's rules for meters, without HTTP."""

from __future__ import annotations

import math
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.emulator import validation
from reconciler.emulator.core import (
    Emulator,
    Forbidden,
    NotFound,
    PolarRequestValidationError,
    RequestValidationError,
    StateFileError,
    Unauthorized,
)
from reconciler.emulator.fields import Invalid

FILTER = {"conjunction": "and", "clauses": [{"property": "name", "operator": "eq", "value": "api_call"}]}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z")
FIELD_ORDER = [
    "metadata", "created_at", "modified_at", "id", "name", "unit", "custom_label",
    "custom_multiplier", "filter", "aggregation", "organization_id", "archived_at",
]


def body(**fields: Any) -> dict[str, Any]:
    return {"name": "API calls", "filter": FILTER, "aggregation": {"func": "count"}, **fields}


def errors_of(call: Any, *args: Any) -> list[dict[str, Any]]:
    with pytest.raises(RequestValidationError) as caught:
        call(*args)
    return caught.value.detail


@pytest.fixture
def core() -> Emulator:
    return Emulator()


# -- identity ---------------------------------------------------------------------------------


def test_generates_an_organization_token_and_a_uuid4_organization() -> None:
    core = Emulator()
    assert core.token.startswith("polar_oat_") and len(core.token) > 30
    assert uuid.UUID(core.organization_id).version == 4
    assert Emulator().token != core.token


def test_refuses_tokens_and_organizations_polar_would_not_issue() -> None:
    with pytest.raises(ValueError, match="polar_oat_"):
        Emulator(token="secret")
    with pytest.raises(ValueError, match="UUID4"):
        Emulator(organization_id="6ba7b810-9dad-11d1-80b4-00c04fd430c8")
    org = "C0A8D3D2-6A3E-4E57-9A4B-7AD4D1F6A3B1"
    assert Emulator(organization_id=org).organization_id == org.lower()


def test_tokens_and_scopes(core: Emulator) -> None:
    core.add_token("polar_oat_reader", {"meters:read"})
    reader = core.principal("polar_oat_reader")
    assert reader is not None
    assert core.list_meters(reader).total_count == 0
    with pytest.raises(Forbidden) as caught:
        core.create_meter(body(), reader)
    assert caught.value.required_scopes == {"meters:write"}
    with pytest.raises(Unauthorized) as unknown:
        core.principal("polar_oat_unknown")
    assert unknown.value.kind == "invalid_token"
    with pytest.raises(Unauthorized) as anonymous:
        core.authorize(None, frozenset({"meters:read"}))
    assert anonymous.value.kind == "missing_token"
    assert core.principal(None) is None


# -- create -----------------------------------------------------------------------------------


def test_create_answers_polar_meter_in_field_order(core: Emulator) -> None:
    meter = core.create_meter(body(metadata={"team": "ai"}))
    assert list(meter) == FIELD_ORDER
    assert TIMESTAMP.fullmatch(meter["created_at"])
    # Polar's create updates the row once: modified_at is set (NOTES.md "Schemas").
    assert meter["modified_at"] == meter["created_at"] and meter["archived_at"] is None
    assert uuid.UUID(meter["id"]).version == 4
    assert meter["organization_id"] == core.organization_id
    assert meter["unit"] == "scalar" and meter["custom_multiplier"] is None
    assert core.get_meter(meter["id"]) == meter


def test_create_normalizes_like_polar(core: Emulator) -> None:
    meter = core.create_meter(body(
        filter={"conjunction": "or", "clauses": [
            {"property": "metadata.tier", "operator": "eq", "value": 1.0, "extra": "ignored"},
            {"property": "tier", "operator": "ne", "value": "1"},
            {"conjunction": "and", "clauses": []},
        ]},
        aggregation={"func": "sum", "property": "metadata._llm.total_tokens"},
        unknown_field=True,
    ))
    assert meter["filter"] == {"conjunction": "or", "clauses": [
        {"property": "tier", "operator": "eq", "value": 1},
        {"property": "tier", "operator": "ne", "value": "1"},
        {"conjunction": "and", "clauses": []},
    ]}
    assert meter["aggregation"] == {"func": "sum", "property": "_llm.total_tokens"}
    assert core.create_meter(body(aggregation={"func": "count", "property": "x"}))["aggregation"] == {
        "func": "count"
    }


def test_metadata_comes_back_as_jsonb_gives_it(core: Emulator) -> None:
    meter = core.create_meter(body(metadata={"zeta": 1e20, "a": 1.0, "bb": True, "c": "x"}))
    assert list(meter["metadata"]) == ["a", "c", "bb", "zeta"]
    assert meter["metadata"]["zeta"] == 10**20 and isinstance(meter["metadata"]["zeta"], int)
    assert meter["metadata"]["a"] == 1.0 and isinstance(meter["metadata"]["a"], float)


def test_every_error_of_a_body_at_once(core: Emulator) -> None:
    detail = errors_of(core.create_meter, {"name": "ab", "unit": "units", "custom_multiplier": 0})
    assert detail == [
        {"type": "string_too_short", "loc": ["body", "name"],
         "msg": "String should have at least 3 characters", "input": "ab", "ctx": {"min_length": 3}},
        {"type": "enum", "loc": ["body", "unit"], "msg": "Input should be 'scalar', 'token' or 'custom'",
         "input": "units", "ctx": {"expected": "'scalar', 'token' or 'custom'"}},
        {"type": "greater_than", "loc": ["body", "custom_multiplier"],
         "msg": "Input should be greater than 0", "input": 0, "ctx": {"gt": 0}},
        {"type": "missing", "loc": ["body", "filter"], "msg": "Field required",
         "input": {"name": "ab", "unit": "units", "custom_multiplier": 0}},
        {"type": "missing", "loc": ["body", "aggregation"], "msg": "Field required",
         "input": {"name": "ab", "unit": "units", "custom_multiplier": 0}},
    ]


def test_aggregation_discriminator(core: Emulator) -> None:
    assert errors_of(core.create_meter, body(aggregation={})) == [{
        "type": "union_tag_not_found", "loc": ["body", "aggregation"],
        "msg": "Unable to extract tag using discriminator 'func'", "input": {},
        "ctx": {"discriminator": "'func'"},
    }]
    [invalid] = errors_of(core.create_meter, body(aggregation={"func": "median"}))
    assert invalid["type"] == "union_tag_invalid" and invalid["ctx"]["tag"] == "median"
    assert invalid["msg"].startswith(
        "Input tag 'median' found using 'func' does not match any of the expected tags: "
        "<AggregationFunction.cnt: 'count'>, <AggregationFunction.sum: 'sum'>"
    )
    assert errors_of(core.create_meter, body(aggregation={"func": "max"})) == [{
        "type": "missing", "loc": ["body", "aggregation", "max", "property"],
        "msg": "Field required", "input": {"func": "max"},
    }]


@pytest.mark.parametrize(("value", "kind"), [
    (1.5, "int_from_float"),
    (1e30, "int_parsing_size"),
    (2**31, "less_than_equal"),
    (None, "int_type"),
    ([1], "int_type"),
])
def test_clause_values_polar_refuses(core: Emulator, value: Any, kind: str) -> None:
    clause = {"property": "n", "operator": "eq", "value": value}
    detail = errors_of(core.create_meter, body(filter={"conjunction": "and", "clauses": [clause]}))
    at = ["body", "filter", "clauses", 0]
    assert [e["loc"] for e in detail] == [
        [*at, "FilterClause", "value", "constrained-str"],
        [*at, "FilterClause", "value", "constrained-int"],
        [*at, "FilterClause", "value", "bool"],
        [*at, "Filter", "conjunction"],
        [*at, "Filter", "clauses"],
    ]
    assert detail[1]["type"] == kind


def test_clause_strings_are_capped_at_1000(core: Emulator) -> None:
    long = {"property": "n", "operator": "like", "value": "x" * 1001}
    detail = errors_of(core.create_meter, body(filter={"conjunction": "and", "clauses": [long]}))
    assert detail[0]["type"] == "string_too_long" and detail[0]["ctx"] == {"max_length": 1000}
    ok = {"property": "n", "operator": "like", "value": "x" * 1000}
    core.create_meter(body(filter={"conjunction": "and", "clauses": [ok]}))


def test_custom_label_rule(core: Emulator) -> None:
    [missing] = errors_of(core.create_meter, body(unit="custom"))
    assert missing["type"] == "value_error" and missing["loc"] == ["body"]
    assert missing["msg"] == "Value error, custom_label is required when unit is 'custom'."
    [extra] = errors_of(core.create_meter, body(custom_label="request"))
    assert extra["msg"] == (
        "Value error, custom_label and custom_multiplier are only allowed when unit is 'custom'."
    )
    meter = core.create_meter(body(unit="custom", custom_label="request", custom_multiplier=1000))
    assert (meter["custom_label"], meter["custom_multiplier"]) == ("request", 1000)


def test_metadata_limits(core: Emulator) -> None:
    too_many = {f"k{i}": i for i in range(51)}
    [error] = errors_of(core.create_meter, body(metadata=too_many))
    assert error["type"] == "too_long" and error["ctx"]["actual_length"] == 51
    core.create_meter(body(metadata={f"k{i}": i for i in range(50)}))
    detail = errors_of(core.create_meter, body(metadata={"k" * 41: "v", "e": ""}))
    assert [(e["type"], e["loc"]) for e in detail] == [
        ("string_too_long", ["body", "metadata", "k" * 41, "[key]"]),
        ("string_too_short", ["body", "metadata", "e", "constrained-str"]),
        ("int_parsing", ["body", "metadata", "e", "int"]),
        ("float_parsing", ["body", "metadata", "e", "float"]),
        ("bool_parsing", ["body", "metadata", "e", "bool"]),
    ]


def test_nul_characters_are_refused(core: Emulator) -> None:
    detail = errors_of(core.create_meter, body(name="a\x00bc", metadata={"k": "v\x00"}))
    assert [(e["loc"], e["msg"]) for e in detail] == [
        (["body", "metadata"], "Value error, This value contains invalid characters"),
        (["body", "name"], "Value error, This value contains invalid characters"),
    ]


def test_organization_id_with_an_organization_token(core: Emulator) -> None:
    with pytest.raises(PolarRequestValidationError) as caught:
        core.create_meter(body(organization_id=core.organization_id))
    assert caught.value.detail == [{
        "type": "organization_token", "loc": ["body", "organization_id"],
        "msg": "Setting organization_id is disallowed when using an organization token.",
        "input": core.organization_id,
    }]


def test_organization_id_with_a_personal_token(core: Emulator) -> None:
    core.add_token("polar_pat_me", {"meters:read", "meters:write"})
    personal = core.principal("polar_pat_me")
    # Required whatever the number of organizations the user has (issue 14).
    assert errors_of(core.create_meter, body(), personal) == [{
        "type": "missing", "loc": ["body", "organization_id"],
        "msg": "organization_id is required.", "input": None,
    }]
    given_org = core.create_meter(body(organization_id=core.organization_id.upper()), personal)
    assert given_org["organization_id"] == core.organization_id
    other = str(uuid.uuid4())
    assert errors_of(core.create_meter, body(organization_id=other), personal) == [{
        "type": "value_error", "loc": ["body", "organization_id"],
        "msg": "Organization not found.", "input": other,
    }]
    [version] = errors_of(core.create_meter, body(organization_id=str(uuid.uuid1())), personal)
    assert version["type"] == "uuid_version"


# -- get and update -----------------------------------------------------------------------------


def test_unknown_meter_is_not_found(core: Emulator) -> None:
    with pytest.raises(NotFound):
        core.get_meter(str(uuid.uuid4()))
    with pytest.raises(NotFound):
        core.update_meter(str(uuid.uuid4()), {"name": "other"})


def test_update_changes_only_what_the_body_holds(core: Emulator) -> None:
    meter = core.create_meter(body(unit="custom", custom_label="request", custom_multiplier=10,
                                   metadata={"a": "1", "b": "2"}))
    assert core.update_meter(meter["id"], {}) == meter
    assert core.update_meter(meter["id"], {"filter": None, "aggregation": None}) == meter
    updated = core.update_meter(meter["id"], {"metadata": {"c": 3}, "custom_label": None,
                                              "custom_multiplier": None, "name": "Renamed"})
    assert updated["metadata"] == {"c": 3}
    assert (updated["custom_label"], updated["custom_multiplier"], updated["name"]) == (
        None, None, "Renamed"
    )
    assert updated["unit"] == "custom" and updated["filter"] == meter["filter"]
    assert TIMESTAMP.fullmatch(updated["modified_at"])
    assert updated["created_at"] == meter["created_at"]


def test_update_refuses_null_name_and_unit(core: Emulator) -> None:
    meter = core.create_meter(body())
    detail = errors_of(core.update_meter, meter["id"], {"name": None, "unit": None})
    assert [(e["type"], e["loc"]) for e in detail] == [
        ("string_type", ["body", "name"]), ("enum", ["body", "unit"])
    ]


def test_archive_and_unarchive(core: Emulator) -> None:
    meter = core.create_meter(body())
    archived = core.update_meter(meter["id"], {"is_archived": True})
    assert TIMESTAMP.fullmatch(archived["archived_at"])
    assert core.get_meter(meter["id"])["archived_at"] == archived["archived_at"]
    assert core.update_meter(meter["id"], {"is_archived": False})["archived_at"] is None


def test_lock_freezes_filter_and_aggregation(core: Emulator) -> None:
    meter = core.create_meter(body())
    core.lock(meter["id"])
    assert core.is_locked(meter["id"])
    for change in ({"filter": meter["filter"]}, {"filter": None}, {"aggregation": {"func": "count"}}):
        with pytest.raises(PolarRequestValidationError) as caught:
            core.update_meter(meter["id"], {**change, "name": "Not applied"})
        [error] = caught.value.detail
        assert error["type"] == "forbidden" and error["loc"] == ["body", next(iter(change))]
        assert error["msg"] == (
            "This field can't be updated because the meter is already aggregating events."
        )
    assert core.get_meter(meter["id"])["name"] == "API calls"
    both = errors_of(core.update_meter, meter["id"], {"filter": FILTER, "aggregation": None})
    assert [e["loc"] for e in both] == [["body", "filter"], ["body", "aggregation"]]
    assert core.update_meter(meter["id"], {"name": "Renamed"})["name"] == "Renamed"
    with pytest.raises(NotFound):
        core.lock(str(uuid.uuid4()))


# -- list -------------------------------------------------------------------------------------


def names(page: Any) -> list[str]:
    return [item["name"] for item in page.items]


def test_limit_is_capped_at_100(core: Emulator) -> None:
    for i in range(105):
        core.create_meter(body(name=f"meter {i:03}"))
    page = core.list_meters(limit=1000)
    assert len(page.items) == 100 and page.total_count == 105 and page.max_page == 2
    assert core.list_meters().max_page == 11
    assert names(core.list_meters(page=2, limit=100)) == ["meter 100", "meter 101", "meter 102",
                                                          "meter 103", "meter 104"]
    assert core.list_meters(page=50).items == []


def test_empty_list_has_max_page_zero(core: Emulator) -> None:
    assert core.list_meters().to_json() == {"items": [], "pagination": {"total_count": 0, "max_page": 0}}


def test_sorting(core: Emulator) -> None:
    for name in ("beta", "Alpha", "gamma"):
        core.create_meter(body(name=name))
    assert names(core.list_meters()) == ["Alpha", "beta", "gamma"]
    assert names(core.list_meters(sorting=["-name"])) == ["gamma", "beta", "Alpha"]
    assert names(core.list_meters(sorting=["created_at"])) == ["beta", "Alpha", "gamma"]
    assert names(core.list_meters(sorting=["-created_at"])) == ["gamma", "Alpha", "beta"]


def test_a_listing_reflects_every_change_between_pages(core: Emulator) -> None:
    """The sorted selection is kept from page to page: any change must show at once."""
    ids = {name: core.create_meter(body(name=name))["id"] for name in ("beta", "Alpha", "gamma")}
    assert names(core.list_meters(limit=2)) == ["Alpha", "beta"]
    core.update_meter(ids["gamma"], {"name": "aardvark"})
    assert names(core.list_meters(limit=2)) == ["aardvark", "Alpha"]
    core.create_meter(body(name="AAA"))
    assert names(core.list_meters(limit=2)) == ["AAA", "aardvark"]
    core.update_meter(ids["Alpha"], {"is_archived": True})
    assert names(core.list_meters(is_archived=False)) == ["AAA", "aardvark", "beta"]
    assert core.list_meters().total_count == 4

def test_query_is_ilike_with_wildcards(core: Emulator) -> None:
    for name in ("API calls", "api_calls", "Storage", "100% used"):
        core.create_meter(body(name=name))
    assert names(core.list_meters(query="API")) == ["API calls", "api_calls"]
    assert names(core.list_meters(query="api_c")) == ["API calls", "api_calls"]
    assert names(core.list_meters(query="a%e")) == ["Storage"]
    assert names(core.list_meters(query="0\\%")) == ["100% used"]
    assert names(core.list_meters(query="")) == ["100% used", "API calls", "api_calls", "Storage"]


def test_metadata_filters_compare_as_text(core: Emulator) -> None:
    core.create_meter(body(name="one", metadata={"n": 5, "team": "ai", "on": True}))
    core.create_meter(body(name="two", metadata={"n": "5", "team": "web", "f": 1.5}))
    core.create_meter(body(name="three", metadata={"team": "ai"}))
    assert names(core.list_meters(metadata={"n": ["5"]})) == ["one", "two"]
    assert names(core.list_meters(metadata={"team": ["ai", "web"]})) == ["one", "three", "two"]
    assert names(core.list_meters(metadata={"team": ["ai"], "n": ["5"]})) == ["one"]
    assert names(core.list_meters(metadata={"on": ["true"]})) == ["one"]
    assert names(core.list_meters(metadata={"f": ["1.5"]})) == ["two"]
    assert names(core.list_meters(metadata={"missing": ["5"]})) == []


def test_is_archived_and_organization_filters(core: Emulator) -> None:
    kept = core.create_meter(body(name="kept"))
    gone = core.create_meter(body(name="gone"))
    core.update_meter(gone["id"], {"is_archived": True})
    assert names(core.list_meters(is_archived=True)) == ["gone"]
    assert names(core.list_meters(is_archived=False)) == ["kept"]
    assert names(core.list_meters()) == ["gone", "kept"]
    assert names(core.list_meters(organization_ids=[core.organization_id])) == ["gone", "kept"]
    assert core.list_meters(organization_ids=[str(uuid.uuid4())]).total_count == 0
    assert core.get_meter(kept["id"])["name"] == "kept"


@settings(max_examples=25, deadline=None)
@given(count=st.integers(0, 23), limit=st.integers(1, 7))
def test_pages_cover_every_meter_once(count: int, limit: int) -> None:
    core = Emulator()
    created = {core.create_meter(body(name=f"meter {i % 5}"))["id"] for i in range(count)}
    first = core.list_meters(limit=limit, sorting=["created_at"])
    assert first.max_page == math.ceil(count / limit) and first.total_count == count
    seen = [item["id"] for page in range(1, first.max_page + 1)
            for item in core.list_meters(page=page, limit=limit, sorting=["created_at"]).items]
    assert sorted(seen) == sorted(created)


# -- validation, property-based -----------------------------------------------------------------

text = st.text(st.characters(blacklist_characters="\x00"), max_size=12)
clauses = st.fixed_dictionaries({
    "property": st.one_of(text, text.map(lambda name: "metadata." + name)),
    "operator": st.sampled_from(validation.OPERATORS),
    "value": st.one_of(text, st.integers(-(2**31), 2**31 - 1), st.booleans()),
})
filters = st.recursive(
    st.fixed_dictionaries({
        "conjunction": st.sampled_from(["and", "or"]), "clauses": st.lists(clauses, max_size=3),
    }),
    lambda inner: st.fixed_dictionaries({
        "conjunction": st.sampled_from(["and", "or"]),
        "clauses": st.lists(st.one_of(clauses, inner), max_size=3),
    }),
    max_leaves=6,
)


def stripped(tree: dict[str, Any]) -> dict[str, Any]:
    return {"conjunction": tree["conjunction"], "clauses": [
        stripped(c) if "conjunction" in c else {**c, "property": c["property"].removeprefix("metadata.")}
        for c in tree["clauses"]
    ]}


@settings(max_examples=60, deadline=None)
@given(filters)
def test_valid_filters_are_stored_with_bare_property_names(tree: dict[str, Any]) -> None:
    assert validation.filter_(tree, ("body", "filter")) == stripped(tree)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=45))
def test_uuid_parsing_never_crashes(text: str) -> None:
    try:
        canonical = validation.path_id(text)
    except Invalid as exc:
        [error] = exc.errors
        assert error["type"] in ("uuid_parsing", "uuid_version") and error["loc"] == ["path", "id"]
    else:
        assert uuid.UUID(canonical).version == 4


# -- the state file -----------------------------------------------------------------------------


def test_state_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "state.json"
    first = Emulator(state_path=path)
    first.add_token("polar_oat_reader", {"meters:read"})
    meter = first.create_meter(body(metadata={"k": 1.5}))
    first.lock(meter["id"])
    first.update_meter(meter["id"], {"name": "Renamed"})
    second = Emulator(state_path=path)
    assert (second.token, second.organization_id) == (first.token, first.organization_id)
    assert second.get_meter(meter["id"]) == first.get_meter(meter["id"])
    assert second.is_locked(meter["id"])
    assert second.principal("polar_oat_reader") is not None
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]


def test_explicit_identity_wins_over_the_state_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    first = Emulator(state_path=path)
    meter = first.create_meter(body())
    other_org = str(uuid.uuid4())
    second = Emulator(token="polar_oat_chosen", organization_id=other_org, state_path=path)
    assert second.organization_id == other_org and second.token == "polar_oat_chosen"
    with pytest.raises(NotFound):  # that meter belongs to the first organization
        second.get_meter(meter["id"])
    with pytest.raises(Unauthorized):
        second.principal(first.token)
    third = Emulator(organization_id=first.organization_id, state_path=path)
    assert third.get_meter(meter["id"])["id"] == meter["id"]


def test_a_broken_state_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json")
    with pytest.raises(StateFileError, match="cannot read the emulator state"):
        Emulator(state_path=path)
    path.write_text("[]")
    with pytest.raises(StateFileError, match="not an emulator state file"):
        Emulator(state_path=path)
