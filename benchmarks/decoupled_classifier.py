"""Is it the classifier, not the features, that fails the rare expressions? Measured on validation only.

    python benchmarks/decoupled_classifier.py [models/default] [--data DIR]

Kang et al. (ICLR 2020, "Decoupling representation and classifier for long-tailed recognition")
found that a network trained on imbalanced data learns features good enough for its rare classes,
and that its last layer is what favours the common ones: the weight vectors of common classes grow
longer. Two cheap fixes leave the features alone:

* **tau-normalisation**: each class's weight vector divided by its length to the power ``tau``
  (0: the model as trained; 1: every class the same length). One parameter, no training.
* **classifier retraining (cRT)**: a new last layer fitted on the frozen features of the training
  faces, each face weighted by ``(n_max / n_class) ** power`` of its majority class (0: no
  re-weighting, the same targets as the model; 1: every class weighs the same in total).
  Soft targets (the FER+ vote distributions), as the network was trained; a softmax regression
  on 256 features, fitted with L-BFGS in seconds.

Post-hoc logit adjustment (``benchmarks/logit_adjustment.py``) shifts every face's logits by a
constant per class; these change the slope as well, which is what Kang et al. found to matter.
This prints validation accuracy, macro F1 and the recall of the three rarest expressions for each
setting; the test split is not read.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

#: The rare expressions the study's targets name, in the order they are printed.
RARE = ("contempt", "disgust", "fear")


def features_and_classifier(model_dir: str):
    """``(features, W, b)``: a function from faces to the 256 features the last layer reads (after
    the fc block's ReLU; dropout is off at inference), and that layer's weights ``(256, C)`` and
    bias ``(C,)``, with the calibration's temperature folded in (a common scale: no argmax moves)."""
    import keras

    from fer_helpers.engine import as_faces
    from fer_helpers.model import load_model_dir

    model, _ = load_model_dir(model_dir)
    head = model.get_layer("probs")
    extractor = keras.Model(model.inputs, head.input)
    w, b = (np.asarray(v, dtype=np.float64) for v in head.get_weights())
    def features(faces):
        return np.asarray(extractor.predict(as_faces(faces), batch_size=256, verbose=0), dtype=np.float64)

    return features, w, b


def softmax_regression(f, targets, weights, l2: float, w0, b0):
    """The last layer ``(W, b)`` minimising the weighted cross-entropy to soft ``targets`` plus
    ``l2 * |W|^2`` (mean over faces), started from the trained layer."""
    from scipy.optimize import minimize
    from scipy.special import log_softmax

    n, d = f.shape
    c = targets.shape[1]
    weights = weights / weights.mean()

    def loss(theta):
        w, b = theta[:d * c].reshape(d, c), theta[d * c:]
        logp = log_softmax(f @ w + b, axis=1)
        value = -(weights[:, None] * targets * logp).sum() / n + l2 * (w ** 2).sum()
        grad_z = weights[:, None] * (np.exp(logp) * targets.sum(1, keepdims=True) - targets) / n
        return value, np.concatenate([(f.T @ grad_z + 2 * l2 * w).ravel(), grad_z.sum(0)])

    theta = minimize(loss, np.concatenate([w0.ravel(), b0]), jac=True, method="L-BFGS-B",
                     options={"maxiter": 500}).x
    return theta[:d * c].reshape(d, c), theta[d * c:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", nargs="?", default="models/default")
    parser.add_argument("--data", help="data set (default: data/ferplus, ../shared/data/ferplus)")
    args = parser.parse_args()

    from sklearn.metrics import accuracy_score, f1_score, recall_score

    from fer_helpers.data import load_dataset

    ds = load_dataset(args.data)
    classes = list(ds.classes)
    rare = [classes.index(c) for c in RARE]
    x_valid, y_valid = ds.split("valid")
    x_train, soft = ds.split("train", labels="distribution")
    hard = soft.argmax(1)
    start = time.time()
    features, w, b = features_and_classifier(args.model_dir)
    f_valid, f_train = features(x_valid), features(x_train)
    seconds = time.time() - start
    counts = np.bincount(hard, minlength=len(classes))

    def row(name, logits):
        pred = logits.argmax(1)
        recalls = recall_score(y_valid, pred, labels=rare, average=None, zero_division=0)
        print(f"{name:<28} {100 * accuracy_score(y_valid, pred):10.2f} {f1_score(y_valid, pred, average='macro'):9.4f}  "
              + " / ".join(f"{r:.2f}" for r in recalls))

    print(f"{args.model_dir} on FER2013Valid ({len(y_valid)} faces, majority labels); features of "
          f"{len(x_valid) + len(x_train):,} faces in {seconds:.0f} s; training faces per class (majority): "
          + ", ".join(f"{c} {n}" for c, n in zip(classes, counts)))
    print(f"{'last layer':<28} {'accuracy %':>10} {'macro F1':>9}  recall {' / '.join(RARE)}")
    norms = np.linalg.norm(w, axis=0)
    print(f"(weight vector lengths: {', '.join(f'{c} {n:.2f}' for c, n in zip(classes, norms))})")
    for tau in (0.0, 0.25, 0.5, 0.75, 1.0):
        row(f"tau-normalised, tau {tau:.2f}", f_valid @ (w / norms ** tau) + b)
    for power in (0.0, 0.3, 0.5, 1.0):
        per_class = (counts.max() / np.maximum(counts, 1)) ** power
        w_new, b_new = softmax_regression(f_train, soft, per_class[hard], 1e-4, w, b)
        row(f"retrained, power {power:.1f}", f_valid @ w_new + b_new)


if __name__ == "__main__":
    main()
