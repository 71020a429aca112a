"""Writing files so that a kill at any moment leaves the old file or the new one, never half of one.

Every file a user or a resumed run depends on (models, checkpoints, state, histories, metrics,
figures, reports) is written to a hidden temporary name in the same folder, flushed, and renamed
into place: a rename within one file system is atomic on POSIX. ``write_new`` is for outputs
that must not replace anything (annotated copies of a user's photos): it picks a free name.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import json
import os
import shutil
from pathlib import Path

from .errors import WRITE_FIXES, FerError, WriteFailed, disk_error, write_failed

TMP_PREFIX = ".tmp-"


def _tmp_name(path: Path) -> Path:
    # keep the suffix: Keras and Pillow choose the format from it
    return path.with_name(f"{TMP_PREFIX}{os.getpid()}-{path.name}")


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError):  # best effort: some file systems cannot fsync
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path to write; on success it replaces ``path`` in one rename.

    On an exception the temporary file is removed and ``path`` is untouched. A full file system
    or lost write access (``errors.WRITE_FIXES``), however the writing library wraps it, becomes
    one ``WriteFailed`` line naming ``path`` and what to do.
    """
    path = Path(path)
    tmp = _tmp_name(path)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        disk = disk_error(exc)
        if disk is not None:
            raise write_failed(path, disk) from None
        raise


def sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read a megabyte at a time: how a model file is identified wherever it
    is recorded (an export's source, a student's teachers)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_text(path: str | os.PathLike, text: str) -> Path:
    """``Path.write_text`` (UTF-8), atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | os.PathLike, obj, **kwargs) -> Path:
    kwargs.setdefault("indent", 2)
    return write_text(path, json.dumps(obj, **kwargs) + "\n")


def save_model(model, path: str | os.PathLike) -> Path:
    """``model.save(path)`` atomically: a kill mid-save leaves the previous file intact."""
    with atomic_path(path) as tmp:
        model.save(tmp)
    return Path(path)


def _claim(tmp: Path, target: Path) -> bool:
    """Give ``tmp``'s content the name ``target`` unless that name exists (then ``False``).

    A hard link fails when the name exists, so two processes can never claim the same one; on a
    file system without hard links (FAT, some network shares) an exclusive create does the same.
    """
    try:
        os.link(tmp, target)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
            raise
    try:
        with open(target, "xb") as out, open(tmp, "rb") as src:
            shutil.copyfileobj(src, out)
        return True
    except FileExistsError:
        return False


def write_new(path: str | os.PathLike, write) -> Path:
    """Write a file that replaces nothing: ``path`` if free, else ``stem-2.ext``, ``stem-3.ext`` ...

    ``write(tmp)`` writes the content to a temporary path, which then takes the first free name;
    returns the name used.
    """
    path = Path(path)
    tmp = _tmp_name(path)
    try:
        write(tmp)
        _fsync(tmp)
        for n in itertools.count(1):
            target = path if n == 1 else path.with_name(f"{path.stem}-{n}{path.suffix}")
            if _claim(tmp, target):
                return target
    except Exception as exc:
        disk = disk_error(exc)
        if disk is not None:
            raise write_failed(path, disk) from None
        raise
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_new_together(items) -> list[Path]:
    """Write files that belong together (a video's timeline ``clip.csv`` and ``clip.png``) under
    one free number, replacing nothing: ``clip.csv`` and ``clip.png`` if both names are free, else
    ``clip-2.csv`` and ``clip-2.png``, ... (never ``clip-2.csv`` beside ``clip.png``).

    ``items`` is ``[(path, write), ...]`` as for ``write_new``; returns the names used, in order.
    A name another process claims meanwhile is let go of with the rest, and the next number tried.
    """
    items = [(Path(path), write) for path, write in items]
    tmps = [_tmp_name(path) for path, _ in items]
    try:
        for (_, write), tmp in zip(items, tmps):
            write(tmp)
            _fsync(tmp)
        for n in itertools.count(1):
            targets = [path if n == 1 else path.with_name(f"{path.stem}-{n}{path.suffix}") for path, _ in items]
            if any(t.exists() for t in targets):
                continue
            claimed = []
            for tmp, target in zip(tmps, targets):
                if not _claim(tmp, target):
                    break
                claimed.append(target)
            if len(claimed) == len(targets):
                return targets
            for target in claimed:  # ours, linked a moment ago: give the number back
                target.unlink()
    except Exception as exc:
        disk = disk_error(exc)
        if disk is not None:
            raise write_failed(items[0][0], disk) from None
        raise
    finally:
        for tmp in tmps:
            with contextlib.suppress(OSError):
                tmp.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike):
    """Yield a temporary sibling folder to fill; on success it takes ``path``'s place.

    The old folder is renamed aside before the new one is renamed in, and deleted only after:
    a kill at any moment leaves the old folder or the new one whole (aside, at worst), never a mix.
    """
    path = Path(path)
    tmp, old = _tmp_name(path), path.with_name(f"{TMP_PREFIX}{os.getpid()}-old-{path.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if path.exists():
        os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)


def _folder_error(path: Path, message: str, error: OSError) -> FerError:
    """``message`` as a ``FerError``; for a full disk or lost write access (``errors.WRITE_FIXES``)
    a ``WriteFailed`` that adds what to do, so a training run adds how to resume."""
    if error.errno not in WRITE_FIXES:
        return FerError(message)
    fix = "free space on its file system" if error.errno in (errno.ENOSPC, errno.EDQUOT) \
        else "restore write access to it (or choose another folder)"
    exc = WriteFailed(f"{message}; {fix}, then run the command again")
    exc.errno, exc.strerror, exc.path, exc.fix = error.errno, error.strerror, str(path), fix
    return exc


def ensure_dir(path: str | os.PathLike, what: str = "output folder") -> Path:
    """Create a folder we will write into; one ``FerError`` line when it cannot be (a file, /proc,
    read-only), a ``WriteFailed`` saying what to do when space or write access is missing (also
    when it is lost midway: ``plots.save_figure`` checks the folder before each figure)."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise FerError(f"{path}: {what} is an existing file, not a folder") from None
    except OSError as exc:
        raise _folder_error(path, f"{path}: cannot create {what} ({exc.strerror or exc})", exc) from None
    if not os.access(path, os.W_OK | os.X_OK):
        denied = PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        raise _folder_error(path, f"{path}: {what} is not writable", denied)
    probe = path / f"{TMP_PREFIX}{os.getpid()}-probe"
    try:  # /proc and /sys pass the access check but refuse new files
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise _folder_error(path, f"{path}: cannot write into {what} ({exc.strerror or exc})", exc) from None
    return path


def remove_stale_temporaries(folder: str | os.PathLike) -> None:
    """Delete temporaries a killed process left behind (never a finished file)."""
    for p in Path(folder).glob(f"{TMP_PREFIX}*"):
        with contextlib.suppress(OSError):
            p.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OSError:
        return True
    return True


def remove_dead_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporaries (``.tmp-<pid>-...``) in ``folder`` whose process is gone: what a
    ``kill -9`` left behind. Those of running processes (another ``fer predict`` writing into the
    same folder now) are kept, and so is everything else; returns what was removed."""
    removed = []
    for p in Path(folder).glob(f"{TMP_PREFIX}*"):
        pid = p.name[len(TMP_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
            removed.append(p)
    return removed
