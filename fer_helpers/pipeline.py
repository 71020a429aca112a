"""Run the numbered notebooks with one profile, headlessly, then render the study.

    run_report("notebooks/params/smoke.yaml", overrides={"training.epochs": 1})

1. Read the profile, apply overrides and check them (``params``), so a typo fails before
   anything runs; the data and model folders must exist, every path is made absolute.
2. Convert each ``notebooks/0N_*.py`` (jupytext py:percent, the source of truth) to a notebook and
   execute it with papermill into ``reports/<run_name>/``, the parameters injected after the
   cell tagged ``parameters``. A failing cell raises ``FerError`` naming the notebook and the
   cell; the partly executed notebook stays for inspection.
3. Merge the executed notebooks and render ``report.html``, ``slides.html`` and their PDFs
   (``render``) in the profile's ``language``; the notebooks hold every language, so
   ``render_run`` renders an executed run in another one without running it again
   (``<run>/tr/`` for Turkish); ``fer report --render-only`` does that (``render_only``).

The console shows progress and real warnings only: kernels talk over local IPC sockets (no
"running over TCP without encryption" warning) and import TensorFlow with its C++ start-up notes
muted (``quiet``), which TF_CPP_MIN_LOG_LEVEL no longer silences.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

from . import render
from .data import PROJECT_ROOT
from .errors import FerError
from .files import ensure_dir, write_json, write_text
from .params import (PARAMS_DIR, apply_overrides, check_params, load_params, load_profile, notebook_parameters,
                     parse_overrides, run_paths)

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
KERNEL_NAME = "python3"


# ---------------------------------------------------------------------------------------------
# Executing the notebooks

#: The study's chapter: executed only when the params name a sweep folder (``experiments``).
EXPERIMENTS_NOTEBOOK = "05_experiments"


def report_sources(params: dict, folder: str | os.PathLike = NOTEBOOK_DIR) -> list[Path]:
    """The notebooks a report runs: all numbered ones, 05_experiments only when a sweep is named."""
    sources = notebook_sources(folder)
    if not params.get("experiments"):
        sources = [s for s in sources if s.stem != EXPERIMENTS_NOTEBOOK]
    return sources


def notebook_sources(folder: str | os.PathLike = NOTEBOOK_DIR) -> list[Path]:
    """The numbered notebooks ``0N_*.py``, in order.

    Each is the text half of a jupytext pair (``jupytext.toml``); the ``0N_*.ipynb`` beside it
    holds the same cells without outputs, for papermill and JupyterLab as they are. Runs read
    the .py, so an edit made outside JupyterLab counts before ``jupytext --sync notebooks/0*.py``
    writes its .ipynb again (tests/test_notebooks.py fails until then).
    """
    paths = sorted(Path(folder).glob("[0-9][0-9]_*.py"))
    if not paths:
        raise FerError(f"no numbered notebooks (0N_name.py) in {folder}")
    return paths


def to_notebook(source: str | os.PathLike):
    """A jupytext py:percent file as an ``nbformat`` notebook bound to the Python 3 kernel."""
    import jupytext

    try:
        nb = jupytext.read(source, fmt="py:percent")
    except Exception as exc:  # jupytext raises several types for malformed files
        raise FerError(f"{source}: cannot read as a py:percent notebook ({exc})") from None
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Python 3", "language": "python"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    nb.metadata.pop("jupytext", None)
    return nb


@contextlib.contextmanager
def _kernel_environment():
    """Kernels run this interpreter (``python`` first on PATH) and import this checkout's package;
    ``FER_PROFILE`` (JupyterLab's profile) is not theirs: the params file injected decides."""
    saved = {k: os.environ.get(k) for k in ("PATH", "PYTHONPATH", "TF_CPP_MIN_LOG_LEVEL", "PYDEVD_DISABLE_FILE_VALIDATION",
                                            "FER_PROFILE")}
    os.environ.pop("FER_PROFILE", None)
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")] if p)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


#: Tag of the cell ``execute_notebook`` puts first (as papermill tags the cell it injects):
#: not counted when a failing cell is named, not rendered.
SETUP_TAG = "injected-setup"


def _quiet_setup_cell(nb):
    """A first cell that imports Keras with TensorFlow's C++ start-up notes muted (``quiet``), for a
    notebook that imports the package (or Keras, TensorFlow); else None, as the import costs seconds.

    Without it the kernel echoes the notes to the console and into the executed notebook. It runs as
    a cell, not as kernel start-up code: on a busy machine the import may take longer than the
    60 s in which a kernel must answer.
    """
    import nbformat

    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    if re.search(r"\b(fer_helpers|keras|tensorflow)\b", code) is None:
        return None
    return nbformat.v4.new_code_cell("from fer_helpers.quiet import import_keras_quietly\n\nimport_keras_quietly()",
                                     metadata={"tags": [SETUP_TAG]})


def _ipc_kernel(socket_dir: str) -> dict:
    """nbclient options for a kernel on IPC transport (Unix sockets in ``socket_dir``): reachable by
    this user only, and ipykernel has no reason to warn that it "is running over TCP without
    encryption" on the console of every run."""
    from traitlets.config import Config

    return {"config": Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(socket_dir, "kernel")}})}


def _failed_cell(executed_path: Path) -> tuple[int | None, str]:
    """1-based position (among the source's cells) and first line of the cell that raised."""
    import nbformat

    try:
        nb = nbformat.read(executed_path, as_version=4)
    except Exception:
        return None, ""
    skip = {"injected-parameters", "papermill-error-cell-tag", SETUP_TAG}
    cells = [c for c in nb.cells if not skip & set(c.metadata.get("tags", []))]
    for i, cell in enumerate(cells, start=1):
        if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            return i, first.strip()
    return None, ""


def execute_notebook(source: str | os.PathLike, output: str | os.PathLike, parameters: dict,
                     cwd: str | os.PathLike | None = None, progress: bool = True,
                     timeout: int | None = None):
    """Execute one jupytext notebook with papermill into ``output`` (.ipynb); ``FerError`` on a failing cell."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    source, output = Path(source), Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    nb = to_notebook(source)
    setup = _quiet_setup_cell(nb)
    if setup is not None:
        nb.cells.insert(0, setup)
    with _kernel_environment(), tempfile.TemporaryDirectory(prefix="fer-kernel-") as sockets:
        try:
            return pm.execute_notebook(nb, str(output), parameters=parameters, kernel_name=KERNEL_NAME,
                                       cwd=str(cwd or output.parent), progress_bar=progress,
                                       request_save_on_cell_execute=True, execution_timeout=timeout,
                                       **_ipc_kernel(sockets))
        except PapermillExecutionError as exc:
            index, first = _failed_cell(output)
            where = f"cell {index}" if index else f"cell {exc.cell_index}"
            where += f" (`{first[:80]}`)" if first else ""
            evalue = str(exc.evalue).strip().splitlines()[0] if str(exc.evalue).strip() else ""
            raise FerError(f"notebook {source.name}: {where} failed with {exc.ename}: {evalue}; "
                           f"partly executed notebook kept at {output}") from None
        except FerError:
            raise
        except Exception as exc:  # dead kernel, timeout, missing kernel
            raise FerError(f"notebook {source.name}: execution failed ({exc.__class__.__name__}: "
                           f"{str(exc).strip()[:300]}); partly executed notebook (if any) at {output}") from None


def read_timings(output_dir: str | os.PathLike) -> dict:
    """Wall times (seconds) of the steps of a report run so far (``timings.json`` in the run folder)."""
    path = Path(output_dir) / "timings.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _record_timing(output_dir: Path, step: str, seconds: float) -> None:
    timings = read_timings(output_dir)
    timings[step] = round(seconds, 1)
    write_json(output_dir / "timings.json", timings)


# ---------------------------------------------------------------------------------------------
# The whole run

def _say(msg: str) -> None:
    print(f"[fer report] {msg}", flush=True)


def run_report(params: str | os.PathLike | dict = "notebooks/params/full.yaml", overrides: dict | None = None,
               output_dir: str | os.PathLike | None = None, progress: bool = True, pdf: bool | None = None,
               notebooks: list | None = None) -> Path:
    """Execute the numbered notebooks with a params file and render report.{html,pdf}, slides.{html,pdf}.

    ``params``: a params YAML (path or profile name) or an already loaded dict; ``overrides``:
    ``{"train": True, "training.epochs": 3}``; ``output_dir``: default ``reports/<run_name>`` in
    the project.
    ``pdf``: print the PDFs (default: when Chromium is found). Returns the output folder.
    """
    t_start = time.time()
    if isinstance(params, dict):
        p = check_params(apply_overrides(params, overrides))
    else:
        p = load_profile(params, overrides)
    assets = render.load_assets()  # before minutes of notebooks: missing assets fail now
    if pdf is None:
        pdf = render.find_chromium() is not None
        if not pdf:
            _say("warning: Chromium not found, the PDFs are skipped (scripts/install_report_tools.sh)")
    own_model = p["model_dir"] is None
    p = notebook_parameters(p, output_dir)  # data_dir and model_dir exist, or one line now
    out = ensure_dir(p["output_dir"], "report folder")  # a file, /proc, read-only: one line now
    if own_model and p["train"] and Path(p["model_dir"]).is_dir():
        shutil.rmtree(p["model_dir"])  # a previous run's model in this run folder: train afresh
    if p["train"]:
        ensure_dir(p["model_dir"], "model folder")  # 02 trains into it: writable, checked now
    (out / "timings.json").unlink(missing_ok=True)
    write_text(out / "params.yaml", yaml.safe_dump(p, sort_keys=False))
    sources = [Path(n) for n in notebooks] if notebooks else report_sources(p)
    executed = []
    for i, src in enumerate(sources, start=1):
        target = out / f"{src.stem}.ipynb"
        _say(f"[{i}/{len(sources)}] executing {src.name} -> {target}")
        t0 = time.time()
        execute_notebook(src, target, p, cwd=out, progress=progress)
        _record_timing(out, src.stem, time.time() - t0)
        _say(f"[{i}/{len(sources)}] {src.stem} done in {time.time() - t0:.0f}s")
        executed.append(target)

    render_run(out, p, executed, p["language"], assets, pdf)
    _record_timing(out, "total", time.time() - t_start)
    _say(f"done in {time.time() - t_start:.0f}s: {out}")
    return out


def language_folder(output_dir: str | os.PathLike, language: str) -> Path:
    """Where a run's report in ``language`` goes: the run folder for English, ``<run>/<language>/`` else."""
    return Path(output_dir) if language == "en" else Path(output_dir) / language


def render_run(output_dir: str | os.PathLike, params: dict, executed: list | None = None, language: str = "en",
               assets: dict | None = None, pdf: bool = True) -> Path:
    """Render a run's executed notebooks (default: those of ``report_sources`` in ``output_dir``)
    into report.{html,pdf} and slides.{html,pdf} in ``language`` (``language_folder``), without
    running anything again: the notebooks hold every language."""
    out = Path(output_dir)
    executed = executed or [out / f"{src.stem}.ipynb" for src in report_sources(params)]
    target = ensure_dir(language_folder(out, language), "report folder")
    suffix = "" if language == "en" else f"_{language}"
    t0 = time.time()
    nb = render.merge_notebooks(executed, params)
    html_path = render.render_html(nb, target / "report.html", assets, language)
    slides_path = render.render_slides(nb, target / "slides.html", assets, language)
    _record_timing(out, f"render_html{suffix}", time.time() - t0)
    _say(f"wrote {html_path.name} and {slides_path.name} ({language}, {time.time() - t0:.0f}s)")
    if pdf:
        t0 = time.time()
        render.print_pdf(html_path, target / "report.pdf")
        render.print_pdf(slides_path, target / "slides.pdf", query="print-pdf")
        _record_timing(out, f"render_pdf{suffix}", time.time() - t0)
        _say(f"wrote report.pdf and slides.pdf ({language}, {time.time() - t0:.0f}s)")
    return target


def executed_run(params: str | os.PathLike | dict | None = None, overrides: dict | None = None,
                 output_dir: str | os.PathLike | None = None) -> tuple[Path, dict, list[Path]]:
    """``(run folder, params, executed notebooks)`` of a run ``fer report`` already executed, for
    rendering it again (``render_only``); ``FerError`` in one line when there is none to render.

    The folder is the one ``fer report`` names (``output_dir``, else the profile's, else
    ``reports/<run_name>``). The params are those the run recorded (``<run>/params.yaml``: its
    model, seed, sweep folders), with ``overrides`` on top, so ``-p language tr`` or ``-p author``
    change the rendering only; a run without that file takes the profile's. The notebooks are the
    ``0N_*.ipynb`` the run executed, in order (05_experiments only when a sweep is named), each
    of which finished in the last run (``timings.json``): a failed run is not rendered as if whole.
    """
    if isinstance(params, dict):
        p = check_params(apply_overrides(params, overrides))
    else:
        p = load_profile(params, overrides)
    folder = output_dir or p.get("output_dir")
    out = Path(run_paths(p["run_name"], output_dir=str(folder) if folder else None)[2])
    if not out.is_dir():
        raise FerError(f"no executed run in {out}: run `fer report` with these params first "
                       "(--render-only renders a run's executed notebooks again)")
    recorded = out / "params.yaml"
    if recorded.is_file():
        p = check_params(apply_overrides(load_params(recorded), overrides), source=str(recorded))
    executed = sorted(out.glob("[0-9][0-9]_*.ipynb"))
    if not p.get("experiments"):
        executed = [path for path in executed if path.stem != EXPERIMENTS_NOTEBOOK]
    if not executed:
        raise FerError(f"no executed notebooks (0N_name.ipynb) in {out}: run `fer report` first")
    timings = read_timings(out)
    unfinished = [path.name for path in executed if timings and path.stem not in timings]
    if unfinished:
        raise FerError(f"{', '.join(unfinished)} in {out} did not finish in the last run; run `fer report` again")
    return out, p, executed


def render_only(params: str | os.PathLike | dict | None = None, overrides: dict | None = None,
                output_dir: str | os.PathLike | None = None, pdf: bool | None = None) -> Path:
    """``fer report --render-only``: the report and slides of an executed run (``executed_run``)
    rendered again in its params' ``language``, nothing executed (seconds, where ``fer report``
    takes minutes). Returns the folder it wrote (``language_folder``)."""
    out, p, executed = executed_run(params, overrides, output_dir)
    assets = render.load_assets()
    if pdf is None:
        pdf = render.find_chromium() is not None
        if not pdf:
            _say("warning: Chromium not found, the PDFs are skipped (scripts/install_report_tools.sh)")
    return render_run(out, p, executed, p["language"], assets, pdf)


def run_report_cli(params: str | os.PathLike | None, overrides, output_dir: str | os.PathLike | None,
                   only_render: bool = False) -> int:
    """``fer report`` (``only_render``: ``fer report --render-only``): 0 on success, printing the
    files written; a ``FerError`` prints one line and returns 2."""
    try:
        if only_render:
            folder = render_only(params or PARAMS_DIR / "full.yaml", parse_overrides(overrides), output_dir)
        else:
            out = run_report(params or PARAMS_DIR / "full.yaml", parse_overrides(overrides), output_dir)
            folder = language_folder(out, load_profile(params or PARAMS_DIR / "full.yaml",
                                                        parse_overrides(overrides))["language"])
    except FerError as exc:
        print(f"fer report: error: {exc}", file=sys.stderr)
        return exc.exit_code
    for name in ("report.html", "report.pdf", "slides.html", "slides.pdf"):
        if (folder / name).is_file():
            print(folder / name)
    return 0
