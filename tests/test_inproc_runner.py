"""The in-process runner (tests/support/inproc.py) gives what a real `polar-meters` process
gives: the same exit code, stdout and stderr, for the cases where they could differ."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.e2e import API_CALLS_YAML, cli
from tests.support.inproc import invoke

CASES = {
    "version": ["--version"],
    "usage error": ["plan", "--no-such-flag"],
    "relative path from cwd": ["validate", "meters.yaml"],
    "missing file": ["validate", "nowhere.yaml"],
    # standard input is a pipe, not a terminal: apply refuses to ask
    "apply without a terminal": ["--server", "local", "apply", "meters.yaml"],
    # no POLAR_ACCESS_TOKEN leaks in from the test's environment
    "no token": ["--server", "sandbox", "plan", "meters.yaml"],
}


@pytest.mark.parametrize("args", list(CASES.values()), ids=list(CASES))
def test_in_process_is_what_a_process_gives(tmp_path: Path, args: list[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "meters.yaml").write_text(API_CALLS_YAML)
    monkeypatch.setenv("POLAR_ACCESS_TOKEN", "polar_oat_from_the_outside")
    real = cli(*args, cwd=tmp_path, stdin="yes\n")
    before = Path.cwd()
    here = invoke(*args, cwd=tmp_path, stdin="yes\n")
    assert Path.cwd() == before  # the runner went back
    assert (here.code, here.out, here.err) == (real.code, real.out, real.err)
    assert "Traceback" not in real.text


def test_sys_exit_with_a_message_goes_to_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.cli import validate

    def stop(*_args: object, **_kwargs: object) -> None:
        raise SystemExit("stopped: a message")

    monkeypatch.setattr(validate.command, "callback", stop)
    run = invoke("validate", "x.yaml")
    assert (run.code, run.out, run.err) == (1, "", "stopped: a message\n")
