"""What limits BlazeFace's recall on faces in photos (a measurement for the README, not a test).

    python benchmarks/search_density.py [--scenes 100] [--seed 7] [--data PATH]

Two tables, both on FER+ *validation* faces (the detector's settings are a choice, so never test):

1. One look, each face alone: the face scaled to fill a share of a 128-pixel view (gray around
   it), BlazeFace's short-range model run once. The share of faces found per fill is the most any
   search can get from this model, and says which sizes the search must bring every face to.
2. The whole default search (``detection.detect_faces``: windows, second look, face mesh) on the
   seeded scenes of ``benchmarks/detectors.py``, with denser pyramids of windows: recall, false
   faces per photo, BlazeFace calls per photo (the cost; each is about 0.7 ms here).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenes  # noqa: E402
from detectors import make_scenes  # noqa: E402
from fer_helpers import detection as D  # noqa: E402

FILLS = (0.2, 0.3, 0.45, 0.6, 0.8)
#: name, window ratio per level, smallest window (pixels)
SEARCHES = (("default", D.BLAZE_WINDOW_RATIO, D.BLAZE_MIN_WINDOW), ("ratio 0.7", 0.7, D.BLAZE_MIN_WINDOW),
            ("smallest 128", D.BLAZE_WINDOW_RATIO, 128), ("ratio 0.7, smallest 128", 0.7, 128))


def one_look(faces: np.ndarray, fill: float, detector: D.BlazeFace, side: int = 128) -> float:
    """Share of ``faces`` (48x48) that one BlazeFace look finds when each fills ``fill`` of the view."""
    found = 0
    for face in faces:
        f = int(round(side * fill))
        view = np.full((side, side), 128, np.uint8)
        o = (side - f) // 2
        view[o:o + f, o:o + f] = cv2.resize(face, (f, f), interpolation=cv2.INTER_CUBIC)
        _, scores = detector._infer(np.repeat(view[..., None], 3, axis=2), detector.min_score)
        found += bool(len(scores))
    return found / len(faces)


def search(photos, ratio: float, min_window: int) -> tuple[float, float, float]:
    """Recall, false faces per photo and BlazeFace calls per photo of the default search with
    windows shrinking by ``ratio`` down to ``min_window`` pixels."""
    detector = D.BlazeFace("short", min_window=min_window, verify=True, num_threads=D._threads())
    presence = D.FacePresence(num_threads=D._threads())
    calls = 0
    infer = detector._infer

    def counted(view, min_score):
        nonlocal calls
        calls += 1
        return infer(view, min_score)

    detector._infer = counted
    default_ratio = D.windows.__defaults__
    D.windows.__defaults__ = (ratio,)
    try:
        found = placed_n = false = 0
        for img, placed in photos:
            pairs, extra = scenes.match([f.box for f in D.blazeface_faces(detector, img, presence=presence)], placed)
            found, placed_n, false = found + len(pairs), placed_n + len(placed), false + len(extra)
    finally:
        D.windows.__defaults__ = default_ratio
    return found / placed_n, false / len(photos), calls / len(photos)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=100, help="synthetic photos (default 100)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", help="FER+ data folder (default: data/ferplus, ../shared/data/ferplus)")
    args = parser.parse_args(argv)

    from fer_helpers.data import load_dataset

    faces, _ = load_dataset(args.data).split("valid", labels="majority")
    print(f"command: python benchmarks/search_density.py --scenes {args.scenes} --seed {args.seed}\n")
    print(f"one look, each of {len(faces):,} FER+ validation faces alone (BlazeFace short range, "
          f"score >= {D.BLAZE_MIN_SCORE}):")
    print(f"{'fill of the view':<18}{'found %':>9}")
    look = D.BlazeFace("short", num_threads=D._threads())
    for fill in FILLS:
        print(f"{fill:<18}{100 * one_look(faces, fill, look):>9.1f}", flush=True)

    photos = make_scenes(args.scenes, args.seed, args.data)
    print(f"\nthe default search on {len(photos)} scenes, {sum(len(p) for _, p in photos)} faces "
          "(benchmarks/detectors.py), denser pyramids of windows:")
    print(f"{'search':<26}{'recall %':>9}{'false/img':>10}{'calls/img':>10}")
    for name, ratio, min_window in SEARCHES:
        recall, false, calls = search(photos, ratio, min_window)
        print(f"{name:<26}{100 * recall:>9.1f}{false:>10.3f}{calls:>10.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
