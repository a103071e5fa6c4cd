"""An archive that a product's metered price or a meter-credit benefit holds is shown as
refused ahead by `plan` (products and benefits read from Polar, here the emulator's own
endpoints) and is never sent by `apply`, while the other actions still run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.model import TAG_KEY
from tests.conftest import RunningEmulator
from tests.support.e2e import Api
from tests.support.inproc import invoke


def _meter(key: str, name: str, event: str, archived: bool = False) -> str:
    flag = "    archived: true\n" if archived else ""
    return (f"  {key}:\n    name: {name}\n    filter:\n      conjunction: and\n      clauses:\n"
            f"        - {{property: name, operator: eq, value: {event}}}\n"
            f"    aggregation: {{func: count}}\n{flag}")


def _config(archived: bool, api_name: str = "API calls") -> str:
    return ("version: 1\nmeters:\n" + _meter("api", api_name, "api_call")
            + _meter("seats", "Seats", "seat_used", archived)
            + _meter("credits", "Credits", "credit_used", archived)
            + _meter("spare", "Spare", "spare_used", archived))


@pytest.fixture
def setup(emu: RunningEmulator, tmp_path: Path) -> tuple[Api, Path, dict[str, Any]]:
    """The four meters applied; `seats` billed by a product's metered price, `credits`
    granted by a meter-credit benefit; then the file archives those and `spare`, and
    renames `api`."""
    api = Api(emu)
    path = tmp_path / "meters.yaml"
    path.write_text(_config(False))
    assert invoke("apply", "--auto-approve", str(path), env=api.env).code == 0
    ids = {m["metadata"][TAG_KEY]: m["id"] for m in api.meters()}
    product = api.http.post("/v1/products/", json={
        "name": "Pro plan", "recurring_interval": "month", "prices": [
            {"amount_type": "metered_unit", "meter_id": ids["seats"], "unit_amount": "2"}]})
    assert product.status_code == 201, product.text
    benefit = api.http.post("/v1/benefits/", json={
        "type": "meter_credit", "description": "Monthly credits",
        "properties": {"meter_id": ids["credits"], "units": 100, "rollover": False}})
    assert benefit.status_code == 201, benefit.text
    path.write_text(_config(True, "API requests"))
    return api, path, {"ids": ids, "product": product.json(), "benefit": benefit.json()}


def _patched(api: Api) -> set[str]:
    return {r["path"].rsplit("/", 1)[1] for r in api.requests() if r["method"] == "PATCH"}


def test_plan_shows_each_holder_and_what_to_do(setup: tuple[Api, Path, dict[str, Any]]) -> None:
    api, path, made = setup
    run = invoke("plan", "--no-live", str(path), env=api.env)
    assert run.code == 0, run.text
    product, benefit = made["product"], made["benefit"]
    price = product["prices"][0]["id"]
    assert ("      ! refused ahead: Polar refuses to archive this meter while these use it: "
            f'product "Pro plan" ({product["id"]}), metered price {price}: archive the price '
            "or the product first (apply will not send this archive)") in run.out.splitlines()
    assert ("      ! refused ahead: Polar refuses to archive this meter while these use it: "
            f'meter-credit benefit "Monthly credits" ({benefit["id"]}): delete the benefit '
            "first (apply will not send this archive)") in run.out.splitlines()
    assert run.out.count("      ! refused ahead:") == 2  # not `spare`: nothing holds it
    assert "2 archive(s) Polar would refuse" in run.out
    markdown = invoke("plan", "--no-live", "--format", "markdown", str(path), env=api.env).out
    assert "> 2 archive(s) would be refused by Polar" in markdown and "`seats`, `credits`" in markdown
    assert markdown.count("> Refused ahead: Polar refuses to archive this meter") == 2


def test_apply_sends_none_of_the_refused_archives_and_the_rest(
    setup: tuple[Api, Path, dict[str, Any]],
) -> None:
    api, path, made = setup
    ids = made["ids"]
    api.clear_requests()
    run = invoke("apply", "--auto-approve", str(path), env=api.env)
    assert run.code == 1, run.text  # not everything configured could be done
    assert _patched(api) == {ids["api"], ids["spare"]}  # no PATCH of seats or credits
    assert "seats: archive failed: not sent: Polar refuses to archive this meter" in run.out
    assert "spare: archived" in run.out and "api: updated" in run.out
    again = invoke("plan", "--no-live", str(path), env=api.env)
    assert again.out.count("      ! refused ahead:") == 2 and "to update" in again.out


def test_a_saved_plan_does_exactly_what_it_showed(
    setup: tuple[Api, Path, dict[str, Any]], tmp_path: Path,
) -> None:
    api, path, made = setup
    saved = tmp_path / "plan.json"
    assert invoke("plan", "--out", str(saved), str(path), env=api.env).code == 0
    held = [a["key"] for a in json.loads(saved.read_text())["actions"] if a["held_by"]]
    assert held == ["seats", "credits"]
    # the product is archived since: the plan still does what it showed, no archive of seats
    answer = api.http.patch(f"/v1/products/{made['product']['id']}", json={"is_archived": True})
    assert answer.status_code == 200, answer.text
    api.clear_requests()
    run = invoke("apply", "--plan", str(saved), env=api.env)
    assert made["ids"]["seats"] not in _patched(api) and made["ids"]["credits"] not in _patched(api)
    assert "seats: archive failed: not sent" in run.out


def test_prune_of_a_held_meter_is_refused_ahead(emu: RunningEmulator, tmp_path: Path) -> None:
    api = Api(emu)
    path = tmp_path / "meters.yaml"
    path.write_text(_config(False))
    assert invoke("apply", "--auto-approve", str(path), env=api.env).code == 0
    seats = next(m["id"] for m in api.meters() if m["metadata"][TAG_KEY] == "seats")
    assert api.http.post("/v1/benefits/", json={
        "type": "meter_credit", "description": "Seat credits",
        "properties": {"meter_id": seats, "units": 5, "rollover": False}}).status_code == 201
    path.write_text("version: 1\nmeters:\n" + _meter("api", "API calls", "api_call"))
    run = invoke("plan", "--prune", "--no-live", str(path), env=api.env)
    assert run.out.count("      ! refused ahead:") == 1, run.text
    assert 'meter-credit benefit "Seat credits"' in run.out


def test_a_token_that_cannot_read_products_marks_the_archive_may_be_refused(
    setup: tuple[Api, Path, dict[str, Any]], emu: RunningEmulator,
) -> None:
    _, path, _ = setup
    emu.core.add_token("polar_oat_meters_events", ["meters:read", "meters:write", "events:read"])
    env = {"POLAR_SERVER": emu.url, "POLAR_ACCESS_TOKEN": "polar_oat_meters_events"}
    run = invoke("plan", "--no-live", str(path), env=env)
    assert run.code == 0, run.text
    assert "      ! refused ahead:" not in run.out
    caveat = ("      ! warning: may be refused if a product or benefit uses it (the access token "
              "cannot read products (403: it needs products:read); the access token cannot read "
              "benefits (403: it needs benefits:read))")
    assert run.out.splitlines().count(caveat) == 3  # seats, credits and spare
