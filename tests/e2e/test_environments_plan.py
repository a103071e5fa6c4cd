"""Several environments at once (issue 18): plan both, saved plans per environment, the
protected environment's confirmation, and `diff` between the two organizations."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from reconciler.render.markdown import MARKER
from tests.support.e2e import read_terminal
from tests.support.environments import PRODUCTION_ORG, SANDBOX_ORG, TOKEN_ENV, TwoOrgs
from tests.support.inproc import invoke

BOTH = ("--env", "sandbox", "--env", "production")



def test_plan_both_shows_a_section_each_and_a_summary(orgs: TwoOrgs) -> None:
    assert invoke("--env", "sandbox", "apply", "--auto-approve", env=TOKEN_ENV).code == 0
    run = invoke(*BOTH, "plan", "--detailed-exitcode", env=TOKEN_ENV)
    assert run.code == 2, run.text
    sandbox, production = run.out.split("Environment production · ")
    assert "Environment sandbox · " in sandbox and "No changes." in sandbox
    assert "1 to create" in production
    assert run.out.splitlines()[-3:] == [
        "Environments:",
        "  sandbox     No changes. Polar's meters match the configuration.",
        "  production  Plan: 1 to create, 0 to update, 0 to adopt, 0 to archive.",
    ]
    assert invoke("plan", "--all-envs", env={**TOKEN_ENV, "POLAR_METERS_ENV": ""}).out == run.out


def test_markdown_is_one_comment_with_a_table_and_a_section_each(orgs: TwoOrgs) -> None:
    run = invoke(*BOTH, "plan", "--format", "markdown", env=TOKEN_ENV)
    assert run.code == 0, run.text
    assert run.out.count(MARKER) == 1 and run.out.startswith(MARKER)
    assert "| **sandbox** | 1 | 0 | 0 | 0 | 0 | 0 | 0 |" in run.out
    assert "| **production** | 1 | 0 | 0 | 0 | 0 | 0 | 0 |" in run.out
    assert run.out.index("#### sandbox · ") < run.out.index("#### production · ")
    assert run.out.count("<code>+ api-calls</code>") == 2
    assert run.out.count("\n| create |") == 0 and run.out.count("| environment |") == 1


def test_out_dir_saves_a_plan_each_and_apply_refuses_another_environments(orgs: TwoOrgs, tmp_path: Path) -> None:
    run = invoke(*BOTH, "plan", "--out", "plans", env=TOKEN_ENV)
    assert run.code == 0, run.text
    assert sorted(p.name for p in (tmp_path / "plans").iterdir()) == ["production.json", "sandbox.json"]
    doc = json.loads((tmp_path / "plans" / "sandbox.json").read_text())
    assert doc["environment"] == "sandbox"
    refused = invoke("--env", "production", "apply", "--plan", "plans/sandbox.json", "--auto-approve",
                     env=TOKEN_ENV)
    assert refused.code == 1
    assert "plans/sandbox.json was made for environment sandbox, not production" in refused.err
    assert orgs.writes("production") == [] and orgs.writes("sandbox") == []
    applied = invoke("--env", "sandbox", "apply", "--plan", "plans/sandbox.json", env=TOKEN_ENV)
    assert applied.code == 0, applied.text
    assert len(orgs.meters("sandbox")) == 1 and orgs.meters("production") == []


def test_json_holds_one_document_per_environment(orgs: TwoOrgs) -> None:
    run = invoke(*BOTH, "plan", "--format", "json", env=TOKEN_ENV)
    docs = json.loads(run.out)["environments"]
    assert list(docs) == ["sandbox", "production"]
    assert {d["environment"] for d in docs.values()} == {"sandbox", "production"}


def test_protected_environment_needs_auto_approve_off_a_terminal(orgs: TwoOrgs, tmp_path: Path) -> None:
    run = invoke("--env", "production", "apply", env=TOKEN_ENV, stdin="production\n")
    assert run.code == 1
    assert "environment production is protected and standard input is not a terminal" in run.err
    assert invoke("--env", "production", "plan", "--out", "p.json", env=TOKEN_ENV).code == 0
    saved = invoke("--env", "production", "apply", "--plan", "p.json", env=TOKEN_ENV)
    assert saved.code == 1 and "is protected" in saved.err
    assert orgs.writes("production") == []
    approved = invoke("--env", "production", "apply", "--plan", "p.json", "--auto-approve", env=TOKEN_ENV)
    assert approved.code == 0, approved.text
    assert len(orgs.meters("production")) == 1


def _apply_on_terminal(tmp_path: Path, answer: str) -> tuple[int, str]:
    """`--env production apply` with its terminal a pseudo-terminal; types ANSWER at the prompt."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLAR_")}
    env.update(TOKEN_ENV, NO_COLOR="1")
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "reconciler", "--env", "production", "apply"],
                            stdin=follower, stdout=follower, stderr=follower, env=env, cwd=tmp_path)
    os.close(follower)
    screen = b""
    deadline = time.monotonic() + 60
    while b"to apply:" not in screen and time.monotonic() < deadline:
        try:
            screen += os.read(leader, 65536)
        except OSError:
            break
    os.write(leader, answer.encode() + b"\r")
    rest = read_terminal(leader)
    return proc.wait(timeout=60), screen.decode() + rest


def test_protected_environment_asks_for_its_name_on_a_terminal(orgs: TwoOrgs, tmp_path: Path) -> None:
    code, screen = _apply_on_terminal(tmp_path, "yes")
    assert code == 1 and "Type the environment's name (production) to apply" in screen
    assert "apply cancelled: 'yes' is not 'production'; nothing was changed" in screen
    assert orgs.writes("production") == []
    code, screen = _apply_on_terminal(tmp_path, "production")
    assert code == 0 and "Apply complete: 1 created" in screen, screen
    assert len(orgs.meters("production")) == 1 and orgs.meters("sandbox") == []


def test_diff_shows_exactly_the_fields_that_differ(orgs: TwoOrgs, tmp_path: Path) -> None:
    for env in ("sandbox", "production"):
        assert invoke("--env", env, "apply", "--auto-approve", env=TOKEN_ENV).code == 0
    same = invoke(*BOTH, "diff", "--detailed-exitcode", env=TOKEN_ENV)
    assert same.code == 0, same.text
    assert "No differences: production holds what sandbox holds (1 identical)." in same.out
    meters = tmp_path / "meters" / "api.yaml"
    text = meters.read_text().replace("name: API calls", "name: API requests")
    text = text.replace("value: pro}", "value: enterprise}").replace("cost_center: 42", "cost_center: 43")
    meters.write_text(text + "  storage:\n    name: Storage\n"
                      "    filter: {conjunction: and, clauses: []}\n    aggregation: {func: count}\n")
    assert invoke("--env", "sandbox", "apply", "--auto-approve", env=TOKEN_ENV).code == 0
    for env in ("sandbox", "production"):
        orgs.core(env).clear_requests()
    run = invoke(*BOTH, "diff", "--detailed-exitcode", env=TOKEN_ENV)
    assert run.code == 2, run.text
    assert run.out.splitlines() == [
        "Comparing production with sandbox: 2 configured meters (ids and timestamps ignored).",
        "",
        "Each change reads production → sandbox:",
        "",
        '  ~ api-calls "API requests": 3 fields differ',
        '      ~ name: "API calls" → "API requests"',
        '      ~ filter.clauses[1].clauses[0].value: "pro" → "enterprise"',
        "      ~ metadata.cost_center: 42 → 43",
        '  + storage "Storage": only in sandbox',
        "",
        "production lacks these 4 changes that sandbox has (0 identical).",
    ]
    assert orgs.writes("production") == [] and orgs.writes("sandbox") == []  # diff only reads


def test_diff_needs_two_environments(orgs: TwoOrgs) -> None:
    run = invoke("--env", "sandbox", "diff", env=TOKEN_ENV)
    assert run.code == 2 and "diff compares two environments" in run.err


def test_github_annotations_name_the_environment_they_are_about(orgs: TwoOrgs, tmp_path: Path) -> None:
    """Both environments' meters come from the same lines: an annotation says which
    environment's meter is locked."""
    for env in ("sandbox", "production"):
        assert invoke("--env", env, "apply", "--auto-approve", env=TOKEN_ENV).code == 0
    with orgs.http("production") as http:
        answer = http.post("/v1/events/ingest", json={"events": [
            {"name": "api_call", "external_customer_id": "acme", "metadata": {"tier": "pro", "tokens": 5}}]})
        assert answer.status_code == 200, answer.text
    meters = tmp_path / "meters" / "api.yaml"
    meters.write_text(meters.read_text().replace("value: api_call}", "value: api_call_v2}"))
    run = invoke(*BOTH, "plan", "--format", "github", env=TOKEN_ENV)
    assert run.code == 1, run.text
    [annotation] = [line for line in run.out.splitlines() if line.startswith("::")]
    head, message = annotation.split("::")[1:]
    assert head.startswith("error file=meters/api.yaml,line=3,col=3") and head.endswith(",title=production")
    assert message.startswith("production: api-calls: the meter is locked")


def test_a_token_of_another_organization_is_refused_naming_the_environment(orgs: TwoOrgs) -> None:
    assert invoke("--env", "sandbox", "apply", "--auto-approve", env=TOKEN_ENV).code == 0
    swapped = {**TOKEN_ENV, "POLAR_PRODUCTION_TOKEN": TOKEN_ENV["POLAR_SANDBOX_TOKEN"]}
    run = invoke("--env", "production", "plan", env=swapped)
    assert run.code == 1, run.text
    assert (f"environment production (polar-meters.yaml) names organization {PRODUCTION_ORG}, "
            f"but the token reaches meters of {SANDBOX_ORG}") in run.err
    assert TOKEN_ENV["POLAR_SANDBOX_TOKEN"] not in run.text
