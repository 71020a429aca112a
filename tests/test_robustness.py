"""Robustness: each perturbation does what it claims on patterns whose answer is known, and the
table scores every (perturbation, strength) against the clean images."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

from fer_helpers import evaluation, plots
from fer_helpers import robustness as R
from fer_helpers.errors import FerError
from fer_helpers.labels import FERPLUS_CLASSES
from fer_helpers.model import build, save_model_dir

CLASSES = list(FERPLUS_CLASSES)
N_ROWS = 1 + sum(len(p.strengths) for p in R.PERTURBATIONS.values())


@pytest.fixture(scope="module")
def faces():
    """Face-like test images: a smooth gradient plus noise, not pure noise (JPEG and blur see structure)."""
    rng = np.random.default_rng(0)
    ramp = np.add.outer(np.arange(48), np.arange(48)) * 2.0
    return np.clip(ramp + rng.normal(0, 25, (6, 48, 48)) + 30, 0, 255).astype(np.uint8)


def _dot(row: int, col: int) -> np.ndarray:
    x = np.zeros((1, 48, 48), np.uint8)
    x[0, row, col] = 255
    return x


def _where(x) -> tuple[int, int]:
    return tuple(int(v) for v in np.unravel_index(np.argmax(x[0]), x[0].shape))


# --------------------------------------------------------------------------------------------
# The perturbations

@pytest.mark.parametrize("fn, neutral", [(R.scale, 1.0), (R.shift_x, 0.0), (R.shift_y, 0.0), (R.rotate, 0.0),
                                         (R.brightness, 0), (R.gamma, 1.0), (R.blur, 0.0), (R.flip, 0)])
def test_neutral_strength_returns_the_input_exactly(faces, fn, neutral):
    out = fn(faces, neutral)
    np.testing.assert_array_equal(out, faces)
    assert out is not faces


def test_every_perturbation_keeps_dtype_and_shape_is_deterministic_and_leaves_its_input(faces):
    before = faces.copy()
    for name, p in R.PERTURBATIONS.items():
        for s in p.strengths:
            out = R.perturb(faces, name, s)
            assert out.dtype == np.uint8 and out.shape == faces.shape, (name, s)
            assert not np.array_equal(out, faces), f"{name} {s} changed nothing"
            np.testing.assert_array_equal(out, R.perturb(faces, name, s))
    np.testing.assert_array_equal(faces, before)


def test_flip_mirrors_and_is_its_own_inverse(faces):
    columns = np.tile(np.arange(48, dtype=np.uint8), (2, 48, 1))  # pixel value = column index
    np.testing.assert_array_equal(R.flip(columns)[:, :, 0], np.full((2, 48), 47))
    np.testing.assert_array_equal(R.flip(columns)[:, 5, :], columns[:, 5, ::-1])
    np.testing.assert_array_equal(R.flip(R.flip(faces)), faces)


def test_shift_moves_a_dot_by_the_share_of_the_side():
    assert _where(R.shift_x(_dot(20, 20), 0.125)) == (20, 26)   # 0.125 * 48 = 6 pixels right
    assert _where(R.shift_x(_dot(20, 20), -0.125)) == (20, 14)
    assert _where(R.shift_y(_dot(20, 20), 0.125)) == (26, 20)   # down
    assert _where(R.shift_y(_dot(20, 20), -0.25)) == (8, 20)


def test_shift_fills_the_border_with_the_edge_pixels():
    x = np.tile(np.arange(48, dtype=np.uint8) * 5, (1, 48, 1))  # brighter to the right
    out = R.shift_x(x, 0.125)
    np.testing.assert_array_equal(out[0, :, :7], 0)             # left edge repeated, no black bar added
    np.testing.assert_array_equal(out[0, :, 6:], x[0, :, :-6])


def test_scale_enlarges_or_shrinks_a_centred_square_by_the_factor_squared():
    x = np.zeros((1, 48, 48), np.uint8)
    x[0, 16:32, 16:32] = 255                                      # 16 x 16, centred
    area = lambda img: (img > 127).sum()
    for factor in (0.75, 0.85, 1.15, 1.25):
        assert area(R.scale(x, factor)) == pytest.approx(256 * factor**2, rel=0.15), factor
    assert _where(R.scale(_dot(23, 23), 1.5)) in {(22, 22), (23, 23)}  # the centre stays put


def test_rotation_turns_counter_clockwise_and_keeps_a_round_blob():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (2, 48, 48), dtype=np.uint8)
    np.testing.assert_array_equal(R.rotate(x, 90), np.rot90(x, 1, axes=(1, 2)))   # counter-clockwise
    np.testing.assert_array_equal(R.rotate(x, -90), np.rot90(x, -1, axes=(1, 2)))
    yy, xx = np.mgrid[:48, :48]
    blob = (255 * np.exp(-((yy - 23.5) ** 2 + (xx - 23.5) ** 2) / 2 / 8**2)).round().astype(np.uint8)[None]
    for degrees in (7.5, 15, -15):
        assert np.abs(R.rotate(blob, degrees).astype(int) - blob).max() <= 2
    assert np.abs(R.rotate(x, 15).astype(int) - x).mean() > 30        # but not a random image


def test_brightness_and_gamma_are_clipped_tone_curves():
    grey = np.array([[[0, 64, 128, 230, 255]]], np.uint8)
    np.testing.assert_array_equal(R.brightness(grey, 40), [[[40, 104, 168, 255, 255]]])
    np.testing.assert_array_equal(R.brightness(grey, -40), [[[0, 24, 88, 190, 215]]])
    lighter, darker = R.gamma(grey, 0.6), R.gamma(grey, 1.6)
    assert lighter[0, 0, 0] == darker[0, 0, 0] == 0 and lighter[0, 0, -1] == darker[0, 0, -1] == 255
    assert (lighter[0, 0, 1:-1] > grey[0, 0, 1:-1]).all() and (darker[0, 0, 1:-1] < grey[0, 0, 1:-1]).all()
    assert R.gamma(grey, 2.0)[0, 0, 2] == round(255 * (128 / 255) ** 2)


def test_blur_reduces_variance_more_with_a_larger_sigma(faces):
    stds = [R.blur(faces, s).astype(float).std() for s in (0, 0.5, 1.0, 1.5)]
    assert stds == sorted(stds, reverse=True) and stds[-1] < 0.9 * stds[0]
    flat = np.full((1, 48, 48), 90, np.uint8)
    np.testing.assert_array_equal(R.blur(flat, 1.5), flat)          # nothing to blur, edges included


def test_jpeg_changes_pixels_but_keeps_the_mean(faces):
    for quality in (50, 30):
        out = R.jpeg(faces, quality)
        assert np.abs(out.astype(int) - faces).mean() > 2
        assert abs(float(out.mean()) - float(faces.mean())) < 2
    assert np.abs(R.jpeg(faces, 30).astype(int) - faces).mean() > np.abs(R.jpeg(faces, 95).astype(int) - faces).mean()


def test_bad_input_and_unknown_names_raise_ferror(faces):
    with pytest.raises(FerError, match="uint8 faces"):
        R.scale(faces.astype(np.float32), 1.1)
    with pytest.raises(FerError, match="uint8 faces"):
        R.jpeg(faces[..., None], 30)
    with pytest.raises(FerError, match="unknown perturbation 'zoom'"):
        R.perturb(faces, "zoom", 1.1)


# --------------------------------------------------------------------------------------------
# The table

class LeftOrRight:
    """A stand-in model: class 0 when the left half is brighter, class 1 otherwise; blind to tone."""

    output_shape = (None, len(CLASSES))

    def predict(self, x, batch_size=None, verbose=0):
        x = np.asarray(x)[..., 0]
        left = x[:, :, :24].mean(axis=(1, 2)) > x[:, :, 24:].mean(axis=(1, 2))
        return np.eye(len(CLASSES), dtype=np.float32)[np.where(left, 0, 1)]


def test_table_scores_every_row_against_the_clean_images():
    x = np.zeros((10, 48, 48), np.uint8)
    y = np.arange(10) % 2
    x[y == 0, :, :20], x[y == 1, :, 28:] = 200, 200       # bright on the side that names the class
    table = R.robustness_table(LeftOrRight(), x, y, CLASSES)
    assert list(table.columns) == ["perturbation", "strength", "accuracy", "macro_f1", "drop", "n"]
    assert len(table) == N_ROWS and (table["n"] == 10).all()
    assert table.iloc[0]["perturbation"] == "clean" and np.isnan(table.iloc[0]["strength"])
    expected = [(n, float(s)) for n, p in R.PERTURBATIONS.items() for s in p.strengths]
    assert list(zip(table["perturbation"][1:], table["strength"][1:].astype(float))) == expected
    by = table.set_index(["perturbation", "strength"])
    assert table.iloc[0]["accuracy"] == 1 and table.iloc[0]["drop"] == 0
    assert by.loc[("flip", 1), "accuracy"] == 0 and by.loc[("flip", 1), "drop"] == -1  # mirrored: every answer flips
    assert by.loc[("brightness", 40), "accuracy"] == 1 and by.loc[("gamma", 1.6), "drop"] == 0
    np.testing.assert_allclose(table["drop"], table["accuracy"] - 1.0)
    assert by.loc[("flip", 1), "macro_f1"] == 0


def test_table_with_a_keras_model_and_a_chosen_perturbation_set():
    rng = np.random.default_rng(2)
    x, y = rng.integers(0, 256, (12, 48, 48), dtype=np.uint8), np.arange(12) % 8
    model = build("baseline", seed=0)
    table = R.robustness_table(model, x, y, CLASSES, batch_size=5)
    assert len(table) == N_ROWS
    assert table[["accuracy", "macro_f1"]].apply(lambda c: c.between(0, 1)).all().all()
    assert table.iloc[0]["drop"] == 0
    clean = (evaluation.predict_probs(model, x).argmax(axis=1) == y).mean()
    assert table.iloc[0]["accuracy"] == pytest.approx(clean)
    few = {"blur": R.PERTURBATIONS["blur"]}
    assert list(R.robustness_table(model, x, y, CLASSES, perturbations=few)["perturbation"]) == ["clean"] + ["blur"] * 3
    with pytest.raises(FerError, match="as many labels"):
        R.robustness_table(model, x, y[:5], CLASSES)


def test_model_dir_scores_the_images_evaluate_scores(tmp_path):
    rng = np.random.default_rng(3)
    for split, c in ((split, c) for split in ("train", "test") for c in CLASSES):
        d = tmp_path / "data" / split / c
        d.mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (48, 48), dtype=np.uint8)).save(d / f"{i}.png")
    folder = save_model_dir(build("baseline", seed=0), tmp_path / "model")
    result = evaluation.evaluate_model_dir(folder, data=tmp_path / "data", subset=10, seed=7, figures=False)
    table = R.robustness_of_model_dir(folder, data=tmp_path / "data", subset=10, seed=7)
    assert table.iloc[0]["n"] == 10 and table.iloc[0]["accuracy"] == pytest.approx(result["accuracy"])
    assert table.iloc[0]["macro_f1"] == pytest.approx(result["macro_f1"])
    with pytest.raises(FerError, match="subset"):
        R.robustness_of_model_dir(folder, data=tmp_path / "data", subset=0)


# --------------------------------------------------------------------------------------------
# Presentation

def _fake_table() -> pd.DataFrame:
    rows = [("clean", np.nan, 0.8)] + [(n, s, 0.8 - 0.01 * k) for n, p in R.PERTURBATIONS.items()
                                       for k, s in enumerate(p.strengths)]
    t = pd.DataFrame(rows, columns=["perturbation", "strength", "accuracy"])
    return t.assign(macro_f1=t["accuracy"] - 0.1, drop=t["accuracy"] - 0.8, n=100)


def test_plot_robustness_draws_one_panel_per_perturbation(tmp_path):
    fig = plots.plot_robustness(_fake_table(), R.UNITS)
    assert isinstance(fig, Figure) and plt.get_fignums() == []
    assert len(fig.axes) == len(R.PERTURBATIONS)
    for ax, (name, p) in zip(fig.axes, R.PERTURBATIONS.items()):
        assert len(ax.lines) == 2 and ax.get_title().startswith(name) and ax.get_xlabel() == p.unit
        assert len(ax.lines[0].get_xdata()) == len(p.strengths)
        assert set(ax.lines[1].get_ydata()) == {0.8}                     # the clean accuracy, dashed
    assert "worst change -3.0 pt" in fig.axes[0].get_title()
    few = plots.plot_robustness(_fake_table().query("perturbation in ['clean', 'blur', 'jpeg']"))
    assert len(few.axes) == 2 and few.axes[0].get_xlabel() == "strength"
    with Image.open(plots.save_figure(fig, tmp_path / "robustness.png")) as img:
        assert img.format == "PNG" and img.size[0] > 600


def test_summary_table_has_one_row_per_perturbation():
    s = R.summary_table(_fake_table())
    assert list(s.index) == list(R.PERTURBATIONS)
    assert s.loc["rotation", "strength is"] == R.UNITS["rotation"]
    assert s.loc["scale", "strengths"] == "0.85 / 0.92 / 1.08 / 1.15"
    assert s.loc["scale", "accuracy (%)"] == "80.0 / 79.0 / 78.0 / 77.0"
    assert s.loc["scale", "change (points)"] == "+0.0 / -1.0 / -2.0 / -3.0"
