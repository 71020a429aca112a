"""Smaller reliability behaviours of `fer predict`, the printed paths, the comparison figure and the
notebooks' console, each with the input that used to go wrong:

a. a video's timeline into a folder that holds an earlier one: its CSV and figure under one name;
b. a truncated model.keras beside its ONNX export: one line saying it is damaged;
c. `--annotate` into the inputs' own folder (or one inside it): a second run leaves the first
   run's annotated copies out of its inputs;
d. a video cut short: one line saying how many of the frames its header states were read, and
   the results of those frames;
e. an annotation killed with kill -9: its temporary file is removed by the next run;
f. the paths `fer sweep` and `fer runs` print are the working directory's, to paste as they are;
g. the comparison figure of a subset evaluation states the faces evaluated;
h. a notebook run with papermill: no TensorFlow start-up lines in its outputs or on the console.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import nbformat
import numpy as np
import pytest
import yaml
from PIL import Image

from fer_helpers import files, paper, plots
from fer_helpers.cli import main
from fer_helpers.files import TMP_PREFIX
from test_video import FPS, clip, face  # noqa: F401  (fixtures: a 20-frame video of two faces, a photo)

PROJECT = Path(__file__).resolve().parent.parent
#: TensorFlow's C++ start-up lines: absl's, oneDNN's, and any other of its log prefix.
TF_LINES = re.compile(r"absl::InitializeLog|oneDNN custom operations|^[IWEF]\d{4} \d\d:\d\d:\d\d", re.M)


def _predict(capsys, *args):
    code = main(["predict", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def fer_command(*args) -> list[str]:
    return [sys.executable, "-m", "fer_helpers.cli", *map(str, args)]


def this_checkout() -> dict:
    """The environment of a child ``fer``: this checkout's package, whatever is installed."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT), os.environ.get("PYTHONPATH", "")])}


def write_video(path: Path, face, n: int, fourcc: str = "mp4v", size=(320, 240)) -> Path:
    """``n`` frames of the face drifting right, at 10 fps."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), FPS, size)
    assert writer.isOpened(), path
    for i in range(n):
        canvas = np.full((size[1], size[0], 3), 200, np.uint8)
        x = 10 + (i % 60)
        canvas[40:200, x:x + 160] = face
        writer.write(cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


# ---------------------------------------------------------------------------------------------
# a. One free name for both halves of a timeline

def test_timeline_csv_and_figure_take_one_free_name(clip, tmp_path, capsys):
    """A folder that already holds clip.csv (an earlier timeline, or the user's own file) used
    to get clip-2.csv beside clip.png: the two halves of one result under two names."""
    timeline = tmp_path / "tl"
    timeline.mkdir()
    (timeline / "clip.csv").write_text("the user's table\n")
    code, out, err = _predict(capsys, clip, "--json", "--timeline", timeline)
    assert code == 0, err
    written = json.loads(out)["images"][0]["timeline"]
    assert written == [str(timeline / "clip-2.csv"), str(timeline / "clip-2.png")]
    assert (timeline / "clip.csv").read_text() == "the user's table\n" and not (timeline / "clip.png").exists()
    Image.open(timeline / "clip-2.png").load()


def test_files_written_together_skip_a_number_either_of_them_holds(tmp_path):
    (tmp_path / "a.png").write_text("taken")
    (tmp_path / "a-2.csv").write_text("taken")
    names = files.write_new_together([(tmp_path / "a.csv", lambda p: Path(p).write_text("csv")),
                                      (tmp_path / "a.png", lambda p: Path(p).write_text("png"))])
    assert names == [tmp_path / "a-3.csv", tmp_path / "a-3.png"]
    assert (tmp_path / "a.png").read_text() == (tmp_path / "a-2.csv").read_text() == "taken"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-2.csv", "a-3.csv", "a-3.png", "a.png"]


# ---------------------------------------------------------------------------------------------
# b. A truncated model.keras beside its export

def test_truncated_keras_file_beside_its_export_is_one_line_saying_it_is_damaged(clip, tmp_path):
    """The first line used to be a wrong note ("model.onnx was exported from an earlier
    model.keras: running Keras"), then Keras' failure."""
    folder = tmp_path / "model"
    shutil.copytree(PROJECT / "models" / "default", folder)
    keras_file = folder / "model.keras"
    keras_file.write_bytes(keras_file.read_bytes()[: keras_file.stat().st_size // 2])
    for engine in ("auto", "onnx"):
        run = subprocess.run(fer_command("predict", clip.parent / "photo.jpg", "--model", folder, "--engine", engine),
                             cwd=tmp_path, env=this_checkout(), capture_output=True, text=True, timeout=300)
        lines = run.stderr.strip().splitlines()
        assert run.returncode == 2 and len(lines) == 1, run.stderr
        assert lines[0].startswith(f"fer: error: {keras_file}: damaged or incomplete .keras file"), lines[0]
        assert "earlier" not in lines[0] and "Traceback" not in run.stderr


# ---------------------------------------------------------------------------------------------
# c. Annotated copies are not inputs

@pytest.mark.parametrize("where", ["the same folder", "a folder inside it"])
def test_annotating_into_the_inputs_folder_twice_leaves_the_first_runs_copies_out(clip, tmp_path, capsys, where):
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(clip.parent / "photo.jpg", photos / "photo.jpg")
    shutil.copy(clip, photos / "clip.mp4")
    out = photos if where == "the same folder" else photos / "annotated"
    inputs = [str(photos / "clip.mp4"), str(photos / "photo.jpg")]

    first = _predict(capsys, photos, "--annotate", out, "--json")
    assert first[0] == 0, first[2]
    assert [r["path"] for r in json.loads(first[1])["images"]] == inputs
    second = _predict(capsys, photos, "--annotate", out, "--json")
    assert second[0] == 0, second[2]
    doc = json.loads(second[1])
    assert [r["path"] for r in doc["images"]] == inputs, "an annotated copy was read as an input"
    lines = second[2].strip().splitlines()
    assert len(lines) == 1 and "left out 2 annotated copies" in lines[0] and str(out) in lines[0], second[2]
    # beside clip.mp4 itself the first copy was clip-2.mp4; photo.jpg's copy is photo.png
    expected = ["clip-3.mp4", "photo-2.png"] if out == photos else ["clip-2.mp4", "photo-2.png"]
    assert [Path(r["annotated"]).name for r in doc["images"]] == expected
    for r in doc["images"]:  # the copies themselves are whole: a video that plays, a PNG that decodes
        if r["annotated"].endswith(".mp4"):
            cap = cv2.VideoCapture(r["annotated"])
            assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 20 and cap.read()[0]
            cap.release()
        else:
            Image.open(r["annotated"]).load()

    named = _predict(capsys, photos / "photo.png" if out == photos else out / "photo.png", "--json")
    assert named[0] == 0 and len(json.loads(named[1])["images"]) == 1  # a copy named on its own is analysed


# ---------------------------------------------------------------------------------------------
# d. A video cut short

def test_a_truncated_video_says_how_much_was_read_and_keeps_those_results(face, tmp_path, capsys):
    full = write_video(tmp_path / "full.avi", face, 30, fourcc="MJPG")
    cut = tmp_path / "cut.avi"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    timeline = tmp_path / "tl"
    code, out, err = _predict(capsys, cut, "--json", "--timeline", timeline)
    rec = json.loads(out)["images"][0]
    read = len(rec["frames"])
    assert 0 < read < 30
    assert code == 1, "a video cut short is not a clean run"
    lines = err.strip().splitlines()
    assert lines == [f"fer predict: {cut}: the video ended after {read} of the 30 frames its header states "
                     f"(truncated or damaged); the results cover those {read}"], err
    assert rec["warning"] == lines[0].removeprefix("fer predict: ")
    assert len((timeline / "cut.csv").read_text().splitlines()) == 1 + sum(len(f["faces"]) for f in rec["frames"])

    code, out, err = _predict(capsys, full)  # the whole file: no warning
    assert code == 0 and not err.strip() and "30 frames analysed" in out


# ---------------------------------------------------------------------------------------------
# e. kill -9 during a video annotation

def test_a_temporary_left_by_kill_9_is_removed_by_the_next_run(face, tmp_path):
    movie = write_video(tmp_path / "long.mp4", face, 400)
    out = tmp_path / "annotated"
    out.mkdir()
    alive = out / f"{TMP_PREFIX}1-someone-else.mp4"  # pid 1 is running: its file is being written
    alive.write_bytes(b"in progress")
    proc = subprocess.Popen(fer_command("predict", movie, "--annotate", out), cwd=tmp_path, env=this_checkout(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    left = out / f"{TMP_PREFIX}{proc.pid}-long.mp4"
    deadline = time.monotonic() + 120
    while not (left.is_file() and left.stat().st_size > 0):
        assert proc.poll() is None, f"ended before it wrote its temporary: {proc.stderr.read()[-2000:]}"
        assert time.monotonic() < deadline, "no temporary after 120 s"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert left.is_file() and not (out / "long.mp4").exists()

    again = subprocess.run(fer_command("predict", movie, "--annotate", out), cwd=tmp_path, env=this_checkout(),
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert not left.exists(), "the dead run's temporary is still there"
    assert alive.read_bytes() == b"in progress", "a running process's temporary was removed"
    assert sorted(p.name for p in out.iterdir()) == sorted([alive.name, "long.mp4"])


# ---------------------------------------------------------------------------------------------
# f. Printed paths are the working directory's

def test_printed_result_paths_work_pasted_where_the_user_is(tmp_path):
    """With the sweep folder beside the project and the user elsewhere, `fer sweep` used to
    print "results: fer runs ../sw", relative to the project: from the user's folder, wrong."""
    project = tmp_path / "project"  # a project of its own, so the sweep folder can lie beside it
    shutil.copytree(PROJECT / "fer_helpers", project / "fer_helpers", ignore=shutil.ignore_patterns("__pycache__"))
    (project / "notebooks").mkdir()
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump({"run_name": "t", "train": True, "seed": 42, "training": {"epochs": 3}}))
    sweep_file = tmp_path / "t.yaml"
    sweep_file.write_text(yaml.safe_dump({"base": str(base), "variants": {"only": {}}}))
    sw = tmp_path / "sw"
    from test_reliability_second_pass import record_run

    record_run(sw / "only", 0.7)
    here = tmp_path / "elsewhere" / "deep"
    here.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(project)}

    run = subprocess.run(fer_command("sweep", sweep_file, "--out", sw), cwd=here, env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    shown = re.search(r"results: fer runs (\S+)$", run.stdout.strip()).group(1)
    assert (here / shown).resolve() == sw.resolve(), f"{shown} from {here} is not {sw}"

    listed = subprocess.run(fer_command("runs", shown), cwd=here, env=env, capture_output=True, text=True, timeout=300)
    assert listed.returncode == 0, listed.stderr[-2000:]
    head, csv = listed.stdout.splitlines()[0], listed.stdout.strip().splitlines()[-1]
    assert (here / head).resolve() == sw.resolve() and (here / csv.strip("()")).resolve() == sw / "runs.csv"

    from fer_helpers.data import shell_path

    assert shell_path(Path.cwd() / "runs" / "k1") == "runs/k1" and shell_path("/") == "/"


# ---------------------------------------------------------------------------------------------
# g. The comparison figure of a subset evaluation

@pytest.mark.parametrize("language, says", [("en", "20 faces"), ("tr", "20 yüz")])
def test_the_comparison_figure_states_the_faces_a_subset_evaluated(language, says):
    """It used to say "3,137 faces" whatever was evaluated."""
    table = paper.references_table({"accuracy": 0.8, "n": 20, "tta": {"accuracy": 0.81}}, language)
    ours = list(table.iloc[:2, 2])
    assert all(p.endswith(says) for p in ours) and not any("3,137" in p or "3.137" in p for p in ours), ours
    fig = plots.plot_metrics_vs_references(table, language=language)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert sum(says in t for t in texts) == 2 and not any("3,137 faces" in t or "3.137 yüz" in t for t in texts)
    whole = paper.references_table({"accuracy": 0.8, "n": 3137}, language).iloc[0, 2]
    assert whole.endswith("3,137 faces" if language == "en" else "3.137 yüz")


# ---------------------------------------------------------------------------------------------
# h. No TensorFlow start-up lines on the papermill route

def test_a_notebook_run_with_papermill_shows_no_tensorflow_start_up_lines(tmp_path):
    """absl's "All log messages before absl::InitializeLog()" and oneDNN's note bypass Python and
    TF_CPP_MIN_LOG_LEVEL; a kernel echoes them into the cell's output (and so the HTML), and
    papermill onto the console. The package imports Keras with them muted, whoever imports it."""
    cells = ["import numpy as np\nfrom fer_helpers import gradcam, model, training",
             "net = model.build('baseline', seed=0)\nprint(net.predict(np.zeros((1, 48, 48, 1)), verbose=0).shape)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells],
                                  metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nbformat.write(nb, tmp_path / "smoke.ipynb")
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "FER_PROFILE")}
    env["PYTHONPATH"] = str(PROJECT)  # as `pip install -e .` gives; nothing else set by hand
    run = subprocess.run([sys.executable, "-m", "papermill", "--no-progress-bar", "smoke.ipynb", "out.ipynb"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert not TF_LINES.search(run.stdout + run.stderr), run.stderr[-3000:]
    executed = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    outputs = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "(1, 8)" in outputs and not TF_LINES.search(outputs), outputs

    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(executed)
    assert "(1, 8)" in html and not TF_LINES.search(html)
