"""The report as it prints: figures readable at their printed size, no English left in the Turkish
render's notes, cards and tables, and a title block and slide that say what the records say."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pandas as pd
import pytest

from fer_helpers import calibration, i18n, paper, plots, render, robustness, runs, training, turkish_results
from fer_helpers.data import PROJECT_ROOT
from fer_helpers.labels import FERPLUS_CLASSES

CLASSES = list(FERPLUS_CLASSES)
ENGLISH_WORDS = re.compile(r"\b(the|of|and|with|is|are|was|were|from|than|after|before|running|stopped|"
                           r"installed|shipped|parameters|training|images|faces|seed|no change|finished)\b")


def _histories(n_runs: int, epochs: int = 50) -> dict:
    rng = np.random.default_rng(0)
    curve = 0.88 - 0.5 * np.exp(-np.arange(1, epochs + 1) / 8)
    return {f"run_{k:02d}_with_a_long_name": pd.DataFrame({"epoch": range(1, epochs + 1),
                                                           "val_accuracy": curve + rng.normal(0, 0.005, epochs)})
            for k in range(n_runs)}


def _figures():
    """The report's figures at the sizes the study gives them (up to 27 runs in a sweep)."""
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (32, 48, 48), dtype=np.uint8)
    history = pd.DataFrame({"epoch": range(1, 51), "accuracy": np.linspace(0.4, 0.9, 50),
                            "val_accuracy": np.linspace(0.4, 0.88, 50), "val_macro_f1": np.linspace(0.2, 0.78, 50),
                            "loss": np.linspace(1.8, 0.5, 50), "val_loss": np.linspace(1.6, 0.4, 50),
                            "learning_rate": np.geomspace(2e-3, 1e-5, 50)})
    histories = _histories(27)
    names = list(histories)
    recall = pd.DataFrame(rng.random((27, 8)), index=names, columns=CLASSES)
    noise = pd.DataFrame({"variant": names, "difference": rng.normal(0, 0.005, 27),
                          "verdict": ["seed"] * 3 + ["inside"] * 20 + ["outside"] * 4})
    noise.attrs.update(seed_std=0.002, k=2.0, seed_mean=0.877)
    table = pd.DataFrame({"variant": names, "status": "finished", "val_accuracy": 0.87 + rng.random(27) / 50,
                          "wall_minutes": np.r_[rng.uniform(2, 6, 20), rng.uniform(60, 130, 7)],
                          "machine": ["H100 GPU"] * 20 + ["2-core CPU"] * 7})
    samples = [{"true": c, "pred": CLASSES[(i + j) % 8], "confidence": 0.5, "overlay": np.dstack([x[0]] * 3)}
               for i, c in enumerate(CLASSES) for j in range(4)]
    means = {(c, ok): {"face": x[0].astype(float), "heatmap": rng.random((48, 48)), "n": 1024}
             for c in CLASSES for ok in (True, False)}
    tall = plots.PRINT_TALL_HEIGHT_IN
    yield "history", plots.plot_history(history), plots.PRINT_HEIGHT_IN
    yield "confusion", plots.plot_confusion(rng.random((8, 8)), CLASSES, normalize=True), plots.PRINT_HEIGHT_IN
    yield "curves", plots.plot_runs_curves(histories, reference=names[0], seeds=names[1:3]), plots.PRINT_HEIGHT_IN
    yield "recall (13 runs)", plots.plot_recall_heatmap(recall.iloc[:13]), plots.PRINT_HEIGHT_IN
    yield "recall (27 runs, tall-figure cell)", plots.plot_recall_heatmap(recall), tall
    yield "worth (27 runs, tall-figure cell)", plots.plot_ablations(noise), tall
    yield "time", plots.plot_accuracy_vs_time(table), plots.PRINT_HEIGHT_IN
    yield "Grad-CAM examples", plots.plot_gradcam_grid(samples, CLASSES), plots.PRINT_HEIGHT_IN
    yield "Grad-CAM means", plots.plot_mean_gradcam(means, CLASSES), plots.PRINT_HEIGHT_IN
    yield "references", plots.plot_metrics_vs_references(paper.references_table({"accuracy": 0.8})), plots.PRINT_HEIGHT_IN


def test_every_figure_is_readable_at_the_size_it_prints():
    """No text under MIN_PRINTED_FONT_PT once a figure is shrunk to its place on the A4 page (at
    most 88% of the text width and 95 mm high; 190 mm in a cell tagged tall-figure)."""
    small = []
    for name, fig, height in _figures():
        size, text = plots.smallest_printed_font(fig, height)
        if size < plots.MIN_PRINTED_FONT_PT:
            small.append(f"{name}: {text!r} prints at {size:.1f} pt")
    assert not small, small


def test_the_tall_figure_cells_are_the_ones_the_print_css_lets_grow():
    css = (render.TEMPLATE_DIR / "fer_report" / "index.html.j2").read_text()
    assert re.search(r"\.celltag_tall-figure \.jp-OutputArea-output img \{ max-height: 190mm; \}", css)
    source = (PROJECT_ROOT / "notebooks" / "05_experiments.py").read_text()
    assert source.count('"tall-figure"') == 2  # the worth figures and the recall heat maps


def test_every_panel_of_the_learning_curves_names_its_y_axis():
    history = pd.DataFrame({"epoch": [1, 2, 3], "accuracy": [0.5, 0.6, 0.7], "val_accuracy": [0.5, 0.6, 0.65],
                            "loss": [1.0, 0.9, 0.8], "val_loss": [1.1, 1.0, 0.9], "learning_rate": [1e-3, 5e-4, 1e-4]})
    for language, word in (("en", "learning rate"), ("tr", "öğrenme oranı")):
        axes = plots.plot_history(history, language=language).axes
        assert all(ax.get_ylabel() for ax in axes) and axes[2].get_ylabel() == word
        assert not axes[2].texts, "the learning rate is logged: no 'not logged' note"


@pytest.mark.parametrize("sweep", ["ablations", "candidates"])
def test_labels_of_the_studys_crowded_scatters_do_not_overlap(sweep):
    """Twenty runs within two points and a few minutes of each other: each label finds a free place."""
    from matplotlib.text import Text

    table = runs.collect(PROJECT_ROOT / "runs" / sweep)
    fig = plots.plot_accuracy_vs_time(table)
    fig.savefig(io.BytesIO(), format="png")
    renderer = fig.canvas.get_renderer()
    boxes = [Text.get_window_extent(a, renderer) for a in fig.axes[0].texts]  # the text, not its leader line
    assert len(boxes) == (table["status"] == "finished").sum()
    overlaps = [(fig.axes[0].texts[i].get_text(), fig.axes[0].texts[j].get_text())
                for i in range(len(boxes)) for j in range(i)
                if min(boxes[i].x1, boxes[j].x1) - max(boxes[i].x0, boxes[j].x0) > 1
                and min(boxes[i].y1, boxes[j].y1) - max(boxes[i].y0, boxes[j].y0) > 1]
    assert not overlaps


def test_learning_curves_draw_the_seed_band_and_say_where_the_axis_starts():
    histories = _histories(5)
    names = list(histories)
    ax = plots.plot_runs_curves(histories, reference=names[0], seeds=names[1:3], language="tr").axes[0]
    band = [c for c in ax.collections if c.get_label().startswith("3 tohum")]
    assert len(band) == 1, [c.get_label() for c in ax.collections]
    low = ax.get_ylim()[0]
    note = [t.get_text() for t in ax.texts]
    assert note == [f"eksen %{round(100 * low)} değerinden başlar: altındaki ilk epoklar gösterilmez"]


def test_turkish_benchmark_notes_units_and_robustness_numbers():
    for item in paper.benchmark_results(language="tr"):
        assert not ENGLISH_WORDS.search(item["note"]), (item["name"], item["note"])
        for block in turkish_results.benchmark_blocks(item["text"], "tr"):
            text = block.to_string() if isinstance(block, pd.DataFrame) else block
            assert not re.search(r"\d\.\d+ (ms|s)\b", text), (item["name"], text)
    english = paper.benchmark_results(language="en")
    assert any(item["note"] for item in english) and all(item["command"].startswith("python") for item in english)
    assert turkish_results._number("9.8 ms") == "9,8 ms" and turkish_results._number("22 frames/s") == "22 kare/s"
    with pytest.raises(KeyError, match="benchmark note"):
        i18n.benchmark_note("a note nobody translated", "tr")
    table = pd.DataFrame({"perturbation": ["clean", "blur", "blur"], "strength": [0.0, 0.5, 1.5],
                          "accuracy": [0.8, 0.75, 0.7], "drop": [0.0, -0.05, -0.1], "n": 3137})
    row = robustness.summary_table(table, language="tr").loc["blur"]
    assert (row["strengths"], row["accuracy (%)"], row["change (points)"]) == ("0,5 / 1,5", "75,0 / 70,0", "-5,0 / -10,0")


def test_the_model_card_reads_in_turkish_from_the_same_records():
    folder = PROJECT_ROOT / "models" / "default"
    run = json.loads((folder / "run.json").read_text())
    import yaml

    trained = {**yaml.safe_load((folder / "params.yaml").read_text())["training"], "seed": run["seed"]}
    metrics = json.loads((folder / "metrics.json").read_text())
    english = training.model_card("default", trained, metrics, run)
    assert (folder / "MODEL_CARD.md").read_text().startswith(english)  # the file is this card (and its calibration)
    turkish = training.model_card("default", trained, metrics, run, "tr") + \
        calibration.card_line(calibration.read_calibration(folder), "tr")
    prose = re.sub(r"`[^`]*`|\b[a-z_]+=?\w*_\w+\b|mixed_bfloat16|float32|FER2013\w*|FER\+", "", turkish)
    assert not re.search(r"\b(the|of|and|with|images|training|parameters|Intended|Reproduce|Results)\b", prose), prose
    test_accuracy = f"{metrics['test']['accuracy']:.4f}".replace(".", ",")  # the records' figure, Turkish decimals
    assert "3.527.480 parametre" in turkish and test_accuracy in turkish and f"tohum {run['seed']}" in turkish


def test_the_title_block_gives_the_models_own_seed_and_the_slide_the_people(tmp_path):
    model = tmp_path / "models" / "default"
    model.mkdir(parents=True)
    (model / "run.json").write_text(json.dumps({"seed": 1}))
    params = {"run_name": "full", "model_dir": str(model), "seed": 42, "train": False, "eval_subset": None,
              "author": "Ada Yılmaz", "course": "BİL 401", "instructor": "", "date": ""}
    for language, seed in (("en", "seed 1"), ("tr", "tohum 1")):
        block = render.title_cell_source(params, language)
        assert seed in block and not re.search(r"(seed|tohum) 42", block) and "git commit" not in block
        slide = render.title_slide_source(params, language)
        assert "Ada Yılmaz" in slide and "BİL 401" in slide and not re.search(r"\b[0-9a-f]{7,}\b", slide)
    (model / "run.json").unlink()
    (model / "params.yaml").write_text("training:\n  seed: 3\n")
    assert render.model_seed(params) == 3
    cells = render._title_cells(params)
    slides = [c for c in cells if c.metadata.get("slideshow", {}).get("slide_type") == "slide"]
    assert len(slides) == 2 and all("slides-only" in c.metadata["tags"] for c in slides)
    assert all("report-only" in c.metadata["tags"] for c in cells if c not in slides)


def test_the_slide_decks_title_is_in_their_language():
    assert render._resources({}, "tr")["fer_text"]["slides"] == "slaytlar"
    assert "({{ resources.fer_text.slides }})" in (render.TEMPLATE_DIR / "fer_slides" / "index.html.j2").read_text()


def test_a_students_teachers_are_named_by_the_folder_that_holds_them_now(tmp_path):
    (tmp_path / "models" / "teacher").mkdir(parents=True)
    (tmp_path / "models" / "teacher" / "model.keras").write_bytes(b"the first generation")
    from fer_helpers.files import sha256

    digest = sha256(tmp_path / "models" / "teacher" / "model.keras")
    info = {"teachers": [{"folder": "models/default", "sha256": digest},
                         {"folder": "runs/candidates/seed_1", "sha256": "0" * 64},
                         {"folder": "models/gone", "sha256": "abcdef1" + "0" * 57}]}
    changes = {"seed": 1, "training.teachers": ["models/default", "runs/candidates/seed_1", "models/gone"]}
    found = runs._teachers_as_found(changes, info, tmp_path)
    assert found["training.teachers"] == ["models/teacher", "runs/candidates/seed_1", "models/gone@abcdef1"]
    assert runs._describe(found) == "seed=1, teachers=[models/teacher, seed_1, models/gone@abcdef1]"
    assert runs._teachers_as_found({"seed": 2}, info, tmp_path) == {"seed": 2}
    table = runs.collect(PROJECT_ROOT / "runs" / "candidates").set_index("variant")
    assert table.loc["distilled_default", "changes"] == "seed=1, teachers=[models/teacher]"
    # models/default in the table is the model there now: the robust fine-tunes started from it and
    # were taught by it; the runs taught by what models/default held before name its folder now
    shipped = sha256(PROJECT_ROOT / "models" / "default" / "model.keras")
    for name, row in table.iterrows():
        if "models/default" in row["changes"]:
            info = json.loads((PROJECT_ROOT / "runs" / "candidates" / name / "run.json").read_text())
            assert info["init_from"]["sha256"] == shipped
            assert all(t["sha256"] == shipped for t in info["teachers"] if t["folder"] == "models/default")
    # a fine-tune's starting model is found by its hash too
    start = {"init_from": {"folder": "models/default", "sha256": digest}}
    assert runs._teachers_as_found({"training.init_from": "models/default"}, start, tmp_path) == \
        {"training.init_from": "models/teacher"}
