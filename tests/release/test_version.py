"""One version number: the package's, everywhere it shows; the schema's `$id` and import's
modeline point where a committed meter file can reach them."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

import httpx
import pytest

from reconciler import SCHEMA_URL, __version__
from reconciler.cli.importcmd import schema_ref
from reconciler.polar.client import USER_AGENT
from tests.support.e2e import Api
from tests.support.inproc import invoke
from tests.support.paths import ROOT


def test_the_version_has_one_source() -> None:
    assert __version__ == "0.2.0"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert invoke("--version").out == f"polar-meters, version {__version__}\n"
    assert USER_AGENT.startswith(f"polar-meters/{__version__} ")


def test_the_changelog_starts_with_this_release() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    first = re.search(r"^## \[?v?(\d+\.\d+\.\d+)", text, re.MULTILINE)
    assert first and first.group(1) == __version__, "CHANGELOG.md has no entry for this version"


def test_the_schema_id_is_the_raw_file_of_this_release() -> None:
    schema = json.loads((ROOT / "schemas" / "meters.schema.json").read_text())
    assert schema["$id"] == SCHEMA_URL
    assert SCHEMA_URL == (
        f"https://raw.githubusercontent.com/OWNER/polar-meters/v{__version__}/schemas/meters.schema.json"
    )
    assert httpx.URL(SCHEMA_URL).scheme == "https"


def _repo(root: Path, with_schema: bool) -> Path:
    (root / ".git").mkdir(parents=True)
    if with_schema:
        (root / "schemas").mkdir()
        (root / "schemas" / "meters.schema.json").write_text("{}")
    (root / "meters" / "team").mkdir(parents=True)
    return root


def test_modeline_is_relative_to_the_written_file_in_a_repository_with_the_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path / "repo", with_schema=True)
    monkeypatch.chdir(tmp_path)  # not where the file goes: the file's place decides
    assert schema_ref(str(repo / "meters" / "team" / "x.yaml")) == "../../schemas/meters.schema.json"
    assert schema_ref(str(repo / "top.yaml")) == "schemas/meters.schema.json"
    monkeypatch.chdir(repo / "meters")
    assert schema_ref(None) == "../schemas/meters.schema.json"


def test_modeline_is_the_url_elsewhere_never_the_installed_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _repo(tmp_path / "repo", with_schema=False)
    (tmp_path / "schemas").mkdir()  # outside the repository: not its schema
    (tmp_path / "schemas" / "meters.schema.json").write_text("{}")
    monkeypatch.chdir(repo)
    assert schema_ref(str(repo / "meters" / "x.yaml")) == SCHEMA_URL
    assert schema_ref(None) == SCHEMA_URL


def test_import_writes_the_modeline(emu, tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo", with_schema=True)
    api = Api(emu)
    api.create({"name": "Seats", "filter": {"conjunction": "and", "clauses": []},
                "aggregation": {"func": "count"}})
    out = repo / "meters" / "team" / "imported.yaml"
    run = invoke("import", "--out", str(out), env=api.env, cwd=tmp_path)
    assert run.code == 0, run.text
    first = out.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../schemas/meters.schema.json"
    assert "site-packages" not in out.read_text() and os.sep + "reconciler" not in first
