"""Ship a finished training run as one of the project's model folders (a maintainer's step).

    python scripts/ship_model.py /work/runs/v3 [--to models/default] [--force]

It copies what a user needs (not the resumable checkpoints), rewrites the model card under
the new name, calibrates the confidences (`fer calibrate`: a temperature fitted on the
validation split, folded into model.keras; accuracy unchanged), and exports the ONNX files `fer predict` runs (`fer export`: model.onnx,
model.int8.onnx and export.json, after their parity check against Keras on the test split; the
data set must be at hand, `--data`). It refuses a run whose validation accuracy does not beat the
model it replaces: the shipped model is chosen on validation, and the test figure plays no part in
the choice (the export's check only compares the ONNX files with Keras, on the same model).
A failed export ships nothing. Afterwards: `fer evaluate models/default --tta`, `fer report`, and commit.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from fer_helpers import files  # noqa: E402
from fer_helpers.calibration import calibrate_model_dir, card_line  # noqa: E402
from fer_helpers.engine import export_model_dir, summary_text  # noqa: E402
from fer_helpers.errors import FerError  # noqa: E402
from fer_helpers.params import training_params  # noqa: E402
from fer_helpers.training import model_card  # noqa: E402

FILES = ("model.keras", "labels.json", "params.yaml", "history.csv", "metrics.json", "run.json")


def validation_accuracy(folder: Path) -> float | None:
    path = folder / "metrics.json"
    return json.loads(path.read_text())["validation"]["accuracy"] if path.is_file() else None


def ship(run: Path, dest: Path, force: bool = False, export: bool = True, data: Path | None = None) -> None:
    missing = [f for f in FILES if not (run / f).is_file()]
    if missing:
        raise FerError(f"{run}: not a finished run (missing {', '.join(missing)})")
    new, old = validation_accuracy(run), validation_accuracy(dest)
    if old is not None and new <= old and not force:
        raise FerError(f"{run}: validation accuracy {new:.4f} does not beat {dest}'s {old:.4f}; "
                       "nothing shipped (--force to ship anyway)")
    p = training_params(yaml.safe_load((run / "params.yaml").read_text()))
    metrics = json.loads((run / "metrics.json").read_text())
    info = json.loads((run / "run.json").read_text())
    # the whole folder at once: old evaluation figures describe the old model, and a kill
    # midway must not leave a shipped model folder that is half old, half new
    record = None
    with files.atomic_dir(dest) as tmp:
        for name in FILES:
            shutil.copy2(run / name, tmp / name)
        (tmp / "MODEL_CARD.md").write_text(model_card(dest.name, p, metrics, info))
        calibrated = calibrate_model_dir(tmp, data)
        with open(tmp / "MODEL_CARD.md", "a", encoding="utf-8") as card:
            card.write(card_line(calibrated))
        if export:  # inside the swap: the folder appears with its ONNX files, or not at all
            record = export_model_dir(tmp, data)
    test = metrics.get("test", {}).get("accuracy")
    print(f"shipped {run} as {dest}: validation {new:.4f} (was {old if old is None else f'{old:.4f}'}), "
          f"test {'not measured' if test is None else f'{test:.4f}'}")
    print(f"confidences calibrated: temperature {calibrated['temperature']:.3f}, validation ECE "
          f"{calibrated['validation']['ece_before']:.4f} -> {calibrated['validation']['ece_after']:.4f}")
    if record is not None:
        print(summary_text(record, dest))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a finished `fer train --out` folder")
    ap.add_argument("--to", type=Path, default=Path("models/default"), help="model folder to replace")
    ap.add_argument("--force", action="store_true", help="ship even if validation accuracy is not higher")
    ap.add_argument("--data", type=Path, help="data set for the export's parity check and int8 calibration "
                                              "(default: data/ferplus, ../shared/data/ferplus)")
    ap.add_argument("--no-export", action="store_true",
                    help="skip the ONNX export (fer predict then runs Keras until `fer export` is run)")
    args = ap.parse_args(argv)
    try:
        ship(args.run, args.to, args.force, export=not args.no_export, data=args.data)
    except FerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
