"""A saved plan is data, never instructions: `apply --plan` sends only what the plan shows,
to the configured server, and the merge policy refuses a plan that is not the reviewed one."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from reconciler.plan.document import MAX_PLAN_BYTES
from tests.support.e2e import Api, copy_examples
from tests.support.inproc import invoke


@pytest.fixture
def api(emu) -> Api:  # the emulator, as a dashboard user and as the request journal
    return Api(emu)


@pytest.fixture
def meters(tmp_path: Path) -> Path:  # examples/meters/ and their events, in tmp_path
    return copy_examples(tmp_path)


def run(api: Api, *args: str):
    return invoke(*args, env=api.env)


def saved(api: Api, meters: Path, tmp_path: Path, name: str = "plan.json") -> Path:
    out = tmp_path / name
    result = run(api, "plan", "--out", str(out), str(meters))
    assert result.code == 0, result.text
    return out


def edited(plan: Path, change: Any) -> Path:
    doc = json.loads(plan.read_text())
    change(doc)
    plan.write_text(json.dumps(doc))
    return plan


def update_plan(api: Api, meters: Path, tmp_path: Path) -> Path:
    """Everything applied, then api-calls renamed: a plan with one update."""
    assert run(api, "apply", "--auto-approve", str(meters)).code == 0
    path = meters / "api-calls.yaml"
    path.write_text(path.read_text().replace("name: API calls", "name: API requests"))
    return saved(api, meters, tmp_path)


def refused(api: Api, result: Any, *needles: str) -> None:
    assert result.code == 1, result.text
    assert "Traceback" not in result.text
    for needle in needles:
        assert needle in result.err, result.err
    assert api.writes() == []


def test_an_edited_request_body_is_refused_not_sent(api: Api, meters: Path, tmp_path: Path) -> None:
    plan = saved(api, meters, tmp_path)
    edited(plan, lambda d: d["actions"][0]["request"]["body"]["metadata"].update(team="evil"))
    api.clear_requests()
    refused(api, run(api, "apply", "--plan", str(plan)),
            "action 1", "stored request differs from what its before/after values show",
            "metadata")


def test_an_edited_after_without_its_changes_is_refused(api: Api, meters: Path, tmp_path: Path) -> None:
    plan = update_plan(api, meters, tmp_path)
    edited(plan, lambda d: d["actions"][0]["after"].update(custom_multiplier=1))
    api.clear_requests()
    refused(api, run(api, "apply", "--plan", str(plan)), "refusing the plan")


def test_a_shown_before_that_polar_does_not_hold_is_refused(
    api: Api, meters: Path, tmp_path: Path
) -> None:
    plan = update_plan(api, meters, tmp_path)

    def hide_the_rename(doc: dict[str, Any]) -> None:  # consistent in the file, false in Polar
        action = doc["actions"][0]
        action["before"]["name"] = "Something else"
        action["changes"][0]["before"] = "Something else"
        doc.pop("actions_digest")

    edited(plan, hide_the_rename)
    api.clear_requests()
    refused(api, run(api, "apply", "--plan", str(plan)), "the plan is stale", "does not hold")


@pytest.mark.parametrize(
    "path",
    ["https://attacker.example/v1/meters/", "//attacker.example/v1/meters/", "/v2/meters/",
     "/v1/../_emulator/reset", "/_emulator/requests"],
)
def test_a_request_to_a_url_or_outside_v1_is_refused(
    api: Api, meters: Path, tmp_path: Path, path: str
) -> None:
    plan = saved(api, meters, tmp_path)
    edited(plan, lambda d: d["actions"][0]["request"].update(path=path))
    api.clear_requests()
    result = run(api, "apply", "--plan", str(plan))
    refused(api, result, "action 1")
    assert "not a path under /v1/" in result.err or "differs" in result.err


def test_a_tampered_actions_digest_is_refused(api: Api, meters: Path, tmp_path: Path) -> None:
    plan = saved(api, meters, tmp_path)
    edited(plan, lambda d: d.update(actions_digest="sha256:" + "0" * 64))
    refused(api, run(api, "apply", "--plan", str(plan)), "actions_digest")


def test_an_untouched_plan_still_applies(api: Api, meters: Path, tmp_path: Path) -> None:
    plan = update_plan(api, meters, tmp_path)
    result = run(api, "apply", "--plan", str(plan))
    assert result.code == 0, result.text
    assert [w["body"] for w in api.writes()][-1] == {"name": "API requests"}


@pytest.mark.parametrize("special", ["/dev/zero", "fifo", "dir"])
def test_only_regular_files_are_read(api: Api, tmp_path: Path, special: str) -> None:
    path = special
    if special == "fifo":
        path = str(tmp_path / "plan.fifo")
        os.mkfifo(path)
    elif special == "dir":
        path = str(tmp_path)
    started = time.monotonic()
    result = run(api, "apply", "--plan", path)
    assert time.monotonic() - started < 10
    refused(api, result, "not a regular file" if special != "dir" else path)


def test_a_plan_file_larger_than_the_limit_is_not_read(api: Api, tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as f:
        f.truncate(MAX_PLAN_BYTES + 1)  # sparse: costs no disk
    refused(api, run(api, "apply", "--plan", str(big)), "larger than", "MiB")


def test_with_paths_the_plan_must_come_from_those_files(
    api: Api, meters: Path, tmp_path: Path
) -> None:
    plan = saved(api, meters, tmp_path)
    path = meters / "storage.yaml"
    original = path.read_text()
    path.write_text(original + "\n# edited\n")
    api.clear_requests()
    refused(api, run(api, "apply", "--plan", str(plan), str(meters)),
            "was not made from the configuration at", "re-run plan")
    path.write_text(original)
    result = run(api, "apply", "--plan", str(plan), str(meters))
    assert result.code == 0, result.text
    assert "No changes." in run(api, "plan", str(meters)).out


def test_merge_policy_refuses_a_plan_that_was_not_reviewed(
    api: Api, meters: Path, tmp_path: Path
) -> None:
    reviewed = saved(api, meters, tmp_path, "reviewed.json")
    digest = json.loads(reviewed.read_text())["actions_digest"]
    assert digest.startswith("sha256:") and len(digest) == 71
    # After review, another commit lands on the branch before the merge: a new plan.
    path = meters / "api-calls.yaml"
    original = path.read_text()
    path.write_text(original.replace("custom_multiplier: 1000", "custom_multiplier: 10"))
    api.clear_requests()
    for flag, value in (("--expect-digest", digest), ("--reviewed-plan", str(reviewed))):
        result = run(api, "apply", "--auto-approve", flag, value, str(meters))
        refused(api, result, "is not the plan that was reviewed", digest, "nothing was sent")
    path.write_text(original)  # the merged commit is what was reviewed
    result = run(api, "apply", "--auto-approve", "--expect-digest", digest, str(meters))
    assert result.code == 0, result.text
    assert "Apply complete" in result.out


def test_expect_digest_must_be_a_digest(api: Api, meters: Path) -> None:
    refused(api, run(api, "apply", "--auto-approve", "--expect-digest", "abc", str(meters)),
            "is not an actions digest")


@pytest.mark.parametrize("path", ["https://attacker.example/v1/meters/", "//attacker.example/v1/",
                                  "/v1/../_emulator/requests", "/_emulator/requests"])
def test_the_client_sends_only_paths_under_v1_of_its_server(emu, path: str) -> None:
    from reconciler.errors import UserError
    from reconciler.polar.servers import resolve_target

    target = resolve_target(emu.url, emu.token, None, None)
    with target.client() as client, pytest.raises(UserError, match="not a path under /v1/"):
        client.send("POST", path, {})
