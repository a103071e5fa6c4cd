"""`polar-meters emulator`: Polar's meters API on a local port, for trying things offline."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click

from reconciler.emulator.core import PERSONAL_TOKEN_PREFIX, Emulator
from reconciler.emulator.server import make_server
from reconciler.errors import UserError


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
@click.option("--state", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Keep meters in FILE across restarts (default: in memory).")
@click.option("-v", "--verbose", is_flag=True, help="Log every request on stderr.")
def command(
    host: str, port: int, token: str | None, organization_id: str | None, state: Path | None,
    verbose: bool,
) -> None:
    """Run an emulator of Polar's meters API until Ctrl-C.

    It follows Polar's rules (validation, errors, pagination, the lock on meters that have
    seen events) and adds /_emulator/ endpoints for tests. Its token is not a secret: it is
    printed so that polar-meters can be pointed at it.
    """
    try:
        emulator = Emulator(token=token, organization_id=organization_id, state_path=state)
    except (ValueError, UserError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        server = make_server(emulator, host, port, verbose)
    except OSError as exc:
        reason = exc.strerror or exc
        raise click.ClickException(f"cannot listen on {host}:{port}: {reason}") from None
    with server:
        click.echo(f"Polar meters emulator listening on {server.url}")
        click.echo(f"Organization: {emulator.organization_id}")
        click.echo(f"Token: {emulator.token}")
        click.echo(f"State: {state if state is not None else 'in memory (lost on exit)'}")
        env = f"POLAR_SERVER={server.url} POLAR_ACCESS_TOKEN={emulator.token}"
        if emulator.token.startswith(PERSONAL_TOKEN_PREFIX):
            env += f" POLAR_ORGANIZATION_ID={emulator.organization_id}"
        click.echo("Point polar-meters at it with:")
        click.echo(f"  {env} polar-meters plan")
        click.echo("Press Ctrl-C to stop.")
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _stop)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            click.echo("Stopped.")
