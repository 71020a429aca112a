"""Training under kills, Ctrl-C, moved or changed data and bad parameters (issue 13).

The kill tests run ``fer train`` in a real child process that SIGKILLs itself at a named moment
(``os.replace`` is wrapped in the child only: the moment a given file is, or is about to be,
renamed into place), resume it with the real ``fer train --resume``, and compare the result with
an uninterrupted run of the same params digit for digit.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fer_helpers import cli
from fer_helpers.errors import FerError
from fer_helpers.params import check_params, load_params, training_params
from terminal import fer_from_a_terminal
from test_model_training import TINY, tiny_ferplus

PROJECT = Path(__file__).resolve().parent.parent
PARAMS = {"training": {**TINY, "model": "baseline", "epochs": 4, "dropout": 0.3}}
#: Child process: run `fer train ARGS`, SIGKILLing itself around the rename of file NAME.
KILLER = """
import os, signal, sys
name, when, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
seen = 0
replace = os.replace
def killing_replace(src, dst):
    global seen
    if os.path.basename(str(dst)) == name:
        seen += 1
        if seen == count and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
    replace(src, dst)
    if os.path.basename(str(dst)) == name and seen == count and when == "after":
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = killing_replace
from fer_helpers.cli import main
sys.exit(main(["train"] + sys.argv[4:]))
"""


def _env():
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def train(args, **kw):
    return subprocess.run([sys.executable, "-m", "fer_helpers.cli", "train", *map(str, args)], cwd=PROJECT,
                          capture_output=True, text=True, timeout=600, env=_env(), **kw)


def train_killed(name, when, count, args):
    proc = subprocess.run([sys.executable, "-c", KILLER, name, when, str(count), *map(str, args)], cwd=PROJECT,
                          capture_output=True, text=True, timeout=600, env=_env())
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]


def our_lines(stderr: str) -> list[str]:
    """stderr without TensorFlow's start-up chatter (C++ logging it prints before Python runs)."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith(("WARNING: All log", "I0000", "E0000", "W0000"))]


def history(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "history.csv").drop(columns="epoch_seconds")


def weights(folder: Path) -> list[np.ndarray]:
    import keras

    return keras.models.load_model(folder / "model.keras", compile=False).get_weights()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Tiny data, a params file, and the uninterrupted reference run."""
    root = tmp_path_factory.mktemp("resume")
    data = tiny_ferplus(root / "data", per_class=(12, 2, 2))
    params = root / "p.yaml"
    params.write_text(yaml.safe_dump(PARAMS))
    ref = root / "reference"
    run = train(["--params", params, "--data", data, "--out", ref])
    assert run.returncode == 0, run.stderr[-2000:]
    return root, data, params, ref


@pytest.mark.slow
@pytest.mark.parametrize("name, when, count", [
    ("epoch-0002.keras", "before", 1),  # mid-checkpoint: the model is written, not yet renamed into place
    ("epoch-0002.keras", "after", 1),   # the checkpoint is in place, its history row and state are not
    ("history.csv", "after", 2),        # the history row is in place, the state is not
    ("epoch-0002.json", "after", 1),    # the epoch is committed, older checkpoints not yet pruned
])
def test_a_run_killed_at_any_moment_resumes_to_the_same_numbers(setup, tmp_path, name, when, count):
    root, data, params, ref = setup
    out = tmp_path / "m"
    train_killed(name, when, count, ["--params", params, "--data", data, "--out", out])
    assert not (out / "model.keras").exists()
    refused = train(["--params", params, "--data", data, "--out", out])
    assert refused.returncode == 2 and "--resume" in refused.stderr and "Traceback" not in refused.stderr

    resumed = train(["--out", out, "--resume"])  # the command the interruption message prints
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming" in resumed.stdout and "Traceback" not in resumed.stderr
    pd.testing.assert_frame_equal(history(out), history(ref), check_exact=True)
    for a, b in zip(weights(out), weights(ref)):
        np.testing.assert_array_equal(a, b)
    assert json.loads((out / "metrics.json").read_text()) == json.loads((ref / "metrics.json").read_text())
    assert not list(out.rglob(".tmp-*")), "a temporary file was left behind"


@pytest.mark.slow
def test_the_accuracy_levers_resume_to_the_same_numbers_too(setup, tmp_path):
    """EMA (its averages swap in and out of the weights around every checkpoint), mixup and the
    strong augmentation (JPEG in the batches, blur and erasing layers) draw and keep state that
    an exact resume must restore; the logit-adjusted loss must reload with its checkpoint."""
    root, data, _, _ = setup
    params = tmp_path / "levers.yaml"
    levers = {**PARAMS["training"], "model": "default", "augment": "strong", "ema": 0.9, "mixup": 0.4,
              "label_smoothing": 0.1, "imbalance": "logit_adjusted", "logit_adjust_tau": 0.5, "epochs": 3}
    params.write_text(yaml.safe_dump({"training": levers}))
    ref, out = tmp_path / "ref", tmp_path / "m"
    run = train(["--params", params, "--data", data, "--out", ref])
    assert run.returncode == 0, run.stderr[-2000:]
    train_killed("epoch-0002.json", "after", 1, ["--params", params, "--data", data, "--out", out])
    resumed = train(["--out", out, "--resume"])
    assert resumed.returncode == 0 and "resuming" in resumed.stdout, resumed.stderr[-2000:]
    pd.testing.assert_frame_equal(history(out), history(ref), check_exact=True)
    for a, b in zip(weights(out), weights(ref)):
        np.testing.assert_array_equal(a, b)
    import keras  # the shipped weights are the averages, not the last step's raw weights

    last = keras.models.load_model(ref / "checkpoints" / "epoch-0003.keras")
    avg = [keras.ops.convert_to_numpy(v) for v in last.optimizer._model_variables_moving_average]
    raw = [keras.ops.convert_to_numpy(v) for v in last.trainable_variables]
    assert not all(np.array_equal(a, b) for a, b in zip(avg, raw))


@pytest.mark.slow
def test_a_damaged_newest_checkpoint_falls_back_to_the_one_before(setup, tmp_path):
    root, data, params, ref = setup
    out = tmp_path / "m"
    train_killed("epoch-0003.json", "after", 1, ["--params", params, "--data", data, "--out", out])
    newest = out / "checkpoints" / "epoch-0003.keras"
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])  # a disk that filled up
    (out / "model.keras").write_bytes(newest.read_bytes()[:1000])  # a cut-short copy: never read on resume

    resumed = train(["--out", out, "--resume"])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    notes = [line for line in resumed.stdout.splitlines() if line.startswith("checkpoint of")]
    assert len(notes) == 1 and "epoch 3 is damaged" in notes[0], resumed.stdout
    assert "resuming" in resumed.stdout and "after epoch 2" in resumed.stdout
    pd.testing.assert_frame_equal(history(out), history(ref), check_exact=True)
    for a, b in zip(weights(out), weights(ref)):  # the best model is rebuilt from its checkpoint
        np.testing.assert_array_equal(a, b)


def test_finished_runs_keep_only_the_checkpoints_a_resume_can_need(setup):
    *_, ref = setup
    kept = sorted(p.name for p in (ref / "checkpoints").iterdir())
    state = json.loads((ref / "checkpoints" / "epoch-0004.json").read_text())
    epochs = {4, 3, state["best_epoch"], json.loads((ref / "checkpoints" / "epoch-0003.json").read_text())["best_epoch"]}
    assert kept == sorted([f"epoch-{e:04d}.{ext}" for e in epochs for ext in ("json", "keras")] + ["start.json"])
    info = json.loads((ref / "run.json").read_text())
    start = json.loads((ref / "checkpoints" / "start.json").read_text())
    assert info["data_fingerprint"] == start["data_fingerprint"] and len(info["data_fingerprint"]) == 16


@pytest.mark.slow
def test_resume_trains_on_the_data_the_run_started_with(setup, tmp_path):
    root, data, params, ref = setup
    mine = tmp_path / "my-data"
    shutil.copytree(data, mine)
    out = tmp_path / "m"
    train_killed("epoch-0001.json", "after", 1, ["--params", params, "--data", mine, "--out", out])

    moved = tmp_path / "moved-data"
    mine.rename(moved)
    gone = train(["--out", out, "--resume"])
    assert gone.returncode == 2 and len(our_lines(gone.stderr)) == 1 and "is gone" in gone.stderr
    assert str(mine) in gone.stderr and "--data" in gone.stderr

    image = next((moved / "FER2013Train").glob("*.png"))
    original = image.read_bytes()
    from PIL import Image

    Image.fromarray(np.full((48, 48), 7, np.uint8)).save(image)
    changed = train(["--out", out, "--resume", "--data", moved])
    assert changed.returncode == 2 and len(our_lines(changed.stderr)) == 1
    assert "not the data set this run started on" in changed.stderr
    assert json.loads((out / "checkpoints" / "epoch-0001.json").read_text())["epoch"] == 1  # nothing lost

    image.write_bytes(original)
    resumed = train(["--out", out, "--resume", "--data", moved])  # moved, same content: resumes
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    pd.testing.assert_frame_equal(history(out), history(ref), check_exact=True)
    from fer_helpers.data import display_path  # relative where the data sits in or beside the project

    assert json.loads((out / "run.json").read_text())["data_dir"] == display_path(moved)


@pytest.mark.slow
def test_ctrl_c_exits_130_with_the_command_that_resumes(setup, tmp_path):
    root, data, params, _ = setup
    out = tmp_path / "m"
    long = tmp_path / "long.yaml"
    long.write_text(yaml.safe_dump({"training": {**PARAMS["training"], "epochs": 200}}))
    proc = subprocess.Popen(fer_from_a_terminal("train", "--params", long, "--data", data, "--out", out),
                            cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and not list((out / "checkpoints").glob("epoch-*.json")):
        time.sleep(0.1)
    assert proc.poll() is None, "training ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-2000:]
    lines = our_lines(stderr)
    assert len(lines) == 1 and f"fer train --out {out} --resume" in lines[0], stderr


# ---------------------------------------------------------------------------------------------
# Parameters: checked once, before anything is written

@pytest.mark.parametrize("key, value, says", [
    ("learning_rate", "abc", "learning_rate must be a number"),
    ("learning_rate", "-1", "learning_rate must be a number in (0"),
    ("learning_rate", ".nan", "learning_rate"),
    ("seed", "abc", "seed must be an integer"),
    ("seed", "-3", "seed must be an integer in [0"),
    ("train_subset", "0", "train_subset must be an integer in [1"),
    ("epochs", "true", "epochs must be an integer"),
    ("batch_size", "1.5", "batch_size must be an integer"),
    ("dropout", "1", "dropout must be a number in [0, 1)"),
    ("evaluate_test", "maybe", "evaluate_test must be true or false"),
    ("labels", "[1, 2]", "labels must be one of"),
    ("warmup", "1", "unknown training parameter"),
])
def test_bad_parameters_are_one_line_and_write_nothing(tmp_path, capsys, key, value, says):
    out = tmp_path / "m"
    code = cli.main(["train", "--params", "smoke", "--out", str(out), "-p", key, value])
    err = capsys.readouterr().err
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


@pytest.mark.parametrize("out", ["/proc/fer-model", "/sys/fer-model", "FILE"])
def test_train_out_that_cannot_be_a_folder_is_one_line(tmp_path, capsys, out):
    if out == "FILE":
        out = tmp_path / "a-file"
        out.write_text("mine")
    code = cli.main(["train", "--params", "smoke", "--out", str(out), "-p", "epochs", "1"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and str(out) in err, err
    if out != "/proc/fer-model" and Path(out).is_file():
        assert Path(out).read_text() == "mine"


def test_a_params_file_that_is_not_utf8_is_one_line(tmp_path, capsys):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("run_name: caf\xe9\ntraining:\n  epochs: 1\n".encode("latin-1"))
    code = cli.main(["train", "--params", str(bad), "--out", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert code == 2 and "not UTF-8" in err and len(err.strip().splitlines()) == 1


def _only_fer_errors(fn, *args):
    try:
        fn(*args)
    except FerError as exc:
        assert "\n" not in str(exc), str(exc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_fuzz_the_params_reader_raises_only_one_line_errors(raw):
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "params.yaml"
        path.write_bytes(raw)
        try:
            params = load_params(path)
        except FerError as exc:
            assert "\n" not in str(exc)
            return
        _only_fer_errors(training_params, params)
        _only_fer_errors(check_params, params)


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10))
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                       max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.one_of(st.sampled_from(sorted(PARAMS["training"]) + ["seed", "strategy", "precision"]),
                                 st.integers(), st.text(max_size=5)), _values, max_size=6), _values)
def test_fuzz_training_parameters_raise_only_one_line_errors(section, other):
    _only_fer_errors(training_params, {"training": section})
    _only_fer_errors(training_params, {"training": other})
    _only_fer_errors(check_params, {"run_name": "r", "train": True, "seed": 1, "training": section})
    _only_fer_errors(check_params, {"run_name": "r", "train": True, "seed": 1, "training": other})
    _only_fer_errors(check_params, {**section, 1: other})
