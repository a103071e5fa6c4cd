"""The real `polar-meters` command run in this process (click's runner): the same entry point
as the subprocess helper in e2e_helpers.py, without half a second of start-up per run."""

from __future__ import annotations

import os
import traceback

from click.testing import CliRunner

from reconciler.cli.main import cli as main_cli
from tests.support.e2e import Run


def invoke(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> Run:
    """Run `polar-meters ARGS`; an exception that escaped the CLI shows as a traceback in err."""
    environ: dict[str, str | None] = {k: None for k in os.environ if k.startswith("POLAR_")}
    environ.update({"NO_COLOR": "1", **(env or {})})
    result = CliRunner().invoke(main_cli, list(args), env=environ, input=stdin,
                                prog_name="polar-meters")
    err = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        err += "Traceback (most recent call last):\n" + "".join(
            traceback.format_exception(result.exception))
    return Run(result.exit_code, result.stdout, err)
