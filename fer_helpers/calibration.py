"""Calibrated confidences: temperature scaling, fitted on validation and folded into the network.

A model trained on FER+'s vote distributions with class weights learns to hedge: its top
probability is lower than how often it is right (``models/default``: 0.06 expected calibration
error, nearly all of it under-confidence). Temperature scaling (Guo et al., 2017) divides the
logits by one number ``T`` chosen to minimise the negative log-likelihood of the validation
split's majority labels. One number cannot change which class is largest, so accuracy and every
confusion stay exactly as they were; only the confidences move.

Dividing the logits by ``T`` is the same as dividing the last ``Dense`` layer's kernel and bias by
``T``, so the temperature is folded into ``model.keras`` itself: Keras, the ONNX exports, Grad-CAM
and evaluation all give calibrated probabilities with no code of their own, and a folder's
``calibration.json`` records what was done. ``fer calibrate MODEL_DIR`` does it to a folder
(``scripts/ship_model.py`` calls it before the export).
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

import numpy as np

from .errors import FerError

#: What ``fer calibrate`` writes beside ``model.keras``.
CALIBRATION_RECORD = "calibration.json"
#: The temperatures searched (log-spaced bounds): far wider than any model needs.
TEMPERATURE_RANGE = (0.05, 20.0)


def scale_probabilities(probs, temperature: float) -> np.ndarray:
    """``softmax(log(probs) / temperature)``: the probabilities a network with its logits divided
    by ``temperature`` would give (``temperature`` < 1 sharpens, > 1 softens)."""
    logits = np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def negative_log_likelihood(probs, y) -> float:
    """Mean ``-log p(true class)``: the quantity temperature scaling minimises."""
    probs = np.asarray(probs)
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), np.asarray(y)], 1e-12, 1.0))))


def fit_temperature(probs, y) -> float:
    """The temperature that minimises the negative log-likelihood of labels ``y`` under ``probs``."""
    from scipy.optimize import minimize_scalar

    if len(y) == 0:
        raise FerError("cannot fit a temperature on no images")
    lo, hi = np.log(TEMPERATURE_RANGE)
    best = minimize_scalar(lambda log_t: negative_log_likelihood(scale_probabilities(probs, np.exp(log_t)), y),
                           bounds=(lo, hi), method="bounded", options={"xatol": 1e-4})
    return float(np.exp(best.x))


def fold_temperature(model, temperature: float) -> None:
    """Divide the output layer's kernel and bias by ``temperature`` in place (logits / T)."""
    layer = model.layers[-1]
    activation = getattr(getattr(layer, "activation", None), "__name__", "")
    if layer.__class__.__name__ != "Dense" or activation != "softmax":
        raise FerError(f"model {model.name!r}: temperature scaling needs a Dense softmax output layer, "
                       f"found {layer.__class__.__name__} ({activation or 'no activation'})")
    layer.set_weights([w / temperature for w in layer.get_weights()])


def calibrate_model_dir(folder: str | os.PathLike, data: str | os.PathLike | None = None) -> dict:
    """Fit a temperature on the validation split (majority labels), fold it into ``model.keras``
    (written atomically) and record it in ``calibration.json``; returns the record.

    Calibrating a calibrated folder fits again on the same images (a temperature near 1) and the
    record keeps the product, the temperature relative to the trained network. The folder's ONNX
    files, made from the earlier ``model.keras``, are then out of date: ``fer predict`` refuses
    them until ``fer export`` remakes them (``scripts/ship_model.py`` does both).
    """
    from .data import display_path, load_dataset
    from .evaluation import _labels_for, expected_calibration_error, predict_probs
    from .files import save_model, write_json
    from .model import MODEL_FILE, load_model_dir

    folder = Path(folder)
    model, classes = load_model_dir(folder)
    ds = load_dataset(data)
    x, y = ds.split("valid", labels="majority")
    y = _labels_for(ds.classes, classes, y)
    before = predict_probs(model, x)
    temperature = fit_temperature(before, y)
    after = scale_probabilities(before, temperature)
    fold_temperature(model, temperature)
    check = predict_probs(model, x[:64])
    if not np.allclose(check, after[:64], atol=2e-3):
        raise FerError(f"{folder}: the folded temperature does not reproduce the scaled probabilities")
    previous = read_calibration(folder)
    record = {
        "method": "temperature scaling of the logits, folded into the output layer",
        "temperature": temperature * (previous or {}).get("temperature", 1.0),
        "this_fit": temperature,
        "fitted_on": {"split": "valid", "labels": "majority", "images": int(len(y)), "data_dir": display_path(ds.root)},
        "validation": {
            "nll_before": negative_log_likelihood(before, y), "nll_after": negative_log_likelihood(after, y),
            "ece_before": expected_calibration_error(y, before)[0],
            "ece_after": expected_calibration_error(y, after)[0],
            "accuracy": float((before.argmax(1) == y).mean()),
        },
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    save_model(model, folder / MODEL_FILE)
    write_json(folder / CALIBRATION_RECORD, record)
    return record


def card_line(record: dict, language: str = "en") -> str:
    """The model card's line about a folder's calibration (``scripts/ship_model.py`` adds it), in ``language``."""
    from .i18n import check_language, number

    v = record["validation"]
    if check_language(language) == "tr":
        n = lambda value: number(value, "tr", ".3f")  # noqa: E731
        return (f"- **Kalibrasyon**: logitler FER2013Valid üzerinde uydurulan {n(record['temperature'])} sıcaklığına "
                f"bölünür (`fer calibrate`, `calibration.json`): doğrulamadaki beklenen kalibrasyon hatası "
                f"{n(v['ece_before'])} -> {n(v['ece_after'])}; cevaplar ve doğruluk değişmez.\n")
    return (f"- **Calibration**: logits divided by a temperature of {record['temperature']:.3f} fitted on "
            f"FER2013Valid (`fer calibrate`, `calibration.json`): validation expected calibration error "
            f"{v['ece_before']:.3f} -> {v['ece_after']:.3f}; the answers and accuracy are unchanged.\n")


def read_calibration(folder: str | os.PathLike) -> dict | None:
    """A folder's ``calibration.json``, or ``None`` when it was never calibrated."""
    path = Path(folder) / CALIBRATION_RECORD
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FerError(f"{path}: unreadable ({exc})") from None


def run_calibrate(model_dir=None, data=None) -> int:
    """``fer calibrate``: calibrate a model folder and print what changed."""
    from .engine import default_model_dir

    folder = Path(model_dir) if model_dir is not None else default_model_dir()
    r = calibrate_model_dir(folder, data)
    v = r["validation"]
    print(f"{folder}: temperature {r['this_fit']:.3f} fitted on {r['fitted_on']['images']:,} validation images; "
          f"validation ECE {v['ece_before']:.4f} -> {v['ece_after']:.4f}, NLL {v['nll_before']:.4f} -> "
          f"{v['nll_after']:.4f}, accuracy {v['accuracy']:.2%} (unchanged)")
    print(f"next: fer export {folder} (its ONNX files are from the model before), then fer evaluate {folder}")
    return 0
