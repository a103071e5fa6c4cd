"""Which organizations a run of the action is for: the one of --server/POLAR_ACCESS_TOKEN,
or the environments of polar-meters.yaml named by the `environments` input (each gets its
own `--env NAME`, its own token variable, its own plan file and its own reviewed digest)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEFAULT_TOKEN = "POLAR_ACCESS_TOKEN"


def token_variables(environments: list[str], project: str | None) -> list[str] | None:
    """The variables the run reads Polar tokens from ([] : none needed, every environment is
    `server: local`); None when the project cannot tell (polar-meters will say why)."""
    if not environments:
        return [DEFAULT_TOKEN]
    from reconciler.config.project import load_project  # the polar-meters this job installed
    from reconciler.errors import UserError

    try:
        found = load_project(project)
        if found is None:
            return None
        chosen = [found.environment(name) for name in environments]
    except UserError:
        return None
    return sorted({env.token_env for env in chosen if env.server != "local"})


def plan_out(workdir: Path, environments: list[str]) -> Path:
    """Where plan --out writes: a directory holding ENV.json with several environments."""
    return workdir / ("plans" if len(environments) > 1 else "plan.json")


def plan_documents(out: Path, environments: list[str]) -> dict[str | None, dict[str, Any]]:
    """Each environment's saved plan document (None: the plan made without environments)."""
    if len(environments) > 1:
        return {env: _read(out / f"{env}.json") for env in environments}
    document = _read(out)
    return {document.get("environment"): document}


def _read(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document
