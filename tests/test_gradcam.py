"""Grad-CAM must point at the evidence: a tiny model learns a patch's kind, the map must find the patch."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from fer_helpers import gradcam
from fer_helpers.errors import FerError
from fer_helpers.model import build

PATCH = 10


def _patch_images(n: int, seed: int):
    """Noise faces with one 10x10 patch anywhere: bright for class 0, dark for class 1."""
    rng = np.random.default_rng(seed)
    x = rng.normal(128, 20, (n, 48, 48)).clip(0, 255)
    y = rng.integers(0, 2, n)
    corners = rng.integers(2, 48 - PATCH - 2, (n, 2))
    for img, cls, (r, c) in zip(x, y, corners):
        img[r:r + PATCH, c:c + PATCH] = 245 if cls == 0 else 10
    return x.astype(np.uint8), y, corners


@pytest.fixture(scope="module")
def patch_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((48, 48, 1))
    x = layers.RandomFlip("horizontal", name="aug_flip")(inputs)  # must be off at explanation time
    x = layers.Rescaling(1 / 127.5, offset=-1)(x)  # centred: both kinds of patch stand out
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="last_conv")(x)
    x = layers.Dropout(0.3)(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(2, activation="softmax", name="probs")(x)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    x_train, y_train, _ = _patch_images(400, seed=1)
    model.fit(x_train[..., None].astype("float32"), y_train, epochs=6, batch_size=32, verbose=0)
    return model


def test_patch_model_learned_the_task(patch_model):
    x, y, _ = _patch_images(100, seed=2)
    acc = (patch_model.predict(x[..., None].astype("float32"), verbose=0).argmax(1) == y).mean()
    assert acc > 0.95


def test_heatmap_peaks_on_the_patch(patch_model):
    x, y, corners = _patch_images(20, seed=3)
    hits = 0
    for img, (r, c) in zip(x, corners):
        heat = gradcam.make_gradcam_heatmap(img, patch_model)
        assert heat.shape == (48, 48) and heat.min() >= 0 and heat.max() == pytest.approx(1.0)
        pr, pc = np.unravel_index(heat.argmax(), heat.shape)
        hits += (r - 4 <= pr < r + PATCH + 4) and (c - 4 <= pc < c + PATCH + 4)
    assert hits >= 18, f"peak on the patch in only {hits}/20 images"


def test_heatmap_is_deterministic_and_conv_resolution(patch_model):
    x, _, _ = _patch_images(1, seed=4)
    a = gradcam.make_gradcam_heatmap(x[0], patch_model, "last_conv")
    b = gradcam.make_gradcam_heatmap(x[:1, ..., None], patch_model)  # augmentation and dropout are off
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert gradcam.make_gradcam_heatmap(x[0], patch_model, upsample=False).shape == (24, 24)


def test_other_class_map_differs(patch_model):
    x, y, _ = _patch_images(1, seed=5)
    own = gradcam.make_gradcam_heatmap(x[0], patch_model, pred_index=int(y[0]))
    other = gradcam.make_gradcam_heatmap(x[0], patch_model, pred_index=1 - int(y[0]))
    assert not np.allclose(own, other)


def test_project_models_and_samples():
    model = build("baseline", seed=0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 48, 48), dtype=np.uint8)
    y = np.arange(40) % 8
    classes = [f"c{i}" for i in range(8)]
    heat = gradcam.make_gradcam_heatmap(x[0], model)
    assert heat.shape == (48, 48) and 0 <= heat.min() and heat.max() <= 1
    samples = gradcam.gradcam_samples(model, x, y, classes, per_class=2, seed=1)
    assert len(samples) == 16
    assert [s["true"] for s in samples] == [c for c in classes for _ in range(2)]
    s = samples[0]
    assert s["overlay"].shape == (48, 48, 3) and s["overlay"].dtype == np.uint8
    assert s["image"].shape == (48, 48) and s["heatmap"].shape == (48, 48)
    assert 0 <= s["confidence"] <= 1 and s["pred"] in classes and (x[s["index"]] == s["image"]).all()
    assert gradcam.gradcam_samples(model, x, y, classes, per_class=2, seed=1)[3]["index"] == samples[3]["index"]


def test_overlay_and_errors():
    face = np.full((48, 48), 100, np.uint8)
    heat = np.zeros((12, 12), np.float32)
    heat[0, 0] = 1
    out = gradcam.overlay_heatmap(face, heat, alpha=0.5)
    assert out.shape == (48, 48, 3) and out.dtype == np.uint8
    assert not (out[0, 0] == out[-1, -1]).all()
    model = build("baseline")
    with pytest.raises(FerError, match="no layer 'nope'"):
        gradcam.make_gradcam_heatmap(face, model, "nope")
    with pytest.raises(FerError, match="expected face images"):
        gradcam.make_gradcam_heatmap(np.zeros((2, 48, 48, 3)), model)
