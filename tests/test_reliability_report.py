"""`fer report` and `fer sweep` interrupted, and notebooks opened in a second clone, with real processes.

1. Ctrl-C or SIGTERM in the middle of a notebook: one line naming the command that starts the run
   again, exit 130 or 143, no traceback (a kernel's ZMQError) on the console, no half-executed
   notebook under a finished one's name, no temporary notebook, no kernel left.
2. Ctrl-C while Chromium prints a PDF: no ``fer-chromium-*`` profile, no browser process left,
   and `fer report --render-only` says so in one line.
3. Ctrl-C during a sweep's training notebook: one line with the command that resumes it.
4. A notebook run from a second clone reads and writes that clone, and says whose code it runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
import yaml

from fer_helpers.files import TMP_PREFIX
from terminal import fer_from_a_terminal, python_from_a_terminal

PROJECT = Path(__file__).resolve().parent.parent
#: TensorFlow's C++ start-up lines (absl logging) and the progress bars: not what fer printed.
NOT_FERS = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)|[IWEF]\d{4} \d\d:\d\d:\d\d|"
                      r"\s*Executing:|.*\d+%\|.*\|.*|\s*$)")


#: What an interrupted kernel used to put on the console: its ZMQError, nbclient's dead-kernel
#: log line and traceback ("Task exception was never retrieved").
KERNEL_NOISE = ("Traceback", "ZMQError", "DeadKernelError", "Kernel died", "never retrieved")


def fer_env(**extra) -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(PROJECT), os.environ.get("PYTHONPATH", "")]), **extra)


def start(args: list, cwd=PROJECT, **env) -> subprocess.Popen:
    """``fer ...`` (``args`` after the command name) in a session of its own, so that ``ctrl_c``
    reaches it the way a terminal's Ctrl-C does: the whole foreground process group."""
    return subprocess.Popen(fer_from_a_terminal(*args), cwd=cwd, env=fer_env(**env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def ctrl_c(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGINT)


def fers_lines(stderr: str) -> list[str]:
    """What fer itself printed on stderr: no progress bar, no TensorFlow start-up line."""
    return [line for line in re.split(r"[\r\n]", stderr) if not NOT_FERS.match(line)]


def wait_for(condition, timeout: float, what: str, proc: subprocess.Popen | None = None, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the process ended (exit {proc.returncode}) before {what}:\n{out[-2000:]}\n{err[-3000:]}")
        time.sleep(every)
    if proc is not None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    pytest.fail(f"no {what} within {timeout}s")


def processes_of(marker: str) -> list[int]:
    """Live processes whose command line or environment holds ``marker`` (zombies left out)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            blob = (entry / "cmdline").read_bytes() + b"\0" + (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in blob:
            found.append(int(entry.name))
    return found


def kernels_of(pid: int) -> list[int]:
    """The notebook kernels the process ``pid`` started (jupyter_client gives them JPY_PARENT_PID)."""
    return [k for k in processes_of(f"JPY_PARENT_PID={pid}\0") if b"ipykernel" in Path(f"/proc/{k}/cmdline").read_bytes()]


def executed_cells(path: Path) -> tuple[int, int] | None:
    """(code cells run, code cells) of a notebook being written, or None while it cannot be read."""
    try:
        nb = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    return sum(c.get("execution_count") is not None for c in code), len(code)


def notebook_running(folder: Path, stem: str, cells: int = 2):
    """The notebook (under its final or a temporary name) whose kernel has run ``cells`` code cells."""
    def check():
        for path in folder.glob(f"*{stem}.ipynb"):
            done = executed_cells(path)
            if done and done[0] >= cells:
                return path
        return None
    return check


def assert_no_half_executed_notebook(folder: Path) -> None:
    for path in folder.rglob("*.ipynb"):
        assert not path.name.startswith(TMP_PREFIX), f"temporary notebook left: {path.name}"
        done, total = executed_cells(path)
        assert done == total, f"{path.name} is half-executed ({done} of {total} code cells run)"


def assert_no_temporaries(folder: Path) -> None:
    left = [p.name for p in folder.rglob(f"{TMP_PREFIX}*")]
    assert not left, f"temporary files left: {left}"


# ---------------------------------------------------------------------------------------------
# 1. fer report interrupted in a notebook

@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupted_fer_report_leaves_no_half_executed_notebook_and_says_how_to_run_it_again(tmp_path, how):
    out, tmp = tmp_path / "run", tmp_path / "tmp"
    tmp.mkdir()
    proc = start(["report", "--params", "notebooks/params/smoke.yaml", "--out", out], TMPDIR=str(tmp))
    wait_for(notebook_running(out, "01_data_exploration"), 240, "kernel running 01_data_exploration's cells", proc)
    if how == "ctrl-c":
        ctrl_c(proc)
    else:
        proc.send_signal(signal.SIGTERM)  # `kill PID`, as a scheduler or `timeout` sends it: to fer alone
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == (130 if how == "ctrl-c" else 143), err[-3000:]
    assert not any(noise in err for noise in KERNEL_NOISE), err[-3000:]
    lines = fers_lines(err)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"fer report: {'interrupted' if how == 'ctrl-c' else 'terminated'} while executing "
                               "01_data_exploration.py;"), lines[0]
    assert f"fer report --params notebooks/params/smoke.yaml --out {out}" in lines[0]
    assert "every notebook is executed again" in lines[0]
    assert_no_half_executed_notebook(out)
    assert not (out / "01_data_exploration.ipynb").exists()
    assert_no_temporaries(out)
    assert not list(tmp.iterdir()), f"left in TMPDIR: {list(p.name for p in tmp.iterdir())}"  # sockets, connection file
    wait_for(lambda: not kernels_of(proc.pid), 10, "end of the run's kernel")


# ---------------------------------------------------------------------------------------------
# 2. Chromium interrupted while it prints

#: A page whose script keeps Chromium's renderer busy for seconds before it prints.
SLOW_PAGE = ("<html><body><h1>slow</h1><script>let x = 0; for (let i = 0; i < 3e9; i++) { x += i % 7; }"
             "document.body.append(String(x));</script></body></html>")


@pytest.fixture
def short_tmp():
    """A temporary folder with a short path, for TMPDIR: Chromium puts its singleton socket there and
    stops ("Socket path too long") when the path exceeds a Unix socket's 107 characters."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="fer-test-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def chromium_running(tmp: Path):
    """The ``fer-chromium-*`` profile in ``tmp`` once Chromium has written into it."""
    def check():
        return next((p for p in tmp.glob("fer-chromium-*") if any(p.iterdir())), None)
    return check


def test_print_pdf_interrupted_leaves_no_chromium_profile_or_process(tmp_path, short_tmp):
    from fer_helpers import render

    if render.find_chromium() is None:
        pytest.skip("Chromium not found (scripts/install_report_tools.sh)")
    tmp = short_tmp
    (tmp_path / "page.html").write_text(SLOW_PAGE)
    code = textwrap.dedent(f"""\
        import sys
        from fer_helpers import render
        try:
            render.print_pdf({str(tmp_path / 'page.html')!r}, {str(tmp_path / 'page.pdf')!r})
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            sys.exit(130)
        """)
    for attempt in range(3):  # the race the clean-up lost 2 times in 6: try it more than once
        proc = subprocess.Popen(python_from_a_terminal(code), cwd=PROJECT, env=fer_env(TMPDIR=str(tmp)),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        profile = wait_for(chromium_running(tmp), 60, "Chromium profile", proc, every=0.05)
        time.sleep(0.3 * attempt)
        ctrl_c(proc)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130 and err.strip() == "interrupted", err[-3000:]
        assert not list(tmp.iterdir()), f"left in TMPDIR: {list(p.name for p in tmp.iterdir())}"
        assert not processes_of(str(profile)), "a Chromium process outlived the print"
        assert not (tmp_path / "page.pdf").exists()
        assert_no_temporaries(tmp_path)


def _executed_run(folder: Path) -> Path:
    """A run folder as `fer report` leaves it (two executed notebooks, params.yaml, timings.json),
    with an output whose script keeps Chromium busy for seconds."""
    folder.mkdir(parents=True)
    for i in (1, 2):
        head = nbformat.v4.new_markdown_cell(f"# {i}. Chapter {i}", metadata={"slideshow": {"slide_type": "slide"}})
        slow = nbformat.v4.new_code_cell("show()", outputs=[nbformat.v4.new_output(
            "display_data", data={"text/html": SLOW_PAGE.removeprefix("<html><body>").removesuffix("</body></html>")})])
        nbformat.write(nbformat.v4.new_notebook(cells=[head, slow]), folder / f"0{i}_chapter.ipynb")
    p = {"run_name": "t", "train": False, "seed": 5, "model_dir": "/elsewhere/models/default"}
    (folder / "params.yaml").write_text(yaml.safe_dump(p))
    (folder / "timings.json").write_text(json.dumps({"01_chapter": 1.0, "02_chapter": 2.0, "total": 3.0}))
    return folder


def test_fer_report_render_only_interrupted_while_printing_says_so_in_one_line(tmp_path, short_tmp):
    from fer_helpers import render

    if render.find_chromium() is None:
        pytest.skip("Chromium not found (scripts/install_report_tools.sh)")
    tmp = short_tmp
    run = _executed_run(tmp_path / "run")
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"run_name": "t", "train": False, "seed": 5, "model_dir": str(tmp_path)}))
    proc = start(["report", "--render-only", "--params", params, "--out", run], TMPDIR=str(tmp))
    profile = wait_for(chromium_running(tmp), 120, "Chromium profile", proc, every=0.05)
    ctrl_c(proc)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-3000:]
    assert "Traceback" not in err and "Directory not empty" not in err, err[-3000:]
    lines = fers_lines(err)
    assert len(lines) == 1 and lines[0].startswith("fer report: interrupted while printing the PDFs;"), lines
    assert f"fer report --render-only --params {params} --out {run}" in lines[0]
    assert not list(tmp.iterdir()) and not processes_of(str(profile)), list(tmp.iterdir())
    assert not (run / "report.pdf").exists()
    assert_no_temporaries(run)


# ---------------------------------------------------------------------------------------------
# 3. fer sweep interrupted in its training notebook

@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupted_fer_sweep_prints_one_line_with_the_command_that_resumes_it(tmp_path, how):
    sweep = tmp_path / "tiny.yaml"
    sweep.write_text(yaml.safe_dump({"description": "one variant that takes longer than the test waits",
                                     "base": str(PROJECT / "notebooks" / "params" / "smoke.yaml"),
                                     "common": {"training": {"epochs": 30}}, "variants": {"only": {}}}))
    runs, tmp = tmp_path / "runs", tmp_path / "tmp"
    tmp.mkdir()
    proc = start(["sweep", sweep, "--out", runs], TMPDIR=str(tmp))
    wait_for(notebook_running(runs / "only", "02_training", cells=3), 240, "kernel running 02_training's cells", proc)
    time.sleep(1)  # a cell running, not between two
    if how == "ctrl-c":
        ctrl_c(proc)
    else:  # a scheduler stopping the job signals fer alone
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]  # an interrupted sweep: resumable, whatever stopped it
    assert not any(noise in err for noise in KERNEL_NOISE), err[-3000:]
    lines = fers_lines(err)
    assert len(lines) == 1, lines
    assert "sweep interrupted during only" in lines[0] and f"resume it with: fer sweep {sweep} --out {runs}" in lines[0]
    assert not list((runs / "only").glob(f"{TMP_PREFIX}*")), "temporary notebook left"
    assert not list(tmp.iterdir()), f"left in TMPDIR: {list(p.name for p in tmp.iterdir())}"  # sockets, connection file
    wait_for(lambda: not kernels_of(proc.pid), 10, "end of the sweep's kernel")


# ---------------------------------------------------------------------------------------------
# 4. A notebook of a second clone

def test_find_project_is_the_enclosing_checkout_and_the_notice_names_both(tmp_path):
    from fer_helpers import data

    assert data.find_project(PROJECT / "notebooks" / "params") == PROJECT
    assert data.other_project_notice(PROJECT / "notebooks") is None
    assert data.find_project(tmp_path) is None and data.other_project_notice(tmp_path) is None
    other = tmp_path / "other"
    (other / "notebooks").mkdir(parents=True)
    assert data.find_project(other / "notebooks") is None  # notebooks/ alone is not this project
    (other / "pyproject.toml").write_text('[project]\nname = "fer-helpers"\n')
    assert data.find_project(other / "notebooks") == other.resolve()
    assert data.working_project(other / "notebooks") == other.resolve() and data.working_project(tmp_path) == PROJECT
    notice = data.other_project_notice(other / "notebooks")
    assert str(other.resolve()) in notice and str(PROJECT) in notice and "\n" not in notice


def test_a_notebook_opened_in_a_second_clone_writes_into_that_clone_and_says_whose_code_runs(tmp_path):
    """Two clones on one machine, the package installed from the first (here: PYTHONPATH): a
    notebook of the second, run with papermill from its notebooks/ folder as JupyterLab starts a
    kernel there, writes into the second clone (reports/, models/ and the profiles are its own)
    and says in one line that the code it runs is the first clone's. It used to write into the
    first clone (its reports/interactive/) without a word."""
    import jupytext

    clone = tmp_path / "second"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(PROJECT), str(clone)], check=True, timeout=300)
    real = jupytext.read(clone / "notebooks" / "01_data_exploration.py", fmt="py:percent")
    last = next(i for i, c in enumerate(real.cells) if "run_paths(" in c.source)  # its parameters and paths cells
    marker = f"written-by-{os.getpid()}-{time.monotonic_ns()}.txt"  # a name no other run writes
    cells = real.cells[: last + 1] + [nbformat.v4.new_code_cell(
        "from pathlib import Path\nfrom fer_helpers.params import resolve_params_file\n"
        "Path(output_dir).mkdir(parents=True, exist_ok=True)\n"
        f"Path(output_dir, {marker!r}).write_text('here')\n"
        "print('OUTPUT_DIR', output_dir)\nprint('MODEL_DIR', model_dir)\n"
        "print('PROFILE', resolve_params_file('smoke'))")]
    head = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                          "language": "python"}})
    nbformat.write(head, clone / "notebooks" / "00_head.ipynb")
    env = {k: v for k, v in os.environ.items() if k not in ("FER_PROFILE", "PYTHONPATH")}
    env["PYTHONPATH"] = str(PROJECT)  # the first clone's package, as `pip install -e` of it gives
    run = subprocess.run([sys.executable, "-m", "papermill", "--no-progress-bar", "00_head.ipynb", "00_head.out.ipynb"],
                         cwd=clone / "notebooks", env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    executed = nbformat.read(clone / "notebooks" / "00_head.out.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", []))
    second = clone.resolve()
    assert re.search(r"OUTPUT_DIR (.*)", text).group(1).strip() == str(second / "reports" / "interactive"), text
    assert re.search(r"MODEL_DIR (.*)", text).group(1).strip() == str(second / "models" / "default"), text
    assert re.search(r"PROFILE (.*)", text).group(1).strip() == str(second / "notebooks" / "params" / "smoke.yaml")
    assert (second / "reports" / "interactive" / marker).read_text() == "here"
    assert not (PROJECT / "reports" / "interactive" / marker).exists(), "written into the first clone"
    says_which = [line for line in text.splitlines() if str(second) in line and str(PROJECT) in line]
    assert len(says_which) == 1 and "code" in says_which[0], text


def test_run_paths_and_relative_paths_resolve_in_the_checkout_a_command_starts_in(tmp_path, monkeypatch):
    """The same rule in-process: from a second checkout (its notebooks/ folder or its root), the
    defaults and relative paths are its own; outside any checkout, the package's."""
    from fer_helpers import params

    second = tmp_path / "second"
    (second / "notebooks" / "params").mkdir(parents=True)
    (second / "fer_helpers").mkdir()
    (second / "models" / "mine").mkdir(parents=True)
    (second / "notebooks" / "params" / "smoke.yaml").write_text((PROJECT / "notebooks/params/smoke.yaml").read_text())
    for cwd in (second, second / "notebooks"):
        monkeypatch.chdir(cwd)
        data_dir, model_dir, output_dir = params.run_paths("smoke", None, "models/mine")
        assert (data_dir, model_dir, output_dir) == (None, str(second / "models" / "mine"),
                                                     str(second / "reports" / "smoke"))
        assert params.resolve_params_file("smoke") == second / "notebooks" / "params" / "smoke.yaml"
    monkeypatch.chdir(tmp_path)
    assert params.run_paths("smoke")[2] == str(PROJECT / "reports" / "smoke")
