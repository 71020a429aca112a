"""Choose the model the project ships, by a rule fixed before any test figure, and ship it (a maintainer's step).

    python scripts/ship_model.py RUN [RUN ...] [--to models/default] [--data PATH]
    python scripts/ship_model.py RUN [RUN ...] --dry-run  # the rule's table and choice; nothing shipped
    python scripts/ship_model.py RUN --force            # ship RUN whatever the rule says

**The rule** (every figure on the validation split; the test split plays no part in it). Each
candidate, and the model now at ``--to``, is described by

* its clean accuracy,
* its macro F1 (the rare expressions count as much as the common ones),
* its robustness: the mean accuracy lost, in points, over every perturbation and strength of
  ``fer_helpers.robustness.PERTURBATIONS`` (framing, rotation, exposure, tone, blur, JPEG), what
  ``benchmarks/robustness.py --split valid`` prints; kept in the run's ``robustness_valid.csv``.

1. A candidate stays in the race when its accuracy is within the seed noise of the best
   candidate's: at most ``--noise`` points below it (default: two standard deviations of the
   validation accuracy over the seed runs of ``runs/candidates``, the study's noise band).
2. Of those, the one with the highest **macro F1 minus mean robustness loss** (both in points: a
   point of fairness to the rare classes is worth a point of accuracy kept under a camera's
   changes) is shipped. A tie keeps the model already shipped.

When the model at ``--to`` wins, nothing changes. Shipping copies what a user needs (not the
resumable checkpoints), rewrites the model card under the new name, calibrates the confidences
(``fer calibrate``: a temperature fitted on validation, folded into model.keras; accuracy
unchanged), and exports the ONNX files ``fer predict`` runs (``fer export``, after their parity
check against Keras on the test split, which compares the files with Keras, never models with
each other). A failed export ships nothing. The model replaced is first copied whole to
``--keep-as`` (a new folder, ``models/previous`` beside ``models/default`` by default; its model card
rewritten under that name), and the new folder's ``replaced.json``
names it, so the report can put the two side by side (``fer_helpers.comparison``).
Afterwards: ``fer evaluate models/default --tta``, ``fer report``, and commit.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from fer_helpers import files  # noqa: E402
from fer_helpers.calibration import calibrate_model_dir, card_line, read_calibration  # noqa: E402
from fer_helpers.comparison import mean_loss, record_replaced  # noqa: E402
from fer_helpers.engine import export_model_dir, summary_text  # noqa: E402
from fer_helpers.errors import FerError  # noqa: E402
from fer_helpers.params import training_params  # noqa: E402
from fer_helpers.training import model_card  # noqa: E402

FILES = ("model.keras", "labels.json", "params.yaml", "history.csv", "metrics.json", "run.json")
#: Where a model folder keeps its robustness on validation (``benchmarks/robustness.py``'s table).
ROBUSTNESS_RECORD = "robustness_valid.csv"
#: The sweep whose seed runs give the default noise band.
STUDY = Path(__file__).resolve().parent.parent / "runs" / "candidates"


class Figures(NamedTuple):
    """What the rule weighs of one candidate: validation accuracy and macro F1 (fractions) and
    the mean accuracy lost under the perturbations (points)."""

    name: str
    accuracy: float
    macro_f1: float
    robustness_loss: float

    @property
    def score(self) -> float:
        return 100 * self.macro_f1 - self.robustness_loss


def validation_accuracy(folder: Path) -> float | None:
    path = folder / "metrics.json"
    return json.loads(path.read_text())["validation"]["accuracy"] if path.is_file() else None


def validation_figures(folder: Path, data: Path | None = None) -> Figures:
    """``Figures`` of a model folder; its robustness measured once (minutes) and kept beside it."""
    validation = json.loads((folder / "metrics.json").read_text())["validation"]
    record = folder / ROBUSTNESS_RECORD
    if record.is_file():
        table = pd.read_csv(record)
    else:
        from fer_helpers.robustness import robustness_of_model_dir

        print(f"measuring {folder}'s robustness on validation (a few minutes) ...", file=sys.stderr)
        table = robustness_of_model_dir(folder, data, split="valid")
        files.write_text(record, table.to_csv(index=False))
    return Figures(str(folder), float(validation["accuracy"]), float(validation["macro_f1"]), mean_loss(table))


def study_noise(folder: Path = STUDY) -> float:
    """Two standard deviations (points) of validation accuracy over the study's seed runs."""
    from fer_helpers import runs

    noise = runs.compare_to_noise(runs.collect(folder), runs.sweep_record(folder)).attrs["seed_std"] * 2
    if math.isnan(noise):  # fewer than two finished seeds
        raise FerError(f"{folder}: no seed noise (fewer than two finished seed runs); give --noise")
    return 100 * noise


def choose(candidates: list[Figures], noise: float) -> tuple[Figures, pd.DataFrame]:
    """The rule: accuracy within ``noise`` points of the best, then the highest macro F1 minus
    robustness loss; the first candidate (the model shipped now) wins a tie. Also the table."""
    best = max(c.accuracy for c in candidates)
    rows = [{"candidate": c.name, "accuracy %": 100 * c.accuracy, "macro F1 %": 100 * c.macro_f1,
             "robustness loss (pt)": c.robustness_loss, "score": c.score,
             "in the race": 100 * (best - c.accuracy) <= noise + 1e-9} for c in candidates]
    table = pd.DataFrame(rows)
    racing = [c for c, row in zip(candidates, rows) if row["in the race"]]
    winner = max(racing, key=lambda c: c.score)  # max keeps the first of equals
    table["chosen"] = [c is winner for c in candidates]
    return winner, table


def check_finished(run: Path, dry_run: bool = False) -> None:
    """A dry run reads only a run's records, so the rule can be replayed from a clean clone (where
    runs keep no weights); it needs the weights only to measure a robustness not yet recorded."""
    needed = FILES
    if dry_run and (run / ROBUSTNESS_RECORD).is_file():
        needed = tuple(f for f in FILES if f != "model.keras")
    missing = [f for f in needed if not (run / f).is_file()]
    if missing:
        raise FerError(f"{run}: not a finished run (missing {', '.join(missing)})")


def keep(dest: Path, keep_as: Path) -> None:
    """A copy of the model at ``dest`` as ``keep_as``, whole or not at all; never over a folder that exists."""
    if keep_as.exists():
        raise FerError(f"{keep_as} exists; give --keep-as a new folder for the model being replaced")
    with files.atomic_dir(keep_as) as tmp:
        shutil.copytree(dest, tmp, dirs_exist_ok=True, ignore=shutil.ignore_patterns("checkpoints", ".*"))
        # its card said ``default`` (title, and the folder to retrain it into); one without the records stays
        if all((tmp / f).is_file() for f in ("params.yaml", "metrics.json", "run.json", "MODEL_CARD.md")):
            (tmp / "MODEL_CARD.md").write_text(card_of(tmp, keep_as.name, read_calibration(tmp)))


def card_of(folder: Path, name: str, calibration: dict | None) -> str:
    """The model card of a model folder from its own records, under ``name``, with the line about
    its calibration (``calibration``: the record ``fer calibrate`` returned or wrote, if any)."""
    p = training_params(yaml.safe_load((folder / "params.yaml").read_text()))
    card = model_card(name, p, json.loads((folder / "metrics.json").read_text()),
                      json.loads((folder / "run.json").read_text()))
    return card + (card_line(calibration) if calibration else "")


def ship(run: Path, dest: Path, export: bool = True, data: Path | None = None, keep_as: Path | None = None) -> None:
    """``run`` as the model folder ``dest``, swapped in whole (see the module's docstring); the model
    it replaces first copied to ``keep_as``, which the new folder's ``replaced.json`` names."""
    check_finished(run)
    kept = keep_as is not None and (dest / "model.keras").is_file()
    if kept:
        keep(dest, keep_as)
    new, old = validation_accuracy(run), validation_accuracy(dest)
    metrics = json.loads((run / "metrics.json").read_text())
    # the whole folder at once: old evaluation figures describe the old model, and a kill
    # midway must not leave a shipped model folder that is half old, half new
    try:
        calibrated, record = _swap_in(run, dest, export, data, keep_as if kept else None)
    except BaseException:
        if kept:  # nothing shipped: nothing kept either
            shutil.rmtree(keep_as, ignore_errors=True)
        raise
    test = metrics.get("test", {}).get("accuracy")
    print(f"shipped {run} as {dest}: validation {new:.4f} (was {old if old is None else f'{old:.4f}'}), "
          f"test {'not measured' if test is None else f'{test:.4f}'}")
    print(f"confidences calibrated: temperature {calibrated['temperature']:.3f}, validation ECE "
          f"{calibrated['validation']['ece_before']:.4f} -> {calibrated['validation']['ece_after']:.4f}")
    if kept:
        print(f"the model it replaced is kept as {keep_as}")
    if record is not None:
        print(summary_text(record, dest))


def _swap_in(run: Path, dest: Path, export: bool, data, kept_as) -> tuple[dict, dict | None]:
    """The new folder, filled beside ``dest`` and swapped in whole: the calibration's record and the
    export's (None without the export)."""
    record = None
    with files.atomic_dir(dest) as tmp:
        for name in FILES + ((ROBUSTNESS_RECORD,) if (run / ROBUSTNESS_RECORD).is_file() else ()):
            shutil.copy2(run / name, tmp / name)
        if kept_as is not None:  # the report puts the two side by side (fer_helpers.comparison)
            record_replaced(tmp, kept_as)
        calibrated = calibrate_model_dir(tmp, data)
        (tmp / "MODEL_CARD.md").write_text(card_of(tmp, dest.name, calibrated))
        if export:  # inside the swap: the folder appears with its ONNX files, or not at all
            record = export_model_dir(tmp, data)
    return calibrated, record


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", type=Path, nargs="+", metavar="RUN", help="finished `fer train --out` folders")
    ap.add_argument("--to", type=Path, default=Path("models/default"), help="model folder to replace")
    ap.add_argument("--noise", type=float, help="points of validation accuracy that count as seed noise "
                                                "(default: two standard deviations of runs/candidates' seeds)")
    ap.add_argument("--force", action="store_true", help="ship the one RUN given, without the rule")
    ap.add_argument("--keep-as", type=Path, help="new folder that keeps the model being replaced, for the "
                                                 "report's comparison (default: 'previous' beside --to)")
    ap.add_argument("--data", type=Path, help="data set for robustness, the export's parity check and int8 "
                                              "calibration (default: data/ferplus, ../shared/data/ferplus)")
    ap.add_argument("--dry-run", action="store_true",
                    help="print the rule's table and what it would ship, and change no model folder "
                         "(a robustness it had to measure is still kept beside its candidate)")
    ap.add_argument("--no-export", action="store_true",
                    help="skip the ONNX export (fer predict then runs Keras until `fer export` is run)")
    args = ap.parse_args(argv)
    args.keep_as = args.keep_as if args.keep_as is not None else args.to.parent / "previous"
    try:
        if args.force:
            if len(args.runs) != 1:
                raise FerError("--force ships one run: name exactly one")
            ship(args.runs[0], args.to, export=not args.no_export, data=args.data, keep_as=args.keep_as)
            return 0
        for run in args.runs:
            check_finished(run, dry_run=args.dry_run)
        noise = args.noise if args.noise is not None else study_noise()
        folders = ([args.to] if (args.to / "metrics.json").is_file() else []) + list(args.runs)
        winner, table = choose([validation_figures(f, args.data) for f in folders], noise)
        print(f"validation figures; in the race: accuracy within {noise:.2f} points of the best; "
              "chosen: the highest score = macro F1 - robustness loss")
        print(table.to_string(index=False, float_format="{:.2f}".format))
        if winner.name == str(args.to):
            print(f"{args.to} stays: no candidate beats it by the rule; nothing shipped")
            return 0
        if args.dry_run:
            print(f"the rule would ship {winner.name} as {args.to} (dry run: nothing shipped)")
            return 0
        ship(Path(winner.name), args.to, export=not args.no_export, data=args.data, keep_as=args.keep_as)
    except FerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
