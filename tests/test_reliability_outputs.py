"""Issue 13: outputs a user has are never replaced by a lesser run or left half written, and bad
paths fail in one line before any work starts.

- a subset evaluation writes under its own names, never over the full split's results;
- evaluation files, figures, the report's HTML/PDF, timings.json, params.yaml and model folders
  are written atomically (a write that dies midway leaves the previous file as it was);
- ``fer report`` checks data_dir, model_dir and --out before the first notebook runs;
- ``fer evaluate --out`` at a file or under /proc is one line, exit 2;
- a truncated model.keras is reported as damaged, not as "File not found".
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml
from matplotlib.figure import Figure

import synthetic as S
from fer_helpers import evaluation as E
from fer_helpers import pipeline, render
from fer_helpers import plots
from fer_helpers.errors import FerError
from fer_helpers.files import TMP_PREFIX
from fer_helpers.model import MODEL_FILE, build, load_model_dir, save_model_dir

PROJECT = Path(__file__).resolve().parent.parent
FIGURES = ("confusion", "confusion_normalized", "predictions", "confused_pairs", "reliability")


#: TensorFlow 2.21's C++ start-up lines (absl logging), printed whatever TF_CPP_MIN_LOG_LEVEL says.
TF_LOG_LINE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)|[IWEF]\d{4} \d\d:\d\d:\d\d)")


def fer(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """``fer ...`` in a fresh process (``python -m fer_helpers.cli``; inherits FER_CACHE_DIR).

    ``stderr`` keeps what fer itself printed: TensorFlow's own start-up log lines are dropped.
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PROJECT), os.environ.get("PYTHONPATH", "")]))
    run = subprocess.run([sys.executable, "-m", "fer_helpers.cli", *map(str, args)], cwd=PROJECT, env=env,
                         capture_output=True, text=True, timeout=timeout)
    run.stderr = "".join(line for line in run.stderr.splitlines(keepends=True) if not TF_LOG_LINE.match(line))
    return run


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def every_file(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def no_temporaries(folder: Path) -> bool:
    return not list(folder.rglob(f"{TMP_PREFIX}*"))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return save_model_dir(build("baseline", seed=0), tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """Synthetic FER+ layout: 3 test images with a majority label."""
    return S.make_ferplus(tmp_path_factory.mktemp("data") / "ferplus")


@pytest.fixture
def half_writes(monkeypatch):
    """Every ``Path.write_text`` writes half its text and then fails, as a full disk or a kill would."""
    original = Path.write_text

    def write_half(self, data, *args, **kwargs):
        original(self, data[: len(data) // 2], *args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", write_half)


@pytest.fixture
def fake_assets(tmp_path, monkeypatch) -> Path:
    """Stand-in report assets (reveal.js, MathJax) so the report machinery runs without node_modules."""
    root = tmp_path / "assets"
    for rel in render._ASSET_FILES.values():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("/* stand-in */\n")
    monkeypatch.setenv("FER_REPORT_ASSETS", str(root))
    return root


# ------------------------------------------------------------------------------------------
# 1. A subset evaluation has its own names

def test_result_stem_names_subsets_apart():
    assert E.result_stem("test") == "test"
    assert E.result_stem("test", None) == "test"
    assert E.result_stem("test", 50) == "test_subset50"
    assert E.result_stem("valid", 300) == "valid_subset300"


def test_fer_evaluate_subset_leaves_the_full_results_in_the_model_folder(tmp_path, data_dir):
    """The issue: `fer evaluate MODEL --subset 50` replaced evaluation_test.json (3,137 images) by 50 images."""
    folder = save_model_dir(build("baseline", seed=0), tmp_path / "model")
    full = E.evaluate_model_dir(folder, data=data_dir)  # into the model folder, as `fer evaluate MODEL`
    assert full["n"] == 3 and Path(full["files"]["json"]) == folder / "evaluation_test.json"
    before = snapshot(folder)

    run = fer("evaluate", folder, "--data", data_dir, "--subset", 2)
    assert run.returncode == 0, run.stderr
    assert "evaluation_test_subset2.json" in run.stdout

    after = snapshot(folder)
    assert {k: after[k] for k in before} == before  # every full-split file byte for byte
    assert json.loads(after["evaluation_test.json"])["n"] == 3
    new = set(after) - set(before)
    assert new == {"evaluation_test_subset2.json", "classification_report_test_subset2.txt",
                   *(f"{name}_test_subset2.png" for name in FIGURES)}
    sub = json.loads(after["evaluation_test_subset2.json"])
    assert sub["n"] == 2 and sub["subset"] == 2 and sub["split"] == "test"
    assert set(sub["figures"]) == set(FIGURES)
    assert all(Path(p).name.endswith("_test_subset2.png") for p in sub["figures"].values())
    assert no_temporaries(folder)


# ------------------------------------------------------------------------------------------
# 2. Atomic writes

def test_evaluation_files_survive_a_write_that_dies_midway(tmp_path, model_dir, data_dir, monkeypatch, request):
    out = tmp_path / "eval"
    E.evaluate_model_dir(model_dir, data=data_dir, out=out, figures=False)
    before = snapshot(out)
    assert set(before) == {"evaluation_test.json", "classification_report_test.txt"}
    request.getfixturevalue("half_writes")
    with pytest.raises(OSError, match="No space left"):
        E.evaluate_model_dir(model_dir, data=data_dir, out=out, figures=False)
    assert snapshot(out) == before and no_temporaries(out)


def test_save_figure_that_dies_midway_leaves_the_previous_png(tmp_path, monkeypatch):
    fig = Figure()
    fig.add_subplot().plot([0, 1], [1, 0])
    path = plots.save_figure(fig, tmp_path / "figs" / "reliability_test.png")
    before = path.read_bytes()

    def die_midway(self, fname, *args, **kwargs):
        Path(fname).write_bytes(before[:100])  # a PNG header and nothing else
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", die_midway)
    with pytest.raises(OSError, match="No space left"):
        plots.save_figure(fig, path)
    assert path.read_bytes() == before and no_temporaries(tmp_path)


def test_save_model_dir_that_dies_midway_leaves_a_loadable_model(tmp_path):
    folder = save_model_dir(build("baseline", seed=0), tmp_path / "m")
    before = snapshot(folder)

    class DiesWhileSaving:
        def save(self, path):
            Path(path).write_bytes(before[MODEL_FILE][:1000])
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        save_model_dir(DiesWhileSaving(), folder)
    assert snapshot(folder) == before and no_temporaries(folder)
    model, classes = load_model_dir(folder)
    assert model.output_shape[-1] == len(classes) == 8


def test_report_html_slides_and_timings_survive_a_write_that_dies_midway(tmp_path, request):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 1. Title", metadata={"slideshow": {"slide_type": "slide"}})])
    assets = {key: "" for key in render._ASSET_FILES}
    html = render.render_html(nb, tmp_path / "report.html", assets)
    slides = render.render_slides(nb, tmp_path / "slides.html", assets)
    pipeline._record_timing(tmp_path, "01_data_exploration", 12.0)
    before = snapshot(tmp_path)
    assert {"report.html", "slides.html", "timings.json"} <= set(before) and "1. Title" in html.read_text()
    request.getfixturevalue("half_writes")
    for write in (lambda: render.render_html(nb, html, assets), lambda: render.render_slides(nb, slides, assets),
                  lambda: pipeline._record_timing(tmp_path, "02_training", 60.0)):
        with pytest.raises(OSError, match="No space left"):
            write()
    assert snapshot(tmp_path) == before and no_temporaries(tmp_path)


def test_report_params_yaml_survives_a_write_that_dies_midway(tmp_path, model_dir, fake_assets, request):
    out = tmp_path / "run"
    out.mkdir()
    (out / "params.yaml").write_text("run_name: previous\n")
    request.getfixturevalue("half_writes")
    with pytest.raises(OSError, match="No space left"):
        pipeline.run_report({"run_name": "t", "train": False, "seed": 1, "model_dir": str(model_dir)},
                     output_dir=out, progress=False, pdf=False, notebooks=[])
    assert (out / "params.yaml").read_text() == "run_name: previous\n" and no_temporaries(out)


def _fake_chromium(tmp_path: Path, monkeypatch, body: str) -> None:
    """A stand-in Chromium: ``body`` runs with ``target``, the path given by --print-to-pdf."""
    exe = tmp_path / "chromium"
    exe.write_text(f"#!{sys.executable}\nimport sys\n"
                   "target = next(a.split('=', 1)[1] for a in sys.argv if a.startswith('--print-to-pdf='))\n"
                   + textwrap.dedent(body))
    exe.chmod(0o755)
    monkeypatch.setenv("FER_CHROMIUM", str(exe))


def test_failed_pdf_print_leaves_the_previous_pdf(tmp_path, monkeypatch):
    html = tmp_path / "report.html"
    html.write_text("<html><body>report</body></html>")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4 the previous report")
    _fake_chromium(tmp_path, monkeypatch, """\
        open(target, "wb").write(b"%PDF-1.4 half a")
        sys.stderr.write("crashed\\nwhile printing\\n")
        sys.exit(1)
        """)
    with pytest.raises(FerError, match="could not print report.html") as info:
        render.print_pdf(html, pdf)
    assert pdf.read_bytes() == b"%PDF-1.4 the previous report" and no_temporaries(tmp_path)
    assert "\n" not in str(info.value)

    _fake_chromium(tmp_path, monkeypatch, """\
        assert not target.endswith("/report.pdf"), "prints to a temporary name"
        open(target, "wb").write(b"%PDF-1.4 the new report")
        """)
    assert render.print_pdf(html, pdf) == pdf.resolve()
    assert pdf.read_bytes() == b"%PDF-1.4 the new report" and no_temporaries(tmp_path)


# ------------------------------------------------------------------------------------------
# 3. `fer report` checks its paths before the first notebook

MARKER_NOTEBOOK = textwrap.dedent('''\
    # %% [markdown]
    # # 1. Marker

    # %% tags=["parameters"]
    output_dir: str = "x"

    # %%
    from pathlib import Path
    Path(output_dir, "notebook-ran").write_text("yes")
    ''')


@pytest.mark.parametrize("bad", [
    {"model_dir": "/nonexistent/fer-model"},
    {"data_dir": "/nonexistent/fer-data"},
    {"model_dir": "FILE"},
])
def test_report_with_a_missing_path_fails_before_any_notebook(tmp_path, model_dir, data_dir, fake_assets, bad):
    (tmp_path / "a-file").write_text("not a model folder")
    bad = {k: str(tmp_path / "a-file") if v == "FILE" else v for k, v in bad.items()}
    params = {"run_name": "t", "train": False, "seed": 1, "model_dir": str(model_dir), "data_dir": str(data_dir),
              **bad}
    (tmp_path / "01_marker.py").write_text(MARKER_NOTEBOOK)
    with pytest.raises(FerError) as info:
        pipeline.run_report(params, output_dir=tmp_path / "run", progress=False, pdf=False,
                     notebooks=[tmp_path / "01_marker.py"])
    key, value = next(iter(bad.items()))
    assert str(info.value).startswith(f"{key} {value}" if value.endswith("a-file") else f"{key} not found: {value}")
    assert not (tmp_path / "run").exists()  # nothing ran, nothing written


def test_fer_report_with_missing_absolute_model_dir_is_one_line(tmp_path, data_dir, fake_assets, capsys):
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"run_name": "t", "train": False, "seed": 1,
                                      "model_dir": "/nonexistent/fer-model", "data_dir": str(data_dir)}))
    assert pipeline.run_report_cli(str(params), [], str(tmp_path / "run")) == 2
    err = capsys.readouterr().err
    assert err == "fer report: error: model_dir not found: /nonexistent/fer-model\n"
    assert not (tmp_path / "run").exists()


def test_fer_report_out_an_existing_file_is_one_line_and_writes_nothing(tmp_path, model_dir, data_dir,
                                                                        fake_assets):
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"run_name": "t", "train": False, "seed": 1,
                                      "model_dir": str(model_dir), "data_dir": str(data_dir)}))
    target = tmp_path / "notes.txt"
    target.write_text("the user's notes")
    before = every_file(tmp_path)
    run = fer("report", "--params", params, "--out", target)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("fer report: error:")
    assert str(target) in run.stderr and "existing file" in run.stderr and "Traceback" not in run.stderr
    assert every_file(tmp_path) == before  # nothing written, the file untouched
    assert "executing" not in run.stdout


@pytest.mark.parametrize("out", ["/proc/fer-report", "/sys/fer-report"])
def test_fer_report_out_under_proc_or_sys_is_one_line(tmp_path, model_dir, data_dir, fake_assets, capsys, out):
    if not Path(out).parent.is_dir():
        pytest.skip(f"no {Path(out).parent} on this system")
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"run_name": "t", "train": False, "seed": 1,
                                      "model_dir": str(model_dir), "data_dir": str(data_dir)}))
    assert pipeline.run_report_cli(str(params), [], out) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith(f"fer report: error: {out}")
    assert "executing" not in captured.out and not Path(out).exists()


# ------------------------------------------------------------------------------------------
# 4. `fer evaluate --out` that cannot be a folder

def test_fer_evaluate_out_an_existing_file_is_one_line(tmp_path, model_dir, data_dir):
    target = tmp_path / "results.txt"
    target.write_text("the user's results")
    run = fer("evaluate", model_dir, "--data", data_dir, "--out", target)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr == f"fer evaluate: error: {target}: output folder is an existing file, not a folder\n"
    assert target.read_text() == "the user's results"


@pytest.mark.parametrize("out", ["/proc/fer-eval", "/proc", "/sys/fer-eval"])
def test_evaluate_out_under_proc_or_sys_is_one_line(model_dir, data_dir, capsys, out):
    if not Path("/proc/self").is_dir() or not Path("/sys").is_dir():
        pytest.skip("no /proc or /sys on this system")
    assert E.run_evaluate(model_dir, data_dir, "test", out, False, None) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"fer evaluate: error: {out}: ")
    assert not list(Path(out).glob("evaluation_*"))


# ------------------------------------------------------------------------------------------
# 5. A truncated model.keras is damaged, not missing

@pytest.mark.parametrize("keep", [0.5, 0.99, 10])
def test_truncated_model_is_reported_as_damaged(tmp_path, model_dir, keep):
    folder = tmp_path / "cut"
    folder.mkdir()
    data = (model_dir / MODEL_FILE).read_bytes()
    (folder / MODEL_FILE).write_bytes(data[: int(len(data) * keep) if keep < 1 else keep])
    (folder / "labels.json").write_bytes((model_dir / "labels.json").read_bytes())
    with pytest.raises(FerError) as info:
        load_model_dir(folder)
    msg = str(info.value)
    assert "damaged or incomplete .keras file" in msg and str(folder / MODEL_FILE) in msg
    assert "not found" not in msg.lower() and "\n" not in msg


def test_fer_evaluate_on_a_truncated_copy_of_the_shipped_model(tmp_path, data_dir):
    shipped = PROJECT / "models" / "default"
    if not zipfile.is_zipfile(shipped / MODEL_FILE):
        pytest.skip(f"{shipped / MODEL_FILE} is absent or not the real file (a Git LFS pointer?)")
    folder = tmp_path / "copy"
    folder.mkdir()
    data = (shipped / MODEL_FILE).read_bytes()
    (folder / MODEL_FILE).write_bytes(data[: len(data) // 2])  # a copy cut short
    (folder / "labels.json").write_bytes((shipped / "labels.json").read_bytes())
    run = fer("evaluate", folder, "--data", data_dir)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.count("\n") == 1 and "damaged or incomplete .keras file" in run.stderr
    assert "File not found" not in run.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["labels.json", MODEL_FILE]  # nothing written
