"""The optional project file, ``polar-meters.yaml``: default meter paths and environments.

Found from the working directory upwards (or named with ``--project FILE``), validated by
``schemas/project.schema.json``. Without one, polar-meters works exactly as without
environments.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.config.schema import ecma_validator
from reconciler.config.schema_errors import reference_findings
from reconciler.config.yamlnodes import load_yaml
from reconciler.errors import UserError

if TYPE_CHECKING:
    from jsonschema import Draft7Validator

PROJECT_FILE = "polar-meters.yaml"
DEFAULT_TOKEN_ENV = "POLAR_ACCESS_TOKEN"


@dataclass(frozen=True)
class Environment:
    """One organization on one server, as the project file names it."""

    name: str
    server: str
    organization_id: str
    token_env: str = DEFAULT_TOKEN_ENV
    protected: bool = False


@dataclass
class Project:
    path: Path
    paths: list[str] = field(default_factory=list)  # relative to the working directory
    environments: dict[str, Environment] = field(default_factory=dict)

    def environment(self, name: str) -> Environment:
        if name not in self.environments:
            known = ", ".join(self.environments) or "none"
            raise UserError(
                f"{self.path}: no environment {name!r} (environments: {known})"
            )
        return self.environments[name]


@lru_cache(maxsize=1)
def project_schema_text() -> str:
    """The project file schema's exact text (shipped as reconciler/project.schema.json)."""
    return (files("reconciler") / "project.schema.json").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _validator() -> Draft7Validator:
    return ecma_validator(json.loads(project_schema_text()))


def find_project(start: Path | None = None) -> Path | None:
    """``polar-meters.yaml`` in ``start`` (default: the working directory) or above it."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


def load_project(given: str | None) -> Project | None:
    """The project named by ``--project`` (it must exist), else the one found; None if none."""
    if given is not None:
        path = Path(given)
        if not path.is_file():
            raise UserError(f"{given}: no such project file")
    else:
        found = find_project()
        if found is None:
            return None
        path = _shown(found)
    return parse_project(path, _read(path))


def _shown(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None


def parse_project(path: Path, data: bytes) -> Project:
    """Validate and read the project file; the first problem, located, is a UserError."""
    doc = load_yaml(data)
    for problem in doc.problems:
        raise UserError(f"{_where(path, problem.position)}{problem.message}")
    value: Any = doc.value
    if not isinstance(value, dict):
        raise UserError(f"{path}:1:1: the project file must be a mapping (version: 1, ...)")
    for finding in reference_findings(value, _validator()):
        position = doc.position(finding.path or (), prefer_key=finding.at_key)
        raise UserError(f"{_where(path, position)}{finding.text}")
    base = path.parent
    paths = [_relative(base, p) for p in value.get("paths", [])]
    environments = {
        name: Environment(
            name=name,
            server=env["server"],
            organization_id=env["organization_id"].lower(),
            token_env=env.get("token_env", DEFAULT_TOKEN_ENV),
            protected=env.get("protected", False),
        )
        for name, env in value.get("environments", {}).items()
    }
    return Project(path, paths, environments)


def _relative(base: Path, given: str) -> str:
    """A path of the project file, as the working directory reaches it."""
    shown = os.path.relpath(base / given)
    return shown + "/" if given.endswith("/") else shown


def _where(path: Path, position: tuple[int, int] | None) -> str:
    line, col = position or (1, 1)
    return f"{path}:{line}:{col}: "
