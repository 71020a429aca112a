"""The notebooks as their users open them (issue 14): JupyterLab and papermill.

- JupyterLab reads a notebook ``.py`` through jupytext's contents manager and writes it back on
  every save, autosave included. An unedited notebook must come back byte for byte, even after
  its kernel started and cells ran (kernel metadata, outputs, execution counts stay out of the
  ``.py``); an edit must still be written.
- A double click opens the notebook view: the project's labconfig makes jupytext's "Jupytext
  Notebook" the default viewer of Python files in a JupyterLab started as the README says.
- papermill as the README shows it (jupytext converts the ``.py`` on the way in), run in a
  child process from another working directory: the defaults are the project's, and
  ``-f notebooks/params/smoke.yaml`` writes the smoke run and evaluates the smoke run's model.

The papermill runs use a copy of the project (package, notebooks, shipped model) so that the
defaults, which point into the project, write into the copy and never into this checkout.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
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


# ---------------------------------------------------------------------------------------------
# JupyterLab: open, run, save

def _jupyterlab_contents_manager(root: Path):
    """The contents manager JupyterLab runs with jupytext installed (jupyterlab_jupytext derives
    it from jupyter_server's default, AsyncLargeFileManager)."""
    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
    from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class

    return build_async_jupytext_contents_manager_class(AsyncLargeFileManager)(root_dir=str(root))


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
    """The numbered notebooks and the project's jupytext.toml, in a folder laid out like the project."""
    (tmp_path / "notebooks").mkdir()
    for name in NOTEBOOKS:
        shutil.copy2(PROJECT / "notebooks" / name, tmp_path / "notebooks" / name)
    shutil.copy2(PROJECT / "jupytext.toml", tmp_path / "jupytext.toml")
    return tmp_path


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_jupyterlab_save_leaves_an_unedited_notebook_byte_identical(notebook_copies, name):
    original = (PROJECT / "notebooks" / name).read_bytes()
    asyncio.run(_open_and_save(notebook_copies, name))
    assert (notebook_copies / "notebooks" / name).read_bytes() == original
    asyncio.run(_open_and_save(notebook_copies, name, _as_jupyterlab_after_running))  # kernel ran: autosave
    assert (notebook_copies / "notebooks" / name).read_bytes() == original


def test_jupyterlab_save_still_writes_an_edit(notebook_copies):
    def edit(nb):
        last_code = [c for c in nb["cells"] if c["cell_type"] == "code"][-1]
        last_code["source"] += "\nedited = True"
        return nb

    name = NOTEBOOKS[0]
    asyncio.run(_open_and_save(notebook_copies, name, edit))
    text = (notebook_copies / "notebooks" / name).read_text()
    assert "\nedited = True\n" in text
    assert text.replace("\nedited = True", "", 1) == (PROJECT / "notebooks" / name).read_text()


def test_jupyterlab_started_as_the_readme_says_opens_notebook_py_as_notebooks(monkeypatch):
    """jupyterlab_server layers labconfig/default_setting_overrides.json of every Jupyter config
    folder over the settings' defaults; JUPYTER_CONFIG_PATH=.jupyter adds the project's."""
    from jupyter_server.services.config.manager import ConfigManager

    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(PROJECT / ".jupyter"))
    overrides = ConfigManager(config_dir_name="labconfig").get("default_setting_overrides")
    assert overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]["python"] == "Jupytext Notebook"
    assert "JUPYTER_CONFIG_PATH=$PWD/.jupyter jupyter lab" in (PROJECT / "README.md").read_text()


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
# papermill, as the README shows it, from another working directory

PAPERMILL = "jupytext --to ipynb -o - {notebook} | papermill - {output} {args}"


@pytest.fixture
def project_copy(tmp_path) -> Path:
    """The package, the notebooks and the shipped model (no checkpoints), laid out as the project."""
    root = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "checkpoints", ".tmp-*")
    shutil.copytree(PROJECT / "fer_helpers", root / "fer_helpers", ignore=ignore)
    shutil.copytree(PROJECT / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns("*.ipynb", "sweeps"))
    shutil.copytree(PROJECT / "models" / "default", root / "models" / "default", ignore=ignore)
    shutil.copy2(PROJECT / "jupytext.toml", root / "jupytext.toml")
    return root


def run_papermill(project: Path, cwd: Path, args: str, cache: Path, output: str = "out.ipynb",
                  help_notebook: bool = False) -> subprocess.CompletedProcess:
    """The README's command line in a shell in ``cwd``; the kernel imports the copy's package."""
    notebook = project / "notebooks" / "03_evaluation.py"
    line = (f"jupytext --to ipynb -o - {notebook} | papermill --help-notebook -" if help_notebook
            else PAPERMILL.format(notebook=notebook, output=output, args=args))
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
           "PYTHONPATH": str(project), "FER_CACHE_DIR": str(cache)}
    return subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_papermill_help_notebook_lists_every_parameter(project_copy, tmp_path):
    run = run_papermill(project_copy, tmp_path, "", tmp_path, help_notebook=True)
    assert run.returncode == 0, run.stderr[-2000:]
    for name in params.PARAMETERS:
        assert f"  {name}: " in run.stdout, name
    assert 'model_dir: Optional[str] (default "models/default")' in run.stdout
    assert "output_dir: Optional[str] (default None)" in run.stdout


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
    """``-f smoke.yaml``: run_name smoke, model_dir null with train: the run's own model."""
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
