"""Expressions of the faces in ordinary photos: detect, crop to 48x48 like FER2013, classify, draw.

Detection lives in ``detection.py`` (MediaPipe's BlazeFace with eye landmarks by default, OpenCV's
Haar cascade as ``detector="haar"``). Here each face is cut out as FER2013 framed its faces: turned
so the eyes are level, then the square whose size and place relative to the eyes were *measured*
on FER2013's own faces (``benchmarks/framing_calibration.py``), so the model sees what it learned
from. ``run_predict`` is the ``fer predict`` command.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from .data import IMAGE_EXTENSIONS, open_image, to_8bit
from .detection import DEFAULT_DETECTOR, DETECTORS, Face, as_gray, as_rgb, check_detector, detect_faces  # noqa: F401
from .errors import FerError
from .files import ensure_dir, remove_dead_temporaries, write_new
from .labels import FERPLUS_CLASSES

FACE_SIZE = 48
# Where FER2013's 48x48 square lies around a detected face, measured by
# ``python benchmarks/framing_calibration.py --faces 300 --seed 3`` (FER+ validation faces placed
# at known squares in larger photos, the detector run on them; each constant is the median of its
# ratio, the spread is in the README).
#: With eyes (BlazeFace): the square's side, and its centre's offset from the midpoint of the eyes
#: (down the face, and to the image's right once the eyes are level), in units of the geometric
#: mean of the box's side and the eye distance (IQR 1.60-1.91 and 0.14-0.25; right: measured
#: -0.006, 0 by symmetry). The eye distance shrinks when a head turns aside, the box when it leans
#: (11% at 25 degrees): their mean is steadier than either under both, and on upright faces it
#: matches FER2013's squares as well (held-out IoU 0.79, against 0.78 for the eyes alone).
ALIGNED_FRAME_SIDE = 1.76
ALIGNED_FRAME_DOWN = 0.184
ALIGNED_FRAME_RIGHT = 0.0
#: with a box only (Haar): the square's side and its centre's offset from the box's centre, down
#: and right, in box sides (IQR 0.94-1.10): FER2013's square is Haar's box (held-out IoU 0.83).
BOX_FRAME_SIDE = 1.0
BOX_FRAME_DOWN = 0.0
BOX_FRAME_RIGHT = 0.0
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


_gray, _rgb = as_gray, as_rgb


# --------------------------------------------------------------------------------------------
# FER-framed crops

def _box_of(face) -> tuple[float, float, float, float]:
    box = tuple(face.box if isinstance(face, Face) else face)
    x, y, w, h = (float(v) for v in box)
    if w <= 0 or h <= 0:
        raise FerError(f"face box must have a positive size, got {box}")
    return x, y, w, h


def face_frame(face, align: bool = True) -> tuple[float, float, float, float]:
    """The square FER2013 would have cut around ``face``: ``(cx, cy, side, angle)``, the centre in
    pixel coordinates, the side in pixels and the turn in degrees (positive: the face leans
    clockwise on screen, its left eye lower) that levels the eyes.

    A ``detection.Face`` with eyes is placed by them and sized by them and its box
    (``ALIGNED_FRAME_*``), turned to level the eyes unless ``align`` is false; a box
    ``(x, y, w, h)`` or a ``Face`` without eyes is framed from the box (``BOX_FRAME_*``, measured
    on Haar's boxes), upright.
    """
    x, y, w, h = _box_of(face)
    size = (w + h) / 2
    if isinstance(face, Face) and face.has_eyes:
        (rx, ry), (lx, ly) = face.right_eye, face.left_eye
        if math.hypot(lx - rx, ly - ry) > 1e-3:
            angle = math.atan2(ly - ry, lx - rx)
            ux, uy = math.cos(angle), math.sin(angle)  # along the eyes, then down the face
            vx, vy = -uy, ux
            unit = math.sqrt(size * math.hypot(lx - rx, ly - ry))
            cx = (rx + lx) / 2 + unit * (ALIGNED_FRAME_RIGHT * ux + ALIGNED_FRAME_DOWN * vx)
            cy = (ry + ly) / 2 + unit * (ALIGNED_FRAME_RIGHT * uy + ALIGNED_FRAME_DOWN * vy)
            return cx, cy, ALIGNED_FRAME_SIDE * unit, math.degrees(angle) if align else 0.0
    cx = x + (w - 1) / 2 + BOX_FRAME_RIGHT * size
    cy = y + (h - 1) / 2 + BOX_FRAME_DOWN * size
    return cx, cy, BOX_FRAME_SIDE * size, 0.0


def crop_square(image, cx: float, cy: float, side: float, angle: float = 0.0) -> np.ndarray:
    """The gray 48x48 image of the square of ``side`` pixels centred on ``(cx, cy)`` and turned by
    ``angle`` degrees (as ``face_frame`` gives them), the square's top up.

    One resampling: the photo is first shrunk by area averaging when the square is much larger
    than 48 pixels (no aliasing), then warped. Parts of the square outside the photo repeat its
    edge, so a face at the border stays centred instead of being stretched.
    """
    gray = _gray(image)
    if not side > 0:
        raise FerError(f"crop side must be positive, got {side}")
    k = side / FACE_SIZE  # photo pixels per crop pixel
    if k > 2:
        # cut the square's surroundings (half a diagonal each way), shrink them to about 2 photo
        # pixels per crop pixel with INTER_AREA, and carry on in that smaller picture
        half = int(math.ceil(side * 0.75)) + 2
        x0, y0 = int(math.floor(cx)) - half, int(math.floor(cy)) - half
        region = _region(gray, x0, y0, 2 * half)
        f = 2 / k
        n = max(1, int(round(2 * half * f)))
        f = n / (2 * half)
        gray = cv2.resize(region, (n, n), interpolation=cv2.INTER_AREA)
        cx, cy, k = (cx - x0 + 0.5) * f - 0.5, (cy - y0 + 0.5) * f - 0.5, k * f
    a = math.radians(angle)
    ux, uy, vx, vy = math.cos(a) * k, math.sin(a) * k, -math.sin(a) * k, math.cos(a) * k
    c = (FACE_SIZE - 1) / 2
    m = np.array([[ux, vx, cx - c * (ux + vx)], [uy, vy, cy - c * (uy + vy)]], dtype=np.float64)
    return cv2.warpAffine(gray, m, (FACE_SIZE, FACE_SIZE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def _region(gray: np.ndarray, x0: int, y0: int, side: int) -> np.ndarray:
    """``gray[y0:y0+side, x0:x0+side]``, its parts outside the photo filled by repeating the edge."""
    h, w = gray.shape
    inner = gray[max(0, y0):max(0, min(h, y0 + side)), max(0, x0):max(0, min(w, x0 + side))]
    if inner.size == 0:  # wholly outside: the nearest edge pixel repeated
        return np.full((side, side), gray[min(max(y0, 0), h - 1), min(max(x0, 0), w - 1)], np.uint8)
    top, left = max(0, -y0), max(0, -x0)
    return cv2.copyMakeBorder(inner, top, side - inner.shape[0] - top, left, side - inner.shape[1] - left,
                              cv2.BORDER_REPLICATE)


def crop_face(image, face, margin: float | None = None, align: bool = True) -> np.ndarray:
    """The face as FER2013 frames one: gray, 48x48, eyes level (``face_frame``, ``crop_square``).

    ``face`` is a ``detection.Face`` or a box ``(x, y, w, h)``. With ``margin``, the old fixed
    framing instead: the box's square, ``margin`` wider per side, upright.
    """
    if margin is not None:
        x, y, w, h = _box_of(face)
        return crop_square(image, x + (w - 1) / 2, y + (h - 1) / 2, max(w, h) * (1 + 2 * margin))
    return crop_square(image, *face_frame(face, align))


# --------------------------------------------------------------------------------------------
# Classification

def _class_names(model, classes) -> list[str]:
    if classes is not None:
        return list(classes)
    n = model.output_shape[-1]
    return list(FERPLUS_CLASSES) if n == len(FERPLUS_CLASSES) else [f"class_{i}" for i in range(n)]


def find_faces(image, detector: str = DEFAULT_DETECTOR, detect: bool = True) -> tuple[list[Face], list]:
    """The faces in a photo (``detection.Face``: box, score, eyes) and their FER-framed 48x48
    crops, as ``fer predict`` classifies them; ``detect=False`` takes the whole image as one cropped face."""
    if detect:
        found = detect_faces(image, detector)
        return found, [crop_face(image, f) for f in found]
    h, w = np.asarray(image).shape[:2]
    return [Face((0, 0, int(w), int(h)))], [crop_face(image, (0, 0, w, h), margin=0.0)]


def _results(found: list[Face], probs, classes) -> list[dict]:
    """``box``, ``label``, ``confidence``, ``probabilities`` and, where the detector gives them,
    the ``eyes`` (``{"right": [x, y], "left": [x, y]}``, the person's right and left)."""
    out = []
    for f, p in zip(found, probs):
        rec = {"box": [int(v) for v in f.box], "label": classes[int(p.argmax())], "confidence": float(p.max()),
               "probabilities": {c: float(v) for c, v in zip(classes, p)}}
        if f.has_eyes:
            rec["eyes"] = {"right": [round(float(v), 1) for v in f.right_eye],
                           "left": [round(float(v), 1) for v in f.left_eye]}
        out.append(rec)
    return out


def predict_faces(image, model, classes=None, detect: bool = True, detector: str = DEFAULT_DETECTOR) -> list[dict]:
    """Each face's ``box [x, y, w, h]``, ``label``, ``confidence`` and ``probabilities {class: p}``.

    ``detect=False`` takes the whole image as one face that is already cropped. ``model`` is a
    Keras model or an ``engine.OnnxModel`` (``engine.load_model``). ``detector`` is one of
    ``detection.DETECTORS``.
    """
    from .engine import probabilities

    classes = _class_names(model, classes)
    found, crops = find_faces(image, detector, detect)
    if not crops:
        return []
    return _results(found, probabilities(model, np.stack(crops)), classes)


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
        for eye in (f.get("eyes") or {}).values():  # where the crop was levelled from
            cv2.circle(out, (int(round(eye[0])), int(round(eye[1]))), max(2, thick + 1), color, cv2.FILLED, cv2.LINE_AA)
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

#: The PNG text key that marks a photo ``fer predict --annotate`` drew (its value: the photo's name).
ANNOTATED_KEY = "fer-predict-annotated"


def is_annotated_copy(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an annotated copy ``fer predict --annotate`` wrote: a PNG carrying
    ``ANNOTATED_KEY``, or an MP4 carrying ``video.ANNOTATED_MARK``. Reads a few bytes, not the image."""
    from .video import is_annotated_video

    suffix = Path(path).suffix.lower()
    if suffix == ".mp4":
        return is_annotated_video(path)
    if suffix != ".png":
        return False
    try:
        with Image.open(path) as img:  # text chunks before the pixels: read with the header
            return ANNOTATED_KEY in img.info
    except Exception:  # not a PNG after all: the photo path says so when it reads it
        return False


def expand_inputs(inputs: list[str], skipped: list | None = None) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files as given, folders as their photos and videos (recursively, sorted); and ``(path, message)``
    per bad path.

    Folders are listed once, before anything is written: annotated copies written into a folder
    that is also an input are not read back in the same run, and those of earlier runs
    (``is_annotated_copy``) are left out of a folder's files (into ``skipped``, when given); a
    file named on its own is always taken.
    """
    from .video import VIDEO_EXTENSIONS

    wanted = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
    files, errors = [], []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in wanted
                           and not any(part.startswith(".") for part in f.relative_to(p).parts))
            ours = [f for f in found if is_annotated_copy(f)]
            if ours:
                found = [f for f in found if f not in set(ours)]
                if skipped is not None:
                    skipped += ours
            if not found and not ours:
                errors.append((str(p), f"{p}: no photos or videos in folder (looked for "
                                       f"{', '.join(sorted(wanted))})"))
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


def _videos(files, records, failed, fail, model, classes, detector, every, smooth, out_dir, timeline, as_json):
    """Analyse the videos among ``files`` (``video.analyse_video``) into ``records``, a bad one
    into ``failed`` with its one line; returns the other files (the photos)."""
    from .video import analyse_video, check_options, is_video, video_table, write_timeline

    if any(is_video(p) for p in files):
        check_options(every, smooth)  # a bad option is one mistake, not one per video
    photos = []
    for path in files:
        if not is_video(path):
            photos.append(path)
            continue
        try:
            rec = analyse_video(path, model, classes, detector, every, smooth, out_dir)
            if "warning" in rec:  # cut short: what was read is still the result
                fail(rec["warning"])
            if timeline is not None:
                rec["timeline"] = [str(p) for p in write_timeline(rec, classes, timeline)]
        except FerError as exc:
            fail(exc)
            failed.append({"path": str(path), "error": str(exc)})
            continue
        except OSError as exc:
            message = f"{path}: cannot write its outputs ({exc.strerror or exc})"
            fail(message)
            failed.append({"path": str(path), "error": message})
            continue
        records.append(rec)
        if not as_json:
            print(video_table(rec))
    return photos


def run_predict(inputs: list[str], model_dir: str | os.PathLike | None = None, as_json: bool = False,
                annotate_dir: str | os.PathLike | None = None, detect: bool = True, chunk: int = 32,
                engine: str = "auto", detector: str = DEFAULT_DETECTOR, every: int = 1, smooth: float = 0.0,
                timeline_dir: str | os.PathLike | None = None, camera: int | None = None) -> int:
    """``fer predict``: classify the faces in photos and folders of photos, and in videos.

    Prints a table per photo (or, with ``as_json``, one JSON document with sorted keys and floats
    rounded to 4 digits) on stdout and one line per unusable input on stderr; the other inputs
    are still processed. A photo without a face is a result, not an error. With ``annotate_dir``,
    each photo's annotated copy is written there under a free name (``photo.png``, ``photo-2.png``,
    ...) and never replaces a file, the photos themselves included; a folder given as input
    leaves out the annotated copies an earlier run wrote (``is_annotated_copy``), saying so in one
    line. Temporaries of an annotation killed midway (``kill -9``) are removed from the output
    folders. Returns 0 when every input worked, 1 when some failed or a video ended before its
    stated length (what was read is still reported), 2 when nothing could run (no model, no input). ``engine``
    runs the model (``engine.choose_engine``: ``auto`` takes the folder's ``model.onnx`` when it
    has a current one, else Keras; ``onnx`` and ``int8`` never import TensorFlow). ``detector``
    finds the faces (``detection.DETECTORS``: ``blazeface``, the default, or ``haar``).
    A video (``video.is_video``) gives a ``video.analyse_video`` record (``every``, ``smooth``; an
    annotated ``.mp4`` with ``annotate_dir``; a CSV and figure per video in ``timeline_dir``), and so
    does ``camera`` (OpenCV's device number), analysed first, until Ctrl-C.
    """
    from .engine import default_model_dir, load_model, probabilities

    def fail(msg):
        print(f"fer predict: {msg}", file=sys.stderr)

    model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
    try:
        check_detector(detector)
    except FerError as exc:
        fail(exc)
        return 2
    try:
        model, classes = load_model(model_dir, engine)
    except FerError as exc:
        fail(exc)
        return 2
    ours: list[Path] = []
    files, errors = expand_inputs(inputs, skipped=ours)
    for _, message in errors:
        fail(message)
    if ours:
        folders = ", ".join(dict.fromkeys(str(p.parent) for p in ours))
        fail(f"note: left out {len(ours)} annotated cop{'ies' if len(ours) > 1 else 'y'} an earlier "
             f"fer predict wrote ({folders}); name a file to analyse it anyway")
    if camera is not None:
        from .video import Camera

        files.insert(0, Camera(camera))
    if not files and not errors:
        fail("no input given")
        return 2
    out_dir = timeline = None
    try:
        if annotate_dir is not None:
            out_dir = ensure_dir(annotate_dir, "annotation folder")
        if timeline_dir is not None:
            timeline = ensure_dir(timeline_dir, "timeline folder")
    except FerError as exc:
        fail(exc)
        return 2
    for folder in {out_dir, timeline} - {None}:  # what a run killed with kill -9 left there
        remove_dead_temporaries(folder)
    records, failed = [], [{"path": p, "error": m} for p, m in errors]
    files = _videos(files, records, failed, fail, model, classes, detector, every, smooth, out_dir, timeline,
                    as_json)
    for start in range(0, len(files), chunk):
        batch = []
        for path in files[start:start + chunk]:
            try:
                image = load_image(path)
            except FerError as exc:
                fail(exc)
                failed.append({"path": str(path), "error": str(exc)})
                continue
            found, crops = find_faces(image, detector, detect)
            batch.append((path, image, found, crops))
        crops = [c for *_, cs in batch for c in cs]
        probs = probabilities(model, np.stack(crops)) if crops else np.zeros((0, len(classes)))
        k = 0
        for path, image, found, cs in batch:
            faces = _results(found, probs[k:k + len(cs)], classes)
            k += len(cs)
            size = [int(image.shape[1]), int(image.shape[0])]
            rec = {"path": str(path), "size": size, "faces": faces}
            if out_dir is not None:
                # a free name (photo.png, photo-2.png, ...): never the input itself, an earlier
                # run's output, or another run's writing into the same folder at the same time
                drawn = Image.fromarray(annotate(image, faces, classes))
                mark = PngInfo()  # so a later run given this folder knows it for ours (is_annotated_copy)
                mark.add_text(ANNOTATED_KEY, path.name)
                try:
                    rec["annotated"] = str(write_new(out_dir / f"{path.stem}.png",
                                                     lambda tmp: drawn.save(tmp, format="PNG", pnginfo=mark)))
                except OSError as exc:
                    message = f"{out_dir}: cannot write the annotated copy of {path} ({exc.strerror or exc})"
                    fail(message)
                    failed.append({"path": str(path), "error": message})
            records.append(rec)
            if not as_json:
                print(_table(path, size, faces, detect))
    n_short = sum("warning" in r for r in records)  # videos that ended before their stated length
    if as_json:
        doc = {"model": str(model_dir), "classes": list(classes), "detect": detect, "detector": detector,
               "images": _rounded(records), "errors": failed}
        print(json.dumps(doc, indent=2, sort_keys=True))
    elif records:
        n_faces = sum(len(r.get("faces", ())) for r in records)
        n_videos = sum("frames" in r for r in records)
        n_images = len(records) - n_videos
        print(f"{n_images} image{'s' if n_images != 1 else ''}, {n_faces} face{'s' if n_faces != 1 else ''}"
              + (f", {n_videos} video{'s' if n_videos != 1 else ''}" if n_videos else "")
              + (f", {n_short} cut short" if n_short else "")
              + (f", {len(failed)} input{'s' if len(failed) != 1 else ''} failed" if failed else ""))
    return 1 if failed or n_short else 0
