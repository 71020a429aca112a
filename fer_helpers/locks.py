"""One writer per folder: an OS lock (``fcntl.flock``) on a lock file inside the folder.

The kernel drops the lock when the process holding it ends, however it ends (a kill -9, a
machine going down), so a stale lock file never blocks anyone: only a live process holds one.

- ``WRITER_LOCK`` (``.fer-writer.lock``): held by ``fer train`` (``training.fit``) for the whole
  run and by ``fer evaluate`` while it writes into its output folder; a second writer is refused
  in one line instead of mixing its files with the first one's.
- ``sweep.LOCK_FILE`` (``.sweep.lock``): held by ``fer sweep`` for a variant it trains (the
  training itself runs in a notebook kernel, another process, which takes ``WRITER_LOCK``).

A lock is re-entrant within one process (a notebook that trains and then evaluates into the same
folder, in one kernel, is one writer).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from .errors import FerError

WRITER_LOCK = ".fer-writer.lock"

_held: dict[str, int] = {}  # lock file (absolute) -> how many times this process holds it


def try_lock(path: str | os.PathLike, create: bool = True):
    """An open file holding an exclusive ``flock`` on ``path`` (created if absent and ``create``),
    or ``None`` when another process holds it. Release with ``unlock``.

    A holder may delete the file as it lets go (``unlock(remove=True)``): a lock won on a file
    that is no longer (or no longer the same) ``path`` is dropped and tried again, so two
    processes never both hold "the" lock, one on the deleted file and one on its successor.
    """
    path = Path(path)
    while True:
        try:
            f = open(path, "a+" if create else "r+")  # f.name: the path, for unlock(remove=True)
        except FileNotFoundError:
            if create:
                raise
            return None
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            return None
        except BaseException:
            f.close()
            raise
        try:
            same = os.stat(path).st_ino == os.fstat(f.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return f
        unlock(f)
        if not create:
            return None


def unlock(f, remove: bool = False) -> None:
    """Let go of a lock from ``try_lock``; ``remove`` deletes its file first (while still held)."""
    if remove:
        with contextlib.suppress(OSError):
            os.unlink(f.name)
    with contextlib.suppress(OSError, ValueError):
        fcntl.flock(f, fcntl.LOCK_UN)
    with contextlib.suppress(OSError):  # a pid that a full disk could not take, flushed again
        f.close()


def is_locked(path: str | os.PathLike) -> bool:
    """Whether a live process holds the lock on ``path`` now (a leftover file from a killed one: no)."""
    path = Path(path)
    if not path.is_file():
        return False
    try:
        f = try_lock(path, create=False)
    except OSError:
        return False
    if f is None:
        return path.is_file()  # held, unless its holder just let go and deleted it
    unlock(f)
    return False


def holder(path: str | os.PathLike) -> str:
    """What the lock file says about its holder (``pid 123``), or empty."""
    with contextlib.suppress(OSError, UnicodeDecodeError):
        pid = Path(path).read_text().strip()
        if pid.isdigit():
            return f"pid {pid}"
    return ""


@contextlib.contextmanager
def writer(folder: str | os.PathLike, what: str, hint: str):
    """Hold ``folder``'s writer lock for the block; another live process holding it is a
    ``FerError`` naming the folder, that process and ``hint`` (what to do instead).

    The folder must exist. The lock file is deleted as the lock is let go, so a folder holds no
    trace of it afterwards; one left by a killed process means nothing and is taken over.
    """
    path = (Path(folder) / WRITER_LOCK).absolute()
    key = str(path)
    if _held.get(key):
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    try:
        f = try_lock(path)
    except OSError as exc:
        raise FerError(f"{folder}: cannot lock the {what} ({exc.strerror or exc})") from None
    if f is None:
        who = holder(path)
        raise FerError(f"{folder}: another process{' (' + who + ')' if who else ''} is writing this {what} now; "
                       f"{hint}")
    try:
        with contextlib.suppress(OSError):  # who holds it, for the message above (best effort)
            f.truncate(0)
            f.write(f"{os.getpid()}\n")
            f.flush()
        _held[key] = 1
        yield
    finally:
        _held.pop(key, None)
        unlock(f, remove=True)
