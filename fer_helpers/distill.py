"""Knowledge distillation: train one network on what several trained ones say about each face.

An ensemble of networks trained with different seeds is more accurate than each of them, but
costs their number of times the inference. Distillation keeps one network: a student trained on
targets that mix the FER+ votes with the ensemble's averaged probabilities (the teachers'),
which say more than the votes about how a face resembles the other classes
(Hinton, Vinyals and Dean, 2015). ``fit`` does this when ``training.teachers`` names model folders:

    training:
      teachers: [models/default, runs/ablations/seed_43, runs/ablations/seed_44]
      teacher_weight: 0.5    # the share of the teachers' probabilities in each target

The teachers' probabilities are computed once per run (each teacher on the face and on its mirror
image, as test-time augmentation) and kept in the run's checkpoints, so a resumed run trains on
exactly the targets it started with.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import files
from .errors import FerError
from .params import _resolve_path

#: Where a run keeps its teachers' probabilities (in its checkpoints folder).
TEACHER_FILE = "teacher_probabilities.npy"


def _folder(teacher: str | os.PathLike) -> Path:
    """A teacher's folder as written (recorded so), found from the working directory or, as the
    notebooks of a sweep run in their variant's folder, from the project root."""
    return Path(_resolve_path(teacher, "teacher"))


def teacher_record(teachers, classes) -> list[dict]:
    """Each teacher as ``{folder, sha256}`` of its ``model.keras``: what a run records, so that a
    teacher retrained under the same name is noticed. ``FerError`` for a teacher that is missing or
    whose classes are not the data's."""
    from .engine import read_classes

    record = []
    for folder in teachers:
        path = _folder(folder) / "model.keras"
        if not path.is_file():
            raise FerError(f"teacher {folder}: no model.keras there (training.teachers names trained model folders)")
        if (found := read_classes(path.parent)) != list(classes):
            raise FerError(f"teacher {folder}: its classes {found} are not the data's {list(classes)}")
        record.append({"folder": str(folder), "sha256": files.sha256(path)})
    return record


def teacher_probabilities(teachers, x: np.ndarray, say=print) -> np.ndarray:
    """The teachers' mean probabilities ``(N, C)`` on faces ``x`` ``(N, 48, 48)``, each teacher on
    the face and its mirror image. A few minutes per teacher on the FER+ training set: ``say``
    reports each one as it is done."""
    from .model import load_model_dir

    total = None
    for k, folder in enumerate(teachers, start=1):
        model, _ = load_model_dir(_folder(folder))
        faces = x[..., None].astype("float32")
        probs = (model.predict(faces, batch_size=256, verbose=0)
                 + model.predict(faces[:, :, ::-1], batch_size=256, verbose=0)) / 2
        total = probs if total is None else total + probs
        say(f"teacher {k}/{len(teachers)} ({folder}): probabilities of {len(x):,} training faces")
    return (total / len(teachers)).astype(np.float32)


def distilled_targets(targets: np.ndarray, x: np.ndarray, teachers, weight: float, store: str | os.PathLike,
                      say=print) -> np.ndarray:
    """``(1 - weight) * targets + weight * teachers' probabilities``, the probabilities read from
    ``store`` when a run made them already (resume), else computed and written there atomically."""
    store = Path(store)
    if store.is_file():
        probs = np.load(store)
        if probs.shape != targets.shape:
            raise FerError(f"{store}: teacher probabilities for {probs.shape[0]} faces, the run has "
                           f"{targets.shape[0]}; delete it to compute them again")
    else:
        probs = teacher_probabilities(teachers, x, say)
        with files.atomic_path(store) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, probs)
    return ((1 - weight) * targets + weight * probs).astype(np.float32)
