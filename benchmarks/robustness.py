"""Accuracy of a model folder under framing and camera shifts (a measurement for the README, not a test).

    python benchmarks/robustness.py [MODEL_DIR] [--data PATH] [--split test] [--subset N] [--csv PATH]

Prints one row per perturbation and strength of ``fer_helpers.robustness.PERTURBATIONS`` (and
the clean images first): accuracy and macro F1 in %, the change of accuracy against the clean
images in points, and the number of images. The images are those ``fer evaluate`` scores (FER+
majority labels; ``--subset`` draws the same seeded subset). Numbers on ``test`` are for
reporting only, never for choosing a model or a setting. About 4 minutes for the 3,137 test
images on a 2-core CPU (31 passes over the split).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fer_helpers.errors import FerError  # noqa: E402
from fer_helpers.evaluation import default_model_dir  # noqa: E402
from fer_helpers.files import write_text  # noqa: E402
from fer_helpers.robustness import robustness_of_model_dir  # noqa: E402


def format_table(table) -> str:
    """The table as fixed-width text: percentages and points, one decimal."""
    shown = table.assign(strength=table["strength"].map(lambda s: "" if pd.isna(s) else f"{s:g}"),
                         accuracy=100 * table["accuracy"], macro_f1=100 * table["macro_f1"],
                         drop=100 * table["drop"])
    shown = shown.rename(columns={"accuracy": "accuracy %", "macro_f1": "macro F1 %", "drop": "change (pt)"})
    return shown.to_string(index=False, formatters={"accuracy %": "{:.1f}".format, "macro F1 %": "{:.1f}".format,
                                                    "change (pt)": "{:+.1f}".format})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir", nargs="?", default=str(default_model_dir()),
                    help="model folder (default: models/default)")
    ap.add_argument("--data", help="data folder (default: the project's defaults)")
    ap.add_argument("--split", default="test", help="split to perturb (default: test)")
    ap.add_argument("--subset", type=int, help="a seeded random subset of this many images (default: all)")
    ap.add_argument("--seed", type=int, default=42, help="seed of the subset (default 42)")
    ap.add_argument("--csv", help="also write the table (fractions, unrounded) to this CSV file")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    try:
        table = robustness_of_model_dir(args.model_dir, data=args.data, split=args.split, subset=args.subset,
                                        seed=args.seed)
    except FerError as exc:
        print(f"robustness: error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.model_dir} on {args.split}: {table['n'].iloc[0]} images"
          + (f" (random subset, seed {args.seed})" if args.subset else "")
          + f", {time.perf_counter() - t:.0f} s")
    print(format_table(table))
    if args.csv:
        print(f"wrote {write_text(args.csv, table.to_csv(index=False))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
