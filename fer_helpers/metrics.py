"""The figures every model is judged by: accuracy, loss, weighted and macro F1, per class.

One function so training (validation), evaluation (test) and the report agree to the digit.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix, f1_score, log_loss


def compute_metrics(y_true, probs, classes) -> dict:
    """Metrics of predicted probabilities ``probs`` (N, C) against integer labels ``y_true``."""
    y_true = np.asarray(y_true, dtype=np.int64)
    probs = np.clip(np.asarray(probs, dtype=np.float64), 1e-7, 1.0)
    probs /= probs.sum(axis=1, keepdims=True)  # float32 softmax rows sum to 1 only approximately
    labels = list(range(len(classes)))
    y_pred = probs.argmax(axis=1)
    report = classification_report(y_true, y_pred, labels=labels, target_names=list(classes),
                                   output_dict=True, zero_division=0)
    return {
        "n": int(len(y_true)),
        "accuracy": float((y_pred == y_true).mean()),
        "loss": float(log_loss(y_true, probs, labels=labels)),
        "weighted_f1": float(f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class": {c: {k: float(report[c][k]) for k in ("precision", "recall", "f1-score", "support")}
                      for c in classes},
        "report_text": classification_report(y_true, y_pred, labels=labels, target_names=list(classes),
                                             digits=3, zero_division=0),
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def proportion_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion of ``k`` in ``n`` (an accuracy, a recall): on
    3,137 test faces about ±1.2 points around 87.8%, on contempt's 15 faces about ±20 points.
    Wilson's, not the normal approximation, so that small counts and counts near 0 or n keep
    an interval inside [0, 1]."""
    from scipy.stats import binomtest

    if n == 0:
        return float("nan"), float("nan")
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)
