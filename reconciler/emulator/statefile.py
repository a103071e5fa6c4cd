"""The emulator's state file: everything it holds (meters, tokens, events, customers,
credits) as one JSON document, read on start and rewritten atomically after every write
(reconciler/files.py: no half file, no temporary file left), so a restarted emulator (or
the next `--server local` run) finds it all again.

Several processes may share one state file (two `--server local` runs, an `emulator
--state` beside them): each write is a read-modify-write under an exclusive lock on a
lock on the folder that holds it (`locked()`: flock on the folder itself, so no lock file
is left beside the state), and a process reloads the state when the file changed
since it last read it (`changed()`), so no process writes back what it read before another
one's change.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reconciler import files
from reconciler.emulator.refusals import StateFileError
from reconciler.errors import UserError

STATE_FORMAT = 1
Signature = tuple[int, int, int] | None


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: Signature = None

    def _signature(self) -> Signature:
        try:
            found = os.stat(self.path)
        except OSError:
            return None
        return (found.st_ino, found.st_mtime_ns, found.st_size)

    def changed(self) -> bool:
        """Whether the file is not what this process last read or wrote."""
        return self._signature() != self._seen

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the state's exclusive lock (across processes) for a read-modify-write."""
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(folder, os.O_RDONLY)
        except OSError as exc:
            raise StateFileError(f"cannot lock the emulator state in {folder}: {exc}") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # releases the lock

    def read(self) -> dict[str, Any]:
        """The state, or {} when the file does not exist yet."""
        path = self.path
        signature = self._signature()
        if signature is None and not path.exists():
            self._seen = None
            return {}
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:
            raise StateFileError(f"cannot read the emulator state {path}: {exc}") from None
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise StateFileError(f"{path} is not an emulator state file (format {STATE_FORMAT})")
        self._seen = signature
        return state

    def write(self, state: dict[str, Any]) -> None:
        text = json.dumps({"format": STATE_FORMAT, **state}, ensure_ascii=False, indent=1)
        try:
            files.write_text(self.path, text, "emulator state", make_parents=True)
        except UserError as exc:
            raise StateFileError(str(exc)) from None
        self._seen = self._signature()


def shape_error(path: Path, exc: Exception) -> StateFileError:
    """A state file that parses but holds something else than the emulator wrote."""
    kind = type(exc).__name__
    return StateFileError(f"{path} is not an emulator state file of the expected shape "
                          f"({kind}: {exc})")
