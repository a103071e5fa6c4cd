"""Two emulated organizations behind one emulator, and a project file naming them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from reconciler.emulator.core import Emulator
from reconciler.emulator.organizations import Organizations, OrgSpec
from reconciler.emulator.server import start_background
from tests.support.e2e import API_CALLS_YAML

SANDBOX_ORG = "1dbfc517-0bbf-4301-9ba8-555ca42b9737"
PRODUCTION_ORG = "9a0c1e2d-3f4a-4b5c-8d6e-7f8091a2b3c4"
TOKENS = {"sandbox": "polar_oat_sandbox-token-0001", "production": "polar_oat_production-token-02"}
TOKEN_ENV = {"POLAR_SANDBOX_TOKEN": TOKENS["sandbox"],
             "POLAR_PRODUCTION_TOKEN": TOKENS["production"]}


@dataclass
class TwoOrgs:
    url: str
    orgs: Organizations

    def core(self, name: str) -> Emulator:
        return self.orgs.emulators[name]

    def http(self, name: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10,
                            headers={"Authorization": f"Bearer {TOKENS[name]}"})

    def meters(self, name: str) -> list[dict[str, Any]]:
        with self.http(name) as http:
            answer = http.get("/v1/meters/", params={"limit": 100})
            answer.raise_for_status()
            return answer.json()["items"]

    def create(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.http(name) as http:
            answer = http.post("/v1/meters/", json=body)
            assert answer.status_code == 201, answer.text
            return answer.json()

    def writes(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.core(name).requests() if r["method"] in ("POST", "PATCH")]


@contextmanager
def two_orgs() -> Iterator[TwoOrgs]:
    orgs = Organizations([OrgSpec("sandbox", SANDBOX_ORG, TOKENS["sandbox"]),
                          OrgSpec("production", PRODUCTION_ORG, TOKENS["production"])])
    server = start_background(orgs, "127.0.0.1", 0)
    try:
        yield TwoOrgs(server.url, orgs)
    finally:
        server.close()


def write_project(root: Path, url: str, protected: bool = True, meters: str | None = API_CALLS_YAML) -> Path:
    """root/polar-meters.yaml naming both organizations, and root/meters/api.yaml holding
    METERS (None: the meter files are there already)."""
    (root / "meters").mkdir(exist_ok=True)
    if meters is not None:
        (root / "meters" / "api.yaml").write_text(meters)
    project = root / "polar-meters.yaml"
    project.write_text(
        "version: 1\n"
        "paths: [meters/]\n"
        "environments:\n"
        f"  sandbox: {{server: '{url}', organization_id: {SANDBOX_ORG}, "
        "token_env: POLAR_SANDBOX_TOKEN}\n"
        f"  production: {{server: '{url}', organization_id: {PRODUCTION_ORG}, "
        f"token_env: POLAR_PRODUCTION_TOKEN, protected: {'true' if protected else 'false'}}}\n"
    )
    return project
