"""notebooks/07_your_photos and its helpers: a user's photos and videos, boxed, explained and tabled.

The helpers (``your_photos``, ``photo_plots``, ``gradcam.face_heatmaps``) on scikit-image's
bundled photos and a video made from one, with the shipped model; the pipeline's handling of the
notebook (run by ``fer report`` only when ``photos`` is set, never merged into the report); and
the notebook itself, executed headless from another folder on a generated photo folder and video,
and stopped by a bad path with one line.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

skimage_data = pytest.importorskip("skimage.data")

from fer_helpers import gradcam, params, photo_plots, pipeline, video, your_photos  # noqa: E402
from fer_helpers.errors import FerError  # noqa: E402
from fer_helpers.faces import predict_faces  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
MODEL = PROJECT / "models" / "default"
NOTEBOOK = PROJECT / "notebooks" / "07_your_photos.py"


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> list[Path]:
    return your_photos.write_samples(tmp_path_factory.mktemp("yp") / "samples")


@pytest.fixture(scope="module")
def models():
    """(ONNX model, Keras model, classes, note) of the shipped model folder."""
    return your_photos.load_models(MODEL)


@pytest.fixture(scope="module")
def analysed(samples, models):
    engine_model, keras_model, classes, _ = models
    records, skipped = your_photos.analyse_inputs(samples, engine_model, classes)
    your_photos.add_gradcam(records, keras_model)
    return records, skipped


def _named(records, name):
    return next(r for r in records if Path(r["path"]).name == name)


# ---------------------------------------------------------------------------------------------
# Inputs

def test_samples_are_photos_with_and_without_faces_and_a_short_video(samples):
    assert [p.name for p in samples] == ["astronaut.png", "cameraman.png", "cat.png", "two_faces.png", "two_faces.mp4"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in samples)
    got = list(video.frames(samples[-1]))
    assert len(got) == your_photos.SAMPLE_FRAMES
    assert got[0][2].shape == (your_photos.SAMPLE_SIZE[1], your_photos.SAMPLE_SIZE[0], 3)
    assert not list(samples[0].parent.glob(".tmp-*"))  # written atomically, no temporary left


def test_sample_images_without_scikit_image_are_generated(monkeypatch):
    monkeypatch.setitem(sys.modules, "skimage", None)  # import skimage raises ImportError
    images = your_photos.sample_images()
    assert list(images) == ["gradient"] and images["gradient"].shape == (256, 256, 3)


def test_resolve_inputs_takes_a_folder_files_a_list_and_the_samples(samples, tmp_path):
    folder = samples[0].parent
    assert your_photos.resolve_inputs(str(folder)) == samples[:2] + [samples[2], samples[4], samples[3]]  # sorted
    assert your_photos.resolve_inputs([str(samples[0]), samples[-1]]) == [samples[0], samples[-1]]
    made = your_photos.resolve_inputs("samples", tmp_path / "s")
    assert [p.name for p in made] == [p.name for p in samples]
    assert your_photos.resolve_inputs(None, tmp_path / "s") == made  # None is the samples too


def test_uploads_replace_the_samples_and_join_named_photos(samples, tmp_path):
    up = [samples[0]]
    assert your_photos.resolve_inputs("samples", tmp_path / "s", up) == up
    assert not (tmp_path / "s").exists()  # the samples were not written
    assert your_photos.resolve_inputs(str(samples[1]), None, up) == [samples[1], samples[0]]


@pytest.mark.parametrize("photos, message", [
    ("/nowhere/at/all", "photos: /nowhere/at/all: no such file or directory"),
    (["/nowhere/a", "/nowhere/b"], "photos: /nowhere/a: no such file or directory (and 1 more)"),
    ([], "no photos given"),
    ([" "], "no photos given"),
    (3, "photos must be a path or a list of paths, got 3"),
])
def test_bad_inputs_are_one_line(photos, message):
    with pytest.raises(your_photos.PhotoError) as err:
        your_photos.resolve_inputs(photos)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert err.value._render_traceback_() == [f"PhotoError: {err.value}"]  # what a notebook shows
    assert isinstance(err.value, FerError)


def test_an_empty_folder_is_one_line(tmp_path):
    with pytest.raises(your_photos.PhotoError, match="no photos or videos in folder"):
        your_photos.resolve_inputs(str(tmp_path))


# ---------------------------------------------------------------------------------------------
# Models and analysis

def test_load_models_gives_onnx_for_probabilities_and_keras_for_gradcam(models):
    engine_model, keras_model, classes, note = models
    assert type(engine_model).__name__ == "OnnxModel" and hasattr(keras_model, "get_layer")
    assert len(classes) == 8 and note is None
    with pytest.raises(your_photos.PhotoError, match="model folder not found"):
        your_photos.load_models("/nowhere/model")


def test_a_model_folder_without_onnx_runs_keras_once_with_a_note(tmp_path, samples):
    """As a smoke run's freshly trained model: fer predict's auto engine falls back to Keras."""
    import shutil

    for name in ("model.keras", "labels.json"):
        shutil.copy2(MODEL / name, tmp_path / name)
    engine_model, keras_model, classes, note = your_photos.load_models(tmp_path)
    assert engine_model is keras_model and "has no model.onnx" in note
    [face] = your_photos.analyse_photo(samples[0], engine_model, classes)["faces"]
    assert face["label"] == "happiness"


def test_analyse_photo_is_fer_predicts_answer_plus_the_crop(samples, models):
    engine_model, _, classes, _ = models
    rec = your_photos.analyse_photo(samples[0], engine_model, classes)
    assert rec["kind"] == "photo" and rec["size"] == [512, 512]
    [face] = rec["faces"]
    assert face["crop"].shape == (48, 48) and face["crop"].dtype == np.uint8
    from fer_helpers.faces import load_image

    [expected] = predict_faces(load_image(samples[0]), engine_model, classes)  # fer predict's path
    assert {k: v for k, v in face.items() if k != "crop"} == expected
    with pytest.raises(FerError, match="not an image"):
        bad = samples[0].parent.parent / "notes.png"
        bad.write_text("not a photo")
        your_photos.analyse_photo(bad, engine_model, classes)


def test_analyse_inputs_photos_and_a_video(analysed):
    records, skipped = analysed
    assert skipped == []
    assert [len(_named(records, n)["faces"]) for n in ("astronaut.png", "cameraman.png", "cat.png", "two_faces.png")] \
        == [1, 1, 0, 2]
    clip = _named(records, "two_faces.mp4")
    assert clip["kind"] == "video" and len(clip["frames"]) == your_photos.SAMPLE_FRAMES
    assert sorted(video.track_summary(clip)) == [1, 2]  # both faces tracked through the clip


def test_an_unreadable_file_is_skipped_and_only_unreadable_files_stop(samples, models, tmp_path):
    engine_model, _, classes, _ = models
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 not really")
    records, skipped = your_photos.analyse_inputs([samples[0], bad], engine_model, classes)
    assert len(records) == 1 and len(skipped) == 1 and "broken.jpg" in skipped[0]
    with pytest.raises(your_photos.PhotoError, match="broken.jpg"):
        your_photos.analyse_inputs([bad], engine_model, classes)
    with pytest.raises(your_photos.PhotoError, match="unknown face detector 'yolo'"):
        your_photos.analyse_inputs([samples[0]], engine_model, classes, detector="yolo")
    with pytest.raises(your_photos.PhotoError, match="--every must be"):
        your_photos.analyse_inputs([samples[0]], engine_model, classes, every=0)


def test_add_gradcam_explains_the_label_of_each_photo_face(analysed):
    records, _ = analysed
    faces = [f for r in records if r["kind"] == "photo" for f in r["faces"]]
    assert len(faces) == 4
    for f in faces:
        assert f["heatmap"].shape == (48, 48) and 0 <= f["heatmap"].min() and f["heatmap"].max() == pytest.approx(1)
        assert f["overlay"].shape == (48, 48, 3) and f["overlay"].dtype == np.uint8
    clip = _named(records, "two_faces.mp4")
    assert all("heatmap" not in f for fr in clip["frames"] for f in fr["faces"])  # videos: timelines only
    assert your_photos.add_gradcam([], None) == 0


def test_face_heatmaps_match_one_face_maps_for_the_class_asked(analysed, models):
    _, keras_model, classes, _ = models
    crops = np.stack([f["crop"] for r in analysed[0] if r["kind"] == "photo" for f in r["faces"]])
    maps = gradcam.face_heatmaps(keras_model, crops, [3, 4, 5, 6])
    assert maps.shape == (4, 48, 48)
    one = gradcam.make_gradcam_heatmap(crops[1], keras_model, pred_index=4)
    np.testing.assert_allclose(maps[1], one, atol=1e-4)
    assert gradcam.face_heatmaps(keras_model, np.zeros((0, 48, 48))).shape == (0, 48, 48)


# ---------------------------------------------------------------------------------------------
# The table

def test_faces_table_has_a_row_per_face_and_frame(analysed, models, tmp_path):
    records, _ = analysed
    classes = models[2]
    table = your_photos.faces_table(records, classes)
    assert list(table.columns) == your_photos.TABLE_COLUMNS + classes
    clip = _named(records, "two_faces.mp4")
    assert len(table) == 4 + sum(len(fr["faces"]) for fr in clip["frames"])
    photos = table[table["kind"] == "photo"]
    assert list(photos["file"]) == ["astronaut.png", "cameraman.png", "two_faces.png", "two_faces.png"]
    assert photos["frame"].isna().all() and photos["track"].isna().all()
    assert set(table.loc[table["kind"] == "video", "track"]) == {1, 2}
    np.testing.assert_allclose(table[classes].sum(axis=1), 1, atol=1e-3)
    assert (table["label"] == table[classes].idxmax(axis=1)).all()

    path = your_photos.write_table(table, tmp_path / "new" / "faces.csv")
    back = pd.read_csv(path)
    assert list(back.columns) == list(table.columns) and len(back) == len(table)
    empty = your_photos.faces_table([], classes)
    assert empty.empty and list(empty.columns) == your_photos.TABLE_COLUMNS + classes
    (tmp_path / "file").write_text("x")
    with pytest.raises(your_photos.PhotoError):
        your_photos.write_table(table, tmp_path / "file" / "faces.csv")


def test_summary_counts_for_the_prose(analysed):
    records, _ = analysed
    assert your_photos.summary(records, ["x: bad"]) == {"photos": 4, "videos": 1, "faces": 4, "tracks": 2,
                                                      "no_face": ["cat.png"], "skipped": ["x: bad"]}


# ---------------------------------------------------------------------------------------------
# Uploads and figures

def test_uploads_are_saved_into_the_folder_never_outside_it(tmp_path):
    uploads = your_photos.Uploads(tmp_path / "uploads")
    assert uploads.widget is not None and uploads.paths == []
    when = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    item = {"name": "../../evil.png", "type": "image/png", "size": 3, "content": memoryview(b"abc"),
            "last_modified": when}
    uploads.widget.value = (item,)  # as the browser sets it
    uploads.widget.value = ({**item, "content": memoryview(b"defg"), "size": 4},)  # the same name again
    assert [p.name for p in uploads.paths] == ["evil.png", "evil-2.png"]  # a second upload replaces nothing
    assert [p.parent for p in uploads.paths] == [tmp_path / "uploads"] * 2
    assert [p.read_bytes() for p in uploads.paths] == [b"abc", b"defg"]


def test_without_ipywidgets_the_upload_cell_shows_a_hint(tmp_path, monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    uploads = your_photos.Uploads(tmp_path)
    assert uploads.widget is None and uploads.paths == []
    uploads._ipython_display_()
    assert "ipywidgets is not installed" in shown[0].data


@pytest.mark.parametrize("language, title", [("en", "two_faces.png: 2 faces"), ("tr", "two_faces.png: 2 yüz")])
def test_plot_photo_faces_boxes_the_photo_and_gives_each_face_a_row(analysed, models, language, title):
    records, _ = analysed
    classes = models[2]
    fig = photo_plots.plot_photo_faces(_named(records, "two_faces.png"), classes, language=language)
    assert len(fig.axes) == 1 + 3 * 2 and fig.axes[0].get_title() == title
    assert len(fig.axes[0].patches) == 2  # the boxes
    fig.savefig(os.devnull, format="png")
    lonely = photo_plots.plot_photo_faces(_named(records, "cat.png"), classes, language=language)
    assert len(lonely.axes) == 1 and lonely.axes[0].get_title().startswith("cat.png: ")


# ---------------------------------------------------------------------------------------------
# In fer report: run when photos are named, never merged into the report

def test_report_runs_07_only_when_photos_are_named_and_never_merges_it():
    names = lambda p: [s.stem for s in pipeline.report_sources(p)]  # noqa: E731
    assert "07_your_photos" not in names({"photos": None})
    assert names({"photos": "samples"})[-1] == "07_your_photos"
    assert params.load_profile("smoke")["photos"] == "samples" and params.load_profile("full")["photos"] is None
    executed = [Path(f"run/{s}.ipynb") for s in ("01_data_exploration", "06_conclusion", "07_your_photos")]
    assert [p.stem for p in pipeline.report_documents(executed)] == ["01_data_exploration", "06_conclusion"]


def test_render_only_leaves_out_the_photos_notebook_of_an_earlier_run(tmp_path):
    from test_report import _executed_run

    run = _executed_run(tmp_path / "run")
    (run / "07_your_photos.ipynb").write_text("an earlier smoke run's: not rendered, not 'unfinished'")
    _, _, executed = pipeline.executed_run({"run_name": "t", "train": False, "seed": 5, "model_dir": "m"},
                                           output_dir=run)
    assert [p.name for p in executed] == ["01_chapter.ipynb", "02_chapter.ipynb"]


def test_each_notebook_is_given_only_the_parameters_it_declares():
    p = params.notebook_parameters(params.load_profile("smoke"))
    study = pipeline.declared_parameters(pipeline.to_notebook(PROJECT / "notebooks" / "03_evaluation.py"), p)
    assert "photos" not in study and study["eval_subset"] == 300
    own = pipeline.declared_parameters(pipeline.to_notebook(NOTEBOOK), p)
    assert own == {k: p[k] for k in ("run_name", "model_dir", "output_dir", "photos")}
    assert pipeline.declared_parameters(nbformat.v4.new_notebook(), {"a": 1}) == {"a": 1}  # no parameters cell


def test_photos_parameter_is_checked_and_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    p = params.notebook_parameters(params.load_profile("smoke", {"photos": "mine"}))
    assert p["photos"] == [str(tmp_path / "mine")]
    assert params.notebook_parameters(params.load_profile("smoke"))["photos"] == "samples"
    with pytest.raises(FerError, match="photos not found: elsewhere"):
        params.notebook_parameters(params.load_profile("smoke", {"photos": ["mine", "elsewhere"]}))
    with pytest.raises(FerError, match="photos must be a path or a list of paths"):
        params.load_profile("smoke", {"photos": [1]})


# ---------------------------------------------------------------------------------------------
# The notebook, headless

@pytest.fixture(scope="module")
def executed(tmp_path_factory, samples):
    """07 run by the pipeline (as fer report runs it) from another folder, on a folder holding two
    photos and on a video: (executed notebook, results folder)."""
    base = tmp_path_factory.mktemp("run07")
    folder = base / "my photos"
    folder.mkdir()
    for p in (samples[0], samples[2]):  # the astronaut and the cat (no face)
        (folder / p.name).write_bytes(p.read_bytes())
    clip = base / "clip.mp4"
    clip.write_bytes(samples[-1].read_bytes())
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    out = base / "out"
    pipeline.execute_notebook(NOTEBOOK, out / "07_your_photos.ipynb",
                              {"photos": [str(folder), str(clip)], "model_dir": str(MODEL),
                               "output_dir": str(out), "run_name": "t"}, cwd=elsewhere, progress=False)
    return nbformat.read(out / "07_your_photos.ipynb", as_version=4), out / "your_photos"


def test_notebook_writes_the_table_of_every_face_and_draws_each_photo(executed):
    nb, results = executed
    table = pd.read_csv(results / "faces.csv")
    classes = ["anger", "contempt", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"]
    assert list(table.columns) == your_photos.TABLE_COLUMNS + classes
    assert list(table.loc[table["kind"] == "photo", "file"]) == ["my photos/astronaut.png"]
    assert len(table[table["kind"] == "video"]) == 2 * your_photos.SAMPLE_FRAMES
    figures = sorted(p.relative_to(results / "figures").as_posix() for p in (results / "figures").rglob("*.png"))
    assert figures == ["01_astronaut.png", "02_cat.png", "clip_timeline.png", "tr/01_astronaut.png", "tr/02_cat.png"]
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 5  # 2 photos x 2 languages, 1 timeline
    assert not [o for o in outputs if o.output_type == "error"]
    links = [o["data"]["text/html"] for o in outputs if "faces.csv" in o.get("data", {}).get("text/html", "")]
    assert links and "href='../out/your_photos/faces.csv'" in links[0]  # relative: a download in JupyterLab
    prose = [o["data"]["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {})]
    assert any("Photos: 2, faces in them: 1. Videos: 1, faces tracked in them: 2." in t for t in prose)
    assert any("No face found in: my photos/cat.png." in t for t in prose)


def test_notebook_stops_on_a_bad_path_with_one_line(tmp_path):
    """papermill from another folder on the committed .ipynb, as docs/notebooks.md shows it."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    out = tmp_path / "out.ipynb"
    with pipeline._kernel_environment(), pytest.raises(PapermillExecutionError) as err:
        pm.execute_notebook(str(NOTEBOOK.with_suffix(".ipynb")), str(out), cwd=str(tmp_path), progress_bar=False,
                            parameters={"photos": str(tmp_path / "missing"), "output_dir": str(tmp_path)},
                            kernel_name="python3")
    assert err.value.ename == "PhotoError"
    error = next(o for c in nbformat.read(out, as_version=4).cells for o in c.get("outputs", [])
                 if o.output_type == "error")
    assert error.traceback == [f"PhotoError: photos: {tmp_path / 'missing'}: no such file or directory"]
