"""The shipped model against the one it replaced, on the same test faces: what a user gains and loses.

``scripts/ship_model.py`` keeps the model it replaces in a folder of its own and records which one
in the new model's ``replaced.json`` (folder and the sha256 of its ``model.keras``). The report
then puts the two side by side: accuracy, macro F1, the recall of every class, the accuracy lost
under blur and JPEG compression (and on average over every perturbation of ``robustness``), the
calibration error, and the size. A model trained by a user has no such record, and the report
leaves the comparison out.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from . import files, i18n
from .errors import FerError

#: What a shipped model folder says about the model it replaced.
REPLACED_FILE = "replaced.json"

#: The perturbations a user's camera brings most often, each at the strength the table shows.
CAMERA = (("blur", 1.5), ("jpeg", 30))


def record_replaced(new_dir: str | os.PathLike, old_dir: str | os.PathLike) -> dict:
    """Write ``new_dir/replaced.json`` naming ``old_dir`` (as given) and its ``model.keras``'s hash."""
    record = {"folder": str(old_dir), "sha256": files.sha256(Path(old_dir) / "model.keras")}
    files.write_json(Path(new_dir) / REPLACED_FILE, record)
    return record


class ReplacedModelGone(FerError):
    """The record names a model that is not where it says (a copied model folder, or the kept one
    deleted or replaced): there is nothing to compare with, which the report says in a line."""

    def __init__(self, record: Path, folder: str, sha: str):
        super().__init__(f"{record}: the model it replaced is no longer at {folder} (model.keras sha256 {sha[:12]})")
        self.folder = folder


def replaced_model(model_dir: str | os.PathLike) -> Path | None:
    """The folder of the model that ``model_dir`` replaced, found from its record; ``None`` when there
    is no record. ``ReplacedModelGone`` when the recorded folder is gone or now holds another model,
    ``FerError`` when the record is damaged."""
    from .params import _resolve_path

    path = Path(model_dir) / REPLACED_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
        folder, sha = record["folder"], record["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        raise FerError(f"{path}: damaged (expected the replaced model's folder and sha256)") from None
    found = Path(_resolve_path(folder, "replaced model"))
    model = found / "model.keras"
    if not model.is_file() or files.sha256(model) != sha:
        raise ReplacedModelGone(path, folder, sha)
    return found


def model_figures(model_dir, x: np.ndarray, y: np.ndarray, robust: pd.DataFrame | None = None) -> dict:
    """One model's figures on faces ``x`` with labels ``y``: accuracy, macro F1, per-class recall,
    expected calibration error, parameters, and its robustness table (computed unless given)."""
    from .evaluation import _score, predict_probs
    from .model import load_model_dir
    from .robustness import PERTURBATIONS, robustness_table

    model, classes = load_model_dir(model_dir)
    m, _ = _score(y, predict_probs(model, x), classes)
    if robust is None:
        robust = robustness_table(model, x, y, classes)
    elif len(robust) != 1 + sum(len(p.strengths) for p in PERTURBATIONS.values()):
        raise FerError("the robustness table given does not hold every perturbation")
    return {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"], "ece": m["ece"], "n": m["n"],
            "recall": {c: v["recall"] for c, v in m["per_class"].items()},
            "parameters": int(model.count_params()), "robustness": robust}


def against_replaced(model_dir, data=None, subset: int | None = None, seed: int = 42,
                     robust: pd.DataFrame | None = None) -> tuple[Path, dict, dict] | None:
    """``(replaced folder, its figures, model_dir's figures)`` on the test faces the report scores,
    or ``None`` for a model that replaced none. ``robust``: model_dir's robustness table, if computed."""
    from .engine import read_classes
    from .robustness import scored_faces

    previous = replaced_model(model_dir)
    if previous is None:
        return None
    x, y = scored_faces(read_classes(model_dir), data, "test", subset, seed)
    return previous, model_figures(previous, x, y), model_figures(model_dir, x, y, robust)


def _loss(robust: pd.DataFrame, name: str, strength: float) -> float:
    """Accuracy lost (points, positive when worse) under one perturbation at one strength."""
    rows = robust[(robust["perturbation"] == name) & np.isclose(robust["strength"].astype(float), strength)]
    return float(-100 * rows["drop"].iloc[0]) if len(rows) else math.nan


def mean_loss(robust: pd.DataFrame) -> float:
    """Mean accuracy lost (points) over every perturbation and strength: the ship rule's robustness."""
    return float(-100 * robust.loc[robust["perturbation"] != "clean", "drop"].mean())


def comparison_table(replaced: dict, shipped: dict, language: str = "en") -> pd.DataFrame:
    """Rows of figures, columns the replaced model, the shipped one and the change, written the way
    ``language`` writes numbers (percentages and points to one decimal, recall and ECE to two or three)."""
    t = lambda text: i18n.t(text, language)  # noqa: E731
    lost = lambda name, strength: f"{t('points lost')}: {t(name)} {i18n.number(strength, language)}"  # noqa: E731
    rows: list[tuple[str, float, float, str]] = [
        (t("accuracy (%)"), 100 * replaced["accuracy"], 100 * shipped["accuracy"], ".1f"),
        (t("macro F1"), replaced["macro_f1"], shipped["macro_f1"], ".3f"),
    ]
    rows += [(f"{t('recall')}: {i18n.class_name(c, language)}", replaced["recall"][c],
              shipped["recall"].get(c, math.nan), ".2f") for c in replaced["recall"]]
    rows += [(lost(name, strength), _loss(replaced["robustness"], name, strength),
              _loss(shipped["robustness"], name, strength), ".1f") for name, strength in CAMERA]
    rows += [(f"{t('points lost')}: {t('mean of every perturbation')}", mean_loss(replaced["robustness"]),
              mean_loss(shipped["robustness"]), ".2f"),
             (t("ECE"), replaced["ece"], shipped["ece"], ".3f"),
             (t("parameters (millions)"), replaced["parameters"] / 1e6, shipped["parameters"] / 1e6, ".2f")]

    def fmt(value: float, spec: str) -> str:
        return "–" if math.isnan(value) else i18n.number(value, language, spec)

    table = pd.DataFrame(
        [{"figure": name, "replaced": fmt(old, spec), "shipped": fmt(new, spec),
          "change": fmt(new - old, "+" + spec)} for name, old, new, spec in rows]).set_index("figure")
    return table.rename(columns=t).rename_axis(t("figure"))
