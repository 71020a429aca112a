"""One exception type for mistakes a user can fix (bad path, corrupt file, bad parameter).

The CLI prints these as a single line and exits non-zero; anything else is a bug and keeps its traceback.
"""


class FerError(Exception):
    """A user-facing error: the message says what went wrong and where."""
