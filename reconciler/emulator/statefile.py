"""The emulator's state file: everything it holds (meters, tokens, events, customers,
credits) as one JSON document, read on start and rewritten atomically after every write, so
a restarted emulator (or the next `--server local` run) finds it all again."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from reconciler.emulator.refusals import StateFileError

STATE_FORMAT = 1


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, Any]:
        """The state, or {} when the file does not exist yet."""
        path = self.path
        if not path.exists():
            return {}
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StateFileError(f"cannot read the emulator state {path}: {exc}") from None
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise StateFileError(f"{path} is not an emulator state file (format {STATE_FORMAT})")
        return state

    def write(self, state: dict[str, Any]) -> None:
        path = self.path
        text = json.dumps({"format": STATE_FORMAT, **state}, ensure_ascii=False, indent=1)
        temporary: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
            ) as handle:
                temporary = handle.name
                handle.write(text)
            os.replace(temporary, path)
        except OSError as exc:
            if temporary is not None and os.path.exists(temporary):
                os.unlink(temporary)
            raise StateFileError(f"cannot write the emulator state {path}: {exc}") from None
