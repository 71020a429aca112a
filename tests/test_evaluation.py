"""Evaluation: probabilities, calibration, confusions, and the files ``fer evaluate`` writes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from fer_helpers import evaluation as E
from fer_helpers.errors import FerError
from fer_helpers.labels import FERPLUS_CLASSES
from fer_helpers.model import build, load_model_dir, save_model_dir

CLASSES = list(FERPLUS_CLASSES)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    save_model_dir(build("baseline", seed=0), folder)
    return folder


def _folders(root, classes, per_class=5, seed=0):
    """A class-folder data set (train and test) of random 48x48 PNGs."""
    rng = np.random.default_rng(seed)
    for split in ("train", "test"):
        for c in classes:
            d = root / split / c
            d.mkdir(parents=True)
            for i in range(per_class):
                Image.fromarray(rng.integers(0, 256, (48, 48), dtype=np.uint8)).save(d / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return _folders(tmp_path_factory.mktemp("data"), CLASSES)


# --------------------------------------------------------------------------------------------

def test_predict_probs_shapes_and_flip_tta(model_dir):
    model, _ = load_model_dir(model_dir)
    x = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    p = E.predict_probs(model, x, batch_size=2)
    assert p.shape == (5, 8) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(E.predict_probs(model, x[..., None]), p, atol=1e-6)
    flipped = E.predict_probs(model, x[:, :, ::-1])
    np.testing.assert_allclose(E.predict_probs(model, x, tta=True), (p + flipped) / 2, atol=1e-6)
    assert E.predict_probs(model, x[:0]).shape == (0, 8)
    with pytest.raises(FerError, match=r"expected faces shaped"):
        E.predict_probs(model, np.zeros((2, 48, 48, 3)))


def test_ece_known_values():
    y = np.array([0, 1, 0, 1])
    perfect = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    ece, bins = E.expected_calibration_error(y, perfect, n_bins=10)
    assert ece == pytest.approx(0.0)
    assert list(bins.columns) == ["bin_lower", "bin_upper", "count", "confidence", "accuracy", "gap"]
    assert len(bins) == 10 and bins["count"].sum() == 4 and bins["count"].iloc[-1] == 4

    # two predictions at 0.9, one right: promised 90%, delivered 50%
    probs = np.array([[0.9, 0.1], [0.9, 0.1]])
    ece, bins = E.expected_calibration_error(np.array([0, 1]), probs, n_bins=5)
    assert ece == pytest.approx(0.4)
    row = bins[bins["count"] > 0].iloc[0]
    assert row["bin_lower"] == pytest.approx(0.8) and row["accuracy"] == 0.5 and row["gap"] == pytest.approx(0.4)
    # a bin's upper edge belongs to it: confidence 0.6 with 5 bins lands in (0.4, 0.6]
    _, bins = E.expected_calibration_error(np.array([0]), np.array([[0.6, 0.4]]), n_bins=5)
    assert bins["count"].tolist() == [0, 0, 1, 0, 0]
    with pytest.raises(FerError):
        E.expected_calibration_error(np.array([0, 1]), probs[:1])


def test_most_confused_pairs():
    classes = ["a", "b", "c"]
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2])
    y_pred = np.array([1, 1, 2, 0, 0, 1, 0, 0, 2])
    df = E.most_confused_pairs(y_true, y_pred, classes, k=2)
    assert isinstance(df, pd.DataFrame) and list(df.columns) == ["true", "predicted", "count", "share_of_true"]
    assert df[["true", "predicted", "count"]].values.tolist() == [["a", "b", 2], ["c", "a", 2]]
    assert df["share_of_true"].tolist() == pytest.approx([0.5, 2 / 3])
    assert E.most_confused_pairs(y_true, y_true, classes).empty


def test_evaluate_model_dir_writes_everything(model_dir, data_dir, tmp_path):
    out = tmp_path / "eval"
    res = E.evaluate_model_dir(model_dir, data=data_dir, out=out, tta=True)
    assert res["n"] == 40 and res["split"] == "test" and res["classes"] == CLASSES
    for key in ("accuracy", "loss", "weighted_f1", "macro_f1", "per_class", "confusion", "ece"):
        assert key in res and key in res["tta"]
    assert np.asarray(res["confusion"]).sum() == 40
    assert sum(b["count"] for b in res["calibration_bins"]) == 40
    saved = json.loads((out / "evaluation_test.json").read_text())
    assert saved["accuracy"] == res["accuracy"] and saved["tta"]["ece"] == res["tta"]["ece"]
    report = (out / "classification_report_test.txt").read_text()
    assert "contempt" in report and "flip test-time augmentation" in report
    assert set(res["figures"]) == {"confusion", "confusion_normalized", "predictions", "confused_pairs",
                                   "reliability"}
    for path in res["figures"].values():
        with Image.open(path) as img:
            assert img.format == "PNG"
    assert sorted(p.name for p in out.glob("*.png")) == sorted(f"{k}_test.png" for k in res["figures"])


def test_evaluate_subset_is_seeded_and_defaults_to_the_model_folder(tmp_path, data_dir):
    folder = save_model_dir(build("baseline", seed=0), tmp_path / "m")
    a = E.evaluate_model_dir(folder, data=data_dir, split="train", subset=12, figures=False)
    b = E.evaluate_model_dir(folder, data=data_dir, split="train", subset=12, figures=False)
    assert a["n"] == 12 and a["confusion"] == b["confusion"] and a["subset"] == 12
    assert (folder / "evaluation_train_subset12.json").is_file() and a["figures"] == {}
    assert not (folder / "evaluation_train.json").exists()  # the name of the whole split's results
    assert E.evaluate_model_dir(folder, data=data_dir, subset=1000, figures=False)["n"] == 40
    with pytest.raises(FerError, match="subset"):
        E.evaluate_model_dir(folder, data=data_dir, subset=0, figures=False)


def test_seven_class_data_on_an_eight_class_model(tmp_path, model_dir):
    seven = [c for c in CLASSES if c != "contempt"]
    data = _folders(tmp_path / "fer2013", seven, per_class=2)
    res = E.evaluate_model_dir(model_dir, data=data, out=tmp_path / "o", figures=False)
    assert res["n"] == 14 and res["per_class"]["contempt"]["support"] == 0
    assert res["per_class"]["surprise"]["support"] == 2


def test_run_evaluate_prints_a_summary_or_one_error_line(model_dir, data_dir, tmp_path, capsys):
    assert E.run_evaluate(model_dir, data_dir, "test", tmp_path / "o", tta=True, subset=16) == 0
    out = capsys.readouterr().out
    assert "16 images" in out and "flip TTA" in out and "accuracy" in out and "ECE" in out
    assert E.run_evaluate(tmp_path / "missing", data_dir, "test", None, False, None) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model folder not found" in err
    assert E.run_evaluate(model_dir, tmp_path / "no_data", "test", tmp_path / "o", False, None) == 2
    assert "data path not found" in capsys.readouterr().err
    assert E.run_evaluate(model_dir, data_dir, "valid", tmp_path / "o", False, None) == 2
    assert "split 'valid'" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# The interval around an accuracy or a recall

def _wilson(k, n, z=1.959963984540054):
    """Wilson's score interval written out, to check the library's against."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_proportion_interval_is_wilsons_and_stays_inside_0_1():
    from fer_helpers.metrics import proportion_interval

    lo, hi = proportion_interval(2754, 3137)  # the paper's test accuracy, 87.8%
    assert lo == pytest.approx(0.866, abs=5e-4) and hi == pytest.approx(0.889, abs=5e-4)
    for k, n in ((2754, 3137), (5, 15), (1, 3), (0, 10), (10, 10), (0, 1), (1, 1)):
        lo, hi = proportion_interval(k, n)
        assert 0.0 <= lo <= k / n <= hi <= 1.0, (k, n, lo, hi)
        assert (lo, hi) == pytest.approx(_wilson(k, n), abs=1e-9), (k, n)
    assert proportion_interval(0, 10)[0] == 0.0 and proportion_interval(0, 10)[1] > 0.2   # no normal-approx. collapse
    assert proportion_interval(10, 10)[1] == 1.0 and proportion_interval(10, 10)[0] < 0.8
    assert proportion_interval(np.int64(3), np.int64(4)) == pytest.approx(proportion_interval(3, 4))


def test_proportion_interval_narrows_with_n_widens_with_level_and_is_nan_for_no_faces():
    from fer_helpers.metrics import proportion_interval

    widths = [hi - lo for lo, hi in (proportion_interval(int(0.8 * n), n) for n in (10, 100, 1000, 10000))]
    assert all(a > b for a, b in zip(widths, widths[1:])), widths
    assert widths[-1] < 0.02 < 0.4 < widths[0]
    lo95, hi95 = proportion_interval(30, 40)
    lo99, hi99 = proportion_interval(30, 40, level=0.99)
    assert lo99 < lo95 and hi99 > hi95
    assert (lo99, hi99) == pytest.approx(_wilson(30, 40, z=2.5758293035489004), abs=1e-9)
    lo, hi = proportion_interval(0, 0)
    assert np.isnan(lo) and np.isnan(hi)
