"""Which environments a run is for, and the Target of each (issue 18).

An environment (declared in the project file) sets the server, the organization and where
the token comes from, so it cannot be combined with --server, --organization-id or --token.
Without a project file, or one without environments, nothing here changes anything.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.config.project import DEFAULT_TOKEN_ENV, Environment, Project
from reconciler.errors import UserError
from reconciler.model import DesiredMeter, Diagnostic
from reconciler.polar.servers import LOCAL_STATE, Target, resolve_target


@dataclass(frozen=True)
class Overrides:
    """The program options an environment would contradict, as given (None: not given)."""

    server: str | None = None
    organization_id: str | None = None
    token: str | None = None  # only when given as --token, not read from POLAR_ACCESS_TOKEN


def select_environments(
    project: Project | None, names: Sequence[str], all_envs: bool, overrides: Overrides
) -> list[Environment]:
    """The environments asked for, in the order asked (all: the project's order); [] when
    the run is not about environments (then the options work as they always have)."""
    if all_envs:
        if project is None or not project.environments:
            raise UserError("--all-envs needs a polar-meters.yaml that declares environments")
        names = list(project.environments)
    if not names:
        if project is not None and project.environments and _any(overrides) is None:
            known = ", ".join(project.environments)
            raise UserError(
                f"{project.path} declares environments ({known}): choose one with --env NAME "
                "(or POLAR_METERS_ENV)"
            )
        return []
    if project is None:
        raise UserError(
            "--env needs a project file: no polar-meters.yaml here or above (or pass --project FILE)"
        )
    clash = _any(overrides)
    if clash is not None:
        raise UserError(f"--env sets the server, organization and token: drop {clash}")
    unique = list(dict.fromkeys(names))
    return [project.environment(name) for name in unique]


def _any(overrides: Overrides) -> str | None:
    """The first override given, as the user would name it; None when there is none."""
    if overrides.server is not None:
        return "--server (POLAR_SERVER)"
    if overrides.organization_id is not None:
        return "--organization-id (POLAR_ORGANIZATION_ID)"
    if overrides.token is not None:
        return "--token"
    return None


def local_state(env: Environment) -> Path:
    """Where `server: local` keeps an environment's meters: one file per environment."""
    return LOCAL_STATE.parent / f"{env.name}.json"


def environment_target(env: Environment, environ: Mapping[str, str] | None = None) -> Target:
    """The Target of one environment: its server and organization, the token from its
    variable (never printed; only its name is)."""
    environ = os.environ if environ is None else environ
    if env.server == "local":
        target = resolve_target("local", None, None, env.organization_id, local_state(env))
    else:
        token = environ.get(env.token_env)
        if not token:
            how = "" if env.token_env != DEFAULT_TOKEN_ENV else " (or set token_env in polar-meters.yaml)"
            raise UserError(
                f"environment {env.name}: no access token: set {env.token_env}{how}"
            )
        target = resolve_target(env.server, token, None, env.organization_id)
    target.environment = env.name
    target.organization_source = f"environment {env.name} (polar-meters.yaml)"
    return target


def check_files_organization(env: Environment, files_organization: str | None) -> None:
    """Meter files that name an organization must name this environment's."""
    if files_organization and files_organization != env.organization_id:
        raise UserError(
            f"the meter files name organization_id {files_organization}, but environment "
            f"{env.name} is organization {env.organization_id}: with environments, leave "
            "organization_id out of the meter files"
        )


def pinned_for(meters: Sequence[DesiredMeter], env: Environment | None) -> list[DesiredMeter]:
    """The meters with each `id: {ENV: …}` pin resolved for ``env`` (a plain `id:` applies
    to every environment); refuses per-environment pins in a run without one."""
    out: list[DesiredMeter] = []
    for meter in meters:
        if meter.pins is None:
            out.append(meter)
            continue
        if env is None:
            where = f"{meter.location}: " if meter.location else ""
            raise UserError(
                f"{where}meters.{meter.key}.id pins an id per environment "
                f"({', '.join(meter.pins)}): choose one with --env NAME"
            )
        out.append(DesiredMeter(meter.key, meter.spec, meter.pins.get(env.name), meter.location,
                                meter.pins))
    return out


def environment_meters(
    meters: Sequence[DesiredMeter], project: Project | None, env: Environment | None
) -> list[DesiredMeter]:
    """The configured meters as ENV sees them (pins resolved, see pinned_for); a pin for an
    environment the project does not declare is an error at its meter."""
    if project is not None:
        unknown = unknown_pin_environments(meters, project)
        if unknown:
            raise UserError("; ".join(str(d) for d in unknown))
    return pinned_for(meters, env)


def default_paths(paths: Sequence[str], project: Project | None) -> list[str]:
    """PATHS as given, else the project file's `paths`, else [] (meters/)."""
    if paths:
        return list(paths)
    return list(project.paths) if project is not None else []


def check_plan_environment(path: str, plan_environment: str | None, env: Environment | None) -> None:
    """A saved plan is applied only to the environment it was made for."""
    chosen = env.name if env is not None else None
    if plan_environment == chosen:
        return
    if plan_environment is None:
        raise UserError(f"{path} was made without an environment, not for {chosen}; "
                        f"run plan --env {chosen}")
    if chosen is None:
        raise UserError(f"{path} was made for environment {plan_environment}: apply it with "
                        f"--env {plan_environment}")
    raise UserError(
        f"{path} was made for environment {plan_environment}, not {chosen}: apply it with "
        f"--env {plan_environment}, or run plan --env {chosen}"
    )


def unknown_pin_environments(meters: Sequence[DesiredMeter], project: Project) -> list[Diagnostic]:
    """Pins naming an environment the project does not declare: an error each, at its meter."""
    return [
        Diagnostic("error", f"meters.{m.key}.id names environment {name!r}, which "
                   f"{project.path} does not declare", m.location)
        for m in meters
        for name in (m.pins or {})
        if name not in project.environments
    ]
