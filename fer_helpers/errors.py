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


class WriteFailed(FerError, OSError):
    """A file could not be written because of where it goes, not what it holds: the file system
    is full (``ENOSPC``, ``EDQUOT``), or write access was lost (``EACCES``, ``EPERM``, ``EROFS``).

    A ``FerError`` (one line, naming the file and what to do) and still an ``OSError`` with its
    ``errno``, so code that tolerates a failed write (a cache) keeps tolerating it. Made by
    ``write_failed``; ``fix`` is the advice alone, for callers that add their own next step.
    """

    path: str = ""
    fix: str = ""

    def __str__(self) -> str:  # the message, not OSError's "[Errno 28] ...: path"
        return str(self.args[0]) if self.args else ""


#: errno values that mean "this place cannot take the file now", with what the user can do.
WRITE_FIXES = {
    28: "free space on its file system",        # ENOSPC
    122: "free space on its file system",       # EDQUOT (Linux)
    13: "restore write access to its folder",   # EACCES
    1: "restore write access to its folder",    # EPERM
    30: "restore write access to its folder",   # EROFS
}


def write_failed(path, error: OSError, then: str = "run the command again") -> WriteFailed:
    """The one-line ``WriteFailed`` for ``error`` (an ``OSError`` whose errno is in ``WRITE_FIXES``)
    raised while writing ``path``."""
    import os

    reason = error.strerror or os.strerror(error.errno)
    fix = WRITE_FIXES.get(error.errno, "check the file system")
    exc = WriteFailed(f"{path}: cannot write it ({reason}); {fix}, then {then}")
    exc.errno, exc.strerror = error.errno, reason
    exc.path, exc.fix = str(path), fix
    return exc


def disk_error(exc: BaseException) -> OSError | None:
    """The ``OSError`` in ``exc`` or its causes whose errno is in ``WRITE_FIXES`` (a library may
    wrap the ``OSError`` of a full disk in its own exception), else ``None``."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and not isinstance(exc, WriteFailed) and exc.errno in WRITE_FIXES:
            return exc
        exc = exc.__cause__ or exc.__context__
    return None
