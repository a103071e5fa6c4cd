"""What plan and apply share: load the configuration, reach Polar, read its meters, plan."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import click

from reconciler.config.load import load_config
from reconciler.config.types import Config
from reconciler.errors import UserError
from reconciler.gcpause import gc_paused
from reconciler.model import RemoteMeter, remote_from_api
from reconciler.plan.planner import annotate_locks, lock_candidates, make_plan
from reconciler.plan.types import Plan
from reconciler.polar.servers import Target, resolve_target
from reconciler.render.diagnostics import report_diagnostics
from reconciler.render.progress import Progress

paths_argument = click.argument("paths", nargs=-1, type=click.Path(path_type=str))


@dataclass
class Planned:
    target: Target
    plan: Plan
    remote: list[RemoteMeter]


def load_valid_config(paths: Sequence[str], fmt: str = "text") -> Config:
    """Load and validate; print every problem and stop before any request when invalid."""
    config = load_config(list(paths))
    if not report_diagnostics(config, "github" if fmt == "github" else "text"):
        raise SystemExit(1)
    return config


def _debug_line(text: str) -> None:
    click.echo(f"debug: {text}", err=True)


def target_from_context(ctx: click.Context, organization_id: str | None) -> Target:
    opts = ctx.find_root().obj or {}
    target = resolve_target(
        opts.get("server"), opts.get("token"), opts.get("organization_id"), organization_id
    )
    return target.tune(
        opts.get("rate_limit"), opts.get("parallelism"), _debug_line if opts.get("debug") else None
    )


def parse_remote(items: list[dict]) -> list[RemoteMeter]:  # type: ignore[type-arg]
    return _readable([_parsed(item) for item in items])


def _parsed(item: dict[str, Any]) -> RemoteMeter | ValueError:
    try:
        return remote_from_api(item)
    except ValueError as exc:
        return exc  # for _readable to raise, in the main thread


def _readable(parsed: list[RemoteMeter | ValueError]) -> list[RemoteMeter]:
    for meter in parsed:
        if isinstance(meter, ValueError):
            raise UserError(f"Polar answered something polar-meters cannot read: {meter}")
    return parsed  # type: ignore[return-value]


def read_remote(target: Target) -> list[RemoteMeter]:
    # each page parsed while the next ones are on their way; a counter on a terminal, but
    # not over --debug's lines
    counter = Progress("Reading Polar's meters", "pages", quiet=target.debug is not None)
    with target.client() as client, counter as progress:
        remote = _readable(client.list_meters(convert=_parsed, on_page=progress))
    expected = target.expected_organization_id
    others = sorted({str(m.raw.get("organization_id")) for m in remote} - {expected or ""})
    if expected and others:
        raise UserError(
            f"the configuration is for organization {expected}, but the token reaches meters "
            f"of {', '.join(others)}: check the token and organization_id"
        )
    return remote


def current_organization(target: Target, remote: list[RemoteMeter]) -> str | None:
    org = target.organization_id or target.expected_organization_id
    if org is None and remote:
        org = str(remote[0].raw.get("organization_id"))
    return org


prune_options = [
    click.option(
        "--prune",
        is_flag=True,
        help="Archive managed meters (tagged by polar-meters) that are no longer configured. "
        "Meters polar-meters does not manage are never archived.",
    ),
    click.option(
        "--max-archive",
        type=click.IntRange(min=0),
        default=5,
        show_default=True,
        help="With --prune, refuse to archive more meters than this.",
    ),
]


def with_prune_options(f):  # type: ignore[no-untyped-def]
    for option in reversed(prune_options):
        f = option(f)
    return f


def read_locks(target: Target, plan: Plan) -> None:
    """Ask Polar, for each meter whose filter/aggregation would change, whether it is locked
    (`parallelism` questions at once)."""
    candidates = lock_candidates(plan)
    if not candidates:
        return
    label = "Asking Polar which changed meters have processed events"
    counter = Progress(label, "meters", quiet=target.debug is not None)
    with target.client() as client, counter as progress:

        def locked(meter_id: str) -> bool | None:
            answer = client.meter_has_events(meter_id)
            progress.step(len(candidates))
            return answer

        with ThreadPoolExecutor(client.parallelism) as pool:
            annotate_locks(plan, dict(zip(candidates, pool.map(locked, candidates))))


def plan_from_context(
    ctx: click.Context,
    paths: Sequence[str],
    fmt: str = "text",
    prune: bool = False,
    max_archive: int = 5,
) -> Planned:
    # Reading and planning 10,000 meters makes a million objects, and the cyclic GC would
    # rescan them again and again (0.3 s): none of them needs it before the run ends.
    with gc_paused():
        config = load_valid_config(paths, fmt)
        if prune and not config.complete:  # never prune what was not read
            raise UserError("refusing --prune: part of the configuration could not be read")
        target = target_from_context(ctx, config.organization_id)
        remote = read_remote(target)
        plan = make_plan(
            config.meters,
            remote,
            server=target.name,
            organization_id=current_organization(target, remote),
            send_organization_id=target.organization_id is not None,
            prune=prune,
            max_archive=max_archive,
        )
        read_locks(target, plan)
    plan.server_url = target.base_url
    plan.config_files = list(config.files)
    plan.config_digest = config.digest
    return Planned(target, plan, remote)
