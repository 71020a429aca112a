"""Judge a model folder on a split: metrics, calibration, confusions, and the figures that show them.

``evaluate_model_dir`` is what ``fer evaluate`` and the evaluation notebook call; the smaller
functions are public so a notebook can show each step. Metrics come from ``metrics.compute_metrics``
so that training, evaluation and the report agree to the digit.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .data import display_path, shell_path
from .engine import as_faces, default_model_dir  # noqa: F401  (robustness imports default_model_dir from here)
from .errors import FerError
from .files import ensure_dir, write_json, write_text


def predict_probs(model, x, batch_size: int = 256, tta: bool = False) -> np.ndarray:
    """Class probabilities ``(N, C)`` for raw 0-255 faces; ``tta`` averages with the mirrored face.

    Mirroring is the one test-time augmentation that never changes an expression's meaning.
    """
    x = as_faces(x)
    if not len(x):
        return np.zeros((0, model.output_shape[-1]), dtype=np.float32)
    probs = np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)
    if tta:
        probs = (probs + np.asarray(model.predict(x[:, :, ::-1], batch_size=batch_size, verbose=0))) / 2
    return probs


def expected_calibration_error(y_true, probs, n_bins: int = 15) -> tuple[float, pd.DataFrame]:
    """ECE (Guo et al., 2017): how far the top probability is from the accuracy it promises.

    Returns ``(ece, bins)``; ``bins`` has one row per equal-width confidence bin with
    ``bin_lower, bin_upper, count, confidence, accuracy, gap`` (empty bins: count 0, NaN means).
    """
    y_true, probs = np.asarray(y_true), np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or len(probs) != len(y_true):
        raise FerError(f"probs must be (N, C) with N = len(y_true) = {len(y_true)}, got {probs.shape}")
    if n_bins < 1:
        raise FerError(f"n_bins must be a positive integer, got {n_bins}")
    conf, correct = probs.max(axis=1), (probs.argmax(axis=1) == y_true).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)  # bins are (lo, hi]
    df = pd.DataFrame({"bin": which, "confidence": conf, "correct": correct})
    g = df.groupby("bin").agg(count=("correct", "size"), confidence=("confidence", "mean"),
                              accuracy=("correct", "mean")).reindex(range(n_bins))
    bins = pd.DataFrame({"bin_lower": edges[:-1], "bin_upper": edges[1:],
                         "count": g["count"].fillna(0).astype(int).to_numpy(),
                         "confidence": g["confidence"].to_numpy(), "accuracy": g["accuracy"].to_numpy()})
    bins["gap"] = bins["confidence"] - bins["accuracy"]
    ece = float((bins["count"] * bins["gap"].abs()).sum() / max(len(y_true), 1))
    return ece, bins


def most_confused_pairs(y_true, y_pred, classes, k: int = 6) -> pd.DataFrame:
    """The ``k`` most frequent mistakes as ``true, predicted, count, share_of_true`` (share of that class's images)."""
    from sklearn.metrics import confusion_matrix

    cm = confusion_matrix(y_true, y_pred, labels=list(range(len(classes))))
    support = cm.sum(axis=1)
    np.fill_diagonal(cm, 0)
    t, p = np.nonzero(cm)
    df = pd.DataFrame({"true": [classes[i] for i in t], "predicted": [classes[j] for j in p],
                       "count": cm[t, p].astype(int), "share_of_true": cm[t, p] / support[t]})
    return df.sort_values(["count", "true", "predicted"], ascending=[False, True, True]).head(k).reset_index(drop=True)


def _labels_for(ds_classes: list[str], model_classes: list[str], y: np.ndarray) -> np.ndarray:
    """Data labels re-indexed into the model's class order (e.g. 7-class FER2013 data on an 8-class model)."""
    if list(ds_classes) == list(model_classes):
        return y
    missing = [c for c in ds_classes if c not in model_classes]
    if missing:
        raise FerError(f"data classes {missing} are not among the model's classes {model_classes}")
    return np.array([model_classes.index(c) for c in ds_classes], dtype=np.int64)[y]


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _score(y, probs, classes, n_bins: int = 15) -> tuple[dict, pd.DataFrame]:
    from .metrics import compute_metrics

    m = compute_metrics(y, probs, classes)
    ece, bins = expected_calibration_error(y, probs, n_bins)
    m["ece"] = ece
    m["calibration_bins"] = json.loads(bins.to_json(orient="records"))
    m["confused_pairs"] = most_confused_pairs(y, probs.argmax(axis=1), classes).to_dict(orient="records")
    return m, bins


def result_stem(split: str, subset: int | None = None) -> str:
    """The name shared by one evaluation's files: ``test`` for a whole split, ``test_subset50`` for
    a random subset of 50 images.

    A quick subset run must never replace the full results beside it (``fer evaluate --subset``
    into a model folder), and whoever reads the files (notebooks, the report) finds them from
    the same two values through this one function.
    """
    return split if subset is None else f"{split}_subset{int(subset)}"


def evaluate_model_dir(model_dir: str | os.PathLike | None = None, data: str | os.PathLike | None = None,
                       split: str = "test", out: str | os.PathLike | None = None, tta: bool = False,
                       subset: int | None = None, seed: int = 42, figures: bool = True) -> dict:
    """Evaluate a model folder on a split (FER+ majority labels) and write the results into ``out``.

    Writes ``evaluation_<stem>.json``, ``classification_report_<stem>.txt`` and PNG figures
    (``confusion_<stem>.png``, ``confusion_normalized_<stem>.png``, ``predictions_<stem>.png``,
    ``confused_pairs_<stem>.png``, ``reliability_<stem>.png``), each atomically, where ``<stem>``
    is ``result_stem(split, subset)``; ``out`` defaults to the model folder. ``subset`` evaluates
    that many seeded random images (the smoke profile) and names its files apart from the full
    split's. With ``tta`` the flip-averaged metrics are added under ``"tta"``; the headline
    numbers stay plain.
    """
    from . import plots
    from .data import load_dataset, seeded_subset
    from .model import load_model_dir

    if subset is not None and int(subset) < 1:
        raise FerError(f"subset must be a positive number of images, got {subset}")
    model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
    model, classes = load_model_dir(model_dir)
    out = ensure_dir(out if out is not None else model_dir)  # before minutes of predictions
    ds = load_dataset(data)
    x, y = ds.split(split)
    y = _labels_for(ds.classes, classes, y)
    if subset is not None:
        x, y = seeded_subset(x, y, int(subset), seed)
    if not len(x):
        raise FerError(f"split {split!r} of {ds.root} has no image with a majority label")
    stem = result_stem(split, subset)

    probs = predict_probs(model, x)
    result, bins = _score(y, probs, classes)
    result.update({"model_dir": display_path(model_dir), "data": display_path(ds.root), "split": split, "subset": subset,
                   "seed": seed, "classes": list(classes)})
    report = f"{model_dir} on {split} ({len(y)} images)\n\n{result['report_text']}"
    if tta:
        probs_tta = predict_probs(model, x, tta=True)
        result["tta"], _ = _score(y, probs_tta, classes)
        report += f"\nwith flip test-time augmentation:\n\n{result['tta']['report_text']}"

    paths = {}
    if figures:
        y_pred = probs.argmax(axis=1)
        cm = np.asarray(result["confusion"])
        figs = {
            "confusion": plots.plot_confusion(cm, classes),
            "confusion_normalized": plots.plot_confusion(cm, classes, normalize=True),
            "predictions": plots.plot_predictions_grid(x, y, probs, classes),
            "confused_pairs": plots.plot_confused_pairs(x, y, y_pred, classes),
            "reliability": plots.plot_reliability(bins, result["ece"]),
        }
        for name, fig in figs.items():
            paths[name] = str(plots.save_figure(fig, out / f"{name}_{stem}.png"))
    result["figures"] = paths

    report_path = write_text(out / f"classification_report_{stem}.txt", report)
    json_path = out / f"evaluation_{stem}.json"
    result["files"] = {"json": str(json_path), "report": str(report_path)}
    write_json(json_path, result, sort_keys=True, default=_json_default)
    return result


def summary_text(result: dict) -> str:
    """The lines ``fer evaluate`` prints."""
    def line(name, m):
        return (f"{name:<10} accuracy {m['accuracy']:.4f}  macro F1 {m['macro_f1']:.4f}  "
                f"weighted F1 {m['weighted_f1']:.4f}  loss {m['loss']:.4f}  ECE {m['ece']:.4f}")
    lines = [f"{result['model_dir']} on {result['split']} of {result['data']}: {result['n']} images"
             + (f" (random subset, seed {result['seed']})" if result.get("subset") else ""),
             line("plain", result)]
    if "tta" in result:
        lines.append(line("flip TTA", result["tta"]))
    pairs = result.get("confused_pairs", [])[:3]
    if pairs:
        lines.append("most confused: " + "; ".join(f"{p['true']} → {p['predicted']} ({p['count']})" for p in pairs))
    lines.append(f"wrote {shell_path(result['files']['json'])}, {shell_path(result['files']['report'])} "
                 f"and {len(result['figures'])} figures")
    return "\n".join(lines)


def run_evaluate(model_dir=None, data=None, split: str = "test", out=None, tta: bool = False,
                 subset: int | None = None) -> int:
    """``fer evaluate``: print a summary; a ``FerError`` becomes one line on stderr and exit code 2."""
    try:
        result = evaluate_model_dir(model_dir, data=data, split=split, out=out, tta=tta, subset=subset)
    except FerError as exc:
        print(f"fer evaluate: error: {exc}", file=sys.stderr)
        return 2
    print(summary_text(result))
    return 0
