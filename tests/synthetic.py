"""Tiny synthetic FER data sets in all three layouts, for tests.

Every image is a distinct pseudo-random 48x48 face-sized array (seeded), so tests can check
that pixels arrive unchanged and that the duplicate report only sees what a test planted.
Vote rows are given in Microsoft's column order (``labels.FERPLUS_VOTE_COLUMNS``).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from PIL import Image

from fer_helpers import labels as L

MS_ORDER = L.FERPLUS_VOTE_COLUMNS
FERPLUS_DIRS = {"train": "FER2013Train", "valid": "FER2013Valid", "test": "FER2013Test"}


def face(seed: int) -> np.ndarray:
    """A distinct 48x48 uint8 image for ``seed``."""
    return np.random.default_rng(seed).integers(0, 256, (48, 48), dtype=np.uint8)


def write_png(path: Path, arr: np.ndarray, mode: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr, mode=mode).save(path, format="PNG")
    return path


def png_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def votes(**counts: int) -> list[int]:
    """A vote row in Microsoft's order from keyword counts, e.g. ``votes(happiness=8, NF=2)``."""
    unknown = set(counts) - set(MS_ORDER)
    assert not unknown, unknown
    return [int(counts.get(c, 0)) for c in MS_ORDER]


# Default FER+ rows per split: (file name, Microsoft-order votes). Chosen so each split has a
# known majority count, one image without a majority and one unknown/NF image.
DEFAULT_FERPLUS_ROWS = {
    "train": [
        ("fer0000000.png", votes(neutral=10)),
        ("fer0000001.png", votes(happiness=7, surprise=3)),
        ("fer0000002.png", votes(contempt=6, neutral=1, anger=3)),        # single vote dropped
        ("fer0000003.png", votes(sadness=5, anger=5)),                     # tie: no majority
        ("fer0000004.png", votes(NF=10)),                                  # not a face
        ("fer0000005.png", votes(fear=9)),                                 # 9 votes
    ],
    "valid": [
        ("fer0028638.png", votes(surprise=8, fear=2)),
        ("fer0028639.png", votes(disgust=4, anger=4, sadness=2)),          # no majority
        ("fer0028640.png", votes(unknown=6, happiness=4)),                 # unknown majority
    ],
    "test": [
        ("fer0032220.png", votes(anger=2, disgust=1, contempt=7)),
        ("fer0032222.png", votes(neutral=3, sadness=5, unknown=2)),        # 5 of 10: not a majority
        ("fer0032223.png", votes(neutral=6, surprise=1, sadness=2, unknown=1)),
        ("fer0032224.png", votes(happiness=10)),
    ],
}


def make_ferplus(root: Path, rows: dict | None = None, *, seed: int = 0,
                 splits=("train", "valid", "test")) -> Path:
    """Microsoft's FER+ layout: ``FER2013{Train,Valid,Test}/`` with PNGs and a label.csv."""
    rows = DEFAULT_FERPLUS_ROWS if rows is None else rows
    root.mkdir(parents=True, exist_ok=True)
    k = seed * 1000
    for split in splits:
        d = root / FERPLUS_DIRS[split]
        d.mkdir(parents=True, exist_ok=True)
        lines = []
        for name, v in rows[split]:
            write_png(d / name, face(k))
            k += 1
            lines.append(f'{name},"(0, 0, 48, 48)",' + ",".join(str(x) for x in v))
        (d / "label.csv").write_text("\n".join(lines) + "\n")
    return root


def ferplus_pixels(root: Path, split: str, name: str) -> np.ndarray:
    return np.asarray(Image.open(root / FERPLUS_DIRS[split] / name))


def make_folders(root: Path, classes=("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"),
                 per_class: int = 2, valid_name: str | None = "valid", seed: int = 0,
                 split_names=None) -> Path:
    """Class-folder layout: ``train/<class>/*.png``, ``valid|validation|val/...``, ``test/...``.

    ``classes`` are folder names as a user may spell them. Returns ``root``.
    """
    split_names = split_names or {"train": "train", "valid": valid_name, "test": "test"}
    k = seed * 1000
    for split, dirname in split_names.items():
        if dirname is None:
            continue
        for c in classes:
            for i in range(per_class):
                write_png(root / dirname / c / f"{split}_{c}_{i}.png", face(k))
                k += 1
    root.mkdir(parents=True, exist_ok=True)
    return root


def pixels_str(arr: np.ndarray) -> str:
    return " ".join(str(int(v)) for v in arr.ravel())


# Kaggle rows: (emotion code 0..6, Usage). Codes: 0 anger 1 disgust 2 fear 3 happy 4 sad 5 surprise 6 neutral
DEFAULT_CSV_ROWS = [
    (0, "Training"), (3, "Training"), (6, "Training"), (1, "Training"),
    (4, "PublicTest"), (5, "PublicTest"),
    (2, "PrivateTest"), (3, "PrivateTest"), (6, "PrivateTest"),
]


def make_kaggle_csv(root: Path, rows=None, *, new_votes=None, seed: int = 0,
                    subdir: str | None = None, extra_lines: list[str] | None = None) -> Path:
    """Kaggle ``fer2013.csv`` (``emotion,pixels,Usage``); with ``new_votes`` (Microsoft-order
    vote rows, one per row) also ``fer2013new.csv`` beside it. Returns the csv path."""
    rows = DEFAULT_CSV_ROWS if rows is None else rows
    d = root / subdir if subdir else root
    d.mkdir(parents=True, exist_ok=True)
    path = d / "fer2013.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["emotion", "pixels", "Usage"])
        for i, (code, usage) in enumerate(rows):
            w.writerow([code, pixels_str(face(seed * 1000 + i)), usage])
    if extra_lines:
        with open(path, "a") as fh:
            fh.write("".join(line + "\n" for line in extra_lines))
    if new_votes is not None:
        write_fer2013new(d / "fer2013new.csv", rows, new_votes)
    return path


def write_fer2013new(path: Path, rows, new_votes) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Usage", "Image name", *MS_ORDER])
        for i, ((_, usage), v) in enumerate(zip(rows, new_votes)):
            name = f"fer{i:07d}.png" if sum(v[:9]) else ""   # Microsoft leaves NF-only rows unnamed
            w.writerow([usage, name, *v])
    return path
