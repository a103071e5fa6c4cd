"""The whole run, stage by stage, with no click and no SystemExit: the CLI parses options,
calls one of these and prints what comes back.

plan:   load + validate the configuration (config/) → resolve the target (polar/servers.py)
        → read Polar's meters (polar/client.py) → ask which changed meters are locked
        (plan/locks.py) → make the plan (plan/planner.py): a complete Plan, never changed after
apply:  the same plan, or a saved one read back and checked (plan/document.py,
        plan/staleness.py) → the applier sends each action (apply/applier.py)

Problems are UserErrors (one line each). What would be shown on a terminal while the run
goes on (configuration diagnostics, progress counters) goes to a :class:`Reporter`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler.apply.applier import ApplyResult, Outcome, apply_plan
from reconciler.config.load import load_config
from reconciler.config.project import Environment, Project
from reconciler.config.types import Config
from reconciler.environments import (
    check_files_organization,
    check_plan_environment,
    default_paths,
    environment_meters,
    environment_target,
)
from reconciler.errors import InvalidConfiguration, PolarAPIError, UserError
from reconciler.gcpause import gc_paused
from reconciler.model import RemoteMeter, remote_from_api
from reconciler.plan import document as planfile
from reconciler.plan.archives import ArchiveHolders, archive_candidates
from reconciler.plan.live import LiveAnswers, LiveOptions, Question, live_questions
from reconciler.plan.locks import (
    ALLOW_PREDICTED,
    LOCK_SENSITIVE,
    Locks,
    lock_candidates,
    lock_state,
    predicted_locks,
    with_locks,
)
from reconciler.plan.planner import make_plan
from reconciler.plan.staleness import stale_reasons
from reconciler.plan.targeting import NO_TARGETING, Targeting
from reconciler.plan.types import LockState, Plan
from reconciler.polar.events import NO_EVENTS, ask_all, event_names, skipped_because
from reconciler.polar.holders import read_holders
from reconciler.polar.identity import match_meters
from reconciler.polar.servers import Target, resolve_target
from reconciler.timestamps import json_timestamp

#: ``step(done, total)``: how far a long stage has come.
Step = Callable[[int, int], None]


@contextmanager
def _no_progress(label: str, unit: str) -> Iterator[Step]:
    yield lambda done, total: None


@dataclass
class Reporter:
    """What the run shows while it goes: by default nothing (the CLI passes its printers)."""

    diagnostics: Callable[[Config], None] = lambda config: None
    progress: Callable[[str, str], AbstractContextManager[Step]] = _no_progress


@dataclass(frozen=True)
class Connection:
    """The program's options that say where and how to talk to Polar.

    ``environment`` (of the ``project`` file, polar-meters.yaml) sets the server, the
    organization and the token's variable instead of server/token/organization_id; the
    project also gives the default paths and is where per-environment pins are checked."""

    server: str | None = None
    token: str | None = None
    organization_id: str | None = None
    rate_limit: int | None = None
    parallelism: int | None = None
    debug: Callable[[str], None] | None = None
    environment: Environment | None = None
    project: Project | None = None


@dataclass
class Planned:
    target: Target
    plan: Plan
    remote: list[RemoteMeter]
    config: Config | None = None


@dataclass(frozen=True)
class PlanRequest:
    paths: Sequence[str]
    prune: bool = False
    max_archive: int = 5
    resolve_duplicates: bool = False
    targeting: Targeting = NO_TARGETING
    preview: Callable[[Plan], Any] | None = None  # plan --events
    strict: bool = False  # --strict: every configuration warning is an error
    live: LiveOptions | None = None  # the review against recent events; None: --no-live


# -- stage 1 + 2: the configuration --------------------------------------------------------

def load_valid_config(paths: Sequence[str], reporter: Reporter, strict: bool = False) -> Config:
    """Load and validate; every diagnostic goes to the reporter; errors (with ``strict``,
    warnings too) stop the run here, before any request."""
    config = load_config(list(paths), strict=strict)
    reporter.diagnostics(config)
    if config.errors:
        raise InvalidConfiguration(f"{len(config.errors)} errors in the configuration")
    return config


# -- stage 3: Polar ------------------------------------------------------------------------

def connect(connection: Connection, config_organization_id: str | None) -> Target:
    env = connection.environment
    if env is not None:  # the meter files may name an organization: it must be env's
        check_files_organization(env, config_organization_id)
        target = environment_target(env)
    else:
        target = resolve_target(
            connection.server, connection.token, connection.organization_id, config_organization_id
        )
    return target.tune(connection.rate_limit, connection.parallelism, connection.debug)


def config_paths(paths: Sequence[str], connection: Connection) -> list[str]:
    """PATHS, else the project file's `paths`, else [] (meters/)."""
    return default_paths(paths, connection.project)


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


def parse_remote(items: list[dict[str, Any]]) -> list[RemoteMeter]:
    return _readable([_parsed(item) for item in items])


def check_organization(target: Target, remote: Sequence[RemoteMeter]) -> None:
    """Every meter read must belong to the organization being managed: the one named (by
    the configuration, --organization-id, the emulator), else the token's only one."""
    orgs = {str(m.raw.get("organization_id")) for m in remote}
    expected = target.expected_organization_id or target.organization_id
    if expected and orgs - {expected}:
        raise UserError(
            f"{target.organization_source} names organization {expected}, but the token "
            f"reaches meters of {', '.join(sorted(orgs - {expected}))}: check the token and "
            "the organization id"
        )
    if not expected and len(orgs) > 1:
        raise UserError(
            f"Polar listed meters of several organizations ({', '.join(sorted(orgs))}); "
            "refusing to plan against them: set organization_id"
        )


def read_remote(target: Target, reporter: Reporter) -> list[RemoteMeter]:
    """Every meter of the organization; each page parsed while the next ones are on their way."""
    with target.client() as client, reporter.progress("Reading Polar's meters", "pages") as step:
        remote = _readable(client.list_meters(convert=_parsed, on_page=step))
    check_organization(target, remote)
    return remote


def current_organization(target: Target, remote: Sequence[RemoteMeter]) -> str | None:
    org = target.organization_id or target.expected_organization_id
    if org is None and remote:
        org = str(remote[0].raw.get("organization_id"))
    return org


def read_locks(target: Target, candidates: Sequence[str], reporter: Reporter) -> Locks:
    """Ask Polar what it holds of each of these meters' locks (`parallelism` at once): the
    lock probe, then, unless it confirmed the lock, whether events match (plan/locks.py)."""
    if not candidates:
        return {}
    label = "Asking Polar which changed meters are locked"
    with target.client() as client, reporter.progress(label, "meters") as step:
        counted = itertools.count(1)  # next() is atomic: answers come from several threads

        def state(meter_id: str) -> LockState | None:
            refused = client.meter_refuses_filter(meter_id)
            events = True if refused else client.meter_has_events(meter_id)
            step(next(counted), len(candidates))
            return lock_state(refused, events)

        with ThreadPoolExecutor(client.parallelism) as pool:
            return dict(zip(candidates, pool.map(state, candidates)))


def read_live(
    target: Target, questions: Sequence[Question], options: LiveOptions, reporter: Reporter
) -> LiveAnswers:
    """Ask Polar how many recent events each new or changed filter matches (the first
    --live-limit of them), and which event names it has seen. A token that cannot read
    events, or any other failure of these reads, skips the review with one line: it is
    advice, never a reason to fail the plan."""
    end = datetime.now(UTC).replace(microsecond=0)
    start, end_text = json_timestamp(end - timedelta(days=options.days)), json_timestamp(end)
    asked = tuple(questions[: options.limit])
    answers = LiveAnswers(options, start, end_text, asked, skipped=len(questions) - len(asked))
    if not asked:
        return answers
    label = "Counting the recent events of new and changed filters"
    try:
        with target.client() as client, reporter.progress(label, "meters") as step:
            names = event_names(client)
            if not names:
                return replace(answers, names=names, unavailable=NO_EVENTS)
            counts = ask_all(client, asked, start, end_text, step)
    except PolarAPIError as exc:
        return replace(answers, unavailable=skipped_because(exc))
    return replace(answers, counts=counts, names=names)


def read_archive_holders(
    target: Target, meter_ids: Sequence[str], reporter: Reporter
) -> ArchiveHolders | None:
    """The active products and meter-credit benefits that hold any of these meters (to be
    archived): None when there is none to archive, and then nothing is read."""
    if not meter_ids:
        return None
    label = "Reading the products and benefits that may hold archived meters"
    with target.client() as client, reporter.progress(label, "lists") as step:
        holders = read_holders(client, set(meter_ids))
        step(2, 2)
        return holders


# -- stage 4: the plan ---------------------------------------------------------------------

def plan_run(request: PlanRequest, connection: Connection, reporter: Reporter | None = None) -> Planned:
    """Every stage of a plan, in order."""
    reporter = reporter or Reporter()
    # Reading and planning 10,000 meters makes a million objects, and the cyclic GC would
    # rescan them again and again (0.3 s): none of them needs it before the run ends.
    with gc_paused():
        config = load_valid_config(config_paths(request.paths, connection), reporter, request.strict)
        if request.prune and not config.complete:  # never prune what was not read
            raise UserError("refusing --prune: part of the configuration could not be read")
        # `id: {ENV: …}` pins resolved for this environment: planning itself knows none
        meters = environment_meters(config.meters, connection.project, connection.environment)
        request.targeting.check(meters, request.prune)
        target = connect(connection, config.organization_id)
        remote = read_remote(target, reporter)
        planned = request.targeting.select(meters)
        configured = {d.key for d in meters}
        matched = match_meters(planned, remote, configured)  # once: every use below takes it
        locks = read_locks(target, lock_candidates(planned, remote, matched=matched), reporter)
        live = None
        if request.live is not None:
            questions = live_questions(planned, remote, matched=matched)
            live = read_live(target, questions, request.live, reporter)
        archived = archive_candidates(planned, remote, configured, request.prune,
                                      request.resolve_duplicates)
        holders = read_archive_holders(target, archived, reporter)
        plan = make_plan(
            meters,
            remote,
            server=target.name,
            organization_id=current_organization(target, remote),
            send_organization_id=target.organization_id is not None,
            prune=request.prune,
            max_archive=request.max_archive,
            resolve_duplicates=request.resolve_duplicates,
            locks=locks,
            targeting=request.targeting,
            server_url=target.base_url,
            environment=target.environment,
            config_files=config.files,
            config_digest=config.digest,
            preview=request.preview,
            matched=matched,
            live=live,
            holders=holders,
        )
    return Planned(target, plan, remote, config)


def check_made_from(
    path: str, plan: Plan, paths: Sequence[str], reporter: Reporter, strict: bool = False
) -> None:
    """A saved plan given with PATHS must have been made from exactly those files' bytes."""
    config = load_valid_config(paths, reporter, strict)
    digest = config.digest
    if digest != plan.config_digest:
        raise UserError(
            f"{path} was not made from the configuration at {' '.join(paths)} (digest "
            f"{plan.config_digest}, the files now: {digest}); nothing was sent: re-run plan on "
            "these files"
        )


def saved_plan_run(
    path: str,
    connection: Connection,
    reporter: Reporter | None = None,
    paths: Sequence[str] = (),
    strict: bool = False,
) -> Planned:
    """A saved plan read back, and made sure it still describes these files (when PATHS are
    given; ``strict``: without a warning), this server and its meters."""
    reporter = reporter or Reporter()
    plan = planfile.read(path)
    check_plan_environment(path, plan.environment, connection.environment)
    if paths:
        check_made_from(path, plan, paths, reporter, strict)
    target = connect(connection, plan.organization_id)
    if plan.server_url != target.base_url:
        raise UserError(
            f"{path} was made against {plan.server} ({plan.server_url}), not "
            f"{target.name} ({target.base_url}); run plan against this server"
        )
    remote = read_remote(target, reporter)
    org = current_organization(target, remote)
    if plan.organization_id and org and org != plan.organization_id:
        raise UserError(
            f"{path} was made for organization {plan.organization_id}, not {org}; "
            "run plan against this organization"
        )
    reasons = stale_reasons(plan, remote) or planfile.disagreements(plan, remote)
    if reasons:
        shown = "; ".join(reasons[:5]) + (f"; and {len(reasons) - 5} more" if len(reasons) > 5 else "")
        raise UserError(f"the plan is stale: re-run plan ({shown})")
    # a meter may have processed its first events since the plan was made
    candidates = [a.meter_id for a in plan.actions if a.meter_id and a.changed_fields & set(LOCK_SENSITIVE)]
    locks = read_locks(target, candidates, reporter)
    return Planned(target, replace(plan, actions=with_locks(plan.actions, locks)), remote)


# -- stage 5: apply ------------------------------------------------------------------------

def check_appliable(plan: Plan, allow_predicted_lock_change: bool = False) -> None:
    """Refuse a plan holding changes Polar would refuse, or, unless allowed, filter or
    aggregation changes to meters Polar is about to lock: nothing is sent."""
    if plan.problems:
        keys = ", ".join(a.key for a in plan.problems)
        raise UserError(
            f"refusing to apply: Polar would refuse the changes marked ! error ({keys}); "
            "nothing was sent"
        )
    predicted = predicted_locks(plan.actions)
    if predicted and not allow_predicted_lock_change:
        keys = ", ".join(a.key for a in predicted)
        raise UserError(
            f"refusing to apply: {keys} {'has' if len(predicted) == 1 else 'have'} matched "
            "events, and Polar will lock such a meter at its next billing run, so a filter or "
            f"aggregation change may be refused; {ALLOW_PREDICTED} tries it (a refusal is "
            "reported, the other changes still applied), --exclude leaves it out; nothing was sent"
        )


def apply_run(planned: Planned, on_outcome: Callable[[Outcome], None] = lambda _: None) -> ApplyResult:
    """Send every action of the plan; each outcome is reported as it completes."""
    with planned.target.client() as client:
        return apply_plan(planned.plan, client, on_outcome=on_outcome)


__all__ = [
    "Connection", "PlanRequest", "Planned", "Reporter", "apply_run", "check_appliable",
    "config_paths", "connect", "current_organization", "load_valid_config", "parse_remote",
    "plan_run", "read_archive_holders", "read_live", "read_locks", "read_remote", "saved_plan_run"
]
