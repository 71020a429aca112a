"""One exception type for mistakes a user can fix (bad path, corrupt file, bad parameter).

The CLI prints these as a single line and exits with ``exit_code``; anything else is a bug and
keeps its traceback.
"""


class FerError(Exception):
    """A user-facing error: the message says what went wrong and where."""

    exit_code = 2


class Interrupted(FerError):
    """The user pressed Ctrl-C; the message says how to continue. Exit 130, the shell's convention."""

    exit_code = 130
