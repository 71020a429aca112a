"""BlazeFace's three thresholds against the photo path's recall goal, on validation faces only.

    python benchmarks/detector_thresholds.py [--images 300] [--seeds 11,12] [--data PATH]

The default path finds about 94% of the faces that ``photo_path.py`` places into photos, and the
goal is 98%. A face is kept when the window search scores it ``search`` or more, a second look at
it scores ``look`` or more (``BlazeFace.look_near``) and the face mesh gives it a probability of
``mesh`` or more (``FacePresence``). This measures whether looser thresholds buy the missing
points, and at what cost in false faces (goal: under 1 in 50 photos), on FER+ *validation* faces
placed in ``--images`` photos per seed, so that a choice made here leaves the test split unseen.
About 2 minutes per row on 2 cores for 600 photos.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import photo_path  # noqa: E402
import scenes  # noqa: E402
from fer_helpers import detection as D  # noqa: E402

#: (search, look, mesh): the default first, then a looser second look and face mesh, then a looser search
GRID = [(D.BLAZE_MIN_SCORE, D.BLAZE_VERIFY_SCORE, D.FACE_PRESENCE_MIN),
        (0.5, 0.5, 0.25), (0.5, 0.4, 0.5), (0.5, 0.4, 0.25), (0.5, 0.3, 0.5), (0.5, 0.3, 0.25),
        (0.4, 0.5, 0.5)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300, help="synthetic photos per seed (default 300)")
    parser.add_argument("--seeds", default="11,12", help="scene seeds, comma-separated (default 11,12)")
    parser.add_argument("--data", help="FER+ data folder (default: data/ferplus, ../shared/data/ferplus)")
    args = parser.parse_args(argv)

    photos = []
    for seed in (int(s) for s in args.seeds.split(",")):
        photos += photo_path.make_photos(args.images, seed, args.data, "valid")[0]
    n_faces = sum(len(placed) for _, placed in photos)
    print(f"command: python benchmarks/detector_thresholds.py --images {args.images} --seeds {args.seeds}")
    print(f"{len(photos)} photos, {n_faces} FER+ valid faces\n")
    print(f"{'search':>7}{'look':>6}{'mesh':>6}{'recall %':>10}{'false/photo':>13}{'seconds':>9}")
    for search, look, mesh in GRID:
        detector = D.BlazeFace("short", min_window=D.BLAZE_MIN_WINDOW, verify=True, num_threads=D._threads(),
                               min_score=search, verify_score=look)
        presence = D.FacePresence(num_threads=D._threads(), min_probability=mesh)
        found = false = 0
        start = time.perf_counter()
        for img, placed in photos:
            faces = D.blazeface_faces(detector, img, presence=presence)
            pairs, extra = scenes.match([f.box for f in faces], placed)
            found, false = found + len(pairs), false + len(extra)
        print(f"{search:>7}{look:>6}{mesh:>6}{100 * found / n_faces:>10.1f}{false / len(photos):>13.3f}"
              f"{time.perf_counter() - start:>9.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
