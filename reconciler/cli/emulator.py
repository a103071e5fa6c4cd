"""`polar-meters emulator`: Polar's meters API on a local port, for trying things offline."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click

from reconciler.emulator.billing import BillingTimer
from reconciler.emulator.core import PERSONAL_TOKEN_PREFIX, Emulator
from reconciler.emulator.faults import FaultPolicy
from reconciler.emulator.organizations import Organizations, parse_org
from reconciler.emulator.server import make_server
from reconciler.errors import UserError


def _emulators(
    token: str | None, organization_id: str | None, orgs: tuple[str, ...], state: Path | None,
    **options: Any,
) -> Emulator | Organizations:
    """One organization (--token, --organization-id), or several (--org); OPTIONS (billing
    interval, unstable sort) go to each."""
    try:
        if not orgs:
            if state is not None and state.is_dir():
                raise ValueError(f"--state {state} is a directory: name a file (or use --org)")
            return Emulator(token=token, organization_id=organization_id, state_path=state,
                            **options)
        if token or organization_id:
            raise ValueError("--org names each organization's id and token: drop --token and "
                             "--organization-id")
        if state is not None and state.is_file():
            raise ValueError(f"--state {state} is a file: with --org it is a directory")
        return Organizations([parse_org(text) for text in orgs], state, **options)
    except (ValueError, UserError) as exc:
        raise click.ClickException(str(exc)) from None


def _describe_one(emulator: Emulator, url: str, state: str) -> None:
    click.echo(f"Organization: {emulator.organization_id}")
    click.echo(f"Token: {emulator.token}")
    click.echo(state)
    env = f"POLAR_SERVER={url} POLAR_ACCESS_TOKEN={emulator.token}"
    if emulator.token.startswith(PERSONAL_TOKEN_PREFIX):
        env += f" POLAR_ORGANIZATION_ID={emulator.organization_id}"
    click.echo("Point polar-meters at it with:")
    click.echo(f"  {env} polar-meters plan")


def _describe_organizations(orgs: Organizations, url: str) -> None:
    for name, emulator in orgs.emulators.items():
        click.echo(f"Organization {name}: {emulator.organization_id} (token {emulator.token})")
    click.echo("Point polar-meters at them with these environments in polar-meters.yaml:")
    click.echo("  environments:")
    for name, emulator in orgs.emulators.items():
        click.echo(f"    {name}: {{server: {url}, organization_id: {emulator.organization_id}, "
                   f"token_env: {token_variable(name)}}}")
    tokens = " ".join(f"{token_variable(n)}={e.token}" for n, e in orgs.emulators.items())
    click.echo(f"  {tokens} polar-meters --env {next(iter(orgs.emulators))} plan")


def token_variable(name: str) -> str:
    """The token variable suggested for an organization: POLAR_<NAME>_TOKEN."""
    return f"POLAR_{name.upper().replace('-', '_')}_TOKEN"


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--token", default=None, metavar="TOKEN",
              help="Token to accept (polar_oat_… or polar_pat_…); generated when omitted.")
@click.option("--organization-id", default=None, metavar="UUID",
              help="The emulated organization's id (a UUID4); generated when omitted.")
@click.option("--org", "orgs", multiple=True, metavar="NAME:UUID:TOKEN",
              help="Serve this organization, reached with this token; repeat it for several "
              "(e.g. sandbox and production of a polar-meters.yaml). Instead of --token and "
              "--organization-id.")
@click.option("--state", type=click.Path(path_type=Path), default=None,
              metavar="FILE", help="Keep meters in FILE across restarts (default: in memory); "
              "with --org, a directory holding NAME.json for each organization.")
@click.option("-v", "--verbose", is_flag=True, help="Log every request on stderr.")
@click.option("--latency-ms", default=0, type=click.IntRange(min=0), metavar="N",
              help="Delay every answer by N milliseconds.")
@click.option("--fail-rate", default=0.0, type=click.FloatRange(0, 1), metavar="F",
              help="Answer this share of requests 500, 502 or 503 without doing them.")
@click.option("--drop-rate", default=0.0, type=click.FloatRange(0, 1), metavar="F",
              help="Do this share of writes (POST, PATCH), then close the connection unanswered.")
@click.option("--rate-limit", default=None, type=click.IntRange(min=1), metavar="N",
              help="Allow N requests per window per token, then 429 (Polar: 500, sandbox 100).")
@click.option("--rate-limit-window", default=60.0, show_default=True,
              type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="The rate limit's fixed window.")
@click.option("--billing-interval", default=None, type=click.FloatRange(min=0, min_open=True),
              metavar="SECONDS",
              help="Lock meters only at billing passes every SECONDS, as Polar's billing job "
                   "does (every 15 minutes); default: the request that brings matching events "
                   "locks at once. POST /_emulator/billing runs a pass now.")
@click.option("--unstable-sort", is_flag=True,
              help="Order meters of equal sort keys anew on every listing, as Polar's sort "
                   "without a tie-breaker may: pages then overlap or skip.")
@click.option("--seed", default=None, type=int, metavar="N",
              help="Seed for the random faults, to replay a run (default: a random one).")
def command(
    host: str, port: int, token: str | None, organization_id: str | None, orgs: tuple[str, ...],
    state: Path | None,
    verbose: bool, latency_ms: int, fail_rate: float, drop_rate: float, rate_limit: int | None,
    rate_limit_window: float, billing_interval: float | None, unstable_sort: bool,
    seed: int | None,
) -> None:
    """Run an emulator of Polar's meters API until Ctrl-C.

    It follows Polar's rules (validation, errors, pagination, the lock on meters that have
    seen events) and adds /_emulator/ endpoints for tests. Its token is not a secret: it is
    printed so that polar-meters can be pointed at it.

    The fault options make it an unreliable Polar, to test retries: they never touch the
    /_emulator/ endpoints, and GET /_emulator/faults counts what they did.
    """
    faults = FaultPolicy(
        latency_ms=latency_ms, fail_rate=fail_rate, drop_rate=drop_rate, rate_limit=rate_limit,
        window_seconds=rate_limit_window, seed=seed,
    )
    emulator = _emulators(token, organization_id, orgs, state,
                          billing_interval=billing_interval, unstable_sort=unstable_sort)
    try:
        server = make_server(emulator, host, port, verbose, faults)
    except OSError as exc:
        reason = exc.strerror or exc
        raise click.ClickException(f"cannot listen on {host}:{port}: {reason}") from None
    with server:
        click.echo(f"Polar meters emulator listening on {server.url}")
        shown = f"State: {state if state is not None else 'in memory (lost on exit)'}"
        if isinstance(emulator, Organizations):
            _describe_organizations(emulator, server.url)
            click.echo(shown)
        else:
            _describe_one(emulator, server.url, shown)
        click.echo(f"Faults: {faults.describe()}")
        click.echo("Billing: " + (
            "the request that brings matching events locks the meter" if billing_interval is None
            else f"a pass every {billing_interval:g} s locks the meters events match"))
        click.echo("Press Ctrl-C to stop.")
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _stop)
        every = emulator.emulators.values() if isinstance(emulator, Organizations) else [emulator]
        timers = [BillingTimer(e, billing_interval).start() for e in every] if billing_interval else []
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            click.echo("Stopped.")
        finally:
            for timer in timers:
                timer.stop()
