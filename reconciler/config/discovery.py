"""Which files a configuration is, and their bytes: read once, checked before reading.

A directory given on the command line stands for every ``*.yaml``/``*.yml`` below it, in
sorted order, skipping names that start with a dot (editor and VCS files). Below it:

- a symbolic link to a directory is an error (it is not followed: give its target's path),
  and so is a directory that cannot be listed;
- a symbolic link to a file is read only when the file is inside the directory given (each
  file is read once, however many links lead to it); a link leading outside it is refused
  before it is read;
- each problem marks the configuration incomplete (:attr:`Config.complete`), so that
  nothing is pruned on the strength of what could not be read.

A file named on the command line is read whatever its name. Files are read whole, once:
what was read is what is checked, planned and digested (:attr:`Config.digest`); a file that
changes while it is read, or disappears, is an error.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.config.types import Diagnostic
from reconciler.model import Location

DEFAULT_PATH = "meters/"
YAML_SUFFIXES = (".yaml", ".yml")
#: A meter file larger than this is refused before it is read: tens of thousands of meters,
#: which belong in several files. A file of any size would otherwise be parsed whole.
MAX_FILE_BYTES = 8 * 1024 * 1024


@dataclass
class Found:
    """The files to read, as (name to show, path), and what could not be looked at."""

    files: list[tuple[str, Path]] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    complete: bool = True  # False: some part of a meter path could not be read

    def refuse(self, message: str) -> None:
        self.problems.append(Diagnostic("error", message))
        self.complete = False


def expand_paths(paths: Sequence[str | Path]) -> Found:
    """The files of ``paths``, each once (by its real path), and the problems with them."""
    found = Found()
    seen: set[str] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            before = len(found.problems)
            files = _yaml_files(path, found)
            if not files and len(found.problems) == before:
                found.refuse(f"{given}: no *.yaml or *.yml file in this directory")
        elif path.exists():
            files = [(path, os.path.realpath(path))]  # never raises, even on a link loop
        else:
            found.refuse(f"{given}: no such file or directory")
            files = []
        for file, resolved in files:
            if resolved not in seen:
                seen.add(resolved)
                found.files.append((str(file), file))
    return found


def _yaml_files(directory: Path, found: Found) -> list[tuple[Path, str]]:
    """The YAML files below ``directory``, each with its real path; links out of it, linked
    directories and directories that cannot be listed are refused (in ``found``)."""
    root = os.path.realpath(directory)
    files: list[tuple[Path, str]] = []

    def unreadable(error: OSError) -> None:
        found.refuse(f"{error.filename}: cannot read this directory: {error.strerror}; "
                     "nothing below it was read")

    for base, dirs, names in os.walk(directory, onerror=unreadable):
        for name in sorted(d for d in dirs if not d.startswith(".")):
            if os.path.islink(os.path.join(base, name)):
                found.refuse(f"{os.path.join(base, name)}: a symbolic link to a directory: "
                             "not followed (name its target instead); nothing below it was read")
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # os.walk follows no link
        real_base = os.path.realpath(base)  # once a directory: no link below root is walked
        for name in names:
            if not name.endswith(YAML_SUFFIXES) or name.startswith("."):
                continue
            file = Path(base, name)
            if not os.path.islink(file):
                files.append((file, os.path.join(real_base, name)))
                continue
            target = os.path.realpath(file)  # never raises; a broken link: read_file says so
            if os.path.exists(target) and not _inside(target, root):
                found.refuse(f"{file}: a symbolic link that leads outside {directory}: refused "
                             "(it was not read)")
                continue
            files.append((file, target))
    return sorted(files, key=lambda f: f[0].parts)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class Unreadable(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


def read_file(display: str, path: Path) -> bytes:
    """The file's bytes; never blocks on a FIFO or a device, never reads a huge file, and
    refuses a file that changes size while it is read."""
    try:
        info = path.stat()  # follows links: a broken or looping one is an OSError
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable(Diagnostic("error", f"{display}: cannot read: not a regular file"))
        size = info.st_size
        if size > MAX_FILE_BYTES:
            raise Unreadable(Diagnostic(
                "error",
                f"the file is {size:,} bytes, more than the {MAX_FILE_BYTES // 2**20} MiB a "
                "meter file may hold: split it into several files",
                Location(display, 1, 1),
            ))
        data = path.read_bytes()
    except OSError as exc:
        raise Unreadable(Diagnostic("error", f"{display}: cannot read: {exc.strerror}")) from None
    if len(data) != size:
        raise Unreadable(Diagnostic(
            "error", f"{display}: changed while it was read: run again once it is written"))
    return data


def digest(read: Sequence[tuple[str, bytes]]) -> str:
    """A digest of the files' names and bytes, in the order they were read."""
    h = hashlib.sha256()
    for name, data in read:
        h.update(name.encode() + b"\0")
        h.update(data + b"\0")
    return "sha256:" + h.hexdigest()
