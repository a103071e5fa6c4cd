"""Run one command as a subprocess and measure it: wall time, CPU (user + system, from the
child's own rusage, so the emulator's CPU is not counted), peak resident memory."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Measured:
    exit_code: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    stdout: str
    stderr: str


def run_measured(args: list[str], env: dict[str, str] | None = None,
                 timeout: float = 900.0) -> Measured:
    """``python ARGS`` in the repository root; rusage comes from ``os.wait4``."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("POLAR_")}
    full_env.update(env or {})
    full_env["NO_COLOR"] = "1"
    out_path, err_path = _scratch("out"), _scratch("err")
    with out_path.open("w+") as out, err_path.open("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=full_env,
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        try:
            _, status, usage = _wait4(process.pid, timeout)
        except TimeoutError:
            process.kill()
            process.wait()
            raise
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    out_path.unlink()
    err_path.unlink()
    return Measured(process.returncode, wall, usage.ru_utime + usage.ru_stime,
                    usage.ru_maxrss / 1024, stdout, stderr)


def _wait4(pid: int, timeout: float) -> tuple[int, int, resource.struct_rusage]:
    deadline = time.monotonic() + timeout
    while True:
        waited, status, usage = os.wait4(pid, os.WNOHANG)
        if waited:
            return waited, status, usage
        if time.monotonic() > deadline:
            raise TimeoutError(f"process {pid} still running after {timeout:.0f} s")
        time.sleep(0.005)


def _scratch(kind: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=f"polar-meters-bench-{kind}-")
    os.close(fd)
    return Path(name)
