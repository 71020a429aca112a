"""The model's input/output contract, model folders, and training: label modes, imbalance, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
import yaml

from fer_helpers import labels as L
from fer_helpers.errors import FerError
from fer_helpers.model import build, load_model_dir, save_model_dir
from fer_helpers.params import training_params
from fer_helpers.training import Batches, LogitAdjustedLoss, class_weights, fit
from synthetic import make_ferplus, votes

PROJECT = Path(__file__).resolve().parent.parent
TINY = {"epochs": 2, "batch_size": 16, "learning_rate": 0.003, "warmup_epochs": 0, "patience": 5,
        "evaluate_test": True}


def tiny_ferplus(root: Path, per_class=(4, 2, 2)) -> Path:
    """A FER+ folder with every class in every split; the class is drawn by brightness so a
    model can learn something in two epochs."""
    ms = {"train": [], "valid": [], "test": []}
    k = 0
    for split, n in zip(ms, per_class):
        for c in L.FERPLUS_CLASSES:
            for _ in range(n):
                ms[split].append((f"fer{k:07d}.png", votes(**{c: 8, "neutral" if c != "neutral" else "sadness": 2})))
                k += 1
    return make_ferplus(root, ms)


@pytest.mark.parametrize("name", ["default", "baseline", "wide", "narrow_stem"])
def test_model_contract_raw_pixels_in_probabilities_out(name):
    model = build(name)
    assert model.input_shape == (None, 48, 48, 1)
    assert model.output_shape == (None, 8)
    assert model.count_params() <= 5_000_000
    x = np.random.default_rng(0).integers(0, 256, (4, 48, 48, 1)).astype("float32")
    p1 = keras.ops.convert_to_numpy(model(x, training=False))
    p2 = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(p1.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(p1, p2)  # augmentation and dropout are off at inference
    p3 = keras.ops.convert_to_numpy(model(x, training=True))
    assert not np.allclose(p1, p3)  # ... and on while training


def test_augmentation_layers_change_faces_only_in_training():
    model = build("default")
    x = np.random.default_rng(1).integers(0, 256, (2, 48, 48, 1)).astype("float32")
    aug = [l for l in model.layers if l.name.startswith("aug_")]
    assert {l.name for l in aug} >= {"aug_flip", "aug_rotate", "aug_shift", "aug_zoom", "aug_brightness", "aug_contrast"}
    y_inf, y_train = x, x
    for layer in aug:
        y_inf = layer(y_inf, training=False)
        y_train = layer(y_train, training=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(y_inf), x)
    assert not np.allclose(keras.ops.convert_to_numpy(y_train), x)


def test_model_folder_round_trip_with_plain_keras(tmp_path):
    model = build("baseline")
    save_model_dir(model, tmp_path / "m")
    x = np.random.default_rng(2).integers(0, 256, (3, 48, 48, 1)).astype("float32")
    plain = keras.models.load_model(tmp_path / "m" / "model.keras")
    loaded, classes = load_model_dir(tmp_path / "m")
    assert classes == list(L.FERPLUS_CLASSES)
    np.testing.assert_allclose(plain.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_broken_model_folders_give_one_clear_error(tmp_path):
    with pytest.raises(FerError, match="model folder not found"):
        load_model_dir(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FerError, match="model.keras: missing"):
        load_model_dir(tmp_path / "empty")
    save_model_dir(build("baseline"), tmp_path / "bad")
    (tmp_path / "bad" / "model.keras").write_bytes(b"not a zip")
    with pytest.raises(FerError, match="cannot load model"):
        load_model_dir(tmp_path / "bad")
    save_model_dir(build("baseline"), tmp_path / "labels")
    (tmp_path / "labels" / "labels.json").write_text('["a", "b"]')
    with pytest.raises(FerError, match="8 outputs but labels.json lists 2"):
        load_model_dir(tmp_path / "labels")


def test_training_params_are_checked():
    assert training_params({"training": {"epochs": 3}})["epochs"] == 3
    with pytest.raises(FerError, match="unknown training parameter"):
        training_params({"training": {"epoch": 3}})
    with pytest.raises(FerError, match="labels must be one of"):
        training_params({"labels": "soft"})
    with pytest.raises(FerError, match=r"dropout must be a number in \[0, 1\)"):
        training_params({"dropout": 1.5})


@pytest.mark.parametrize("name, rates_at_half", [("default", [0.1, 0.2, 0.3, 0.3, 0.5]),
                                                 ("baseline", [0.25, 0.25, 0.25, 0.5]),
                                                 ("wide", [0.1, 0.2, 0.3, 0.3, 0.5]),
                                                 ("narrow_stem", [0.1, 0.2, 0.3, 0.3, 0.5])])
def test_one_dropout_number_scales_every_dropout_layer(name, rates_at_half):
    def rates(model):
        return [l.rate for l in model.layers if isinstance(l, keras.layers.Dropout)]

    assert rates(build(name)) == pytest.approx(rates_at_half)  # the architecture as published
    assert rates(build(name, dropout=0.25)) == pytest.approx([r / 2 for r in rates_at_half])


def test_class_weights_favour_rare_classes_and_average_one():
    y = np.array([0] * 90 + [1] * 10)
    w = class_weights(y, 2, power=1.0)
    assert w[1] / w[0] == pytest.approx(9.0)
    assert (np.eye(2)[y] @ w).mean() == pytest.approx(1.0)
    soft = np.eye(2, dtype=np.float32)[y] * 0.8 + 0.1
    assert class_weights(soft, 2, power=0.5)[1] > class_weights(soft, 2, power=0.5)[0]


def test_logit_adjusted_loss_is_cross_entropy_on_shifted_logits():
    prior = np.array([0.7, 0.2, 0.1])
    probs = np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]], np.float32)
    targets = np.array([[1, 0, 0], [0.25, 0.25, 0.5]], np.float32)
    shifted = np.log(probs) + 0.5 * np.log(prior)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    want = -(targets * log_softmax).sum(axis=1).mean()
    assert float(LogitAdjustedLoss(prior, tau=0.5)(targets, probs)) == pytest.approx(want, rel=1e-5)
    plain = keras.losses.CategoricalCrossentropy()(targets, probs)
    assert float(LogitAdjustedLoss(prior, tau=0.0)(targets, probs)) == pytest.approx(float(plain), rel=1e-5)


@pytest.mark.parametrize("loss, answers", [("plain", "the prior"), ("logit_adjusted", "uniform")])
def test_logit_adjustment_takes_the_prior_out_of_what_a_network_learns(loss, answers):
    """With nothing to tell the faces apart, plain cross-entropy learns the classes' shares; the
    logit-adjusted loss (tau 1) learns to answer every class alike, the balanced answer."""
    prior = np.array([0.7, 0.2, 0.1])
    y = np.repeat(np.eye(3, dtype=np.float32), (prior * 100).astype(int), axis=0)
    x = np.ones((len(y), 1), np.float32)
    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input((1,)), keras.layers.Dense(3, activation="softmax")])
    net.compile(keras.optimizers.Adam(0.05),
                LogitAdjustedLoss(prior) if loss == "logit_adjusted" else keras.losses.CategoricalCrossentropy())
    # 300 steps in one epoch (each batch the whole set, in order): Keras's per-epoch overhead dominates otherwise
    net.fit(np.tile(x, (300, 1)), np.tile(y, (300, 1)), batch_size=len(y), epochs=1, shuffle=False, verbose=0)
    learnt = net.predict(x[:1], verbose=0)[0]
    assert learnt == pytest.approx(prior if answers == "the prior" else np.full(3, 1 / 3), abs=0.02)


def test_batches_order_depends_only_on_seed_and_epoch_and_sampling_balances():
    x, y = np.zeros((100, 48, 48), np.uint8), np.eye(2, dtype=np.float32)[[0] * 90 + [1] * 10]
    a, b = Batches(x, y, 10, seed=3), Batches(x, y, 10, seed=3)
    a.set_epoch(4), b.set_epoch(4)
    np.testing.assert_array_equal(a.order, b.order)
    b.set_epoch(5)
    assert not np.array_equal(a.order, b.order)
    p = np.where(y[:, 1] == 1, 9.0, 1.0)
    s = Batches(x, y, 10, seed=0, sampling_p=p / p.sum())
    assert 0.35 < y[s.order, 1].mean() < 0.65  # the rare class is drawn about half the time


@pytest.mark.parametrize("label_mode, imbalance", [("distribution", "class_weight"), ("majority", "sampling"),
                                                   ("distribution", "logit_adjusted")])
def test_fit_writes_a_complete_model_folder(tmp_path, label_mode, imbalance):
    data = tiny_ferplus(tmp_path / "data")
    out = fit({"training": {**TINY, "labels": label_mode, "imbalance": imbalance, "model": "baseline"}},
              data_dir=data, out_dir=tmp_path / "m", verbose=0)
    for f in ("model.keras", "labels.json", "params.yaml", "history.csv", "metrics.json", "run.json", "MODEL_CARD.md"):
        assert (out / f).is_file(), f
    hist = pd.read_csv(out / "history.csv")
    assert list(hist["epoch"]) == [1, 2]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["n"] == 16 and 0 <= metrics["test"]["accuracy"] <= 1
    info = json.loads((out / "run.json").read_text())
    assert info["seed"] == 42 and info["params"]["labels"] == label_mode and "keras" in info["versions"]
    assert info["started"] <= info["finished"]  # ISO 8601 UTC strings sort as times
    assert yaml.safe_load((out / "params.yaml").read_text())["training"]["imbalance"] == imbalance
    model, classes = load_model_dir(out)
    assert classes == list(L.FERPLUS_CLASSES)
    with pytest.raises(FerError, match="already holds a training run"):
        fit({"training": TINY}, data_dir=data, out_dir=out, verbose=0)


def test_bfloat16_training_ships_a_float32_model(tmp_path):
    """Mixed precision speeds training up; the shipped model must still be plain float32."""
    data = tiny_ferplus(tmp_path / "data")
    out = fit({"training": {**TINY, "epochs": 1, "precision": "mixed_bfloat16"}}, data_dir=data,
              out_dir=tmp_path / "m", verbose=0)
    assert keras.mixed_precision.global_policy().name == "float32"  # restored for the caller
    assert json.loads((out / "run.json").read_text())["precision"] == "mixed_bfloat16"
    model, _ = load_model_dir(out)
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}
    last = keras.models.load_model(sorted((out / "checkpoints").glob("epoch-*.keras"))[-1])
    assert "mixed_bfloat16" in {layer.dtype_policy.name for layer in last.layers}
    x = np.random.default_rng(0).integers(0, 256, (4, 48, 48, 1)).astype("float32")
    assert model.predict(x, verbose=0).dtype == np.float32


def test_same_params_give_the_same_numbers(tmp_path):
    data = tiny_ferplus(tmp_path / "data")
    runs = [fit({"training": {**TINY, "model": "baseline", "epochs": 1}}, data_dir=data,
                out_dir=tmp_path / f"m{i}", verbose=0) for i in range(2)]
    h = [pd.read_csv(r / "history.csv") for r in runs]
    np.testing.assert_allclose(h[0]["loss"], h[1]["loss"], rtol=1e-4)


def test_resume_after_the_process_is_killed(tmp_path):
    """SIGKILL the training process after its first epoch; --resume loses no finished epoch."""
    data = tiny_ferplus(tmp_path / "data", per_class=(12, 2, 2))
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"training": {**TINY, "model": "baseline", "epochs": 40}}))
    out = tmp_path / "m"
    cmd = [sys.executable, "-m", "fer_helpers.cli", "train", "--params", str(params), "--data", str(data), "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    committed = lambda: sorted((out / "checkpoints").glob("epoch-*.json"))  # noqa: E731
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and not committed():
        time.sleep(0.05)
    assert proc.poll() is None, "training ended before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = json.loads(committed()[-1].read_text())["epoch"]
    assert done >= 1 and not (out / "metrics.json").exists()

    rerun = subprocess.run(cmd, cwd=PROJECT, capture_output=True, text=True)
    assert rerun.returncode == 2 and "--resume" in rerun.stderr and "Traceback" not in rerun.stderr

    resumed = subprocess.run(cmd + ["--resume", "-p", "epochs", str(done + 1)], cwd=PROJECT,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resuming {out} after epoch {done}" in resumed.stdout
    hist = pd.read_csv(out / "history.csv")
    assert list(hist["epoch"]) == list(range(1, 41))[: len(hist)] and len(hist) > done
    assert (out / "metrics.json").is_file()


def test_fer_train_with_the_smoke_profile_on_the_real_data(tmp_path, shared_data, real_cache_dir, monkeypatch):
    """What CI promises a user: `fer train --params notebooks/params/smoke.yaml` trains and ships a folder."""
    monkeypatch.setenv("FER_CACHE_DIR", str(real_cache_dir))  # decode the 35k PNGs once per test session
    out = tmp_path / "smoke"
    run = subprocess.run([sys.executable, "-m", "fer_helpers.cli", "train", "--params", "notebooks/params/smoke.yaml",
                          "--data", str(shared_data), "--out", str(out), "-p", "epochs", "1", "-p", "train_subset", "300"],
                         cwd=PROJECT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "epoch 1/1" in run.stdout and f"model folder: {out}" in run.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["n"] == 3137  # the whole FER+ test set under the majority protocol
    assert metrics["validation"]["n"] == 300  # the smoke profile's valid_subset


def test_distillation_trains_on_the_teachers_probabilities_and_resumes_on_the_same(tmp_path):
    """A student with ``teachers`` trains on votes mixed with the teachers' mean probabilities
    (face and mirror image), kept in its checkpoints and recorded with each teacher's hash."""
    from fer_helpers import distill
    from fer_helpers.data import load_dataset

    data = tiny_ferplus(tmp_path / "data")
    teacher = fit({"training": {**TINY, "model": "baseline", "epochs": 1}}, data_dir=data,
                  out_dir=tmp_path / "teacher", verbose=0)
    student = fit({"training": {**TINY, "model": "baseline", "epochs": 1, "teachers": [str(teacher)],
                                "teacher_weight": 0.25}}, data_dir=data, out_dir=tmp_path / "student", verbose=0)
    stored = np.load(student / "checkpoints" / distill.TEACHER_FILE)
    x, _ = load_dataset(data).split("train")
    model, _ = load_model_dir(teacher)
    faces = x[..., None].astype("float32")
    expected = (model.predict(faces, verbose=0) + model.predict(faces[:, :, ::-1], verbose=0)) / 2
    np.testing.assert_allclose(stored, expected, atol=1e-5)
    start = json.loads((student / "checkpoints" / "start.json").read_text())
    assert start["teachers"] == distill.teacher_record([str(teacher)], load_dataset(data).classes)
    info = json.loads((student / "run.json").read_text())
    assert info["params"]["teachers"] == [str(teacher)] and info["params"]["teacher_weight"] == 0.25
    assert info["teachers"] == start["teachers"]  # the shipped record names the teachers by hash too
    # the mix: a quarter teacher, three quarters votes
    votes_only = np.full_like(stored, 1 / stored.shape[1])
    mixed = distill.distilled_targets(votes_only, x, [str(teacher)], 0.25, student / "checkpoints" / distill.TEACHER_FILE)
    np.testing.assert_allclose(mixed, 0.75 * votes_only + 0.25 * stored, atol=1e-6)


def test_fine_tuning_starts_from_the_named_models_weights_and_records_it(tmp_path):
    """``init_from`` starts a run from a trained model's weights (recorded by hash): at a learning
    rate of 1e-9 its trainable weights stay those weights, where a run from random ones does not
    (batch normalisation's moving statistics follow the data at any rate). A different network is
    one clear error."""
    from fer_helpers import distill
    from fer_helpers.data import load_dataset

    data = tiny_ferplus(tmp_path / "data")
    source = fit({"training": {**TINY, "model": "baseline", "epochs": 1}}, data_dir=data,
                 out_dir=tmp_path / "source", verbose=0)
    tuned = fit({"training": {**TINY, "model": "baseline", "epochs": 1, "learning_rate": 1e-9,
                              "init_from": str(source), "seed": 7}}, data_dir=data, out_dir=tmp_path / "tuned", verbose=0)
    fresh = fit({"training": {**TINY, "model": "baseline", "epochs": 1, "learning_rate": 1e-9, "seed": 7}},
                data_dir=data, out_dir=tmp_path / "fresh", verbose=0)
    weights = [[w.numpy() for w in load_model_dir(f)[0].trainable_weights] for f in (source, tuned, fresh)]
    for a, b in zip(weights[0], weights[1]):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert not all(np.allclose(a, c, atol=1e-5) for a, c in zip(weights[0], weights[2]))
    info = json.loads((tuned / "run.json").read_text())
    assert info["init_from"] == distill.teacher_record([str(source)], load_dataset(data).classes)[0]
    assert "Fine-tuned" in (tuned / "MODEL_CARD.md").read_text()
    with pytest.raises(FerError, match="init_from .*different network"):
        fit({"training": {**TINY, "model": "default", "epochs": 1, "init_from": str(source)}}, data_dir=data,
            out_dir=tmp_path / "other", verbose=0)
    with pytest.raises(FerError, match="training.init_from must be a model folder"):
        training_params({"init_from": 3})


def test_a_teacher_that_is_not_a_model_folder_is_one_clear_error(tmp_path):
    data = tiny_ferplus(tmp_path / "data")
    with pytest.raises(FerError, match="teacher .*no model.keras"):
        fit({"training": {**TINY, "teachers": [str(tmp_path / "nowhere")]}}, data_dir=data,
            out_dir=tmp_path / "student", verbose=0)
    with pytest.raises(FerError, match="training.teachers must be a list"):
        training_params({"teachers": "models/default"})


def test_a_teacher_named_from_the_project_root_is_found_from_a_sweep_variants_folder(tmp_path, monkeypatch):
    """A sweep's notebooks run in their variant's folder; ``teachers: [models/default]`` in a sweep
    file still means the project's shipped model, for its classes as for its weights."""
    import hashlib

    from fer_helpers import distill
    from fer_helpers.labels import FERPLUS_CLASSES

    shipped = Path(__file__).resolve().parent.parent / "models" / "default" / "model.keras"
    monkeypatch.chdir(tmp_path)
    assert distill.teacher_record(["models/default"], FERPLUS_CLASSES) == [
        {"folder": "models/default", "sha256": hashlib.sha256(shipped.read_bytes()).hexdigest()}]


def test_a_copy_on_another_machine_records_the_commit_it_was_made_from(tmp_path, monkeypatch):
    from fer_helpers.reproducibility import git_commit

    monkeypatch.delenv("FER_GIT_COMMIT", raising=False)
    assert git_commit(tmp_path) == "unknown"
    assert git_commit().split("+")[0] != "3f94237"
    monkeypatch.setenv("FER_GIT_COMMIT", "3f94237")  # set by whoever sent the copy to another machine
    assert git_commit(tmp_path) == "3f94237"
    # that machine's own git may sit at an older commit under the copied files (the GPU machine's did)
    assert git_commit() == "3f94237"


def test_augmentation_in_the_input_pipeline_ships_a_network_without_augmentation_layers(tmp_path):
    data = tiny_ferplus(tmp_path / "data")
    out = fit({"training": {**TINY, "epochs": 1, "augment_in": "batches", "augment": "strong"}}, data_dir=data,
              out_dir=tmp_path / "m", verbose=0)
    model, _ = load_model_dir(out)
    assert not [layer.name for layer in model.layers if layer.name.startswith("aug_")]
    assert yaml.safe_load((out / "params.yaml").read_text())["training"]["augment_in"] == "batches"
    with pytest.raises(FerError, match="augment_in"):
        fit({"training": {**TINY, "augment_in": "gpu"}}, data_dir=data, out_dir=tmp_path / "n", verbose=0)
