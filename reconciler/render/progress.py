"""A one-line counter on standard error while long network work runs, on a terminal only.

Reading 10,000 meters is 100 pages: a few seconds against Polar's rate limit, with nothing
on screen otherwise. The counter appears only when standard error is a terminal and the work
has taken longer than :data:`DELAY` (a quick plan shows nothing), is redrawn at most every
:data:`INTERVAL`, and is wiped when the work ends, so what stays on screen (and all that a
pipe or a CI log gets) is the command's own output. It writes no escape sequence: a carriage
return and spaces do it, whatever the terminal and whether NO_COLOR is set.
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import IO, Self

from reconciler.render.style import is_terminal

#: Seconds of work before the counter shows.
DELAY = 0.5
#: Seconds between two redraws at the most (the last count is always drawn).
INTERVAL = 0.1


class Progress:
    """``with Progress("Reading Polar's meters", "pages") as progress: ... progress(3, 100)``.

    Calls may come from several threads (pages are read concurrently).
    """

    def __init__(
        self, label: str, unit: str, stream: IO[str] | None = None, quiet: bool = False
    ) -> None:
        """``quiet``: draw nothing (e.g. while --debug writes its own lines to stderr)."""
        self.label = label
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = not quiet and is_terminal(self.stream)
        self.started = time.monotonic()
        self.drawn_at = 0.0
        self.line = ""  # the line on screen
        self.done = 0  # counted by step()
        self.width = 0  # the widest drawn, to wipe it
        self.lock = threading.Lock()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started < DELAY or (done < total and now - self.drawn_at < INTERVAL):
            return
        line = f"{self.label}: {done:,}/{total:,} {self.unit}"
        with self.lock:
            if not self.enabled or line == self.line:
                return
            self.drawn_at, self.line = now, line
            self._write("\r" + line.ljust(self.width))
            self.width = max(self.width, len(line))

    def step(self, total: int) -> None:
        """One more of ``total`` done (counted here, from any thread)."""
        with self.lock:
            self.done += 1
            done = self.done
        self(done, total)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        with self.lock:
            if self.width:
                self._write("\r" + " " * self.width + "\r")
                self.width = 0
            self.enabled = False  # a late call from a thread draws nothing

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: the work goes on
            self.enabled = False


class StatusLine:
    """``line(text)`` shows one line on standard error, redrawn in place, on a terminal only;
    ``line("")`` wipes it. For what a wait is about (a retry), from any thread."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = is_terminal(self.stream)
        self.width = 0
        self.lock = threading.Lock()

    def __call__(self, text: str) -> None:
        if not self.enabled:
            return
        with self.lock:
            if text:
                self.stream.write("\r" + text.ljust(self.width))
                self.width = max(self.width, len(text))
            elif self.width:
                self.stream.write("\r" + " " * self.width + "\r")
                self.width = 0
            self.stream.flush()
