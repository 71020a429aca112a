"""What an ensemble of trained models would teach a student: each model and their average, on validation.

    python benchmarks/ensemble.py runs/candidates/seed_1 runs/candidates/seed_2 models/default [--flip]

Prints accuracy and macro F1 of each model folder and of the mean of their probabilities (the
targets ``training.teachers`` distils from), on FER2013Valid: the figure that chooses teachers.
``--flip`` adds each model's mirror-image pass, as distillation does. The test split is left alone:
it is measured once per shipped candidate, by its training run.
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="model folders (model.keras + labels.json)")
    parser.add_argument("--data", default=None, help="data set (default: the project's)")
    parser.add_argument("--flip", action="store_true", help="average each model with its mirror-image pass")
    args = parser.parse_args()

    from fer_helpers.data import load_dataset
    from fer_helpers.metrics import compute_metrics
    from fer_helpers.model import load_model_dir

    ds = load_dataset(args.data)
    x, y = ds.split("valid", labels="majority")
    faces = x[..., None].astype("float32")
    probs = []
    print(f"validation: {len(y):,} faces (FER2013Valid, majority labels){', with mirror images' if args.flip else ''}")
    for folder in args.models:
        model, classes = load_model_dir(folder)
        if list(classes) != list(ds.classes):
            raise SystemExit(f"{folder}: classes {classes} are not the data's")
        p = model.predict(faces, batch_size=256, verbose=0)
        if args.flip:
            p = (p + model.predict(faces[:, :, ::-1], batch_size=256, verbose=0)) / 2
        probs.append(p)
        m = compute_metrics(y, p, ds.classes)
        print(f"  {folder:40s} accuracy {m['accuracy']:.2%}  macro F1 {m['macro_f1']:.3f}")
    m = compute_metrics(y, np.mean(probs, axis=0), ds.classes)
    print(f"  {'ensemble of ' + str(len(probs)):40s} accuracy {m['accuracy']:.2%}  macro F1 {m['macro_f1']:.3f}")


if __name__ == "__main__":
    main()
