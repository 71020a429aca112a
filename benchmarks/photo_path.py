"""The whole photo path measured: detection, FER-framed crop and the model, on faces in larger photos.

    python benchmarks/photo_path.py [MODEL_DIR] [--images 300] [--seed 11] [--data PATH] [--engine auto]
                                    [--split test|valid]

FER+ *test* faces (majority labels, the protocol of every accuracy here) are placed into seeded
synthetic photos (``scenes.py``): 640x480 to 1280x960, 1-3 faces each with squares of about 64,
96, 144 or 216 pixels, turned up to 15 degrees, among textures, text, coins and a cat. Each face
is used once. The photos then go through what ``fer predict`` does (``faces.find_faces``: detect,
crop, then ``engine.probabilities`` on the model), and the same faces' original 48x48 crops go
straight to the model. Printed per path: detection recall, false faces per image, accuracy on the
faces found, accuracy on all faces (a missed face counts as wrong), the original crops' accuracy
on the same faces, and the processor milliseconds of detection + crop per photo; then recall by
face size.

Paths: Haar with the old fixed 20% margin (before this benchmark existed), Haar with the measured
box framing (``--detector haar``), BlazeFace with eye alignment (the default), BlazeFace
without turning the crop, and the accurate detector (``--detector accurate``: BlazeFace with
RetinaFace as a second detector, chosen in ``accurate_detector.py``) with eye alignment. Nothing here is tuned on: the detector and the framing were chosen on
validation faces (``detectors.py``, ``framing_calibration.py``). ``--split valid`` places
validation faces instead: the same table for choosing between the paths without looking at test.
About 4 minutes on 2 cores for 300 photos.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenes  # noqa: E402
from fer_helpers import faces as F  # noqa: E402
from fer_helpers.detection import detect_faces  # noqa: E402

#: name, detector, how the found face is cropped
PATHS = [
    ("haar, 20% margin (old)", "haar", lambda img, f: F.crop_face(img, f, margin=0.2)),
    ("haar, measured framing", "haar", lambda img, f: F.crop_face(img, f)),
    ("blazeface, aligned (default)", "blazeface", lambda img, f: F.crop_face(img, f)),
    ("blazeface, not turned", "blazeface", lambda img, f: F.crop_face(img, f, align=False)),
    ("accurate, aligned", "accurate", lambda img, f: F.crop_face(img, f)),
]


def make_photos(n: int, seed: int, data=None, split: str = "test"):
    """``n`` seeded photos of FER+ faces of ``split``, with the faces' true labels and original crops."""
    from fer_helpers.data import load_dataset

    x, y = load_dataset(data).split(split, labels="majority")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    photos, k = [], 0
    for _ in range(n):
        m = int(rng.integers(1, 4))
        photos.append(scenes.scene(rng, x, order[k:k + m]))
        k += m
    return photos, x, y


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", nargs="?", default=None, help="model folder (default: models/default)")
    parser.add_argument("--images", type=int, default=300, help="synthetic photos (default 300)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--data", help="FER+ data folder (default: data/ferplus, ../shared/data/ferplus)")
    parser.add_argument("--engine", default="auto", help="engine of fer predict (auto, onnx, int8, keras)")
    parser.add_argument("--split", default="test", choices=["test", "valid"],
                        help="faces to place (default test: the measurement; valid: for choosing between paths)")
    args = parser.parse_args(argv)

    from fer_helpers.engine import load_model, probabilities

    model, classes = load_model(args.model_dir, args.engine)
    photos, x, y = make_photos(args.images, args.seed, args.data, args.split)
    placed_all = [p for _, placed in photos for p in placed]
    n_faces = len(placed_all)
    print(f"command: python benchmarks/photo_path.py{' ' + args.model_dir if args.model_dir else ''} "
          f"--images {args.images} --seed {args.seed} --engine {args.engine}"
          + (f" --split {args.split}" if args.split != "test" else ""))
    print(f"{len(photos)} photos, {n_faces} FER+ {args.split} faces; model {model!r}\n")

    truth = np.array([y[p.index] for p in placed_all])
    crop_pred = probabilities(model, x[[p.index for p in placed_all]]).argmax(1)
    detections = {}
    for det in dict.fromkeys(d for _, d, _ in PATHS):
        found, times = [], []
        for img, _ in photos:
            t = time.process_time()
            found.append(detect_faces(img, det))
            times.append(time.process_time() - t)
        detections[det] = (found, times)

    header = (f"{'path':<30}{'recall %':>9}{'false/img':>10}{'acc found %':>12}{'acc all %':>10}"
              f"{'crops %':>8}{'gap pt':>7}{'CPU ms':>8}")
    rows = [header]
    by_size = {}
    for name, det, crop in PATHS:
        found, times = detections[det]
        crops, face_ids, false, crop_ms = [], [], 0, []
        base = 0
        for (img, placed), faces_found in zip(photos, found):
            pairs, extra = scenes.match([f.box for f in faces_found], placed)
            false += len(extra)
            t = time.process_time()
            for i, j in pairs.items():
                crops.append(crop(img, faces_found[j]))
                face_ids.append(base + i)
            crop_ms.append(time.process_time() - t)
            base += len(placed)
        face_ids = np.array(face_ids, dtype=int)
        pred = probabilities(model, np.stack(crops)).argmax(1) if crops else np.zeros(0, int)
        correct = pred == truth[face_ids]
        recall = len(face_ids) / n_faces
        acc_found = correct.mean() if len(correct) else 0.0
        acc_all = correct.sum() / n_faces
        crops_acc = (crop_pred[face_ids] == truth[face_ids]).mean() if len(face_ids) else 0.0
        ms = 1000 * float(np.median(np.add(times, crop_ms)))
        rows.append(f"{name:<30}{100 * recall:>9.1f}{false / len(photos):>10.3f}{100 * acc_found:>12.1f}"
                    f"{100 * acc_all:>10.1f}{100 * crops_acc:>8.1f}{100 * (acc_found - crops_acc):>+7.1f}{ms:>8.0f}")
        sides = np.array([p.side for p in placed_all])
        hit = np.zeros(n_faces, bool)
        hit[face_ids] = True
        by_size[name] = {s: hit[np.abs(sides - s) <= 0.1 * s + 1].mean() if (np.abs(sides - s) <= 0.1 * s + 1).any()
                         else float("nan") for s in scenes.FACE_SIDES}
    print("\n".join(rows))
    print(f"\noriginal 48x48 crops of all {n_faces} faces: accuracy {100 * (crop_pred == truth).mean():.1f}%")
    print("gap: accuracy on the faces found minus the original crops' accuracy on the same faces")
    print("CPU ms: median processor time of detection + crops per photo (time.process_time: all threads,\n"
          "        and unlike wall time not inflated by other processes on a shared machine)")
    print("\nrecall by face size (square side in pixels, before the photo's size is chosen):")
    print(f"{'path':<30}" + "".join(f"{s:>8}" for s in scenes.FACE_SIDES))
    for name, r in by_size.items():
        print(f"{name:<30}" + "".join(f"{100 * r[s]:>8.1f}" for s in scenes.FACE_SIDES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
