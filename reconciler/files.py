"""The one way polar-meters writes a file: atomically, with the usual permissions.

A reader sees the old bytes or the new ones, never half a file: the text goes to a temporary
file in the same folder, is flushed to disk and then replaces PATH. The temporary file is
created with mode 0666 less the umask (0644 under umask 022), like any file a program writes;
an existing file keeps its mode. Nothing is left behind when anything fails.

PATH that is a symlink: its target is written (the link stays a link). PATH that is not a
regular file (a device such as /dev/null, a FIFO) is written through, never replaced.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from reconciler.errors import UserError


def write_text(path: str | os.PathLike[str], text: str, kind: str = "file", *, make_parents: bool = False) -> None:
    """Write TEXT (UTF-8) to PATH atomically; failures are a UserError naming PATH and KIND
    ("cannot write the plan file …"). With MAKE_PARENTS, missing folders are created."""
    shown = os.fspath(path)
    try:
        real = Path(os.path.realpath(path))
        if make_parents:
            real.parent.mkdir(parents=True, exist_ok=True)
        try:
            mode: int | None = os.stat(real).st_mode
        except FileNotFoundError:
            mode = None
        if mode is not None and not stat.S_ISREG(mode):
            _write_through(real, text)
        else:
            _replace(real, text, None if mode is None else stat.S_IMODE(mode))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UserError(f"{shown}: cannot write the {kind} ({reason})") from None


def _write_through(path: Path, text: str) -> None:
    if stat.S_ISDIR(os.stat(path).st_mode):
        raise IsADirectoryError(21, "Is a directory")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _replace(path: Path, text: str, mode: int | None) -> None:
    folder = path.parent
    tmp = folder / f".{path.name}.{secrets.token_hex(4)}.tmp"
    # 0o666: the kernel applies the umask, as for any new file; O_EXCL: never someone else's
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable where the platform allows it (best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
