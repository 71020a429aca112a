"""How accuracy holds up when a face is framed or photographed differently from the test set.

A deployed model sees faces cropped by a face detector (a box a little too large, too small,
off-centre or tilted) from cameras with other exposure, focus and compression than FER2013's.
Each perturbation here imitates one of these, as a deterministic function of a strength applied
to a batch of uint8 faces ``(N, 48, 48)``; ``robustness_table`` scores a model on every
(perturbation, strength) of ``PERTURBATIONS``.

Geometric perturbations warp about the image centre and fill the border by replicating the edge
pixels, as a crop that reaches past a face's box would show more of the same surroundings rather
than black bars. Strength conventions: ``shift_x > 0`` moves the face right and ``shift_y > 0``
moves it down (by that share of the side), ``rotation > 0`` turns it counter-clockwise (degrees),
``scale > 1`` enlarges it (a tighter crop).

In the table, ``drop`` is accuracy minus the clean accuracy, as a fraction like ``accuracy``
(-0.031 is 3.1 points lower); the clean row's is 0.
"""

from __future__ import annotations

import io
import os
from typing import Callable, NamedTuple

import cv2
import numpy as np
import pandas as pd
from PIL import Image

from .data import load_dataset, seeded_subset
from .errors import FerError
from .evaluation import _labels_for, default_model_dir, predict_probs
from .metrics import compute_metrics


def _check_faces(x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 3 or x.dtype != np.uint8:
        raise FerError(f"expected uint8 faces shaped (N, H, W), got {x.dtype} {x.shape}")
    return x


def _warp(x, matrix) -> np.ndarray:
    """Every face through one 2x3 affine matrix (bilinear, edges replicated)."""
    x = _check_faces(x)
    h, w = x.shape[1:]
    out = np.empty_like(x)
    for i, face in enumerate(x):
        out[i] = cv2.warpAffine(face, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


def _centre(x) -> tuple[float, float]:
    h, w = np.shape(x)[1:]
    return (w - 1) / 2, (h - 1) / 2


def scale(x, factor: float) -> np.ndarray:
    """Zoom about the centre: a detector box tighter (``factor > 1``) or looser (``< 1``) than the data's."""
    return _warp(x, cv2.getRotationMatrix2D(_centre(x), 0.0, float(factor)))


def shift_x(x, fraction: float) -> np.ndarray:
    """Move the face right (``fraction > 0``) by a share of the width: a box placed off-centre."""
    return _warp(x, np.float64([[1, 0, fraction * np.shape(x)[2]], [0, 1, 0]]))


def shift_y(x, fraction: float) -> np.ndarray:
    """Move the face down (``fraction > 0``) by a share of the height: a box placed too high or low."""
    return _warp(x, np.float64([[1, 0, 0], [0, 1, fraction * np.shape(x)[1]]]))


def rotate(x, degrees: float) -> np.ndarray:
    """Turn about the centre, counter-clockwise for ``degrees > 0``: a tilted head the crop did not align."""
    return _warp(x, cv2.getRotationMatrix2D(_centre(x), float(degrees), 1.0))


def _tone_curve(x, lut) -> np.ndarray:
    return np.asarray(lut, dtype=np.uint8)[_check_faces(x)]


def brightness(x, levels: float) -> np.ndarray:
    """Add ``levels`` grey levels to every pixel (clipped to 0-255): a camera's exposure."""
    return _tone_curve(x, np.clip(np.arange(256) + levels, 0, 255).round())


def gamma(x, g: float) -> np.ndarray:
    """``255 * (x / 255) ** g``: another camera's tone curve (``g > 1`` darker mid-tones, ``< 1`` lighter)."""
    return _tone_curve(x, (255 * (np.arange(256) / 255) ** g).round())


def blur(x, sigma: float) -> np.ndarray:
    """Gaussian blur of ``sigma`` pixels: a face out of focus, in motion, or upscaled from fewer pixels."""
    x = _check_faces(x)
    if sigma <= 0:
        return x.copy()
    out = np.empty_like(x)
    for i, face in enumerate(x):
        out[i] = cv2.GaussianBlur(face, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    return out


def jpeg(x, quality: int) -> np.ndarray:
    """Encode and decode as JPEG at ``quality`` (Pillow): the compression of webcams and uploads."""
    x = _check_faces(x)
    out = np.empty_like(x)
    for i, face in enumerate(x):
        buf = io.BytesIO()
        Image.fromarray(face).save(buf, format="JPEG", quality=int(quality))
        with Image.open(buf) as img:
            out[i] = np.asarray(img.convert("L"))
    return out


def flip(x, on: float = 1) -> np.ndarray:
    """Mirror left-right when ``on``: a selfie camera's mirrored preview, or a face turned the other way."""
    x = _check_faces(x)
    return x[:, :, ::-1].copy() if on else x.copy()


class Perturbation(NamedTuple):
    """A perturbation: the function, the strengths scored, and what a strength means (axis label)."""

    apply: Callable[[np.ndarray, float], np.ndarray]
    strengths: tuple
    unit: str


#: Every perturbation scored by ``robustness_table``, in report order. Geometric ranges are those
#: of a detector's box jitter (scale ±15%, shift ±10%, rotation ±15°); then the camera's.
PERTURBATIONS: dict[str, Perturbation] = {
    "scale": Perturbation(scale, (0.85, 0.92, 1.08, 1.15), "zoom factor (> 1: tighter crop)"),
    "shift_x": Perturbation(shift_x, (-0.10, -0.05, 0.05, 0.10), "shift, share of the width (> 0: right)"),
    "shift_y": Perturbation(shift_y, (-0.10, -0.05, 0.05, 0.10), "shift, share of the height (> 0: down)"),
    "rotation": Perturbation(rotate, (-15.0, -7.5, 7.5, 15.0), "degrees (> 0: counter-clockwise)"),
    "brightness": Perturbation(brightness, (-40, -20, 20, 40), "grey levels added"),
    "gamma": Perturbation(gamma, (0.6, 0.8, 1.25, 1.6), "gamma (> 1: darker)"),
    "blur": Perturbation(blur, (0.5, 1.0, 1.5), "Gaussian sigma (pixels)"),
    "jpeg": Perturbation(jpeg, (50, 30), "JPEG quality"),
    "flip": Perturbation(flip, (1,), "mirrored"),
}

#: What a strength means, per perturbation: the x-axis labels of ``plots.plot_robustness``.
UNITS: dict[str, str] = {name: p.unit for name, p in PERTURBATIONS.items()}


def perturb(x, name: str, strength: float) -> np.ndarray:
    """``x`` under the perturbation ``name`` of ``PERTURBATIONS`` at ``strength``."""
    if name not in PERTURBATIONS:
        raise FerError(f"unknown perturbation {name!r}; expected one of {', '.join(PERTURBATIONS)}")
    return PERTURBATIONS[name].apply(x, strength)


def robustness_table(model, x, y, classes, perturbations: dict | None = None,
                     batch_size: int = 256) -> pd.DataFrame:
    """Accuracy and macro F1 of ``model`` on ``(x, y)``, clean and under every perturbation and strength.

    Columns ``perturbation, strength, accuracy, macro_f1, drop, n``; the first row is ``clean``
    (strength NaN). ``drop`` is accuracy minus the clean accuracy (a fraction, negative when worse).
    """
    x, y = _check_faces(x), np.asarray(y)
    if len(x) != len(y) or not len(x):
        raise FerError(f"need as many labels as faces and at least one face, got {len(x)} faces, {len(y)} labels")
    perturbations = PERTURBATIONS if perturbations is None else perturbations

    def scored(name, strength, faces) -> dict:
        m = compute_metrics(y, predict_probs(model, faces, batch_size=batch_size), classes)
        return {"perturbation": name, "strength": strength, "accuracy": m["accuracy"],
                "macro_f1": m["macro_f1"], "n": m["n"]}

    table = pd.DataFrame([scored("clean", np.nan, x)] + [scored(name, s, p.apply(x, s))
                                                         for name, p in perturbations.items() for s in p.strengths])
    table.insert(4, "drop", table["accuracy"] - table["accuracy"].iloc[0])
    return table


def robustness_of_model_dir(model_dir: str | os.PathLike | None = None, data: str | os.PathLike | None = None,
                            split: str = "test", subset: int | None = None, seed: int = 42,
                            batch_size: int = 256) -> pd.DataFrame:
    """``robustness_table`` of a model folder on the very images ``evaluation.evaluate_model_dir`` scores
    for the same ``split``, ``subset`` and ``seed`` (FER+ majority labels)."""
    from .model import load_model_dir  # keras: imported only when a model is loaded

    if subset is not None and int(subset) < 1:
        raise FerError(f"subset must be a positive number of images, got {subset}")
    model, classes = load_model_dir(model_dir if model_dir is not None else default_model_dir())
    x, y = scored_faces(classes, data, split, subset, seed)
    return robustness_table(model, x, y, classes, batch_size=batch_size)


def scored_faces(classes, data=None, split: str = "test", subset: int | None = None,
                 seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """The faces and majority labels (in ``classes``' order) that ``evaluation.evaluate_model_dir``
    scores for the same ``split``, ``subset`` and ``seed``."""
    ds = load_dataset(data)
    x, y = ds.split(split)
    x, y = seeded_subset(x, _labels_for(ds.classes, classes, y), None if subset is None else int(subset), seed)
    if not len(x):
        raise FerError(f"split {split!r} of {ds.root} has no image with a majority label")
    return x, y


def summary_table(table: pd.DataFrame, perturbations: dict | None = None, language: str = "en") -> pd.DataFrame:
    """One row per perturbation: what a strength means, the strengths, accuracy (%) and change
    (points) at each, the numbers written the way ``language`` writes them (Turkish ``0,85``)."""
    from .i18n import number

    perturbations = PERTURBATIONS if perturbations is None else perturbations
    rows = {}
    for name, g in table[table["perturbation"] != "clean"].groupby("perturbation", sort=False):
        unit = perturbations[name].unit if name in perturbations else ""
        rows[name] = {"strength is": unit, "strengths": " / ".join(number(s, language, "g") for s in g["strength"]),
                      "accuracy (%)": " / ".join(number(a, language, ".1f") for a in 100 * g["accuracy"]),
                      "change (points)": " / ".join(number(d, language, "+.1f") for d in 100 * g["drop"])}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("perturbation")
