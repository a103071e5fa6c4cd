"""The real `polar-meters` command run in this process (click's runner): the same entry point
as the subprocess helper `tests.support.e2e.cli`, without half a second of start-up per run.

Where a process and this runner could differ, the runner makes this process look like the
child `cli()` starts: no POLAR_* variable from the outside, NO_COLOR=1 unless given, standard
input a pipe (not a terminal) holding ``stdin``, standard output a pipe (so the terminal
width is COLUMNS or 80, as for a child whose output is piped), the working directory
``cwd`` for the run, and an exception that escaped the CLI shown as a traceback with exit 1.
Signals, Ctrl-C and terminals need a real process: those few smoke tests use `e2e.cli`.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from click.testing import CliRunner

from reconciler.cli.main import cli as main_cli
from tests.support.e2e import Run


@contextmanager
def _cwd(folder: Path | None) -> Iterator[None]:
    if folder is None:
        yield
        return
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _piped_terminal_size(fd: int = 1) -> os.terminal_size:
    raise OSError(25, "Inappropriate ioctl for device")  # what a pipe answers


def invoke(*args: str, env: dict[str, str] | None = None, stdin: str = "",
           cwd: Path | None = None) -> Run:
    """Run `polar-meters ARGS`; an exception that escaped the CLI shows as a traceback in err.

    ``cwd``: the working directory during the run (default: stay where the test is)."""
    environ: dict[str, str | None] = {k: None for k in os.environ if k.startswith("POLAR_")}
    environ.update({"NO_COLOR": "1", **(env or {})})
    with _cwd(cwd), mock.patch("os.get_terminal_size", _piped_terminal_size):
        result = CliRunner().invoke(main_cli, list(args), env=environ, input=stdin,
                                    prog_name="polar-meters")
    out, err = result.stdout, result.stderr
    code = getattr(result.exception, "code", None)
    if isinstance(result.exception, SystemExit) and not isinstance(code, int | None):
        # sys.exit("message"): a process prints it on stderr; click's runner, on stdout
        out = out.removesuffix(f"{code}\n")
        err += f"{code}\n"
    elif result.exception is not None and not isinstance(result.exception, SystemExit):
        err += "Traceback (most recent call last):\n" + "".join(
            traceback.format_exception(result.exception))
    return Run(result.exit_code, out, err)
