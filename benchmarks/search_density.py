"""What limits BlazeFace's recall on faces in photos (a measurement for the README, not a test).

    python benchmarks/search_density.py [--scenes 100] [--seed 7] [--photos 300] [--photo-seeds 11,12]
                                        [--data PATH]

Two tables, both on FER+ *validation* faces (the detector's settings are a choice, so never test):

1. One look, each face alone: the face scaled to fill a share of a 128-pixel view (gray around
   it), BlazeFace's short-range model run once. The share of faces found per fill is the most any
   search can get from this model, and says which sizes the search must bring every face to.
2. The whole default search (``detection.detect_faces``: windows, second look, face mesh) on the
   seeded scenes of ``benchmarks/detectors.py`` and on the validation photos of
   ``benchmarks/photo_path.py --split valid`` (two seeds), with denser pyramids of windows: recall, false
   faces per photo, BlazeFace calls per photo (one per window size and one per candidate's second
   look) and the processor time per photo.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import photo_path  # noqa: E402
import scenes  # noqa: E402
from detectors import make_scenes  # noqa: E402
from fer_helpers import detection as D  # noqa: E402

FILLS = (0.2, 0.3, 0.45, 0.6, 0.8)
#: name, window ratio per level, smallest window (pixels); the default is marked in the output
SEARCHES = (("ratio 0.6, smallest 160", 0.6, 160), ("ratio 0.6, smallest 128", 0.6, 128),
            ("ratio 0.7, smallest 160", 0.7, 160), ("ratio 0.7, smallest 128", 0.7, 128),
            ("ratio 0.8, smallest 160", 0.8, 160), ("ratio 0.8, smallest 128", 0.8, 128))


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


def search(photos, ratio: float, min_window: int) -> tuple[float, float, float, float]:
    """Recall, false faces per photo, BlazeFace calls per photo and processor milliseconds per
    photo of the default search with windows shrinking by ``ratio`` down to ``min_window`` pixels."""
    detector = D.BlazeFace("short", min_window=min_window, verify=True, num_threads=D._threads(), ratio=ratio)
    presence = D.FacePresence(num_threads=D._threads())
    found = placed_n = false = 0
    start = time.process_time()
    for img, placed in photos:
        pairs, extra = scenes.match([f.box for f in D.blazeface_faces(detector, img, presence=presence)], placed)
        found, placed_n, false = found + len(pairs), placed_n + len(placed), false + len(extra)
    ms = 1000 * (time.process_time() - start) / len(photos)
    return found / placed_n, false / len(photos), detector.calls / len(photos), ms


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=100, help="synthetic photos (default 100)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--photos", type=int, default=300,
                        help="photo_path.py's validation photos per seed, a second set (default 300; 0: none)")
    parser.add_argument("--photo-seeds", default="11,12", help="their seeds (default 11,12)")
    parser.add_argument("--data", help="FER+ data folder (default: data/ferplus, ../shared/data/ferplus)")
    args = parser.parse_args(argv)

    from fer_helpers.data import load_dataset

    faces, _ = load_dataset(args.data).split("valid", labels="majority")
    print(f"command: python benchmarks/search_density.py --scenes {args.scenes} --seed {args.seed} "
          f"--photos {args.photos} --photo-seeds {args.photo_seeds}\n")
    print(f"one look, each of {len(faces):,} FER+ validation faces alone (BlazeFace short range, "
          f"score >= {D.BLAZE_MIN_SCORE}):")
    print(f"{'fill of the view':<18}{'found %':>9}")
    look = D.BlazeFace("short", num_threads=D._threads())
    for fill in FILLS:
        print(f"{fill:<18}{100 * one_look(faces, fill, look):>9.1f}", flush=True)

    sets = [(f"{args.scenes} scenes of benchmarks/detectors.py (seed {args.seed})",
             make_scenes(args.scenes, args.seed, args.data))]
    if args.photos:
        seeds = [int(s) for s in args.photo_seeds.split(",")]
        sets.append((f"{args.photos} validation photos of benchmarks/photo_path.py per seed {args.photo_seeds}",
                     [p for seed in seeds for p in photo_path.make_photos(args.photos, seed, args.data, "valid")[0]]))
    for title, photos in sets:
        print(f"\nthe default search on {title}, {sum(len(p) for _, p in photos)} faces, denser pyramids of windows:")
        print(f"{'search':<34}{'recall %':>9}{'false/img':>10}{'calls/img':>10}{'CPU ms/img':>11}")
        for name, ratio, min_window in SEARCHES:
            recall, false, calls, ms = search(photos, ratio, min_window)
            if (ratio, min_window) == (D.BLAZE_WINDOW_RATIO, D.BLAZE_MIN_WINDOW):
                name += " (default)"
            print(f"{name:<34}{100 * recall:>9.1f}{false:>10.3f}{calls:>10.1f}{ms:>11.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
