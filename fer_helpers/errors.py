"""One exception type for mistakes a user can fix (bad path, corrupt file, bad parameter).

The CLI prints these as a single line and exits with ``exit_code``; anything else is a bug and
keeps its traceback.
"""


def one_line(text: str) -> str:
    """``text`` with its line breaks written as ``\\n``: a file or folder named with a line break
    (Linux allows it) must not turn a one-line message into two."""
    return "\\n".join(str(text).splitlines())


class FerError(Exception):
    """A user-facing error: the message says what went wrong and where, on one line (``one_line``,
    applied here once so no caller has to think of it)."""

    exit_code = 2

    def __init__(self, message: str = ""):
        super().__init__(one_line(message))


class Interrupted(FerError):
    """The user pressed Ctrl-C; the message says how to continue. Exit 130, the shell's convention."""

    exit_code = 130
