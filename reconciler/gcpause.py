"""A pause of Python's cyclic garbage collector while many small objects are built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Building many small objects makes the cyclic GC rescan the growing heap again and
    again (composing 10,000 meters took 5 times longer).

    When the pause ends, what was built is frozen (``gc.freeze``) before the collector is
    back on: the first collection would otherwise scan every object made meanwhile (a
    million for a plan of 10,000 meters: 0.2 s) only to find them alive. Frozen objects are
    still freed when they are no longer used; only reference cycles made during the pause
    stay until the process ends (a few thousand small objects per plan).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()
