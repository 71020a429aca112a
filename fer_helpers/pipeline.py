"""Run the numbered notebooks with one profile, headlessly, then render the study.

    run_report("notebooks/params/smoke.yaml", overrides={"training.epochs": 1})

1. Read the profile, apply overrides and check them (``params``), so a typo fails before
   anything runs; the data and model folders must exist, every path is made absolute.
2. Convert each ``notebooks/0N_*.py`` (jupytext py:percent, the source of truth) to a notebook and
   execute it with papermill into ``reports/<run_name>/``, the parameters injected after the
   cell tagged ``parameters``. Each is executed under a temporary name and takes its own name
   once complete. A failing cell raises ``FerError`` naming the notebook and the cell; the partly
   executed notebook stays for inspection. Interrupted (Ctrl-C, SIGTERM), the running cell is
   stopped, the kernel killed, the temporary notebook removed, and ``fer report`` prints one line
   with the command that runs the report again (every notebook again: none is reused).
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
import shlex
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

from . import render
from .data import PROJECT_ROOT
from .errors import FerError
from .files import atomic_path, ensure_dir, write_json, write_text
from .params import (PARAMS_DIR, apply_overrides, check_params, load_params, load_profile, notebook_parameters,
                     parse_overrides, run_paths)

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
KERNEL_NAME = "python3"


# ---------------------------------------------------------------------------------------------
# Executing the notebooks

#: The study's chapter: executed only when the params name a sweep folder (``experiments``).
EXPERIMENTS_NOTEBOOK = "05_experiments"
#: A user's photos and videos: executed only when the params name some (``photos``; the smoke
#: profile's are the generated samples), its results kept beside the report, never merged into
#: it (``report_documents``): the report is the study.
PHOTOS_NOTEBOOK = "07_your_photos"


def report_sources(params: dict, folder: str | os.PathLike = NOTEBOOK_DIR) -> list[Path]:
    """The notebooks a report runs: all numbered ones, 05_experiments only when a sweep is named,
    07_your_photos only when photos are."""
    sources = notebook_sources(folder)
    if not params.get("experiments"):
        sources = [s for s in sources if s.stem != EXPERIMENTS_NOTEBOOK]
    if not params.get("photos"):
        sources = [s for s in sources if s.stem != PHOTOS_NOTEBOOK]
    return sources


def report_documents(executed) -> list[Path]:
    """The executed notebooks merged into the report and slides: all but 07_your_photos, whose
    photos are a user's own (its executed notebook, table and figures stay in the run folder)."""
    return [Path(p) for p in executed if Path(p).stem != PHOTOS_NOTEBOOK]


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


#: papermill's engine for ``execute_notebook`` (``_register_engine``).
ENGINE_NAME = "fer"
#: Seconds an interrupted cell gets to end before its kernel is killed.
KERNEL_STOP_GRACE_S = 10.0


def _register_engine() -> str:
    """Register (once) papermill's nbclient engine with one change: interrupted (Ctrl-C, or SIGTERM
    under ``sigterm_interrupts``), the running cell is interrupted and given a few seconds to end
    (``KERNEL_STOP_GRACE_S``), then the kernel's process group is killed.

    papermill's own engine asked a busy kernel to shut down: the kernel closed its sockets while
    its cell still ran, then printed a ZMQError traceback on the console of `fer report` and `fer
    sweep` when the cell ended. A kernel killed once idle prints nothing, and an interrupted run
    keeps no result of it anyway (``execute_notebook`` removes the partial notebook).
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.utils import merge_kwargs, remove_args

    if ENGINE_NAME in papermill_engines._engines:
        return ENGINE_NAME

    class Client(PapermillNotebookClient):
        _cell_running = False

        def execute_cell(self, cell, *args, **kwargs):
            self._cell_running = cell.cell_type == "code"
            try:
                result = super().execute_cell(cell, *args, **kwargs)
            except Exception:
                self._cell_running = False  # failed, it runs no more; an interruption leaves it True
                raise
            self._cell_running = False
            return result

        def papermill_execute_cells(self):
            try:
                super().papermill_execute_cells()
            except KeyboardInterrupt:
                self.shutdown_kernel = "immediate"  # setup_kernel's clean-up SIGKILLs the kernel's group
                _cancel_pending_tasks()
                if self._cell_running:
                    self._stop_cell()
                raise

        def _stop_cell(self, grace: float = KERNEL_STOP_GRACE_S):
            """Interrupt the running cell as JupyterLab's stop button does and wait, ``grace``
            seconds at most, until it has ended: its code gets its KeyboardInterrupt (a training
            stops between two steps and lets go of its folder) before the kernel is killed."""
            from jupyter_core.utils import ensure_async, run_sync

            async def stop():
                await ensure_async(self.km.interrupt_kernel())
                deadline = time.monotonic() + grace
                while (left := deadline - time.monotonic()) > 0:
                    msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=left))
                    if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                        return

            with contextlib.suppress(Exception):  # no answer in time (queue.Empty), a dead kernel: killed anyway
                run_sync(stop)()

    class Engine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, **kwargs):
            from papermill.engines import logger

            kwargs = remove_args(["input_path"], **kwargs)  # as NBClientEngine does
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(safe_kwargs, timeout=execution_timeout or kwargs.get("timeout"),
                                        startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
                                        log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file)
            client = Client(nb_man, **final_kwargs)
            try:
                return client.execute()
            except KeyboardInterrupt:
                # interrupted while the kernel started or shut down: nbclient's clean-up did not run
                _cancel_pending_tasks()
                km = client.km
                if km is not None and km.has_kernel:
                    client.shutdown_kernel = "immediate"
                    with contextlib.suppress(Exception):
                        client._cleanup_kernel()
                raise

    papermill_engines.register(ENGINE_NAME, Engine)
    return ENGINE_NAME


def _cancel_pending_tasks(rounds: int = 3) -> None:
    """Cancel what an interruption left running on this thread's event loop (nbclient's, run
    cell by cell by ``run_sync``): the interrupted cell's task and its pollers. Left pending, they
    ran again with the clean-up, saw the kernel killed and printed "Kernel died while waiting for
    execute reply" and a DeadKernelError traceback ("Task exception was never retrieved")."""
    import asyncio

    from jupyter_core.utils import ensure_event_loop

    with contextlib.suppress(Exception):
        loop = ensure_event_loop()
        for _ in range(rounds):  # a task may start another as it is cancelled
            tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
            if not tasks:
                return
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def execute_notebook(source: str | os.PathLike, output: str | os.PathLike, parameters: dict,
                     cwd: str | os.PathLike | None = None, progress: bool = True,
                     timeout: int | None = None):
    """Execute one jupytext notebook with papermill into ``output`` (.ipynb); ``FerError`` on a failing cell.

    The notebook is executed into a temporary name beside ``output`` (``files.atomic_path``) that
    takes the name ``output`` once every cell ran: an interrupted execution (Ctrl-C, SIGTERM under
    ``sigterm_interrupts``) leaves no half-executed notebook under a finished one's name, and no
    temporary file; its kernel is killed (``_register_engine``) and ``KeyboardInterrupt`` goes on
    up. A failing cell's notebook is kept at ``output`` for inspection (the error names it).
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    source, output = Path(source), Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    nb = to_notebook(source)
    parameters = declared_parameters(nb, parameters)
    setup = _quiet_setup_cell(nb)
    if setup is not None:
        nb.cells.insert(0, setup)
    engine = _register_engine()
    with (_kernel_environment(), tempfile.TemporaryDirectory(prefix="fer-kernel-", ignore_cleanup_errors=True) as sockets,
          atomic_path(output) as partial):
        try:
            return pm.execute_notebook(nb, str(partial), parameters=parameters, kernel_name=KERNEL_NAME,
                                       engine_name=engine, cwd=str(cwd or output.parent), progress_bar=progress,
                                       request_save_on_cell_execute=True, execution_timeout=timeout,
                                       **_ipc_kernel(sockets))
        except PapermillExecutionError as exc:
            _keep_partial(partial, output)
            index, first = _failed_cell(output)
            where = f"cell {index}" if index else f"cell {exc.cell_index}"
            where += f" (`{first[:80]}`)" if first else ""
            evalue = str(exc.evalue).strip().splitlines()[0] if str(exc.evalue).strip() else ""
            raise FerError(f"notebook {source.name}: {where} failed with {exc.ename}: {evalue}; "
                           f"partly executed notebook kept at {output}") from None
        except FerError:
            raise
        except Exception as exc:  # dead kernel, timeout, missing kernel
            _keep_partial(partial, output)
            raise FerError(f"notebook {source.name}: execution failed ({exc.__class__.__name__}: "
                           f"{str(exc).strip()[:300]}); partly executed notebook (if any) at {output}") from None


def declared_parameters(nb, parameters: dict) -> dict:
    """The ``parameters`` a notebook's parameters cell declares (all of them when it has no such
    cell): a parameter only one notebook takes (07_your_photos' ``photos``) is not injected into
    the others, where papermill would warn "Passed unknown parameter"."""
    from papermill.translators import papermill_translators

    cell = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)
    translator = papermill_translators.find_translator(KERNEL_NAME, "python")
    declared = {p.name for p in translator.inspect(cell)} if cell is not None else set()
    if not declared:
        return dict(parameters or {})
    return {k: v for k, v in (parameters or {}).items() if k in declared}


def _keep_partial(partial: Path, output: Path) -> None:
    """A failed execution's notebook, kept at ``output`` for inspection (the error message says so)."""
    with contextlib.suppress(OSError):
        os.replace(partial, output)


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
        with _step(f"executing {src.name}"):
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
    with _step("rendering the HTML"):
        nb = render.merge_notebooks(report_documents(executed), params)
        html_path = render.render_html(nb, target / "report.html", assets, language)
        slides_path = render.render_slides(nb, target / "slides.html", assets, language)
    _record_timing(out, f"render_html{suffix}", time.time() - t0)
    _say(f"wrote {html_path.name} and {slides_path.name} ({language}, {time.time() - t0:.0f}s)")
    if pdf:
        t0 = time.time()
        with _step("printing the PDFs"):
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
    ``0N_*.ipynb`` the run executed, in order (05_experiments only when a sweep is named; never
    07_your_photos, which is not rendered: ``report_documents``), each
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
    executed = report_documents(sorted(out.glob("[0-9][0-9]_*.ipynb")))  # 07's is never rendered
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


# ---------------------------------------------------------------------------------------------
# Interruptions: Ctrl-C and SIGTERM end a run in one line that says how to run it again

class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where it lands as Ctrl-C's ``KeyboardInterrupt`` is (``sigterm_interrupts``),
    so that it gets the same clean-up: the kernel killed, no partial notebook, no Chromium left."""


#: Exit status of a run ended by SIGINT (Ctrl-C) and by SIGTERM: the shell's 128 + signal number.
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


@contextlib.contextmanager
def sigterm_interrupts():
    """Meanwhile SIGTERM raises ``Terminated`` in the main thread (by default it ends Python at
    once: no ``finally`` runs, the temporary notebook stays and the kernel outlives its parent for
    a while). A second SIGTERM during the clean-up is ignored. Elsewhere than in the main thread,
    nothing changes (Python handles signals there only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []

    def handler(signum, frame):
        if received:
            return  # cleaning up after the first one
        received.append(signum)
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _step(what: str):
    """Name the step an interruption lands in (``KeyboardInterrupt.fer_step``) for its message."""
    try:
        yield
    except KeyboardInterrupt as exc:
        if not getattr(exc, "fer_step", None):
            exc.fer_step = what
        raise


def report_command(params, overrides, output_dir, only_render: bool = False) -> str:
    """The ``fer report`` command line of these arguments, quoted for a POSIX shell."""
    words = ["fer", "report"] + (["--render-only"] if only_render else [])
    words += ["--params", str(params)] if params else []
    for key, value in overrides or []:
        words += ["-p", str(key), str(value)]
    words += ["--out", str(output_dir)] if output_dir else []
    return shlex.join(words)


def run_report_cli(params: str | os.PathLike | None, overrides, output_dir: str | os.PathLike | None,
                   only_render: bool = False) -> int:
    """``fer report`` (``only_render``: ``fer report --render-only``): 0 on success, printing the
    files written; a ``FerError`` prints one line and returns 2.

    Interrupted (Ctrl-C: 130, SIGTERM: 143), it prints one line naming the command that starts it
    again: a run executes every notebook again (none is reused, as a run's notebooks must come
    from one execution), ``--render-only`` renders again. No partial notebook or PDF, temporary
    file, kernel or browser is left (``execute_notebook``, ``render.print_pdf``).
    """
    try:
        with sigterm_interrupts():
            if only_render:
                folder = render_only(params or PARAMS_DIR / "full.yaml", parse_overrides(overrides), output_dir)
            else:
                out = run_report(params or PARAMS_DIR / "full.yaml", parse_overrides(overrides), output_dir)
                folder = language_folder(out, load_profile(params or PARAMS_DIR / "full.yaml",
                                                            parse_overrides(overrides))["language"])
    except FerError as exc:
        print(f"fer report: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        during = f" while {exc.fer_step}" if getattr(exc, "fer_step", None) else ""
        again = ("to render it again (nothing is executed)" if only_render
                 else "to run the report again (every notebook is executed again, none is reused)")
        print(f"fer report: {'terminated' if isinstance(exc, Terminated) else 'interrupted'}{during}; "
              f"run `{report_command(params, overrides, output_dir, only_render)}` {again}",
              file=sys.stderr, flush=True)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    for name in ("report.html", "report.pdf", "slides.html", "slides.pdf"):
        if (folder / name).is_file():
            print(folder / name)
    return 0
