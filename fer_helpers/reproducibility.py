"""What a result needs next to it to be reproduced: seed, parameters, versions, git commit, machine."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np

PACKAGES = ("tensorflow-cpu", "tensorflow", "keras", "numpy", "scikit-learn", "pandas", "pillow",
            "opencv-python-headless", "papermill", "nbconvert", "jupytext")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def git_commit(path: str | os.PathLike | None = None) -> str:
    """The project's commit, with ``+dirty`` when uncommitted changes exist.

    ``$FER_GIT_COMMIT``, where whoever copied the working tree to another machine set it, comes
    first: that machine's own git (if any) may sit at another commit under the copied files.
    Outside git and without it: ``unknown``.
    """
    if os.environ.get("FER_GIT_COMMIT"):
        return os.environ["FER_GIT_COMMIT"]
    cwd = Path(path or Path(__file__).resolve().parent.parent)
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True,
                             check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def run_info(seed: int | None = None, params: dict | None = None) -> dict:
    import keras

    return {
        "seed": seed,
        "params": params,
        "versions": package_versions(),
        "keras_backend": keras.backend.backend(),
        "git_commit": git_commit(),
        "machine": {"platform": platform.platform(), "processor": platform.machine(),
                    "cpu_count": os.cpu_count(), "accelerator": accelerator()},
        "finished": utc_now(),
    }


def accelerator() -> str | None:
    """The GPU that Keras trains on (``NVIDIA H100 80GB HBM3``), or ``None`` on a CPU."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            devices = [d for d in jax.devices() if d.platform == "gpu"]
            return devices[0].device_kind if devices else None
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU") if gpus else None
    except Exception:  # a broken driver is not a reason to lose a run's record
        return None
    return None


def data_fingerprint(ds) -> str:
    """A hash of every image and vote count a data set holds: the same fingerprint, the same data.

    Content, not paths or modification times: a copied or moved data set keeps its fingerprint,
    one changed image changes it.
    """
    h = hashlib.sha256("|".join(ds.classes).encode())
    for split in ds.splits:
        x, votes = ds.split(split, labels="votes")
        h.update(split.encode())
        h.update(np.ascontiguousarray(x).tobytes())
        h.update(np.ascontiguousarray(votes, dtype=np.float64).tobytes())
    return h.hexdigest()[:16]
