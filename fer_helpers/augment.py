"""The model's training augmentation, done on the CPU in the input pipeline instead (``augment_in: batches``).

``model.augmentation`` puts the augmentation into the network as Keras layers, so a saved model is
all a user needs and TensorFlow runs them inside each training step. On the JAX backend with a GPU
those layers are a trap: on an H200 one epoch of the baseline with them took 418 s (nine
trainings sharing the GPU), and a lone default network with them had not trained its first 32
batches after two minutes, against 0.08 s without them. Keras implements rotation, shift and zoom
there with ``jax.scipy.ndimage.map_coordinates``; keras-team/keras#23229 reports the same on TPUs.
``augment_batch`` draws the same kinds of change, in the same ranges, with OpenCV on uint8 faces,
a few milliseconds per batch of 128 on one core, while the accelerator trains. Its random
numbers come from the generator the caller passes (``training.Batches``: one per seed, epoch and
batch), so a resumed run redraws them exactly.
"""

from __future__ import annotations

import cv2
import numpy as np

from .errors import FerError

#: The ranges of ``model.augmentation`` (Keras layer arguments in brackets).
ROTATION_DEG = 10.0      # RandomRotation(10 / 360): up to 10 degrees either way
SHIFT = 0.1              # RandomTranslation(0.1, 0.1): up to a tenth of the side
ZOOM = 0.1               # RandomZoom(0.1): up to 10% in or out, aspect kept
BRIGHTNESS = 0.2         # RandomBrightness(0.2, value_range=(0, 255)): add up to 0.2 * 255
CONTRAST = 0.3           # RandomContrast(0.3): scale the deviation from the mean by 0.7-1.3
BLUR_SIGMA = (0.1, 1.5)  # RandomGaussianBlur(factor=(0, 1), kernel_size=5): on half the faces
ERASE_SHARE, ERASE_AREA = 0.125, (0.02, 0.15)  # RandomErasing(factor=0.25, scale=(0.02, 0.15))
#: ``camera`` only (no Keras layer): a face from fewer pixels (down to this side, back up to 48)
#: and sensor noise (Gaussian, in grey levels), each on a share of the faces.
DOWNSCALE_SHARE, DOWNSCALE_SIDE = 0.25, (16, 36)
NOISE_SHARE, NOISE_SIGMA = 0.3, (2.0, 10.0)

#: The strengths, mildest first; ``camera`` is the input pipeline's alone.
STRENGTHS = ("none", "seed", "default", "strong", "camera")


def augment_batch(faces: np.ndarray, strength: str, rng: np.random.Generator) -> np.ndarray:
    """Augmented float32 copies ``(N, 48, 48)`` of uint8 faces ``(N, 48, 48)``, values in 0-255.

    ``strength`` is ``model.augmentation``'s: ``none``, ``seed`` (flip, rotation, brightness,
    contrast), ``default`` (adds shift and zoom) or ``strong`` (adds blur and erased patches;
    JPEG artefacts stay with ``training.jpeg_artefacts``); or ``camera``, what a camera does and
    FER2013's crops rarely show, without the erased patches: ``default`` with blur, fewer pixels
    and sensor noise (and the JPEG artefacts).
    """
    if strength not in STRENGTHS:
        raise FerError(f"augmentation must be one of {', '.join(STRENGTHS)}, got {strength!r}")
    out = faces.astype(np.float32)
    if strength == "none":
        return out
    n, h, w = faces.shape
    flip = rng.random(n) < 0.5
    angle = rng.uniform(-ROTATION_DEG, ROTATION_DEG, n)
    geometric = strength in ("default", "strong", "camera")
    shift = rng.uniform(-SHIFT, SHIFT, (n, 2)) * (w, h) if geometric else np.zeros((n, 2))
    zoom = rng.uniform(1 - ZOOM, 1 + ZOOM, n) if geometric else np.ones(n)
    centre = ((w - 1) / 2, (h - 1) / 2)
    for k in range(n):
        face = out[k, :, ::-1] if flip[k] else out[k]
        matrix = cv2.getRotationMatrix2D(centre, angle[k], zoom[k])
        matrix[:, 2] += shift[k]
        out[k] = cv2.warpAffine(np.ascontiguousarray(face), matrix, (w, h), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)  # Keras' fill_mode="nearest"
    out += rng.uniform(-BRIGHTNESS, BRIGHTNESS, (n, 1, 1)).astype(np.float32) * 255
    np.clip(out, 0, 255, out=out)
    mean = out.mean(axis=(1, 2), keepdims=True)
    out = (out - mean) * rng.uniform(1 - CONTRAST, 1 + CONTRAST, (n, 1, 1)).astype(np.float32) + mean
    np.clip(out, 0, 255, out=out)
    if strength in ("strong", "camera"):
        blur = rng.random(n) < 0.5
        sigma = rng.uniform(*BLUR_SIGMA, n)
        for k in np.flatnonzero(blur):
            out[k] = cv2.GaussianBlur(out[k], (5, 5), sigma[k])
    if strength == "camera":
        for k in np.flatnonzero(rng.random(n) < DOWNSCALE_SHARE):
            side = int(rng.integers(*DOWNSCALE_SIDE, endpoint=True))
            small = cv2.resize(out[k], (side, side), interpolation=cv2.INTER_AREA)
            out[k] = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        noisy = np.flatnonzero(rng.random(n) < NOISE_SHARE)
        out[noisy] += rng.normal(0, 1, (len(noisy), h, w)).astype(np.float32) * \
            rng.uniform(*NOISE_SIGMA, (len(noisy), 1, 1)).astype(np.float32)
        np.clip(out, 0, 255, out=out)
    if strength == "strong":
        erase = rng.random(n) < ERASE_SHARE
        for k in np.flatnonzero(erase):
            area = rng.uniform(*ERASE_AREA) * h * w
            ratio = rng.uniform(0.5, 2.0)
            eh = int(min(h, max(1, round(np.sqrt(area * ratio)))))
            ew = int(min(w, max(1, round(np.sqrt(area / ratio)))))
            y0, x0 = rng.integers(0, h - eh + 1), rng.integers(0, w - ew + 1)
            out[k, y0:y0 + eh, x0:x0 + ew] = rng.uniform(0, 255, (eh, ew))
        np.clip(out, 0, 255, out=out)
    return out
