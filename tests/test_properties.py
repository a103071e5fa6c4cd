"""Property-based tests (hypothesis).

- The loader never crashes: any bytes, any YAML document, any meter-shaped mapping give
  either findings or a valid configuration.
- Plan → apply → plan converges: for random meter sets, and after random edits made
  directly in the emulator (as someone in Polar's dashboard would), apply leaves a plan of
  no changes. The emulator is in-process (its httpx transport): Polar's rules, no socket.
"""

from __future__ import annotations

import os
import string
import tempfile
from pathlib import Path
from typing import Any

import httpx
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reconciler.apply.applier import apply_plan
from reconciler.config.load import load_config, load_file
from reconciler.emulator.core import Emulator
from reconciler.emulator.inprocess import transport
from reconciler.model import TAG_KEY, remote_from_api
from reconciler.plan.planner import make_plan
from reconciler.plan.types import Plan
from reconciler.polar.client import PolarClient

BASE = "http://polar-meters.local"
FAST = settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "100")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# -- the loader never crashes -------------------------------------------------------------------

words = st.text(alphabet=string.ascii_letters + string.digits + " _-.%:#&*!|>'\"{}[],\t\n",
                max_size=40)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), words,
    st.sampled_from(["yes", "on", "0x1F", "012", "1e3", "2024-01-01", ".inf", "1_000", "~"]),
)
json_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(words, inner, max_size=4),
    max_leaves=20,
)


def assert_findings_or_valid(data: bytes) -> None:
    loaded = load_file("fuzz.yaml", data)  # must not raise
    errors = [d for d in loaded.diagnostics if d.severity == "error"]
    for d in loaded.diagnostics:
        assert d.text and "\n" not in d.text, d
        assert d.location is None or d.location.line >= 1
    if not errors:
        for meter in loaded.meters:
            assert isinstance(meter.spec["name"], str) and len(meter.spec["name"]) >= 3


@FAST
@given(st.binary(max_size=300))
def test_any_bytes_load_without_crashing(data: bytes) -> None:
    assert_findings_or_valid(data)


@FAST
@given(st.text(max_size=300))
def test_any_text_loads_without_crashing(text: str) -> None:
    assert_findings_or_valid(text.encode("utf-8", "surrogatepass"))


@FAST
@given(json_like)
def test_any_yaml_document_loads_without_crashing(value: Any) -> None:
    assert_findings_or_valid(yaml.safe_dump(value, allow_unicode=True).encode())


# Meter-shaped documents: the right fields, with values right and wrong.
clause_values = st.one_of(
    st.integers(-(2**31), 2**31 - 1), st.booleans(), st.text(max_size=12),
    st.integers(), st.floats(), st.none(), st.lists(st.integers(), max_size=2),
)


def groups(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({
        "conjunction": st.sampled_from(["and", "or", "xor"]),
        "clauses": st.lists(children, max_size=3),
    })


loose_clause = st.fixed_dictionaries({
    "property": st.one_of(st.sampled_from(["name", "metadata.tier", "tokens", ""]), scalars),
    "operator": st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte", "like", "not_like", "in"]),
    "value": clause_values,
})
loose_meter = st.fixed_dictionaries(
    {"name": st.one_of(st.text(max_size=8), scalars)},
    optional={
        "filter": st.recursive(loose_clause, groups, max_leaves=6),
        "aggregation": st.fixed_dictionaries(
            {"func": st.sampled_from(["count", "sum", "max", "unique", "median"])},
            optional={"property": st.one_of(st.text(max_size=8), scalars)}),
        "unit": st.sampled_from(["scalar", "token", "custom", "kg"]),
        "custom_label": scalars,
        "custom_multiplier": st.one_of(st.integers(), scalars),
        "metadata": st.dictionaries(st.text(max_size=42), scalars, max_size=3),
        "id": st.one_of(st.uuids(version=4).map(str), st.uuids().map(str), scalars),
        "archived": scalars,
        "extra": scalars,
    },
)


@FAST
@given(st.dictionaries(st.from_regex(r"[a-zA-Z0-9_-]{1,42}", fullmatch=True), loose_meter,
                       max_size=4),
       st.sampled_from([1, 2, "1", None]))
def test_meter_shaped_documents_load_without_crashing(meters: dict[str, Any],
                                                       version: Any) -> None:
    doc = {"version": version, "meters": meters}
    assert_findings_or_valid(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode())


# -- plan → apply → plan converges ------------------------------------------------------------

names = st.text(alphabet=string.ascii_letters + string.digits + " -()", min_size=3, max_size=24)
properties = st.sampled_from(["name", "tier", "metadata.tier", "_llm.total_tokens", "region"])
int32 = st.integers(-(2**31), 2**31 - 1)
clause = st.one_of(
    st.fixed_dictionaries({
        "property": properties,
        "operator": st.sampled_from(["eq", "ne", "like", "not_like"]),
        "value": st.one_of(st.text(string.ascii_letters + " .", min_size=1, max_size=10),
                           int32, st.booleans()),
    }),
    st.fixed_dictionaries({
        "property": properties,
        "operator": st.sampled_from(["gt", "gte", "lt", "lte"]),
        "value": int32,
    }),
)
filters = st.recursive(
    clause,
    lambda inner: st.fixed_dictionaries({"conjunction": st.sampled_from(["and", "or"]),
                                         "clauses": st.lists(inner, max_size=3)}),
    max_leaves=5,
).map(lambda f: f if "conjunction" in f else {"conjunction": "and", "clauses": [f]})
aggregations = st.one_of(
    st.just({"func": "count"}),
    st.fixed_dictionaries({"func": st.sampled_from(["sum", "max", "min", "avg", "unique"]),
                           "property": st.sampled_from(["tokens", "metadata.bytes", "size"])}),
)
metadata = st.dictionaries(
    st.from_regex(r"[a-z][a-z_]{0,9}", fullmatch=True).filter(lambda k: k != TAG_KEY),
    st.one_of(st.text(string.ascii_letters, min_size=1, max_size=10), int32, st.booleans(),
              st.sampled_from([1.5, 2.0, -0.25])),
    max_size=3,
)


@st.composite
def meters(draw: st.DrawFn) -> dict[str, Any]:
    meter: dict[str, Any] = {"name": draw(names), "filter": draw(filters),
                             "aggregation": draw(aggregations)}
    unit = draw(st.sampled_from([None, "scalar", "token", "custom"]))
    if unit:
        meter["unit"] = unit
    if unit == "custom":
        meter["custom_label"] = draw(st.text(string.ascii_letters, min_size=1, max_size=8))
        if draw(st.booleans()):
            meter["custom_multiplier"] = draw(st.integers(1, 10**6))
    if draw(st.booleans()):
        meter["metadata"] = draw(metadata)
    if draw(st.integers(0, 5)) == 0:
        meter["archived"] = True
    return meter


meter_sets = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9_-]{0,11}", fullmatch=True), meters(), min_size=1, max_size=5,
).filter(lambda ms: len({m["name"] for m in ms.values()}) == len(ms))  # adoption by name


class QuotingDumper(yaml.SafeDumper):
    """Every string double-quoted, as a careful author writes `"Y"` or `"on"` (plain, the
    loader refuses them as ambiguous: tested in test_config_yaml.py)."""


QuotingDumper.add_representer(
    str, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"'))


class Polar:
    """The emulator in-process, and the same pipeline as the CLI: load, list, plan, apply."""

    def __init__(self) -> None:
        self.core = Emulator()
        self.client = PolarClient(BASE, self.core.token, transport=transport(self.core))
        self.http = httpx.Client(base_url=BASE, transport=transport(self.core),
                                 headers={"Authorization": f"Bearer {self.core.token}"})

    def plan(self, config_meters: dict[str, Any]) -> Plan:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, "meters.yaml")
            path.write_text(yaml.dump({"version": 1, "meters": config_meters},
                                      Dumper=QuotingDumper, allow_unicode=True, sort_keys=False))
            config = load_config([path])
        assert not config.errors, [str(d) for d in config.errors]
        remote = [remote_from_api(item) for item in self.client.list_meters()]
        plan = make_plan(config.meters, remote, server="local",
                         organization_id=self.core.organization_id)
        assert not plan.problems
        return plan

    def apply(self, config_meters: dict[str, Any]) -> None:
        result = apply_plan(self.plan(config_meters), self.client)
        assert result.ok, [o.error for o in result.failed]

    def meters(self) -> list[dict[str, Any]]:
        return self.client.list_meters()

    def patch(self, meter_id: str, body: dict[str, Any]) -> None:
        r = self.http.patch(f"/v1/meters/{meter_id}", json=body)
        assert r.status_code == 200, r.text


drifts = st.one_of(
    names.map(lambda n: {"name": "Drift " + n}),
    metadata.map(lambda md: {"metadata": md}),  # the ownership tag is lost too
    filters.map(lambda f: {"filter": f}),
    aggregations.map(lambda a: {"aggregation": a}),
    st.just({"unit": "token", "custom_label": None}),
    st.builds(lambda lab: {"unit": "custom", "custom_label": lab, "custom_multiplier": 7},
              st.text(string.ascii_letters, min_size=1, max_size=5)),
    st.booleans().map(lambda b: {"is_archived": b}),
)


def drifted(meter: dict[str, Any], change: dict[str, Any], keep_tag: bool) -> dict[str, Any]:
    if "metadata" in change and keep_tag:
        return {"metadata": {**change["metadata"], TAG_KEY: meter["metadata"][TAG_KEY]}}
    return change


@settings(FAST, max_examples=FAST.max_examples // 3)
@given(meter_sets, st.lists(st.tuples(st.integers(0, 100), drifts, st.booleans()), max_size=6))
@example(  # found by this test: a new meter configured archived was created active
    {"a": {"name": "Old", "filter": {"conjunction": "and", "clauses": []},
           "aggregation": {"func": "count"}, "archived": True}}, [])
def test_plan_apply_plan_converges_after_drift(
    config_meters: dict[str, Any], edits: list[tuple[int, dict[str, Any], bool]]
) -> None:
    polar = Polar()
    polar.apply(config_meters)
    assert not polar.plan(config_meters).has_changes
    assert len(polar.meters()) == len(config_meters)

    current = polar.meters()
    for index, change, keep_tag in edits:  # someone edits meters in Polar's dashboard
        meter = current[index % len(current)]
        polar.patch(meter["id"], drifted(meter, change, keep_tag))
    polar.apply(config_meters)
    after = polar.plan(config_meters)
    assert not after.has_changes, [(a.key, a.kind, [c.path for c in a.changes])
                                   for a in after.actions]
    tagged = [m for m in polar.meters() if TAG_KEY in m["metadata"]]
    assert sorted(m["metadata"][TAG_KEY] for m in tagged) == sorted(config_meters)
