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


# ---------------------------------------------------------------------------------------------
# Grad-CAM averaged per class, apart for the faces the model gets right and wrong

MEAN_CLASSES = ["anger", "happiness", "surprise"]


@pytest.fixture(scope="module")
def tiny_model():
    """An untrained three-class model: random weights give right and wrong faces in several classes."""
    keras.utils.set_random_seed(3)
    inputs = keras.Input((48, 48, 1))
    x = layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(6, 3, padding="same", activation="relu", name="last_conv")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(3, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def mean_faces():
    rng = np.random.default_rng(7)
    x = rng.integers(0, 256, (30, 48, 48), dtype=np.uint8)
    x[:10, 10:20, 10:20] = 255  # some structure, so maps differ from face to face
    return x, np.arange(30) % 3


def test_mean_heatmaps_average_each_faces_map_by_class_and_correctness(tiny_model, mean_faces):
    x, y = mean_faces
    means = gradcam.mean_heatmaps(tiny_model, x, y, MEAN_CLASSES)
    pred = tiny_model.predict(x[..., None].astype("float32"), verbose=0).argmax(1)
    expected_keys = {(MEAN_CLASSES[int(t)], bool(p == t)) for t, p in zip(y, pred)}
    assert set(means) == expected_keys and len({c for c, _ in means}) == 3
    assert {ok for _, ok in means} == {True, False}, "the fixture should give right and wrong faces"
    assert sum(g["n"] for g in means.values()) == len(x)
    for (c, ok), g in means.items():
        members = np.flatnonzero((y == MEAN_CLASSES.index(c)) & ((pred == y) == ok))
        assert g["n"] == len(members)
        assert g["heatmap"].shape == (48, 48) and g["face"].shape == (48, 48)
        assert np.isfinite(g["heatmap"]).all() and g["heatmap"].min() >= 0 and g["heatmap"].max() <= 1 + 1e-6
        np.testing.assert_allclose(g["face"], x[members].astype(float).mean(axis=0), atol=1e-9)
        # each face's own map for its predicted class, peak 1, then averaged
        own = np.mean([gradcam.make_gradcam_heatmap(x[i], tiny_model) for i in members], axis=0)
        np.testing.assert_allclose(g["heatmap"], own, atol=1e-5)


def test_mean_heatmaps_do_not_depend_on_the_batch_size_nor_the_channel_axis(tiny_model, mean_faces):
    x, y = mean_faces
    whole = gradcam.mean_heatmaps(tiny_model, x, y, MEAN_CLASSES, batch_size=256)
    for other in (gradcam.mean_heatmaps(tiny_model, x, y, MEAN_CLASSES, batch_size=2),
                  gradcam.mean_heatmaps(tiny_model, x, y, MEAN_CLASSES, batch_size=7),  # a ragged last batch
                  gradcam.mean_heatmaps(tiny_model, x[..., None], y, MEAN_CLASSES, layer="last_conv")):
        assert set(other) == set(whole)
        for key, g in whole.items():
            assert other[key]["n"] == g["n"]
            np.testing.assert_allclose(other[key]["heatmap"], g["heatmap"], atol=1e-5)
            np.testing.assert_allclose(other[key]["face"], g["face"], atol=1e-9)
    assert gradcam.mean_heatmaps(tiny_model, x[:0], y[:0], MEAN_CLASSES) == {}


@pytest.mark.parametrize("language, right, wrong, title", [
    ("en", "right", "wrong", "Grad-CAM averaged over the test faces of each class"),
    ("tr", "doğru", "yanlış", "Her sınıfın test yüzleri üzerinden ortalama Grad-CAM")], ids=["en", "tr"])
def test_plot_mean_gradcam_rows_of_right_and_wrong_per_class(tiny_model, mean_faces, language, right, wrong, title):
    from fer_helpers import plots
    from fer_helpers.i18n import class_name

    x, y = mean_faces
    heat = np.linspace(0, 1, 48 * 48).reshape(48, 48)
    means = {(c, ok): {"heatmap": heat, "face": x[j].astype(float), "n": 1200 + j + 10 * ok}
             for j, c in enumerate(MEAN_CLASSES) for ok in (True, False)}
    del means[("happiness", False)]   # a group with no face: its panel is left empty
    fig = plots.plot_mean_gradcam(means, MEAN_CLASSES, language)
    axes = fig.axes
    assert len(axes) == 2 * len(MEAN_CLASSES)
    assert axes[0].get_ylabel() == right and axes[len(MEAN_CLASSES)].get_ylabel() == wrong
    assert fig._suptitle.get_text() == title
    for r, ok in enumerate((True, False)):
        for j, c in enumerate(MEAN_CLASSES):
            ax, group = axes[r * len(MEAN_CLASSES) + j], means.get((c, ok))
            if group is None:
                assert not ax.get_frame_on() and not ax.images  # an empty panel: no frame, no image
            else:
                assert ax.axison and len(ax.images) == 1 and ax.images[0].get_array().shape == (48, 48, 3)
                n = f"{group['n']:,}".replace(",", "." if language == "tr" else ",")
                assert ax.get_title() == f"{class_name(c, language)}\nn = {n}"
    assert axes[1].get_title().startswith("mutluluk" if language == "tr" else "happiness")
    # the model's own groups draw too
    fig = plots.plot_mean_gradcam(gradcam.mean_heatmaps(tiny_model, x, y, MEAN_CLASSES), MEAN_CLASSES, language)
    assert len(fig.axes) == 2 * len(MEAN_CLASSES)


def test_plot_mean_gradcam_keeps_a_rows_label_when_its_first_class_has_no_face(mean_faces):
    """The row label sits on the row's first panel: an empty first panel must still draw it."""
    import io

    from fer_helpers import plots

    x, _ = mean_faces
    heat = np.linspace(0, 1, 48 * 48).reshape(48, 48)
    means = {(c, ok): {"heatmap": heat, "face": x[j].astype(float), "n": 5}
             for j, c in enumerate(MEAN_CLASSES) for ok in (True, False)}
    del means[(MEAN_CLASSES[0], False)]
    svg = io.StringIO()
    plots.plot_mean_gradcam(means, MEAN_CLASSES, "en").savefig(svg, format="svg")
    assert "wrong" in svg.getvalue() and "right" in svg.getvalue()
