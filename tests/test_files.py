"""reconciler/files.py: the one atomic file writer (issue 15: permissions, devices, symlinks,
nothing left behind)."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler import files
from reconciler.errors import UserError
from reconciler.files import write_text


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_new_file_gets_the_usual_permissions(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "plan.json"
    write_text(path, "hello\n", "plan file")
    assert path.read_text() == "hello\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert os.listdir(tmp_path) == ["plan.json"]


def test_an_existing_file_is_replaced_and_keeps_its_mode(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "plan.json"
    path.write_text("old")
    path.chmod(0o640)
    inode = path.stat().st_ino
    write_text(path, "new", "plan file")
    assert path.read_text() == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.stat().st_ino != inode  # replaced, not rewritten in place


def test_a_symlink_target_is_written_and_the_link_stays(tmp_path: Path) -> None:
    target = tmp_path / "real" / "plan.json"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_text(link, "new", "plan file")
    assert link.is_symlink() and target.read_text() == "new"
    assert sorted(os.listdir(target.parent)) == ["plan.json"]


def test_a_fifo_is_written_through_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    write_text(fifo, "through the pipe", "plan file")
    reader.join(10)
    assert got == ["through the pipe"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["pipe"]


def test_dev_null_stays_a_device() -> None:
    before = os.lstat("/dev/null")
    write_text("/dev/null", "discarded", "plan file")
    after = os.lstat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_no_temporary_file_is_left_behind_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    path = tmp_path / "plan.json"
    path.write_text("old")

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, failing, fail)
    with pytest.raises(UserError, match=r"plan\.json: cannot write the plan file \(No space left on device\)"):
        write_text(path, "new", "plan file")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["plan.json"] and path.read_text() == "old"


def test_an_interrupt_while_writing_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_text(tmp_path / "m.yaml", "x", "meter file")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


def test_errors_name_the_file_and_its_kind(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    with pytest.raises(UserError, match=r"afile/m\.yaml: cannot write the meter file \(Not a directory\)"):
        write_text(tmp_path / "afile" / "m.yaml", "x", "meter file")
    with pytest.raises(UserError, match=r"cannot write the plan file \(Is a directory\)"):
        write_text(tmp_path, "x", "plan file")


def test_missing_folders_are_made_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "meters" / "team" / "imported.yaml"
    with pytest.raises(UserError, match="cannot write the meter file"):
        write_text(path, "x", "meter file")
    write_text(path, "x", "meter file", make_parents=True)
    assert path.read_text() == "x"
