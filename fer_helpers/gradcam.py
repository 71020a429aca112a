"""Grad-CAM: which parts of a face drove a prediction (Selvaraju et al., 2017).

Follows keras.io's ``examples/vision/grad_cam.py``: a model that returns the last convolution's
activations with the class scores, the gradient of the score with respect to those activations,
channel weights from the averaged gradients, and a ReLU of the weighted sum. Two differences:
the score is the logit before the softmax when the model ends in a softmax ``Dense`` (a confident
softmax has vanishing gradients, which would blank the map), and heat maps are computed for a
batch at once. The model is called with ``training=False`` so augmentation and dropout are off.
Uses ``tf.GradientTape``: the TensorFlow backend.
"""

from __future__ import annotations

from .quiet import import_keras_quietly

import_keras_quietly()  # before Keras: TensorFlow's C++ start-up notes muted, also in a notebook's kernel (which echoes them)

import cv2  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from .errors import FerError
from .model import last_conv_layer_name as _default_layer


def _as_batch(img_array) -> np.ndarray:
    x = np.asarray(img_array, dtype=np.float32)
    if x.ndim == 2:
        x = x[None, ..., None]
    elif x.ndim == 3:
        x = x[None] if x.shape[-1] == 1 else x[..., None]
    if x.ndim != 4 or x.shape[-1] != 1:
        raise FerError(f"expected face images shaped (48, 48), (N, 48, 48) or (N, 48, 48, 1), got {np.shape(img_array)}")
    return x


def _grad_model(model: keras.Model, layer: str | None):
    layer = layer or _default_layer(model)
    try:
        conv = model.get_layer(layer)
    except ValueError:
        raise FerError(f"model {model.name!r} has no layer {layer!r}") from None
    head = model.layers[-1]
    logits_from_dense = (isinstance(head, keras.layers.Dense)
                         and getattr(head.activation, "__name__", "") == "softmax")
    outputs = [conv.output, head.input if logits_from_dense else model.output]
    return keras.Model(model.inputs, outputs), (head if logits_from_dense else None)


def _heatmaps(grad_model, head, x: np.ndarray, pred_index=None) -> tuple[np.ndarray, np.ndarray]:
    """Conv-resolution heat maps ``(N, h, w)`` in [0, 1] and the class probabilities ``(N, C)``."""
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        conv_out, scores = grad_model(x, training=False)
        logits = tf.matmul(scores, head.kernel) + head.bias if head is not None else scores
        probs = tf.nn.softmax(logits) if head is not None else scores
        if pred_index is None:
            idx = tf.argmax(logits, axis=1)
        else:
            idx = tf.broadcast_to(tf.convert_to_tensor(pred_index, dtype=tf.int64), tf.shape(logits)[:1])
        # samples are independent at inference (BN uses moving statistics), so one gradient of
        # the summed scores gives every sample's own gradient
        score = tf.reduce_sum(tf.gather(logits, idx, axis=1, batch_dims=1))
    grads = tape.gradient(score, conv_out)
    weights = tf.reduce_mean(grads, axis=(1, 2))                      # (N, channels)
    cam = tf.nn.relu(tf.einsum("nhwc,nc->nhw", conv_out, weights)).numpy()
    peak = cam.max(axis=(1, 2), keepdims=True)
    cam = np.divide(cam, peak, out=np.zeros_like(cam), where=peak > 0)
    return cam, np.asarray(probs)


def _upsample(cam: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize, rescaled so the peak stays at 1 (interpolation lowers it)."""
    big = np.clip(cv2.resize(cam.astype(np.float32), (size[1], size[0]), interpolation=cv2.INTER_LINEAR), 0, None)
    peak = big.max()
    return big / peak if peak > 0 else big


def make_gradcam_heatmap(img_array, model: keras.Model, last_conv_layer_name: str | None = None,
                         pred_index: int | None = None, upsample: bool = True) -> np.ndarray:
    """Grad-CAM heat map in [0, 1] of one face for class ``pred_index`` (default: the predicted one).

    ``img_array``: raw 0-255 pixels, ``(48, 48)``, ``(48, 48, 1)`` or ``(1, 48, 48, 1)``.
    ``upsample=True`` returns it at the image's size, else at the convolution's resolution.
    """
    x = _as_batch(img_array)[:1]
    grad_model, head = _grad_model(model, last_conv_layer_name)
    cam = _heatmaps(grad_model, head, x, pred_index)[0][0]
    return _upsample(cam, x.shape[1:3]) if upsample else cam


def overlay_heatmap(face_uint8, heatmap, alpha: float = 0.4) -> np.ndarray:
    """A gray face with the heat map blended on top in the jet colour map: RGB uint8."""
    face = np.asarray(face_uint8)
    face = face[..., 0] if face.ndim == 3 and face.shape[-1] == 1 else face
    rgb = face if face.ndim == 3 else cv2.cvtColor(face.astype(np.uint8), cv2.COLOR_GRAY2RGB)
    heat = np.asarray(heatmap, dtype=np.float32)
    if heat.shape[:2] != rgb.shape[:2]:
        heat = _upsample(heat, rgb.shape[:2])
    colored = cv2.cvtColor(cv2.applyColorMap(np.uint8(255 * np.clip(heat, 0, 1)), cv2.COLORMAP_JET),
                           cv2.COLOR_BGR2RGB)
    return cv2.addWeighted(colored, alpha, rgb.astype(np.uint8), 1 - alpha, 0)


def gradcam_samples(model: keras.Model, x, y, classes, per_class: int = 3, layer: str | None = None,
                    seed: int = 0, alpha: float = 0.4) -> list[dict]:
    """Random faces of each class with their Grad-CAM for the predicted class, for ``plots.plot_gradcam_grid``.

    Each item: ``true``, ``pred`` (class names), ``confidence``, ``index`` (into ``x``), ``image``
    (48x48 uint8), ``heatmap`` (48x48 in [0, 1]) and ``overlay`` (48x48x3 RGB uint8).
    """
    x, y = np.asarray(x), np.asarray(y)
    faces = x[..., 0] if x.ndim == 4 else x
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.choice(np.flatnonzero(y == c), min(per_class, int((y == c).sum())), replace=False)
                          for c in range(len(classes))]).astype(int)
    if not len(idx):
        return []
    grad_model, head = _grad_model(model, layer)
    cams, probs = _heatmaps(grad_model, head, _as_batch(faces[idx]))
    out = []
    for i, cam, p in zip(idx, cams, probs):
        heat = _upsample(cam, faces.shape[1:3])
        out.append({"index": int(i), "true": classes[int(y[i])], "pred": classes[int(p.argmax())],
                    "confidence": float(p.max()), "image": faces[i].astype(np.uint8), "heatmap": heat,
                    "overlay": overlay_heatmap(faces[i], heat, alpha)})
    return out


def mean_heatmaps(model: keras.Model, x, y, classes, layer: str | None = None, batch_size: int = 256) -> dict:
    """Grad-CAM averaged over every face of each true class, apart for the faces the model gets
    right and those it gets wrong: where the evidence sits on average, which a few example faces
    cannot show. ``{(class, correct): {"heatmap": 48x48 mean map, "face": 48x48 mean face, "n": faces}}``
    (a group with no face is left out). Each face's map is the one for its predicted class,
    normalised to a peak of 1 before averaging, as the example maps are."""
    x, y = np.asarray(x), np.asarray(y)
    faces = x[..., 0] if x.ndim == 4 else x
    grad_model, head = _grad_model(model, layer)
    size = faces.shape[1:3]
    sums: dict[tuple[str, bool], list] = {}
    for start in range(0, len(faces), batch_size):
        chunk = faces[start:start + batch_size]
        cams, probs = _heatmaps(grad_model, head, _as_batch(chunk))
        for face, cam, p, label in zip(chunk, cams, probs, y[start:start + batch_size]):
            key = (classes[int(label)], bool(p.argmax() == label))
            heat, mean_face, n = sums.setdefault(key, [np.zeros(size), np.zeros(size), 0])
            sums[key] = [heat + _upsample(cam, size), mean_face + face, n + 1]
    return {key: {"heatmap": heat / n, "face": mean_face / n, "n": n} for key, (heat, mean_face, n) in sums.items()}


def face_heatmaps(model: keras.Model, faces, pred_index=None, layer: str | None = None,
                  batch_size: int = 256) -> np.ndarray:
    """Grad-CAM maps ``(N, 48, 48)`` in [0, 1] of many faces at once, one grad model for all.

    ``faces``: raw 0-255 pixels ``(N, 48, 48)``; ``pred_index``: one class index per face (the
    class each map explains, e.g. the label another engine gave), default each face's predicted
    class. For faces from photos (``your_photos``) rather than a data set's split."""
    x = _as_batch(faces)
    if not len(x):
        return np.zeros((0, *x.shape[1:3]), np.float32)
    index = None if pred_index is None else np.broadcast_to(np.asarray(pred_index, dtype=np.int64), (len(x),))
    grad_model, head = _grad_model(model, layer)
    maps = []
    for start in range(0, len(x), batch_size):
        chunk = None if index is None else index[start:start + batch_size]
        cams, _ = _heatmaps(grad_model, head, x[start:start + batch_size], chunk)
        maps += [_upsample(cam, x.shape[1:3]) for cam in cams]
    return np.stack(maps)
