"""`python -m reconciler` and the `polar-meters` script: Ctrl-C while the program is still
starting (importing) exits 130 with one line, not a traceback."""

from __future__ import annotations

import signal
import sys


def main() -> None:
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        from reconciler.cli.main import main as run
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)
    run()


if __name__ == "__main__":
    main()
