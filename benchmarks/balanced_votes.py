"""How accurate can a network trained with the logit-adjusted loss be on the majority protocol?

    python benchmarks/balanced_votes.py [--data DIR] [--split valid]

A network trained with ``imbalance: logit_adjusted`` at ``tau`` learns, at best, the log of the
votes minus ``tau`` times the log of each class's share of the training votes (Menon et al.,
2021), and answers with its largest entry. This asks what that answer gets right when the
network learns the votes perfectly: an oracle that knows every face's votes answers
``argmax(log votes - tau * log prior)``, scored against the majority label of the faces the
protocol keeps. At ``tau = 0`` it is the majority itself (100%); what it loses above that is the
faces where a rare class's few votes, divided by its small share, outweigh the majority: the rare
classes keep all their faces and take others' (their precision falls). No model is read, and
validation is the default: the test split plays no part in choosing.
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="data set (default: data/ferplus, ../shared/data/ferplus)")
    parser.add_argument("--split", default="valid", choices=("valid", "test"))
    args = parser.parse_args()

    from sklearn.metrics import accuracy_score, f1_score, precision_score

    from fer_helpers import labels as L
    from fer_helpers.data import load_dataset

    ds = load_dataset(args.data)
    _, train = ds.split("train", labels="distribution")
    prior = train.mean(axis=0)  # what the loss shifts by (fer_helpers.training: the targets' mean)
    votes = ds.votes(args.split)
    majority = L.majority_labels(votes)
    share, kept = L.vote_distribution(votes)
    both = (majority >= 0) & kept
    y, share = majority[both], share[both]
    rare = [ds.classes.index(c) for c in ("contempt", "disgust", "fear")]

    print(f"FER+ {args.split}: {len(y)} faces with a majority label; the training votes' shares: "
          + ", ".join(f"{c} {q:.3f}" for c, q in zip(ds.classes, prior)))
    print("an oracle that knows each face's votes answers argmax(log votes - tau * log share):")
    print(f"{'tau':>5} {'accuracy %':>11} {'macro F1':>9} {'precision contempt / disgust / fear':>36}")
    for tau in (0.0, 0.1, 0.3, 0.5, 1.0):
        pred = (np.log(np.maximum(share, 1e-9)) - tau * np.log(prior)).argmax(1)
        precision = precision_score(y, pred, labels=rare, average=None, zero_division=0)
        print(f"{tau:5.1f} {100 * accuracy_score(y, pred):11.2f} {f1_score(y, pred, average='macro'):9.4f} "
              f"{' / '.join(f'{r:.2f}' for r in precision):>36}")


if __name__ == "__main__":
    main()
