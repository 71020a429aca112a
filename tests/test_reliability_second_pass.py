"""The reliability issue's second pass: one writer per run folder, damaged run records, a full
disk or lost write access mid-run, and parameters checked before TensorFlow loads.

The behaviour of processes is tested with real ``fer`` processes on tiny synthetic data: two
trainings started together, a kill -9, a file system that fills up (a small tmpfs where this
machine lets us mount one, else a simulated ENOSPC in the child).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from fer_helpers import cli
from fer_helpers import sweep as SW
from fer_helpers.files import TMP_PREFIX
from fer_helpers.locks import WRITER_LOCK
from test_model_training import TINY, tiny_ferplus

PROJECT = Path(__file__).resolve().parent.parent
PARAMS = {"training": {**TINY, "model": "baseline", "epochs": 3, "dropout": 0.3}}


def _env():
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def fer_command(*args) -> list[str]:
    return [sys.executable, "-m", "fer_helpers.cli", *map(str, args)]


def fer(*args, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(fer_command(*args), cwd=PROJECT, capture_output=True, text=True, timeout=timeout,
                          env=_env())


def our_lines(stderr: str) -> list[str]:
    """stderr without TensorFlow's start-up chatter (C++ logging it prints before Python runs)."""
    return [line for line in stderr.splitlines()
            if line.strip() and not line.startswith(("WARNING: All log", "I0000", "E0000", "W0000"))]


def committed(out: Path) -> list[int]:
    return sorted(int(p.stem.split("-")[1]) for p in (out / "checkpoints").glob("epoch-*.json"))


def wait_for(condition, proc: subprocess.Popen, what: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert proc.poll() is None, f"the training ended before {what}: {proc.stderr.read()[-2000:]}"
        assert time.monotonic() < deadline, f"no {what} after {seconds} s"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Tiny data, params files (3 epochs, and one long enough to be interrupted) and a model folder."""
    root = tmp_path_factory.mktemp("second-pass")
    data = tiny_ferplus(root / "data", per_class=(12, 2, 2))
    short = root / "short.yaml"
    short.write_text(yaml.safe_dump(PARAMS))
    long = root / "long.yaml"
    long.write_text(yaml.safe_dump({"training": {**PARAMS["training"], "epochs": 500, "patience": 500}}))
    from fer_helpers.model import build, save_model_dir

    model = save_model_dir(build("baseline", seed=0), root / "model")
    return data, short, long, model


# ---------------------------------------------------------------------------------------------
# 1. One writer per run folder

#: Child process: `fer train ARGS`, its first look at whether the folder holds a run held back
#: until every child of the test (BARRIER folder, COUNT of them) has come to that same point:
#: the timing of two trainings started within a second, made certain.
TOGETHER = """
import os, sys, time
barrier, count = sys.argv[1], int(sys.argv[2])
import fer_helpers.quiet; fer_helpers.quiet.import_keras_quietly()
import fer_helpers.training as T
real, waited = T.holds_run, []
def holds_run_together(folder):
    if not waited:
        waited.append(1)
        open(os.path.join(barrier, str(os.getpid())), "w").close()
        deadline = time.time() + 120
        while len(os.listdir(barrier)) < count and time.time() < deadline:
            time.sleep(0.01)
    return real(folder)
T.holds_run = holds_run_together
from fer_helpers.cli import main
sys.exit(main(["train"] + sys.argv[3:]))
"""


@pytest.mark.slow
def test_two_trainings_started_together_into_one_folder_leave_one_run(tiny, tmp_path):
    """Both used to pass the "already holds a run" check (seconds before start.json is written)
    and both exited 0, leaving params.yaml, run.json and start.json of one run beside the history
    of the other. Now exactly one trains; the other is refused in one line."""
    data, short, _, _ = tiny
    out, barrier = tmp_path / "m", tmp_path / "barrier"
    barrier.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", TOGETHER, str(barrier), "2", "--params", str(short), "--data",
                               str(data), "--out", str(out), "-p", "seed", str(seed)], cwd=PROJECT, env=_env(),
                              text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for seed in (1, 2)]
    results = [(p.wait(timeout=600), *p.communicate()) for p in procs]
    assert len(os.listdir(barrier)) == 2, "the children did not meet"
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], [(code, err[-1500:]) for code, _, err in results]
    loser_err = next(err for code, _, err in results if code == 2)
    lines = our_lines(loser_err)
    assert len(lines) == 1 and "Traceback" not in loser_err, loser_err
    assert lines[0].startswith(f"fer: error: {out}: another process") and "is writing this model folder" in lines[0]

    seed = yaml.safe_load((out / "params.yaml").read_text())["training"]["seed"]
    assert json.loads((out / "run.json").read_text())["seed"] == seed
    assert json.loads((out / "checkpoints" / "start.json").read_text())["info"]["seed"] == seed
    history = pd.read_csv(out / "history.csv")
    assert list(history["epoch"]) == [1, 2, 3]
    assert not (out / WRITER_LOCK).exists() and not list(out.rglob(f"{TMP_PREFIX}*"))


@pytest.mark.slow
def test_a_folder_being_trained_refuses_other_writers_and_a_kill_leaves_it_resumable(tiny, tmp_path):
    data, _, long, model = tiny
    out = tmp_path / "m"
    first = subprocess.Popen(fer_command("train", "--params", long, "--data", data, "--out", out), cwd=PROJECT,
                             env=_env(), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: committed(out), first, "first epoch")
        # --resume used to join in: two processes writing one run's checkpoints and history
        second = fer("train", "--out", out, "--resume", "-p", "epochs", 1)
        lines = our_lines(second.stderr)
        assert second.returncode == 2 and len(lines) == 1, second.stdout + second.stderr
        assert f"{out}: another process (pid {first.pid}) is writing this model folder now" in lines[0]

        evaluate = fer("evaluate", model, "--data", data, "--out", out)
        lines = our_lines(evaluate.stderr)
        assert evaluate.returncode == 2 and len(lines) == 1, evaluate.stdout + evaluate.stderr
        assert "another process" in lines[0] and "--out" in lines[0]
        assert not list(out.glob("evaluation_*")) and not list(out.glob("*.png"))
        assert first.poll() is None, "the first training did not survive the others"
    finally:
        first.kill()  # SIGKILL: no chance to let go of its lock itself
        first.wait()
    assert (out / WRITER_LOCK).exists()  # left behind, and held by nobody
    done = committed(out)[-1]
    resumed = fer("train", "--out", out, "--resume", "-p", "epochs", done + 1)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resuming {out} after epoch {done}" in resumed.stdout
    assert list(pd.read_csv(out / "history.csv")["epoch"]) == list(range(1, done + 2))
    assert not (out / WRITER_LOCK).exists()


# ---------------------------------------------------------------------------------------------
# 2. Damaged run records

def record_run(folder: Path, val: float, epochs: int = 3) -> None:
    """A finished run's text records, as training writes them."""
    folder.mkdir(parents=True)
    (folder / "params.yaml").write_text(yaml.safe_dump({"training": {"epochs": epochs}}))
    rows = [{"epoch": e, "val_accuracy": val, "val_macro_f1": 0.5, "epoch_seconds": 60.0} for e in range(1, epochs + 1)]
    pd.DataFrame(rows).to_csv(folder / "history.csv", index=False)
    (folder / "metrics.json").write_text(json.dumps({"validation": {"accuracy": val, "macro_f1": 0.5},
                                                     "test": {"accuracy": val, "macro_f1": 0.4}}))
    (folder / "run.json").write_text(json.dumps({"best_epoch": epochs, "epochs_run": epochs, "wall_seconds": 180.0,
                                                 "git_commit": "abcdef123", "machine": {"cpu_count": 2}}))


DAMAGES = {
    "truncated": lambda raw: raw[: len(raw) // 2],
    "emptied": lambda raw: b"{}",
    "binary": lambda raw: bytes(range(256)),
    "wrong shape": lambda raw: b"[1, 2]",
    "empty file": lambda raw: b"",
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_runs_names_a_damaged_run_and_prints_the_rest(tmp_path, damage):
    sweep = tmp_path / "s"
    sweep.mkdir()
    (sweep / "sweep.yaml").write_text(yaml.safe_dump({"name": "s", "variants": {"good": {}, "bad": {}, "other": {}}}))
    for name, val in (("good", 0.8), ("bad", 0.7), ("other", 0.6)):
        record_run(sweep / name, val)
    metrics = sweep / "bad" / "metrics.json"
    metrics.write_bytes(DAMAGES[damage](metrics.read_bytes()))

    listed = fer("runs", sweep)
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    table = pd.read_csv(sweep / "runs.csv")
    status = dict(zip(table["variant"], table["status"]))
    assert status["good"] == status["other"] == "finished"
    assert status["bad"].startswith("damaged: metrics.json"), status["bad"]
    assert "80.00%" in listed.stdout and "60.00%" in listed.stdout and "damaged: metrics.json" in listed.stdout
    lines = listed.stderr.strip().splitlines()
    assert len(lines) == 1 and "damaged" in lines[0], listed.stderr
    # the path as typed back where the command ran: relative when the temporary folder lies beside
    # the project (a clone in /tmp), absolute otherwise; either way it names the damaged run
    named = lines[0].split(": ")[1]
    assert (Path(PROJECT) / named).resolve() == (sweep / "bad").resolve(), lines[0]

    markdown = fer("runs", sweep, "--markdown")
    assert markdown.returncode == 0 and "Traceback" not in markdown.stderr, markdown.stderr
    assert "| good |" in markdown.stdout and "| other |" in markdown.stdout and "| bad |" not in markdown.stdout
    assert "2 of 3 runs finished." in markdown.stdout and len(markdown.stderr.strip().splitlines()) == 1


def test_sweep_trains_a_damaged_variant_again_and_says_so(tmp_path, monkeypatch):
    """``finished already`` with blank figures was the old answer; a damaged variant is trained
    again (its training resumes from its last checkpoint and writes the records anew)."""
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump({"run_name": "t", "train": True, "seed": 42, "training": PARAMS["training"]}))
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump({"base": str(base), "variants": {"good": {}, "bad": {}, "odd": {}}}, sort_keys=False))
    runs = tmp_path / "runs"
    for name in ("good", "bad", "odd"):
        record_run(runs / name, 0.7)
    (runs / "bad" / "metrics.json").write_text("{}")
    (runs / "odd" / "metrics.json").write_text("[1, 2]")
    trained = []

    def fake_training(sweep, variant, progress):
        trained.append(variant.name)
        (variant.folder / "metrics.json").write_text(json.dumps({"validation": {"accuracy": 0.75, "macro_f1": 0.5}}))

    monkeypatch.setattr(SW, "_run_variant", fake_training)
    said = []
    assert SW.run_sweep(path, runs_dir=runs, progress=False, say=said.append) == 0
    text = "\n".join(said)
    assert trained == ["bad", "odd"], text
    assert "[1/3] good (no change): finished already, validation 70.00%" in text
    for name in ("bad", "odd"):
        line = next(s for s in said if s.startswith(f"[{2 if name == 'bad' else 3}/3] {name}"))
        assert "damaged record, metrics.json" in line and "training it again" in line, line
        assert f"{name} (no change): finished already" not in text
    assert SW.is_finished(runs / "bad") and SW.is_finished(runs / "odd")


# ---------------------------------------------------------------------------------------------
# 3. A full file system mid-run

@contextlib.contextmanager
def small_filesystem(where: Path, size: str):
    """A tmpfs of ``size`` at ``where`` (unmounted after), or ``None`` where mounting is not allowed."""
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                             capture_output=True).returncode == 0
    try:
        yield where if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


#: Child process, where no tmpfs can be mounted: `fer ARGS` with every write under FOLDER failing
#: with ENOSPC once the file named START_AFTER exists in it.
SIMULATED_FULL_DISK = """
import builtins, errno, os, sys
folder, start_after = os.path.abspath(sys.argv[1]), sys.argv[2]
real_open = builtins.open
def full_open(file, mode="r", *args, **kwargs):
    path = os.path.abspath(str(file)) if isinstance(file, (str, os.PathLike)) else ""
    if path.startswith(folder) and any(m in mode for m in "wax") and (not start_after or any(
            start_after in names for _, _, names in os.walk(folder))):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
    return real_open(file, mode, *args, **kwargs)
builtins.open = full_open
from fer_helpers.cli import main
sys.exit(main(sys.argv[3:]))
"""


def fill(folder: Path) -> Path:
    """Take every free byte of ``folder``'s file system."""
    filler = folder / "filler"
    with open(filler, "wb") as f:
        with contextlib.suppress(OSError):
            while True:
                f.write(b"\0" * (1 << 16))
                f.flush()
    return filler


@pytest.mark.slow
def test_evaluate_on_a_full_file_system_is_one_line_and_leaves_no_half_file(tiny, tmp_path):
    data, _, _, model = tiny
    with small_filesystem(tmp_path / "small", "8k") as small:
        out = (small or tmp_path / "small") / "results"
        if small is None:  # simulated: every write into the folder fails as a full disk's would
            out.mkdir()
            run = subprocess.run([sys.executable, "-c", SIMULATED_FULL_DISK, out, "", "evaluate", model,
                                  "--data", data, "--out", out], cwd=PROJECT, capture_output=True, text=True,
                                 env=_env(), timeout=600)
        else:
            run = fer("evaluate", model, "--data", data, "--out", out)
        lines = our_lines(run.stderr)
        assert run.returncode == 2 and len(lines) == 1 and "Traceback" not in run.stderr, run.stderr[-3000:]
        assert f"{out}/" in lines[0] and "No space left on device" in lines[0] and "free space" in lines[0]
        from PIL import Image

        for png in out.glob("*.png"):  # whatever fitted is whole; nothing half written has a final name
            Image.open(png).load()
        assert not list(out.glob("evaluation_*")) and not list(out.rglob(f"{TMP_PREFIX}*"))


@pytest.mark.slow
def test_training_on_a_file_system_that_fills_up_says_how_to_resume(tiny, tmp_path):
    data, _, long, _ = tiny
    with small_filesystem(tmp_path / "small", "200m") as small:
        out = (small or tmp_path / "small") / "m"
        if small is None:
            proc = subprocess.Popen([sys.executable, "-c", SIMULATED_FULL_DISK, out, "epoch-0001.json", "train",
                                     "--params", long, "--data", data, "--out", out], cwd=PROJECT, env=_env(),
                                    text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            proc.wait(timeout=600)
            filler = None
        else:
            proc = subprocess.Popen(fer_command("train", "--params", long, "--data", data, "--out", out),
                                    cwd=PROJECT, env=_env(), text=True, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            try:
                wait_for(lambda: committed(out), proc, "first epoch")
                filler = fill(small)
                proc.wait(timeout=300)
            finally:
                proc.kill()
        _, stderr = proc.communicate()
        lines = our_lines(stderr)
        assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in stderr, stderr[-3000:]
        assert "No space left on device" in lines[0] and "free space" in lines[0], lines[0]
        assert lines[0].endswith(f"continue with: fer train --out {out} --resume"), lines[0]
        assert not list(out.rglob(f"{TMP_PREFIX}*")) and not (out / "model.keras").exists()
        pd.read_csv(out / "history.csv")  # whole: a full disk cut no file short under its name

        if filler is not None:
            filler.unlink()
        done = committed(out)[-1]
        resumed = fer("train", "--out", out, "--resume", "-p", "epochs", done + 1)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        assert list(pd.read_csv(out / "history.csv")["epoch"]) == list(range(1, done + 2))


#: Child process, where ``chmod`` cannot take write access away (root writes anyway): `fer ARGS`
#: with FOLDER behaving as after ``chmod -R a-w`` once the file named START_AFTER exists in it:
#: opening a file there for writing, creating, renaming, linking or removing fails with EACCES.
SIMULATED_READ_ONLY = """
import builtins, errno, io, os, sys
folder, start_after = os.path.abspath(sys.argv[1]), sys.argv[2]
def read_only(path):
    try:
        path = os.path.abspath(os.fsdecode(path))
    except TypeError:
        return False
    return (path == folder or path.startswith(folder + os.sep)) and any(
        start_after in names for _, _, names in os.walk(folder))
def refuse(path):
    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
real_open = io.open
def open_(file, mode="r", *args, **kwargs):
    if isinstance(file, (str, bytes, os.PathLike)) and any(m in mode for m in "wax+") and read_only(file):
        refuse(file)
    return real_open(file, mode, *args, **kwargs)
builtins.open = io.open = open_
real_os_open = os.open
def os_open(path, flags, *args, **kwargs):
    if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and read_only(path):
        refuse(path)
    return real_os_open(path, flags, *args, **kwargs)
os.open = os_open
def guarded(real, *paths_at):
    def call(*args, **kwargs):
        for i in paths_at:
            if i < len(args) and read_only(args[i]):
                refuse(args[i])
        return real(*args, **kwargs)
    return call
os.replace, os.rename, os.link = (guarded(f, 0, 1) for f in (os.replace, os.rename, os.link))
os.unlink = os.remove = guarded(os.unlink, 0)
os.mkdir, os.rmdir = guarded(os.mkdir, 0), guarded(os.rmdir, 0)
from fer_helpers.cli import main
sys.exit(main(sys.argv[3:]))
"""


def make_read_only(folder: Path, writable: bool = False) -> None:
    for root, dirs, names in os.walk(folder):
        for name in [*dirs, *names, None]:
            path = Path(root) / name if name else Path(root)
            mode = path.stat().st_mode
            path.chmod(mode | 0o200 if writable else mode & ~0o222)


@pytest.mark.slow
def test_training_whose_folder_turns_read_only_says_how_to_resume_and_leaves_no_half_file(tiny, tmp_path):
    """Write access lost mid-run (``chmod -R a-w`` on the model folder after the first epoch):
    one line naming the file and what to do, the command that resumes, no traceback, nothing
    half-written under a final name; once access is back, the run resumes."""
    data, _, long, _ = tiny
    out = tmp_path / "m"
    if os.geteuid() != 0:  # a real chmod
        proc = subprocess.Popen(fer_command("train", "--params", long, "--data", data, "--out", out), cwd=PROJECT,
                                env=_env(), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wait_for(lambda: committed(out), proc, "first epoch")
            make_read_only(out)
            proc.wait(timeout=300)
        finally:
            proc.kill()
    else:  # root writes into a read-only folder anyway: the child sees what chmod would give
        proc = subprocess.Popen([sys.executable, "-c", SIMULATED_READ_ONLY, out, "epoch-0001.json", "train",
                                 "--params", long, "--data", data, "--out", out], cwd=PROJECT, env=_env(),
                                text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.wait(timeout=600)
    _, stderr = proc.communicate()
    make_read_only(out, writable=True)
    lines = our_lines(stderr)
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in stderr, stderr[-3000:]
    assert lines[0].startswith(f"fer: error: {out}/"), lines[0]  # the file that could not be written
    assert "Permission denied" in lines[0] and "restore write access to its folder" in lines[0], lines[0]
    assert lines[0].endswith(f"continue with: fer train --out {out} --resume"), lines[0]
    assert not list(out.rglob(f"{TMP_PREFIX}*")) and not (out / "model.keras").exists()
    pd.read_csv(out / "history.csv")  # whole
    for record in out.rglob("*.json"):
        json.loads(record.read_text())  # whole

    done = committed(out)[-1]
    resumed = fer("train", "--out", out, "--resume", "-p", "epochs", done + 1)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert list(pd.read_csv(out / "history.csv")["epoch"]) == list(range(1, done + 2))


@pytest.mark.slow
def test_evaluate_whose_folder_turns_read_only_midway_is_one_line_and_leaves_no_half_file(tiny, tmp_path):
    """The folder turns read-only once the first figure is written (simulated: a real chmod
    between two figures of one process cannot be timed): the next file's name and what to do,
    in one line; no results file."""
    data, _, _, model = tiny
    out = tmp_path / "results"
    out.mkdir()
    run = subprocess.run([sys.executable, "-c", SIMULATED_READ_ONLY, out, "confusion_test.png", "evaluate", model,
                          "--data", data, "--out", out], cwd=PROJECT, capture_output=True, text=True, env=_env(),
                         timeout=600)
    lines = our_lines(run.stderr)
    assert run.returncode == 2 and len(lines) == 1 and "Traceback" not in run.stderr, run.stderr[-3000:]
    assert lines[0].startswith(f"fer evaluate: error: {out}") and "Permission denied" in lines[0], lines[0]
    assert "restore write access" in lines[0] and lines[0].endswith("then run the command again"), lines[0]
    from PIL import Image

    assert (out / "confusion_test.png").is_file()  # written before access was lost: whole
    for png in out.glob("*.png"):
        Image.open(png).load()
    assert not list(out.glob("evaluation_*")) and not list(out.rglob(f"{TMP_PREFIX}*"))


# ---------------------------------------------------------------------------------------------
# 4. Parameters checked before TensorFlow loads

CHECK_IMPORTS = """
import sys
from fer_helpers.cli import main
code = main(sys.argv[1:])
print("tensorflow" in sys.modules, "keras" in sys.modules)
sys.exit(code)
"""


@pytest.mark.parametrize("value, says", [("abc", "epochs must be an integer"), ("", "-p epochs: the value is empty"),
                                         ("  ", "-p epochs: the value is empty")])
def test_a_bad_training_parameter_fails_before_tensorflow_loads(tmp_path, value, says):
    out = tmp_path / "m"
    run = subprocess.run([sys.executable, "-c", CHECK_IMPORTS, "train", "--params", "smoke", "--data",
                          tmp_path / "no-data", "--out", out, "-p", "epochs", value], cwd=PROJECT,
                         capture_output=True, text=True, env=_env(), timeout=600)
    lines = our_lines(run.stderr)
    assert run.returncode == 2 and len(lines) == 1 and says in lines[0], run.stderr[-2000:]
    assert run.stdout.split() == ["False", "False"], "TensorFlow was loaded before the parameters were checked"
    assert not out.exists()


def test_evaluate_refuses_a_subset_larger_than_the_split(tiny, tmp_path, capsys):
    data, _, _, model = tiny
    out = tmp_path / "results"
    code = cli.main(["evaluate", str(model), "--data", str(data), "--out", str(out), "--subset", "999999"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert "--subset 999999 is more than the 16 images of split 'test'" in err
    assert not list(out.glob("*subset999999*")) if out.exists() else True


@pytest.mark.slow
def test_a_real_sweep_rewrites_a_variant_whose_metrics_were_damaged(tiny, tmp_path):
    """End to end: the variant's training resumes from its last checkpoint (no epoch trained
    again) and writes whole records; the sweep said why it did not skip it."""
    data = tiny[0]
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump({"run_name": "t", "train": True, "seed": 42, "data_dir": None, "model_dir": None,
                                    "training": {**PARAMS["training"], "epochs": 2}}))
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump({"base": str(base), "variants": {"only": {}}}))
    runs = tmp_path / "runs"
    first = fer("sweep", path, "--data", data, "--out", runs)
    assert first.returncode == 0, first.stderr[-3000:]
    history = (runs / "only" / "history.csv").read_bytes()
    (runs / "only" / "metrics.json").write_text("[1, 2]")

    again = fer("sweep", path, "--data", data, "--out", runs)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr[-3000:]
    assert "finished already" not in again.stdout, again.stdout
    assert "[1/1] only (no change): damaged record, metrics.json holds list" in again.stdout, again.stdout
    assert "all 1 variant(s) finished" in again.stdout
    assert SW.is_finished(runs / "only") and (runs / "only" / "history.csv").read_bytes() == history
    listed = fer("runs", runs)
    assert listed.returncode == 0 and "finished" in listed.stdout and not listed.stderr.strip(), listed.stderr
