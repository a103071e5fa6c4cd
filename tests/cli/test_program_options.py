"""The program's options before or after the command (issue 16), listed in each --help."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.e2e import API_CALLS_YAML
from tests.support.inproc import invoke

OPTIONS = ["--server", "--token", "--organization-id", "--rate-limit", "--parallelism", "--debug"]


@pytest.mark.parametrize("command", ["plan", "apply", "import", "quantities", "customer-meters"])
def test_each_command_lists_the_program_options(command: str) -> None:
    run = invoke(command, "--help")
    assert run.code == 0, run.text
    assert all(option in run.out for option in OPTIONS)


def test_options_work_after_the_command(emu, tmp_path: Path) -> None:
    path = tmp_path / "meters.yaml"
    path.write_text(API_CALLS_YAML)
    run = invoke("plan", str(path), "--server", emu.url, "--token", emu.token, "--parallelism", "2")
    assert run.code == 0 and "1 to create" in run.out, run.text
    run = invoke("apply", "--auto-approve", str(path), "--debug", "--server", emu.url, "--token", emu.token)
    assert run.code == 0 and "debug: POST /v1/meters/" in run.err, run.text
    # after the command wins over before it
    run = invoke("--server", "http://127.0.0.1:9", "plan", str(path), "--server", emu.url, "--token", emu.token)
    assert run.code == 0 and "No changes." in run.out, run.text
