"""Python started the way a terminal starts it, for the tests that press Ctrl-C.

A shell starts its background jobs (a CI script's, a ``nohup ... &``) with SIGINT ignored, and a
Python started so keeps ignoring it: a SIGINT sent to such a test's process would do nothing. A
user's Ctrl-C always reaches Python's handler, so these commands put that handler back first.
"""

from __future__ import annotations

import sys

_HANDLER_BACK = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"


def python_from_a_terminal(code: str) -> list[str]:
    """The command line of ``python -c CODE`` with SIGINT handled as in a terminal."""
    return [sys.executable, "-c", _HANDLER_BACK + code]


def fer_from_a_terminal(*args) -> list[str]:
    """The command line of ``fer ARGS`` so (run it with the project as working directory or on
    PYTHONPATH)."""
    return [*python_from_a_terminal("import sys\nfrom fer_helpers.cli import main\nsys.exit(main(sys.argv[1:]))"),
            *map(str, args)]
