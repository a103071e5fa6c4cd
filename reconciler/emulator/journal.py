"""The request journal behind GET /_emulator/requests: what clients sent to Polar's paths,
in order, for tests to read. Never saved; bounded, so a long-running emulator does not grow
without end: past `capacity` the oldest entries are dropped (and counted)."""

from __future__ import annotations

import copy
import threading
from collections import deque
from typing import Any

#: Entries kept at the most (a few MiB): more than any test reads.
CAPACITY = 10_000


class RequestJournal:
    def __init__(self, capacity: int | None = CAPACITY) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=capacity)
        self.dropped = 0

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            if len(self._entries) == self._entries.maxlen:
                self.dropped += 1
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._entries))

    def clear(self) -> None:
        """Forget every entry (and free their memory)."""
        with self._lock:
            self._entries = deque(maxlen=self._entries.maxlen)
            self.dropped = 0

    def __len__(self) -> int:
        return len(self._entries)
