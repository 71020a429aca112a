"""The notebooks as their users open them (issue 14): JupyterLab and papermill.

- Each numbered notebook is a jupytext pair (``jupytext.toml``): ``notebooks/0N_name.py``, the
  text that diffs and reviews well, and ``notebooks/0N_name.ipynb``, the notebook papermill and
  JupyterLab open as it is. Both are committed; the .ipynb holds no outputs, no execution counts,
  no jupytext version or kernel ``language_info``. The two must hold the same cells: after
  editing a .py outside JupyterLab, ``jupytext --sync notebooks/0*.py`` writes its .ipynb again.
- JupyterLab (started as the README says: the project's ``.jupyter`` settings) reads either file
  of a pair through jupytext's contents manager and writes both back on every save, autosave
  included. An unedited notebook must come back byte for byte, both files, even after its kernel
  started and cells ran; an edit must still be written to both.
- A double click opens the notebook view: the project's labconfig makes jupytext's "Jupytext
  Notebook" the default viewer of Python files in a JupyterLab started as docs/notebooks.md says.
- papermill runs the .ipynb directly, in a child process from another working directory: the
  defaults are the project's, ``-f <path>/smoke.yaml`` writes the smoke run and evaluates the
  smoke run's model, relative paths in a params file resolve as ``run_paths`` says, and
  ``FER_PROFILE`` chooses a profile while ``-p``/``-f`` still win (``params.use_profile``).

The papermill runs use a copy of the project (package, notebooks, shipped model) so that the
defaults, which point into the project, write into the copy and never into this checkout.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from fer_helpers import params
from fer_helpers.pipeline import notebook_sources

PROJECT = Path(__file__).resolve().parent.parent
NOTEBOOKS = [p.name for p in notebook_sources()]
PAIRS = [(name, Path(name).with_suffix(".ipynb").name) for name in NOTEBOOKS]
SYNC = "jupytext --sync notebooks/0*.py"
#: The cell metadata both files of a pair hold (jupytext.toml's cell_metadata_filter).
KEPT_CELL_METADATA = ("tags", "slideshow")


# ---------------------------------------------------------------------------------------------
# The pairs: notebooks/0N_name.py and notebooks/0N_name.ipynb, the same cells, no outputs

def _cells(nb) -> list[tuple]:
    return [(c.cell_type, c.source, {k: c.metadata[k] for k in KEPT_CELL_METADATA if k in c.metadata})
            for c in nb.cells]


@pytest.mark.parametrize("name, paired", PAIRS)
def test_each_notebook_py_has_its_ipynb_with_the_same_cells(name, paired):
    import jupytext

    ipynb = PROJECT / "notebooks" / paired
    assert ipynb.is_file(), f"{ipynb.name} is missing: run `{SYNC}` in the project and commit it"
    text = jupytext.read(PROJECT / "notebooks" / name)
    nb = nbformat.read(ipynb, as_version=4)
    assert text.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    differ = [i for i, (a, b) in enumerate(zip(_cells(text), _cells(nb))) if a != b]
    assert len(text.cells) == len(nb.cells) and not differ, (
        f"{paired} is out of sync with {name} (cell {differ[0] + 1 if differ else len(nb.cells)} differs): "
        f"after editing a notebook .py outside JupyterLab, run `{SYNC}` in the project")


@pytest.mark.parametrize("paired", [ipynb for _, ipynb in PAIRS])
def test_committed_ipynb_hold_no_outputs_nor_volatile_metadata(paired):
    nb = json.loads((PROJECT / "notebooks" / paired).read_text())
    assert set(nb["metadata"]) <= {"kernelspec", "jupytext"}, nb["metadata"].keys()  # no language_info
    assert "text_representation" not in nb["metadata"].get("jupytext", {})  # no jupytext version
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, (paired, cell["source"][:1])
        assert set(cell["metadata"]) <= set(KEPT_CELL_METADATA) | {"lines_to_next_cell", "cell_marker"}, cell["metadata"]


def test_git_tracks_the_paired_ipynb_and_ignores_other_notebooks_there():
    if shutil.which("git") is None or not (PROJECT / ".git").exists():
        pytest.skip("not a git checkout")
    names = ["notebooks/03_evaluation.ipynb", "notebooks/out.ipynb", "reports/smoke/03_evaluation.ipynb"]
    run = subprocess.run(["git", "check-ignore", "--no-index", *names], cwd=PROJECT, capture_output=True, text=True)
    assert run.stdout.split() == names[1:]


def test_jupytext_sync_rewrites_the_ipynb_of_an_edited_py_and_leaves_the_others(notebook_copies):
    """The one command to run after editing a .py outside JupyterLab, with the project's jupytext.toml."""
    before = {p.name: p.read_bytes() for p in (notebook_copies / "notebooks").iterdir()}
    edited = notebook_copies / "notebooks" / NOTEBOOKS[-1]
    edited.write_text(edited.read_text() + "\n# %%\nedited = True\n")
    as_edited = edited.read_bytes()
    run = subprocess.run(SYNC, shell=True, cwd=notebook_copies, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    after = {p.name: p.read_bytes() for p in (notebook_copies / "notebooks").iterdir()}
    changed = sorted(name for name in before if after[name] != before[name])
    assert changed == sorted([edited.name, edited.with_suffix(".ipynb").name])
    nb = nbformat.reads(after[edited.with_suffix(".ipynb").name].decode(), as_version=4)
    assert nb.cells[-1].source == "edited = True" and nb.cells[-1].outputs == []
    assert after[edited.name] == as_edited  # the .py as edited, not rewritten


# ---------------------------------------------------------------------------------------------
# JupyterLab: open, run, save

def _jupyterlab_contents_manager(root: Path):
    """The contents manager JupyterLab runs with jupytext installed (jupyterlab_jupytext derives
    it from jupyter_server's default, AsyncLargeFileManager), with the project's server settings
    (``.jupyter/jupyter_server_config.py``, read when JupyterLab starts as the README says)."""
    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
    from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("jupyter_server_config.py", path=str(PROJECT / ".jupyter")).load_config()
    return build_async_jupytext_contents_manager_class(AsyncLargeFileManager)(root_dir=str(root), config=config)


def _as_jupyterlab_after_running(nb: dict) -> dict:
    """What the notebook model holds once JupyterLab started the kernel and ran every cell."""
    nb = copy.deepcopy(nb)
    nb["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb["metadata"]["language_info"] = {"name": "python", "version": "3.11.7", "mimetype": "text/x-python",
                                       "file_extension": ".py", "codemirror_mode": {"name": "ipython", "version": 3}}
    for i, cell in enumerate(nb["cells"], start=1):
        cell["metadata"]["trusted"] = True
        if cell["cell_type"] == "code":
            cell["execution_count"] = i
            cell["outputs"] = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
            cell["metadata"]["execution"] = {"iopub.status.busy": "2026-01-01T00:00:00.000000Z",
                                             "shell.execute_reply": "2026-01-01T00:00:01.000000Z"}
            cell["metadata"]["scrolled"] = True
    return nb


async def _open_and_save(root: Path, name: str, change=None) -> None:
    cm = _jupyterlab_contents_manager(root)
    path = f"notebooks/{name}"
    model = await cm.get(path)
    assert model["type"] == "notebook"  # jupytext reads the .py as a notebook
    content = json.loads(json.dumps(model["content"]))  # as the browser sends it back
    if change is not None:
        content = change(content)
    await cm.save({"type": "notebook", "format": "json", "content": content}, path)


@pytest.fixture
def notebook_copies(tmp_path) -> Path:
    """The numbered notebooks (both files of each pair) and the project's jupytext.toml, in a
    folder laid out like the project."""
    (tmp_path / "notebooks").mkdir()
    for pair in PAIRS:
        for name in pair:
            shutil.copy2(PROJECT / "notebooks" / name, tmp_path / "notebooks" / name)
    shutil.copy2(PROJECT / "jupytext.toml", tmp_path / "jupytext.toml")
    return tmp_path


@pytest.mark.parametrize("opened", ["py", "ipynb"])
@pytest.mark.parametrize("name, paired", PAIRS)
def test_jupyterlab_save_leaves_an_unedited_pair_byte_identical(notebook_copies, name, paired, opened):
    folder = notebook_copies / "notebooks"
    original = {n: (PROJECT / "notebooks" / n).read_bytes() for n in (name, paired)}
    path = name if opened == "py" else paired
    asyncio.run(_open_and_save(notebook_copies, path))
    assert {n: (folder / n).read_bytes() for n in original} == original
    asyncio.run(_open_and_save(notebook_copies, path, _as_jupyterlab_after_running))  # kernel ran: autosave
    assert {n: (folder / n).read_bytes() for n in original} == original


def test_jupyterlab_save_still_writes_an_edit_to_both_files(notebook_copies):
    def edit(nb):
        last_code = [c for c in nb["cells"] if c["cell_type"] == "code"][-1]
        last_code["source"] += "\nedited = True"
        return _as_jupyterlab_after_running(nb)

    name, paired = PAIRS[0]
    asyncio.run(_open_and_save(notebook_copies, paired, edit))
    text = (notebook_copies / "notebooks" / name).read_text()
    assert "\nedited = True\n" in text
    assert text.replace("\nedited = True", "", 1) == (PROJECT / "notebooks" / name).read_text()
    nb = nbformat.read(notebook_copies / "notebooks" / paired, as_version=4)
    last_code = [c for c in nb.cells if c.cell_type == "code"][-1]
    assert last_code.source.endswith("\nedited = True") and last_code.outputs == []
    assert "language_info" not in nb.metadata


def test_jupyterlab_started_as_the_readme_says_opens_notebook_py_as_notebooks(monkeypatch):
    """jupyterlab_server layers labconfig/default_setting_overrides.json of every Jupyter config
    folder over the settings' defaults; JUPYTER_CONFIG_PATH=.jupyter adds the project's."""
    from jupyter_server.services.config.manager import ConfigManager

    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(PROJECT / ".jupyter"))
    overrides = ConfigManager(config_dir_name="labconfig").get("default_setting_overrides")
    assert overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]["python"] == "Jupytext Notebook"
    for page in ("README.md", "docs/notebooks.md"):  # the front door's command and its page's
        assert "JUPYTER_CONFIG_PATH=$PWD/.jupyter jupyter lab" in (PROJECT / page).read_text(), page


# ---------------------------------------------------------------------------------------------
# Paths: the project's, whatever the working directory

def test_run_paths_default_to_the_project_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data_dir, model_dir, output_dir = params.run_paths("smoke")
    assert data_dir is None  # the data set's own search (data/ferplus, then ../shared/data/ferplus)
    assert output_dir == str(PROJECT / "reports" / "smoke")
    assert model_dir == str(PROJECT / "reports" / "smoke" / "model")
    _, model_dir, output_dir = params.run_paths("interactive", None, "models/default", None)
    assert model_dir == str(PROJECT / "models" / "default")  # not in the cwd: the project's
    (tmp_path / "models" / "default").mkdir(parents=True)
    _, model_dir, output_dir = params.run_paths("x", None, "models/default", "out")
    assert model_dir == str(tmp_path / "models" / "default")  # a path that exists here is the user's
    assert output_dir == str(tmp_path / "out")


# ---------------------------------------------------------------------------------------------
# FER_PROFILE: a profile for a notebook run by hand

@pytest.mark.parametrize("profile", ["smoke", "notebooks/params/smoke.yaml", str(params.PARAMS_DIR / "smoke.yaml")])
def test_fer_profile_gives_the_values_fer_report_injects(profile, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # a relative path is the working directory's, else the project's
    monkeypatch.setenv("FER_PROFILE", profile)
    namespace = {"run_name": "interactive", "eval_subset": None, "resume": False}
    assert params.use_profile(namespace) == params.PARAMS_DIR / "smoke.yaml"
    smoke = params.notebook_parameters(params.load_profile("smoke"))
    assert namespace == {**smoke, "resume": False}  # every parameter; a notebook's own ones kept
    assert namespace["model_dir"] == str(PROJECT / "reports" / "smoke" / "model")
    assert capsys.readouterr().out == (f"FER_PROFILE={profile}: the parameters of notebooks/params/smoke.yaml "
                                       "(papermill's -p and -f still win)\n")


def test_without_fer_profile_the_defaults_stay(monkeypatch):
    monkeypatch.delenv("FER_PROFILE", raising=False)
    namespace = {"run_name": "interactive"}
    assert params.use_profile(namespace) is None and namespace == {"run_name": "interactive"}
    monkeypatch.setenv("FER_PROFILE", " ")
    assert params.use_profile(namespace) is None and namespace == {"run_name": "interactive"}


@pytest.mark.parametrize("content, message", [
    (None, "FER_PROFILE=nope: params file not found: nope (profiles: full, smoke)"),
    ("run_name: [unclosed", "not valid YAML"),
    ("run_name: x\ntrain: true\nseed: 1\nbogus: 2\n", "unknown parameter(s) 'bogus'"),
    ("run_name: x\ntrain: false\nseed: 1\nmodel_dir: nowhere\n", "model_dir not found: nowhere"),
])
def test_a_bad_fer_profile_is_one_line(content, message, tmp_path, monkeypatch):
    profile = "nope"
    if content is not None:
        profile = str(tmp_path / "bad.yaml")
        Path(profile).write_text(content)
    monkeypatch.setenv("FER_PROFILE", profile)
    namespace = {"run_name": "interactive"}
    with pytest.raises(params.FerError) as err:
        params.use_profile(namespace)
    assert str(err.value).startswith(f"FER_PROFILE={profile}: ") and message in str(err.value)
    assert err.value._render_traceback_() == [f"FerError: {err.value}"]  # what a kernel shows: one line
    assert namespace == {"run_name": "interactive"}


# ---------------------------------------------------------------------------------------------
# papermill on the .ipynb, from another working directory

@pytest.fixture
def project_copy(tmp_path) -> Path:
    """The package, the notebooks and the shipped model (no checkpoints), laid out as the project."""
    root = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "checkpoints", ".tmp-*")

    def notebooks_ignore(folder, names):  # the pairs and the params; no sweeps, no stray notebooks
        return {n for n in names if n == "sweeps" or (n.endswith(".ipynb") and not re.match(r"\d\d_", n))}

    shutil.copytree(PROJECT / "fer_helpers", root / "fer_helpers", ignore=ignore)
    shutil.copytree(PROJECT / "notebooks", root / "notebooks", ignore=notebooks_ignore)
    shutil.copytree(PROJECT / "models" / "default", root / "models" / "default", ignore=ignore)
    shutil.copy2(PROJECT / "jupytext.toml", root / "jupytext.toml")
    return root


def run_papermill(project: Path, cwd: Path, args: str, cache: Path, output: str = "out.ipynb",
                  help_notebook: bool = False, notebook: Path | None = None,
                  env: dict | None = None) -> subprocess.CompletedProcess:
    """papermill on a notebook's .ipynb, as the README shows it, in a shell in ``cwd``; the kernel
    imports the copy's package."""
    notebook = notebook or project / "notebooks" / "03_evaluation.ipynb"
    line = f"papermill --help-notebook {notebook}" if help_notebook else f"papermill {notebook} {output} {args}"
    environ = {k: v for k, v in os.environ.items() if k != "FER_PROFILE"}
    environ.update({"PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
                    "PYTHONPATH": str(project), "FER_CACHE_DIR": str(cache), **(env or {})})
    return subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=cwd, env=environ, capture_output=True,
                          text=True, timeout=600)


def test_papermill_help_notebook_on_the_ipynb_lists_every_parameter(project_copy, tmp_path):
    run = run_papermill(project_copy, tmp_path, "", tmp_path, help_notebook=True)
    assert run.returncode == 0, run.stderr[-2000:]
    listed = re.findall(r"^  (\w+): ", run.stdout, flags=re.M)
    # the FER_PROFILE line is not one; 07_your_photos' own parameter is not 03's
    assert sorted(listed) == sorted(set(params.PARAMETERS) - set(params.OWN_PARAMETERS))
    assert 'model_dir: Optional[str] (default "models/default")' in run.stdout
    assert "output_dir: Optional[str] (default None)" in run.stdout
    assert re.search(r'^  date: str \(default ""\)', run.stdout, flags=re.M)  # the last one, intact


def _parameters_only(project: Path, name: str, folder: Path) -> Path:
    """A notebook's parameters cell and the cell after it (run_paths), then a cell writing the
    parameters to parameters.json in the working directory: papermill's handling of the real
    cells, in seconds."""
    nb = nbformat.read(project / "notebooks" / name, as_version=4)
    i = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    shared = [k for k in params.PARAMETERS if k not in params.OWN_PARAMETERS]  # what 01-06 take
    dump = "import json\njson.dump({k: globals()[k] for k in %r}, open('parameters.json', 'w'))" % shared
    nb.cells = nb.cells[i:i + 2] + [nbformat.v4.new_code_cell(dump)]
    path = folder / name
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("profile", ["smoke", "notebooks/params/smoke.yaml"])
def test_papermill_with_fer_profile_takes_its_values_and_injected_ones_win(project_copy, tmp_path, profile):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    notebook = _parameters_only(project_copy, "03_evaluation.ipynb", tmp_path)
    run = run_papermill(project_copy, elsewhere, "-p eval_subset 20 -p language tr", tmp_path, notebook=notebook,
                        env={"FER_PROFILE": profile})
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads((elsewhere / "parameters.json").read_text())
    smoke = params.load_params(project_copy / "notebooks" / "params" / "smoke.yaml")
    assert got["run_name"] == "smoke" and got["train"] is True and got["training"] == smoke["training"]
    assert got["eval_subset"] == 20 and got["language"] == "tr"  # papermill's -p win over FER_PROFILE
    assert got["model_dir"] == str(project_copy / "reports" / "smoke" / "model")
    assert got["output_dir"] == str(project_copy / "reports" / "smoke")
    out = nbformat.read(elsewhere / "out.ipynb", as_version=4)
    assert "FER_PROFILE=" in out.cells[0].outputs[0]["text"]


def test_papermill_params_file_from_another_folder_resolves_relative_paths_as_run_paths(project_copy, tmp_path):
    """``-f`` with a path: relative paths in it are the working directory's, else the project's."""
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "mydata").mkdir(parents=True)
    custom = tmp_path / "custom.yaml"
    custom.write_text("run_name: custom\ntrain: false\nseed: 3\nmodel_dir: models/default\n"
                      "data_dir: mydata\noutput_dir: out\neval_subset: 5\n")
    notebook = _parameters_only(project_copy, "04_gradcam.ipynb", tmp_path)
    run = run_papermill(project_copy, elsewhere, f"-f {custom}", tmp_path, notebook=notebook)
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads((elsewhere / "parameters.json").read_text())
    assert got["model_dir"] == str(project_copy / "models" / "default")  # not in the cwd: the project's
    assert got["data_dir"] == str(elsewhere / "mydata")                    # in the cwd: the cwd's
    assert got["output_dir"] == str(elsewhere / "out")
    assert (got["run_name"], got["seed"], got["eval_subset"]) == ("custom", 3, 5)


def test_papermill_with_an_unknown_fer_profile_fails_with_one_line(project_copy, tmp_path):
    notebook = _parameters_only(project_copy, "03_evaluation.ipynb", tmp_path)
    run = run_papermill(project_copy, tmp_path, "", tmp_path, notebook=notebook, env={"FER_PROFILE": "nope"})
    assert run.returncode != 0
    line = "FerError: FER_PROFILE=nope: params file not found: nope (profiles: full, smoke)"
    assert line in run.stderr
    error = next(o for c in nbformat.read(tmp_path / "out.ipynb", as_version=4).cells
                 for o in c.get("outputs", []) if o.output_type == "error")
    assert error.traceback == [line]  # the kernel's part: one line, no traceback wall


@pytest.mark.slow
def test_readme_papermill_command_from_another_folder_uses_the_project(project_copy, tmp_path, shared_data,
                                                                        real_cache_dir):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = run_papermill(project_copy, elsewhere, f"-p eval_subset 20 -p data_dir {shared_data}", real_cache_dir)
    assert run.returncode == 0, run.stderr[-3000:]
    result = project_copy / "reports" / "interactive" / "evaluation" / "evaluation_test_subset20.json"
    metrics = json.loads(result.read_text())
    assert metrics["n"] == 20 and metrics["model_dir"] == "models/default"  # the project's shipped model
    assert (project_copy / "reports" / "interactive" / "figures" / "metrics_vs_references.png").is_file()
    assert sorted(p.name for p in elsewhere.iterdir()) == ["out.ipynb"]  # nothing else in the cwd
    nb = nbformat.read(elsewhere / "out.ipynb", as_version=4)
    assert nb.metadata.papermill.parameters["eval_subset"] == 20


@pytest.mark.slow
def test_papermill_with_the_smoke_profile_writes_the_smoke_run(project_copy, tmp_path, shared_data, real_cache_dir):
    """``-f <path>/smoke.yaml`` from another folder: run_name smoke, model_dir null with train:
    the run's own model."""
    shutil.copytree(project_copy / "models" / "default", project_copy / "reports" / "smoke" / "model")  # as 02 left it
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    smoke = project_copy / "notebooks" / "params" / "smoke.yaml"
    run = run_papermill(project_copy, elsewhere, f"-f {smoke} -p eval_subset 20 -p data_dir {shared_data}",
                        real_cache_dir, output="smoke-03.ipynb")
    assert run.returncode == 0, run.stderr[-3000:]
    metrics = json.loads((project_copy / "reports" / "smoke" / "evaluation" / "evaluation_test_subset20.json").read_text())
    assert metrics["model_dir"] == "reports/smoke/model"
    assert not (project_copy / "reports" / "interactive").exists()
    assert sorted(p.name for p in elsewhere.iterdir()) == ["smoke-03.ipynb"]
    if (project_copy / "models" / "default" / "replaced.json").is_file():  # copied without the model it replaced
        assert "which is not there any more" in (elsewhere / "smoke-03.ipynb").read_text()
