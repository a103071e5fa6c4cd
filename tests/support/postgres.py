"""A throwaway PostgreSQL cluster for the oracle suite: initdb in a temporary folder, a server
listening only on a unix socket there, stopped and removed afterwards. As root (CI) the
server runs as the `postgres` user (or `nobody`), since PostgreSQL refuses to run as root.

:func:`find_bindir` says whether the machine has PostgreSQL's server programs; `.ci/run`
installs them from Debian's packages (`apt-get install -y postgresql`).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PORT = 5432  # only names the socket file, inside the cluster's own folder
USER = "oracle"


def find_bindir() -> Path | None:
    """The folder of initdb and postgres, or None when PostgreSQL's server is not installed
    (or ORACLE_HIDE_POSTGRES=1 says to act as if, for the test of that case)."""
    if os.environ.get("ORACLE_HIDE_POSTGRES") == "1":
        return None
    candidates = []
    if initdb := shutil.which("initdb"):
        candidates.append(Path(os.path.realpath(initdb)).parent)
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    return None


def _runner() -> pwd.struct_passwd | None:
    """Who runs the server: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run PostgreSQL")


@contextmanager
def cluster(bindir: Path) -> Iterator[str]:
    """A running server; yields the socket folder (psycopg's ``host``)."""
    folder = Path(tempfile.mkdtemp(prefix="polar-meters-oracle-"))
    runner = _runner()
    uid = None if runner is None else runner.pw_uid
    gid = None if runner is None else runner.pw_gid
    if runner is not None:
        os.chown(folder, runner.pw_uid, runner.pw_gid)
    server: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            [str(bindir / "initdb"), "-D", str(folder / "data"), "-U", USER, "-A", "trust",
             "--locale=C", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, cwd=folder, user=uid, group=gid)
        server = subprocess.Popen(
            [str(bindir / "postgres"), "-D", str(folder / "data"), "-k", str(folder), "-p",
             str(PORT), "-c", "listen_addresses=", "-c", "fsync=off", "-c",
             "full_page_writes=off", "-c", "synchronous_commit=off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=folder, user=uid, group=gid)
        _wait_ready(folder, server)
        yield str(folder)
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)  # fast shutdown
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_ready(folder: Path, server: subprocess.Popen[bytes]) -> None:
    socket = folder / f".s.PGSQL.{PORT}"
    deadline = time.monotonic() + 30
    while not socket.exists():
        if server.poll() is not None:
            err = server.stderr.read().decode(errors="replace") if server.stderr else ""
            raise RuntimeError(f"PostgreSQL did not start: {err.strip()}")
        if time.monotonic() > deadline:
            raise RuntimeError("PostgreSQL did not open its socket within 30 s")
        time.sleep(0.05)
    time.sleep(0.1)


#: Why the oracle suite did not run in this session (printed in pytest's summary).
NOT_RUN: list[str] = []
