"""Which files a configuration is (issue 15): links, unreadable directories, files that are
not meter files, the digest of what was read, and a cost linear in the number of files."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from bench.config_cpu import write_files
from reconciler.config import discovery
from reconciler.config.load import load_config
from tests.conftest import RunningEmulator
from tests.support.builders import meter_file
from tests.support.e2e import Api, Run
from tests.support.inproc import invoke

TOKEN = "polar_oat_S3cr3tT0kenThatMustNeverBePrinted"


def messages(paths: list[Path]) -> list[str]:
    return [str(d) for d in load_config([str(p) for p in paths]).diagnostics]


def test_a_linked_directory_is_an_error_and_the_reading_incomplete(tmp_path: Path) -> None:
    meters = tmp_path / "meters"
    meters.mkdir()
    meter_file(meters / "main.yaml", 1)
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "more.yaml").write_text("version: 1\nmeters: {}\n")
    (meters / "team").symlink_to(tmp_path / "team")
    config = load_config([str(meters)])
    assert [str(d) for d in config.errors] == [(
        f"{meters / 'team'}: a symbolic link to a directory: not followed (name its target "
        "instead); nothing below it was read")]
    assert not config.complete


def test_an_unreadable_directory_is_an_error(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    meters = tmp_path / "meters"
    (meters / "locked").mkdir(parents=True)
    meter_file(meters / "main.yaml", 1)
    (meters / "locked" / "m.yaml").write_text("version: 1\nmeters: {}\n")
    scandir = os.scandir

    def refusing(path: str) -> object:  # as the kernel answers a non-root user on mode 000
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    config = load_config([str(meters)])
    assert [str(d) for d in config.errors] == [(
        f"{meters / 'locked'}: cannot read this directory: Permission denied; nothing below it "
        "was read")]
    assert not config.complete


def test_a_link_out_of_the_directory_is_refused_unread(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"POLAR_ACCESS_TOKEN={TOKEN}\n")
    meters = tmp_path / "meters"
    meters.mkdir()
    meter_file(meters / "main.yaml", 1)
    (meters / "env.yaml").symlink_to("../.env")
    config = load_config([str(meters)])
    assert [str(d) for d in config.errors] == [(
        f"{meters / 'env.yaml'}: a symbolic link that leads outside {meters}: refused (it was "
        "not read)")]
    assert config.files == [str(meters / "main.yaml")]
    assert not config.complete


def test_a_link_inside_the_directory_is_read_once(tmp_path: Path) -> None:
    meters = tmp_path / "meters"
    meters.mkdir()
    meter_file(meters / "main.yaml", 2)
    (meters / "zz-again.yaml").symlink_to("main.yaml")
    config = load_config([str(meters)])
    assert config.diagnostics == [] and config.complete
    assert [m.key for m in config.meters] == ["m000", "m001"]


@pytest.mark.parametrize("content", [f"{TOKEN}\n", f"TOKEN={TOKEN}\n", f"TOKEN: {TOKEN}\n",
                                     f"TOKEN: 0x{TOKEN[-8:]}\n"])
def test_a_file_that_is_not_a_meter_file_is_never_quoted(tmp_path: Path, content: str) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text(content)
    shown = messages([secret])
    assert len(shown) == 1 and shown[0].startswith(f"{secret}:1:1: the top level must be a "
                                                   "mapping")
    assert TOKEN[3:] not in shown[0] and TOKEN[-8:] not in shown[0]


def test_the_digest_is_of_the_bytes_read(tmp_path: Path) -> None:
    path = meter_file(tmp_path / "m.yaml", 1)
    data = path.read_bytes()
    config = load_config([str(path)])
    path.unlink()  # gone after reading: the digest is still that of what was read
    assert config.digest == discovery.digest([(str(path), data)])
    assert config.digest != discovery.digest([(str(path), data + b"\n")])


def test_a_file_that_changes_while_read_is_an_error(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = meter_file(tmp_path / "m.yaml", 1)
    monkeypatch.setattr(Path, "read_bytes", lambda self: b"version: 1\nmeters: {}\n")
    config = load_config([str(path)])
    assert [str(d) for d in config.errors] == [
        f"{path}: changed while it was read: run again once it is written"]
    assert not config.complete


def _cpu(directory: Path) -> float:
    best = float("inf")
    for _ in range(2):
        start = time.process_time()
        config = load_config([str(directory)])
        best = min(best, time.process_time() - start)
        assert config.diagnostics == []
    return best


def test_many_small_files_cost_about_what_one_big_file_costs(tmp_path: Path) -> None:
    """3,000 one-meter files against one file of the same 3,000 meters (measured 2.2x: the
    reading of each file; 12x when each file re-sorted every key, growing with the count)."""
    one, many = tmp_path / "one", tmp_path / "many"
    one.mkdir()
    many.mkdir()
    write_files(one, 3000, 1, seed=6)
    write_files(many, 3000, 3000, seed=6)
    assert _cpu(many) < 4 * _cpu(one)


def _run(emu: RunningEmulator, *args: str) -> Run:
    return invoke(*args, env={"POLAR_SERVER": emu.url, "POLAR_ACCESS_TOKEN": emu.token})


def test_prune_never_archives_what_a_linked_directory_holds(tmp_path: Path,
                                                            emu: RunningEmulator) -> None:
    meters = tmp_path / "meters"
    (meters / "team").mkdir(parents=True)
    meter_file(meters / "main.yaml", 1)
    (meters / "team" / "team.yaml").write_text(
        (meters / "main.yaml").read_text().replace("m000", "team-meter"))
    assert _run(emu, "apply", "--auto-approve", str(meters)).code == 0
    (meters / "team").rename(tmp_path / "team")
    (meters / "team").symlink_to(tmp_path / "team")
    run = _run(emu, "plan", "--prune", str(meters))
    assert run.code == 1 and "Traceback" not in run.err
    assert "a symbolic link to a directory: not followed" in run.err
    assert "archive" not in run.out
    assert len(Api(emu).meters()) == 2 and not any(m["archived_at"] for m in Api(emu).meters())


def test_a_plan_whose_files_vanish_after_reading_is_of_what_was_read(
        tmp_path: Path, emu: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """The digest is not made by reading the files again (which raised FileNotFoundError)."""
    from reconciler import pipeline as common

    path = meter_file(tmp_path / "m.yaml", 1)
    data = path.read_bytes()
    real = common.load_config

    def load_then_delete(paths: list[str], strict: bool = False) -> object:
        config = real(paths, strict=strict)
        path.unlink()
        return config

    monkeypatch.setattr(common, "load_config", load_then_delete)
    out = tmp_path / "plan.json"
    run = _run(emu, "plan", "--out", str(out), str(path))
    assert run.code == 0, run.err
    saved = json.loads(out.read_text())
    assert saved["configuration"]["digest"] == discovery.digest([(str(path), data)])
