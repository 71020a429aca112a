"""Expressions of the faces in ordinary photos: detect, crop to 48x48 like FER2013, classify, draw.

The detector is OpenCV's Viola-Jones Haar cascade for frontal faces, whose trained XML ships inside
the ``opencv-python-headless`` wheel (4.x): nothing is downloaded at run time and it runs on any
CPU in milliseconds. It finds upright, roughly frontal faces, which is also what FER2013 holds.
``run_predict`` is the ``fer predict`` command.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from .data import IMAGE_EXTENSIONS, open_image, to_8bit
from .errors import FerError
from .files import ensure_dir, write_new
from .labels import FERPLUS_CLASSES

FACE_SIZE = 48
#: Faces smaller than this share of the image's shorter side are ignored (Haar's noise floor).
MIN_FACE_FRACTION = 0.04
#: Larger photos are searched at this size: the cascade's cost grows with pixels, faces stay findable.
DETECT_MAX_SIDE = 1280
#: The tab10 colours, as in the figures (``plots.class_palette``), one per class index.
_COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


# --------------------------------------------------------------------------------------------
# Images

def load_image(path: str | os.PathLike) -> np.ndarray:
    """Decode a photo to RGB ``(H, W, 3)`` uint8, upright as its EXIF says; ``FerError`` if it is not one.

    Gray photos get three equal channels so boxes can be drawn in colour; transparency is put
    on white, 16-bit images are scaled to 8 bits. Photos over ``data.MAX_IMAGE_PIXELS`` are
    refused before decoding (see ``data.open_image``).
    """
    with open_image(path) as img:
        return np.asarray(to_8bit(img).convert("RGB"), dtype=np.uint8)


def _gray(image) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[-1] == 1:
        return image[..., 0]
    if image.ndim == 3 and image.shape[-1] == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if image.ndim == 3 and image.shape[-1] == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY)
    raise FerError(f"expected a gray (H, W) or RGB (H, W, 3) image, got shape {image.shape}")


def _rgb(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 3:
        return image.astype(np.uint8, copy=True)
    return cv2.cvtColor(_gray(image), cv2.COLOR_GRAY2RGB)


# --------------------------------------------------------------------------------------------
# Detection

@functools.lru_cache(maxsize=1)
def _cascade():
    if not hasattr(cv2, "CascadeClassifier"):
        raise FerError(f"OpenCV {cv2.__version__} has no Haar cascades (OpenCV 5 moved them out); "
                       "install opencv-python-headless<5")
    path = os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml")
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise FerError(f"{path}: face detector model missing or unreadable (reinstall opencv-python-headless<5)")
    return cascade


def detect_faces(image, scale_factor: float = 1.1, min_neighbors: int = 5,
                 min_fraction: float = MIN_FACE_FRACTION, nms_iou: float = 0.3) -> list[tuple[int, int, int, int]]:
    """Boxes ``(x, y, w, h)`` of frontal faces, left to right; an empty list when there are none.

    The photo is equalised (backlit faces), searched at most ``DETECT_MAX_SIDE`` pixels wide,
    and overlapping hits are merged by non-maximum suppression.
    """
    gray = _gray(image)
    h, w = gray.shape
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    small = cv2.equalizeHist(small)
    side = max(24, int(round(min_fraction * min(small.shape))))
    if min(small.shape) < side:
        return []
    boxes = _cascade().detectMultiScale(small, scaleFactor=scale_factor, minNeighbors=min_neighbors,
                                        minSize=(side, side))
    if len(boxes) == 0:
        return []
    boxes = np.asarray(boxes).reshape(-1, 4)
    # the cascade already merges neighbours; what survives as overlap is a face found twice at two
    # scales: keep the larger box
    scores = (boxes[:, 2] * boxes[:, 3]).astype(float).tolist()
    keep = np.asarray(cv2.dnn.NMSBoxes(boxes.tolist(), scores, 0.0, nms_iou)).reshape(-1)
    found = [tuple(int(round(v / scale)) for v in boxes[i]) for i in keep]
    return sorted(found, key=lambda b: (b[0], b[1]))


def crop_face(image, box, margin: float = 0.2) -> np.ndarray:
    """The face in ``box`` as FER2013 frames one: a square ``margin`` wider per side, gray, 48x48.

    Parts of the square outside the photo are filled by repeating its edge, so a face at the
    border stays centred instead of being stretched.
    """
    gray = _gray(image)
    x, y, w, h = (int(v) for v in box)
    if w <= 0 or h <= 0:
        raise FerError(f"face box must have a positive size, got {tuple(box)}")
    side = int(round(max(w, h) * (1 + 2 * margin)))
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    pad = max(0, -x0, -y0, x0 + side - gray.shape[1], y0 + side - gray.shape[0])
    if pad:
        gray = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    face = gray[y0 + pad:y0 + pad + side, x0 + pad:x0 + pad + side]
    interp = cv2.INTER_AREA if side > FACE_SIZE else cv2.INTER_LINEAR
    return cv2.resize(face, (FACE_SIZE, FACE_SIZE), interpolation=interp)


# --------------------------------------------------------------------------------------------
# Classification

def _class_names(model, classes) -> list[str]:
    if classes is not None:
        return list(classes)
    n = model.output_shape[-1]
    return list(FERPLUS_CLASSES) if n == len(FERPLUS_CLASSES) else [f"class_{i}" for i in range(n)]


def _faces_of(image, detect: bool, margin: float = 0.2) -> tuple[list, list]:
    if detect:
        boxes = detect_faces(image)
        return [list(b) for b in boxes], [crop_face(image, b, margin) for b in boxes]
    h, w = np.asarray(image).shape[:2]
    return [[0, 0, int(w), int(h)]], [crop_face(image, (0, 0, w, h), margin=0.0)]


def _results(boxes, probs, classes) -> list[dict]:
    return [{"box": [int(v) for v in b], "label": classes[int(p.argmax())], "confidence": float(p.max()),
             "probabilities": {c: float(v) for c, v in zip(classes, p)}} for b, p in zip(boxes, probs)]


def predict_faces(image, model, classes=None, detect: bool = True) -> list[dict]:
    """Each face's ``box [x, y, w, h]``, ``label``, ``confidence`` and ``probabilities {class: p}``.

    ``detect=False`` takes the whole image as one face that is already cropped.
    """
    from .evaluation import predict_probs

    classes = _class_names(model, classes)
    boxes, crops = _faces_of(image, detect)
    if not crops:
        return []
    return _results(boxes, predict_probs(model, np.stack(crops)), classes)


def annotate(image, faces: list[dict], classes=None) -> np.ndarray:
    """A copy of the photo (RGB) with each face's box and ``label confidence`` drawn on it."""
    out = _rgb(image)
    h, w = out.shape[:2]
    thick = max(1, int(round(min(h, w) / 250)))
    order = list(classes) if classes else list(FERPLUS_CLASSES)
    for f in faces:
        x, y, bw, bh = f["box"]
        color = _COLORS[order.index(f["label"]) % len(_COLORS)] if f["label"] in order else _COLORS[0]
        cv2.rectangle(out, (x, y), (x + bw - 1, y + bh - 1), color, thick, cv2.LINE_AA)
        text = f"{f['label']} {f['confidence']:.2f}"
        scale = max(0.35, min(2.0, bw / 180))
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, max(1, thick // 2))
        ty = y - 4 if y - th - base - 4 >= 0 else min(h - base - 1, y + bh + th + 4)
        cv2.rectangle(out, (x, ty - th - 3), (x + tw + 4, ty + base - 1), color, cv2.FILLED)
        cv2.putText(out, text, (x + 2, ty - 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255),
                    max(1, thick // 2), cv2.LINE_AA)
    return out


# --------------------------------------------------------------------------------------------
# fer predict

def expand_inputs(inputs: list[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files as given, folders as their image files (recursively, sorted); and ``(path, message)`` per bad path.

    Folders are listed once, before anything is written: annotated copies written into a folder
    that is also an input are not read back in the same run.
    """
    files, errors = [], []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS
                           and not any(part.startswith(".") for part in f.relative_to(p).parts))
            if not found:
                errors.append((str(p), f"{p}: no image files in folder (looked for "
                                       f"{', '.join(sorted(IMAGE_EXTENSIONS))})"))
            files += found
        elif p.exists():
            files.append(p)
        else:
            errors.append((str(p), f"{p}: no such file or directory"))
    return files, errors


def _rounded(obj, digits: int = 4):
    if isinstance(obj, float):
        return round(obj, digits)
    if isinstance(obj, dict):
        return {k: _rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v, digits) for v in obj]
    return obj


def _table(path, size, faces, detect: bool) -> str:
    head = f"{path} ({size[0]}x{size[1]})"
    if not faces:
        return f"{head}: no face found"
    classes = list(faces[0]["probabilities"])
    lines = [f"{head}: {len(faces)} face{'s' if len(faces) > 1 else ''}" + ("" if detect else " (whole image)"),
             f"  {'face':<5}{'box (x, y, w, h)':<22}{'expression':<12}{'conf':>6}  "
             + " ".join(f"{c[:4]:>5}" for c in classes)]
    for i, f in enumerate(faces, start=1):
        box = ", ".join(str(v) for v in f["box"])
        probs = " ".join(f"{f['probabilities'][c]:>5.2f}" for c in classes)
        lines.append(f"  {i:<5}{box:<22}{f['label']:<12}{f['confidence']:>6.2f}  {probs}")
    return "\n".join(lines)


def run_predict(inputs: list[str], model_dir: str | os.PathLike | None = None, as_json: bool = False,
                annotate_dir: str | os.PathLike | None = None, detect: bool = True, chunk: int = 32) -> int:
    """``fer predict``: classify the faces in photos and folders of photos.

    Prints a table per photo (or, with ``as_json``, one JSON document with sorted keys and floats
    rounded to 4 digits) on stdout and one line per unusable input on stderr; the other inputs
    are still processed. A photo without a face is a result, not an error. With ``annotate_dir``,
    each photo's annotated copy is written there under a free name (``photo.png``, ``photo-2.png``,
    ...) and never replaces a file, the photos themselves included. Returns 0 when every
    input worked, 1 when some failed, 2 when nothing could run (no model, no input).
    """
    from .evaluation import default_model_dir, predict_probs
    from .model import load_model_dir

    def fail(msg):
        print(f"fer predict: {msg}", file=sys.stderr)

    model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
    try:
        model, classes = load_model_dir(model_dir)
    except FerError as exc:
        fail(exc)
        return 2
    files, errors = expand_inputs(inputs)
    for _, message in errors:
        fail(message)
    if not files and not errors:
        fail("no input given")
        return 2
    out_dir = None
    if annotate_dir is not None:
        try:
            out_dir = ensure_dir(annotate_dir, "annotation folder")
        except FerError as exc:
            fail(exc)
            return 2
    records, failed = [], [{"path": p, "error": m} for p, m in errors]
    for start in range(0, len(files), chunk):
        batch = []
        for path in files[start:start + chunk]:
            try:
                image = load_image(path)
            except FerError as exc:
                fail(exc)
                failed.append({"path": str(path), "error": str(exc)})
                continue
            boxes, crops = _faces_of(image, detect)
            batch.append((path, image, boxes, crops))
        crops = [c for *_, cs in batch for c in cs]
        probs = predict_probs(model, np.stack(crops)) if crops else np.zeros((0, len(classes)))
        k = 0
        for path, image, boxes, cs in batch:
            faces = _results(boxes, probs[k:k + len(cs)], classes)
            k += len(cs)
            size = [int(image.shape[1]), int(image.shape[0])]
            rec = {"path": str(path), "size": size, "faces": faces}
            if out_dir is not None:
                # a free name (photo.png, photo-2.png, ...): never the input itself, an earlier
                # run's output, or another run's writing into the same folder at the same time
                drawn = Image.fromarray(annotate(image, faces, classes))
                try:
                    rec["annotated"] = str(write_new(out_dir / f"{path.stem}.png", drawn.save))
                except OSError as exc:
                    message = f"{out_dir}: cannot write the annotated copy of {path} ({exc.strerror or exc})"
                    fail(message)
                    failed.append({"path": str(path), "error": message})
            records.append(rec)
            if not as_json:
                print(_table(path, size, faces, detect))
    if as_json:
        doc = {"model": str(model_dir), "classes": list(classes), "detect": detect,
               "images": _rounded(records), "errors": failed}
        print(json.dumps(doc, indent=2, sort_keys=True))
    elif records:
        n_faces = sum(len(r["faces"]) for r in records)
        print(f"{len(records)} image{'s' if len(records) != 1 else ''}, {n_faces} face{'s' if n_faces != 1 else ''}"
              + (f", {len(failed)} input{'s' if len(failed) != 1 else ''} failed" if failed else ""))
    return 1 if failed else 0
