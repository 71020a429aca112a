"""Accuracy along the straight line between a model's weights and a fine-tune of it, on validation.

    python benchmarks/weight_averaging.py START TUNED [--alphas 0,0.3,0.5,0.7,1] [--data DIR]

Averaging a fine-tuned model's weights with those it started from (WiSE-FT, Wortsman et al., CVPR
2022; "model soups" are the same step over several fine-tunes) often keeps most of what the fine-tune
gained and most of what it lost, because both sit in one basin of the loss. Here the fine-tune's
gain is robustness to blur and compression and its loss clean accuracy, so each point of the line,
``(1 - alpha) * START + alpha * TUNED`` for every weight (the batch normalisation statistics
included), is scored clean, under blur at sigma 1.5 and under JPEG quality 30. Only a fine-tune of
the same network can be averaged with its start (``training.init_from``); two models trained from
scratch share no basin. The test split is not read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fer_helpers.errors import FerError  # noqa: E402

#: What each point of the line is scored on: the clean faces and the two camera changes that
#: cost the shipped models most (``fer_helpers.robustness``).
CONDITIONS = {"clean": None, "blur 1.5": ("blur", 1.5), "JPEG 30": ("jpeg", 30)}


def averaged(start, tuned, alpha: float) -> list:
    """The weights ``(1 - alpha) * start + alpha * tuned``, one array per variable."""
    return [(1 - alpha) * a + alpha * b for a, b in zip(start.get_weights(), tuned.get_weights())]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("start", help="the model folder the fine-tune started from")
    parser.add_argument("tuned", help="the fine-tuned model folder (a run with training.init_from)")
    parser.add_argument("--alphas", default="0,0.3,0.5,0.7,1", help="points of the line, 0 = START, 1 = TUNED")
    parser.add_argument("--data", help="data set (default: the project's defaults)")
    args = parser.parse_args(argv)

    from fer_helpers.evaluation import predict_probs
    from fer_helpers.metrics import compute_metrics
    from fer_helpers.model import load_model_dir
    from fer_helpers.robustness import perturb, scored_faces

    try:
        alphas = [float(a) for a in args.alphas.split(",")]
        start, classes = load_model_dir(args.start)
        tuned, tuned_classes = load_model_dir(args.tuned)
        shapes = [w.shape for w in start.get_weights()], [w.shape for w in tuned.get_weights()]
        if tuned_classes != classes or shapes[0] != shapes[1]:
            raise FerError(f"{args.tuned} is not the network of {args.start} (other weights or classes); "
                           "only a fine-tune can be averaged with its start")
        x, y = scored_faces(classes, args.data, "valid")
    except ValueError:
        print(f"weight_averaging: error: --alphas must be numbers separated by commas, got {args.alphas!r}",
              file=sys.stderr)
        return 2
    except FerError as exc:
        print(f"weight_averaging: error: {exc}", file=sys.stderr)
        return 2
    faces = {name: x if how is None else perturb(x, *how) for name, how in CONDITIONS.items()}
    model = load_model_dir(args.start)[0]  # a third copy, whose weights each point overwrites

    print(f"(1 - alpha) x {args.start} + alpha x {args.tuned}, on FER2013Valid ({len(y)} faces, majority labels)")
    print(f"{'alpha':>5} " + " ".join(f"{name + ' acc %':>15}" for name in CONDITIONS) + f" {'clean macro F1':>15}")
    for alpha in alphas:
        model.set_weights(averaged(start, tuned, alpha))
        scores = {name: compute_metrics(y, predict_probs(model, f), classes) for name, f in faces.items()}
        print(f"{alpha:5.2f} " + " ".join(f"{100 * s['accuracy']:15.2f}" for s in scores.values())
              + f" {scores['clean']['macro_f1']:15.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
