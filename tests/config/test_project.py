"""The project file: found upwards, validated by its schema, every problem located."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.config.project import find_project, load_project, parse_project
from reconciler.errors import UserError
from tests.support.inproc import invoke
from tests.support.paths import ROOT

ORG = "1dbfc517-0bbf-4301-9ba8-555ca42b9737"


def test_found_from_a_subdirectory_with_paths_relative_to_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "polar-meters.yaml").write_text(
        f"version: 1\npaths: [meters/, extra.yaml]\nenvironments:\n"
        f"  sandbox: {{server: sandbox, organization_id: {ORG.upper()}}}\n")
    sub = tmp_path / "meters" / "team"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert find_project() == tmp_path / "polar-meters.yaml"
    project = load_project(None)
    assert project is not None
    assert project.paths == ["../", "../../extra.yaml"]
    env = project.environments["sandbox"]
    assert (env.server, env.organization_id, env.token_env, env.protected) == (
        "sandbox", ORG, "POLAR_ACCESS_TOKEN", False)


def test_no_project_file_is_no_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_project(None) is None
    with pytest.raises(UserError, match="nope.yaml: no such project file"):
        load_project("nope.yaml")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("version: 2\n", "p.yaml:1:10: version: must be 1"),
        ("version: 1\nenvironment: {}\n", "p.yaml:2:1: environment: unknown field 'environment' (did you mean 'environments'?)"),
        ("version: 1\nenvironments:\n  Prod: {server: production, organization_id: " + ORG + "}\n",
         "p.yaml:3:3: environments.Prod: bad key: environment names are lowercase"),
        ("version: 1\nenvironments:\n  prod: {server: prod, organization_id: " + ORG + "}\n",
         "p.yaml:3:18: environments.prod.server: must be production, sandbox, local or an http(s):// URL"),
        ("version: 1\nenvironments:\n  prod: {server: production}\n",
         "p.yaml:3:3: environments.prod: missing required field 'organization_id'"),
        ("version: 1\nenvironments:\n  prod:\n    server: production\n    organization_id: " + ORG
         + "\n    protected: yes\n", "p.yaml:6:16:"),
        ("- 1\n", "p.yaml:1:1: the project file must be a mapping"),
        ("version: [\n", "p.yaml:"),
    ],
)
def test_problems_are_located(text: str, error: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_project(Path("p.yaml"), text.encode())
    assert str(caught.value).startswith(error), str(caught.value)
    assert "\n" not in str(caught.value)


def test_schema_project_prints_the_project_schema() -> None:
    run = invoke("schema", "--project")
    assert run.code == 0
    assert run.out == (ROOT / "schemas" / "project.schema.json").read_text()
    assert json.loads(run.out)["$id"] == "urn:polar-meters:schema:project:1"
