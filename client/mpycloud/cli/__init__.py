"""``mpycloud``: the command line of the mPyCloud image service.

``main`` loads the rest only once it can report a Ctrl+C. ``commands`` holds the parser;
one module per group of commands (``login``, ``upload``, ``browse``, ``edit``), each with its
``register`` (its options) and its ``run`` functions; ``common`` (the server, the token, how
answers print), ``parallel``, ``progress`` and ``summary`` serve them. These modules may import
anything of ``mpycloud``; nothing outside ``mpycloud.cli`` imports them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

INTERRUPTED = 130  # what shells report for a command that SIGINT ended (128 + 2)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        # Imported here, not above: loading httpx and rich takes a good part of a second, and
        # a Ctrl+C meanwhile is then an interruption like any other, not a traceback.
        from mpycloud.cli.commands import run

        return run(argv)
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return INTERRUPTED
