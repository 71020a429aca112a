"""Keras (and TensorFlow under it) imported without TensorFlow's C++ start-up notes.

Importing TensorFlow 2.18+ writes absl's "All log messages before absl::InitializeLog() is called
are written to STDERR" and oneDNN's "custom operations are on" straight to file descriptor 2:
they bypass Python and ignore TF_CPP_MIN_LOG_LEVEL (tensorflow/tensorflow#100442). A user asked for
none of them, so ``fer`` and the notebook kernels of ``fer report`` import Keras through
``import_keras_quietly`` before anything else does. TF_CPP_MIN_LOG_LEVEL=2 still hides TensorFlow's
later INFO and WARNING lines; its errors, and every Python warning, still show.
"""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def native_stderr_silenced():
    """Hide what native code (TensorFlow's, LiteRT's, FFmpeg's) writes straight to file descriptor 2 meanwhile."""
    with contextlib.suppress(AttributeError, ValueError):  # sys.stderr replaced or closed
        sys.stderr.flush()
    try:
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no file descriptor 2 (some embedded interpreters): nothing to hide
        yield
        return
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_keras_quietly() -> None:
    """``import keras`` with TensorFlow's start-up notes muted (a no-op once Keras is imported)."""
    if "keras" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with native_stderr_silenced():
        import keras  # noqa: F401  (imports TensorFlow, whose notes are printed now)
