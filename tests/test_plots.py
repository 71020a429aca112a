"""Every figure builds from small synthetic inputs, returns a Figure, leaves pyplot empty and saves as PNG."""

from __future__ import annotations

import io
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

from fer_helpers import paper, plots
from fer_helpers.data import Dataset, LoadReport
from fer_helpers.labels import FERPLUS_CLASSES
from fer_helpers.model import build

CLASSES = list(FERPLUS_CLASSES)


@pytest.fixture(scope="module")
def faces():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (80, 48, 48), dtype=np.uint8)
    y = np.arange(80) % 8
    probs = rng.dirichlet(np.ones(8), 80)
    probs[np.arange(40), y[:40]] += 2  # half of them right
    return x, y, probs / probs.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def votes():
    rng = np.random.default_rng(1)
    v = np.zeros((200, 10), np.float32)
    for row in v:
        for vote in rng.choice(10, 10, p=np.r_[np.full(8, 0.11), 0.06, 0.06]):
            row[vote] += 1
    v[:50] = 0
    v[np.arange(50), np.arange(50) % 8] = 10  # unanimous ones
    return v


def _check(fig, tmp_path, name):
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == [], "helpers must not leave pyplot figures open"
    path = plots.save_figure(fig, tmp_path / "sub" / f"{name}.png")
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size[0] > 200 and img.size[1] > 100


def test_data_figures(tmp_path, faces, votes):
    x, y, _ = faces
    ds = Dataset(tmp_path, tuple(CLASSES), {"train": x[:100], "test": x[:40]},
                 {"train": votes[:80], "test": votes[80:120]},
                 {"train": [str(i) for i in range(80)], "test": [str(i) for i in range(40)]}, LoadReport())
    _check(plots.plot_class_balance(ds.counts()), tmp_path, "balance")
    _check(plots.plot_samples_per_class(x, y, CLASSES, per_class=4), tmp_path, "samples")
    _check(plots.plot_samples_per_class(x[:5], y[:5], CLASSES, per_class=3), tmp_path, "samples_sparse")
    _check(plots.plot_pixel_stats({"train": x, "test": x[:20]}), tmp_path, "pixels")
    _check(plots.plot_label_protocol(votes, CLASSES), tmp_path, "protocol")


def test_augmentation_uses_the_model_layers(tmp_path, faces):
    x, _, _ = faces
    fig = plots.plot_augmentation(build("baseline", augment="seed"), x, n=4)
    assert "flip" in fig._suptitle.get_text()
    assert len(fig.axes) == 4 * 4  # original + 3 draws
    _check(fig, tmp_path, "aug")
    fig = plots.plot_augmentation(build("baseline", augment="none"), x, n=3)
    assert "none" in fig._suptitle.get_text() and len(fig.axes) == 3
    _check(fig, tmp_path, "aug_none")
    turkish = plots.plot_augmentation(build("baseline", augment="seed"), x, n=2, language="tr")._suptitle.get_text()
    assert "ayna" in turkish and "döndürme" in turkish and "flip" not in turkish  # the layers' names too


@pytest.mark.parametrize("columns", [
    ["epoch", "accuracy", "loss", "val_accuracy", "val_loss", "val_macro_f1", "learning_rate"],
    ["accuracy", "loss"],
    ["epoch", "loss", "val_loss"],
])
def test_history_tolerates_missing_columns(tmp_path, columns):
    full = pd.DataFrame({"epoch": [1, 2, 3], "accuracy": [0.3, 0.5, 0.6], "loss": [1.8, 1.3, 1.1],
                         "val_accuracy": [0.35, 0.5, 0.55], "val_loss": [1.7, 1.4, 1.2],
                         "val_macro_f1": [0.2, 0.3, 0.35], "learning_rate": [1e-3, 5e-4, 1e-4]})
    _check(plots.plot_history(full[columns]), tmp_path, "history")


def test_evaluation_figures(tmp_path, faces):
    from fer_helpers.evaluation import expected_calibration_error

    x, y, probs = faces
    pred = probs.argmax(axis=1)
    cm = np.zeros((8, 8), int)
    np.add.at(cm, (y, pred), 1)
    cm[3] = 0  # a class without images must not divide by zero
    fig = plots.plot_confusion(cm, CLASSES, normalize=True)
    assert np.isfinite(fig.axes[0].collections[0].get_array()).all()
    _check(fig, tmp_path, "cm_norm")
    _check(plots.plot_confusion(cm, CLASSES), tmp_path, "cm")
    fig = plots.plot_predictions_grid(x, y, probs, CLASSES, n=10)
    assert "5 right" in fig._suptitle.get_text() and "5 wrong" in fig._suptitle.get_text()
    _check(fig, tmp_path, "pred")
    _check(plots.plot_predictions_grid(x[:3, ..., None], y[:3], probs[:3], CLASSES, n=16), tmp_path, "pred_few")
    _check(plots.plot_confused_pairs(x, y, pred, CLASSES, k=3), tmp_path, "pairs")
    _check(plots.plot_confused_pairs(x, y, y, CLASSES), tmp_path, "pairs_none")
    ece, bins = expected_calibration_error(y, probs)
    fig = plots.plot_reliability(bins, ece)
    assert f"{ece:.3f}" in fig.axes[0].get_title()
    _check(fig, tmp_path, "reliability")


def test_gradcam_grid_and_references(tmp_path, faces):
    x, _, _ = faces
    overlay = np.dstack([x[0]] * 3)
    samples = [{"true": c, "pred": CLASSES[(i + j) % 8], "confidence": 0.5, "overlay": overlay}
               for i, c in enumerate(CLASSES[:3]) for j in range(2)]
    fig = plots.plot_gradcam_grid(samples, CLASSES[:3])
    assert len(fig.axes) == 6
    _check(fig, tmp_path, "gradcam")
    fig = plots.plot_metrics_vs_references(paper.references_table({"accuracy": 0.8, "tta": {"accuracy": 0.81}}))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "ours (this study)" in labels and "ours + flip TTA" in labels and len(labels) == 2 + len(paper.PUBLISHED)
    hatched = [bar for bar in fig.axes[0].patches if bar.get_hatch()]
    assert len(hatched) == sum(not p.comparable for p in paper.PUBLISHED)  # one grey hatched bar each
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["other protocol: not comparable"]  # said once, for the hatch
    _check(fig, tmp_path, "references")


def test_every_figure_draws_in_turkish(tmp_path, faces, votes):
    """Every label a figure writes has its Turkish (i18n.t raises on a missing one), class names included."""
    from fer_helpers.evaluation import expected_calibration_error

    x, y, probs = faces
    tr = {"language": "tr"}
    ds = Dataset(tmp_path, tuple(CLASSES), {"train": x[:100], "test": x[:40]},
                 {"train": votes[:80], "test": votes[80:120]},
                 {"train": [str(i) for i in range(80)], "test": [str(i) for i in range(40)]}, LoadReport())
    fig = plots.plot_class_balance(ds.counts(), **tr)
    assert "görüntü" in fig.axes[0].get_ylabel()
    plots.plot_samples_per_class(x, y, CLASSES, per_class=2, **tr)
    plots.plot_pixel_stats({"train": x, "test": x[:20]}, **tr)
    fig = plots.plot_label_protocol(votes, CLASSES, **tr)
    assert "öfke" in [t.get_text() for t in fig.axes[0].get_yticklabels()]
    pred = probs.argmax(axis=1)
    fig = plots.plot_confusion(np.eye(8), CLASSES, normalize=True, **tr)
    assert "şaşkınlık" in [t.get_text() for t in fig.axes[0].get_xticklabels()]
    plots.plot_predictions_grid(x, y, probs, CLASSES, n=4, **tr)
    plots.plot_confused_pairs(x, y, pred, CLASSES, k=2, **tr)
    ece, bins = expected_calibration_error(y, probs)
    assert "Güvenilirlik" in plots.plot_reliability(bins, ece, **tr).axes[0].get_title()
    history = pd.DataFrame({"epoch": [1, 2], "accuracy": [0.5, 0.6], "val_accuracy": [0.5, 0.7], "loss": [1.0, 0.9],
                            "val_loss": [1.1, 1.0], "learning_rate": [1e-3, 5e-4]})
    plots.plot_history(history, **tr)
    fig = plots.plot_metrics_vs_references(paper.references_table({"accuracy": 0.8}, "tr"), **tr)
    assert any("karşılaştırılamaz" in t.get_text() for t in fig.legends[0].get_texts())
    samples = [{"true": c, "pred": c, "confidence": 0.5, "overlay": np.dstack([x[0]] * 3)} for c in CLASSES[:2]]
    plots.plot_gradcam_grid(samples, CLASSES[:2], **tr)
    from fer_helpers import robustness

    table = pd.DataFrame({"perturbation": ["clean"] + list(robustness.PERTURBATIONS),
                          "strength": [0.0] + [1.0] * len(robustness.PERTURBATIONS), "accuracy": 0.8, "drop": -0.01,
                          "n": 40})
    plots.plot_robustness(table, robustness.UNITS, **tr)


def _drawn_labels(fig, axis: str = "x", index: int = 0) -> list[str]:
    fig.savefig(io.BytesIO(), format="png")  # tick labels are written when the figure is drawn
    return [t.get_text() for t in getattr(fig.axes[index], f"get_{axis}ticklabels")() if t.get_text()]


def test_turkish_figures_write_decimals_with_a_comma(faces):
    """Turkish writes 0,5 and %80: tick labels, colour bars, cell annotations, titles; English keeps 0.5."""
    from fer_helpers import robustness
    from fer_helpers.evaluation import expected_calibration_error

    x, y, probs = faces
    ece, bins = expected_calibration_error(y, probs)
    for language, point in (("en", "."), ("tr", ",")):
        fig = plots.plot_reliability(bins, ece, language=language)
        assert f"0{point}{round(ece * 1000):03d}" in fig.axes[0].get_title()
        ticks = _drawn_labels(fig, "y")
        assert f"0{point}2" in ticks and not any(("," if point == "." else ".") in label for label in ticks), ticks
        fig = plots.plot_confusion(np.full((2, 2), 0.25), ["a", "b"], normalize=True, language=language)
        assert [t.get_text() for t in fig.axes[0].texts] == [f"0{point}25"] * 4
        assert f"0{point}2" in _drawn_labels(fig, "y", index=1)  # the colour bar
    table = pd.DataFrame({"perturbation": ["clean", "blur", "blur"], "strength": [0.0, 0.5, 1.5],
                          "accuracy": [0.8, 0.75, 0.7], "drop": [0.0, -0.05, -0.1], "n": 3137})
    fig = plots.plot_robustness(table, robustness.UNITS, language="tr")
    assert _drawn_labels(fig, "x") == ["0,5", "1,5"]
    assert all(label.startswith("%") for label in _drawn_labels(fig, "y"))
    assert "-10,0" in fig.axes[0].get_title() and "3.137" in fig._suptitle.get_text()
    history = pd.DataFrame({"epoch": [1, 2], "accuracy": [0.5, 0.6], "val_accuracy": [0.5, 0.725], "loss": [1.0, 0.9]})
    fig = plots.plot_history(history, language="tr")
    assert "en iyi 0,725" in [t.get_text() for t in fig.axes[0].texts]


def test_style_is_scoped_and_settable():
    import matplotlib as mpl

    before = mpl.rcParams["axes.titleweight"]
    plots.plot_confusion(np.eye(2), ["a", "b"])
    assert mpl.rcParams["axes.titleweight"] == before
    with mpl.rc_context():
        plots.set_style()
        assert mpl.rcParams["axes.titleweight"] == "bold"
    assert list(plots.class_palette(CLASSES)) == CLASSES


def test_overlaid_curves_show_every_runs_best_even_a_far_weaker_one():
    """A short budget's run 18 points under the best must still be on the axes, not cut off with
    the first epochs' values."""
    histories = {name: pd.DataFrame({"epoch": range(1, len(acc) + 1), "val_accuracy": acc})
                 for name, acc in {"long": [0.3, 0.6, 0.75, 0.80], "short": [0.4, 0.62]}.items()}
    low, high = plots.plot_runs_curves(histories).axes[0].get_ylim()
    assert low <= 0.62 - 0.02 and 0.80 < high <= 0.82 and low > 0.3


def test_training_time_plot_tells_the_machines_apart():
    """A GPU's 3 minutes beside the CPU's 104 would read as a 35x cheaper recipe: one colour per
    machine, named in the legend, on a log scale."""
    table = pd.DataFrame({"variant": ["cpu_run", "gpu_run", "gpu_run_2", "unfinished"],
                          "status": ["finished", "finished", "finished", "interrupted after epoch 3/50"],
                          "val_accuracy": [0.88, 0.87, 0.875, 0.80], "wall_minutes": [104.0, 3.0, 4.0, 9.0],
                          "machine": ["2-core CPU", "H100 GPU", "H100 GPU", None]})
    ax = plots.plot_accuracy_vs_time(table).axes[0]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["2-core CPU", "H100 GPU"]
    assert ax.get_xscale() == "log"
    assert [len(c.get_offsets()) for c in ax.collections] == [1, 2]  # the unfinished run is not drawn
    tr = plots.plot_accuracy_vs_time(table, language="tr").axes[0]
    assert "2 çekirdekli CPU" in [text.get_text() for text in tr.get_legend().get_texts()]
    one = plots.plot_accuracy_vs_time(table[table["machine"] != "H100 GPU"]).axes[0]
    assert one.get_legend() is None and one.get_xscale() == "linear"


def test_a_run_far_below_the_rest_sits_on_the_axis_with_its_figure_in_its_label():
    """One run 7 points under a study spread over 1.5 would squeeze the rest into a line and their
    labels on top of each other: it is drawn on the bottom of the axis, its value in its label."""
    scores = [0.880, 0.875, 0.884, 0.871, 0.878, 0.866, 0.810]
    table = pd.DataFrame({"variant": [f"run_{i}" for i in range(6)] + ["outlier"], "status": "finished",
                          "val_accuracy": scores, "wall_minutes": [100.0 + 10 * i for i in range(7)],
                          "machine": "2-core CPU"})
    assert list(plots.far_below(np.array(scores))) == [False] * 6 + [True]
    assert not plots.far_below(np.array(scores[:6])).any() and not plots.far_below(np.array([0.1, 0.9])).any()
    for language, label in (("en", "outlier: 81.0% \u2193"), ("tr", "outlier: %81,0 \u2193")):
        ax = plots.plot_accuracy_vs_time(table, language=language).axes[0]
        low, high = ax.get_ylim()
        assert 0.81 < low < 0.866 and high > 0.884  # the axis spans the others, not the outlier
        assert [len(c.get_offsets()) for c in ax.collections] == [6, 1]
        assert ax.collections[1].get_offsets()[0][1] == pytest.approx(low)  # on the axis
        assert label in [text.get_text() for text in ax.texts]
