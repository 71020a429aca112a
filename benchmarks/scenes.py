"""Synthetic photos with FER2013 faces at known places: the ground truth the face benchmarks need.

Shared by ``detectors.py``, ``framing_calibration.py`` and ``photo_path.py`` (not part of the
package: nothing but these measurements uses it). A 48x48 FER2013 face is upscaled, given a
plausible surrounding by mirroring its own border outwards, out of focus (so the square FER2013
cut out stays untouched, no hard edge marks it and no mirrored half-face stands beside it),
feathered into a background, optionally rotated, and pasted;
the exact square it came from (centre, side, angle) is recorded. Backgrounds and clutter are
scikit-image's bundled photos and textures (a cat and a page of text among them, no people), all
turned gray like FER2013. Everything is drawn from one seeded ``numpy.random.Generator``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

#: scikit-image's bundled images without a human face (the astronaut and the cameraman are left out).
TEXTURES = ("brick", "grass", "gravel", "coffee", "chelsea", "rocket", "coins", "moon", "page", "text",
            "horse", "hubble_deep_field", "immunohistochemistry", "clock", "colorwheel", "cell", "retina")
#: How far past the FER2013 square the mirrored surrounding reaches, as a share of its side.
CONTEXT = 0.35


@dataclass(frozen=True)
class PlacedFace:
    """Where a FER2013 face went: its 48x48 square's centre ``(cx, cy)``, ``side`` in pixels and
    ``angle`` in degrees (counter-clockwise on screen, as ``cv2.getRotationMatrix2D``), and which face."""

    cx: float
    cy: float
    side: float
    angle: float
    index: int

    def contains(self, x: float, y: float, shrink: float = 1.0) -> bool:
        """Whether ``(x, y)`` lies inside the (rotated) square, scaled by ``shrink`` about its centre."""
        a = math.radians(self.angle)
        dx, dy = x - self.cx, y - self.cy
        u = dx * math.cos(a) - dy * math.sin(a)
        v = dx * math.sin(a) + dy * math.cos(a)
        half = self.side * shrink / 2
        return abs(u) <= half and abs(v) <= half


@functools.lru_cache(maxsize=None)
def texture(name: str) -> np.ndarray:
    from skimage import data as skdata

    img = np.asarray(getattr(skdata, name)())
    if img.ndim == 3:
        img = cv2.cvtColor(np.ascontiguousarray(img[..., :3]), cv2.COLOR_RGB2GRAY)
    if img.dtype != np.uint8:
        img = img.astype(np.float32)
        img = (255 * (img - img.min()) / max(1e-6, float(img.max() - img.min()))).astype(np.uint8)
    return img


def background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A gray ``(height, width)`` background: a stretched texture, brightness and contrast varied."""
    img = texture(TEXTURES[rng.integers(len(TEXTURES))])
    out = cv2.resize(img, (width, height), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    out = (out - out.mean()) * rng.uniform(0.5, 1.0) + rng.uniform(80, 170)
    return np.clip(out, 0, 255)


def paste_patch(canvas: np.ndarray, patch: np.ndarray, alpha: np.ndarray, x0: int, y0: int) -> None:
    """Alpha-blend ``patch`` into float ``canvas`` with its top-left corner at ``(x0, y0)``, clipped."""
    h, w = patch.shape
    cx0, cy0 = max(0, x0), max(0, y0)
    cx1, cy1 = min(canvas.shape[1], x0 + w), min(canvas.shape[0], y0 + h)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    p = patch[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
    a = alpha[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
    region = canvas[cy0:cy1, cx0:cx1]
    region[:] = a * p + (1 - a) * region


def paste_face(canvas: np.ndarray, face48: np.ndarray, cx: float, cy: float, side: float,
               angle: float = 0.0, index: int = -1) -> PlacedFace:
    """Put a 48x48 face into float ``canvas`` so that its square has centre ``(cx, cy)``, ``side``
    pixels and is turned ``angle`` degrees; returns where it went."""
    pad = int(math.ceil(48 * CONTEXT))
    ext = cv2.copyMakeBorder(face48, pad, pad, pad, pad, cv2.BORDER_REFLECT_101).astype(np.float32)
    n = ext.shape[0]
    # the mirrored surrounding, out of focus: sharp, it would show half-faces beside the face
    inner = np.zeros((n, n), np.float32)
    inner[pad:-pad, pad:-pad] = 1
    inner = cv2.GaussianBlur(inner, (0, 0), 1.0)
    ext = inner * ext + (1 - inner) * cv2.GaussianBlur(ext, (0, 0), 4.0)
    # alpha: 1 on the FER2013 square, fading linearly to 0 at the end of the mirrored surrounding
    d = np.maximum(np.abs(np.arange(n) - (n - 1) / 2)[None, :], np.abs(np.arange(n) - (n - 1) / 2)[:, None])
    alpha = np.clip(((n - 1) / 2 - d) / pad, 0, 1).astype(np.float32)
    scale = side / 48.0
    out_side = int(math.ceil(n * scale * 1.5)) | 1  # room for the turned patch
    m = cv2.getRotationMatrix2D(((n - 1) / 2, (n - 1) / 2), angle, scale)
    m[:, 2] += (out_side - 1) / 2 - (n - 1) / 2
    patch = cv2.warpAffine(ext, m, (out_side, out_side), flags=cv2.INTER_CUBIC, borderValue=0)
    a = cv2.warpAffine(alpha, m, (out_side, out_side), flags=cv2.INTER_LINEAR, borderValue=0)
    # the 48x48 pixel grid's centre is (23.5, 23.5): it lands on (out_side-1)/2 of the patch
    x0 = int(round(cx - (out_side - 1) / 2))
    y0 = int(round(cy - (out_side - 1) / 2))
    paste_patch(canvas, np.clip(patch, 0, 255), a, x0, y0)
    return PlacedFace(cx=x0 + (out_side - 1) / 2, cy=y0 + (out_side - 1) / 2, side=side, angle=angle, index=index)


def clutter(canvas: np.ndarray, rng: np.random.Generator, count: int) -> None:
    """Paste ``count`` soft-edged rectangles of other textures (the cat, text, coins ...) anywhere."""
    h, w = canvas.shape
    for _ in range(count):
        img = texture(TEXTURES[rng.integers(len(TEXTURES))])
        pw, ph = int(rng.uniform(0.15, 0.45) * w), int(rng.uniform(0.15, 0.45) * h)
        sx, sy = rng.integers(0, max(1, img.shape[1] - 64)), rng.integers(0, max(1, img.shape[0] - 64))
        crop = img[sy:, sx:]
        patch = cv2.resize(crop, (pw, ph), interpolation=cv2.INTER_AREA).astype(np.float32)
        ramp = max(2, min(pw, ph) // 8)
        alpha = np.zeros((ph, pw), np.float32)
        alpha[ramp:-ramp, ramp:-ramp] = 1
        alpha = cv2.blur(alpha, (2 * ramp + 1, 2 * ramp + 1))
        paste_patch(canvas, patch, alpha, int(rng.integers(-pw // 4, w - 3 * pw // 4)),
                    int(rng.integers(-ph // 4, h - 3 * ph // 4)))


#: Canvas sizes (width, height) of the photo-path scenes; each is also used upright.
CANVASES = ((640, 480), (800, 600), (1024, 768), (1280, 960))
#: Side of the pasted FER2013 square in pixels, before the canvas is chosen.
FACE_SIDES = (64, 96, 144, 216)


def scene(rng: np.random.Generator, faces48: np.ndarray, indices, max_angle: float = 15.0,
          n_clutter: tuple[int, int] = (1, 4)) -> tuple[np.ndarray, list[PlacedFace]]:
    """A gray uint8 photo holding the faces ``faces48[indices]`` at random, non-overlapping places,
    sides ``FACE_SIDES``, turned up to ``max_angle`` degrees, among clutter; and where each went."""
    w, h = CANVASES[rng.integers(len(CANVASES))]
    if rng.random() < 0.3:
        w, h = h, w
    canvas = background(rng, w, h)
    clutter(canvas, rng, int(rng.integers(n_clutter[0], n_clutter[1] + 1)))
    placed: list[PlacedFace] = []
    for index in indices:
        side = float(FACE_SIDES[rng.integers(len(FACE_SIDES))]) * rng.uniform(0.9, 1.1)
        side = min(side, 0.6 * min(w, h))
        reach = side * (0.5 + CONTEXT) * 1.2
        for _ in range(50):  # a free place: no two faces' surroundings overlap
            cx, cy = rng.uniform(side * 0.75, w - side * 0.75), rng.uniform(side * 0.75, h - side * 0.75)
            if all(math.hypot(cx - p.cx, cy - p.cy) > reach + p.side * (0.5 + CONTEXT) * 1.2 for p in placed):
                break
        else:
            continue
        angle = float(rng.uniform(-max_angle, max_angle))
        placed.append(paste_face(canvas, faces48[index], cx, cy, side, angle, int(index)))
    noise = rng.normal(0, rng.uniform(0, 4), canvas.shape)
    return np.clip(canvas + noise, 0, 255).astype(np.uint8), placed


def iou(a, b) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / max(1e-9, a[2] * a[3] + b[2] * b[3] - inter)


def match(found_boxes, placed: list[PlacedFace]) -> tuple[dict[int, int], list[int]]:
    """Pair detections with placed faces: ``{placed index: detection index}`` and the detections
    left over (false faces).

    A detection is a face's when its box centre lies in the central 70% of the face's square and
    its size is 0.35-1.6 times the square's side; each face takes at most one detection (the
    first that qualifies, detectors list their best first or left to right), a second is false.
    """
    pairs: dict[int, int] = {}
    false = []
    for j, (x, y, bw, bh) in enumerate(found_boxes):
        cx, cy, size = x + bw / 2, y + bh / 2, max(bw, bh)
        hit = next((i for i, p in enumerate(placed) if i not in pairs and p.contains(cx, cy, 0.7)
                    and 0.35 * p.side <= size <= 1.6 * p.side), None)
        if hit is None:
            false.append(j)
        else:
            pairs[hit] = j
    return pairs, false
