"""Train a model into a model folder, resumable after the process is killed.

``fit(params, data_dir, out_dir)`` writes ``models/<name>/``: ``model.keras`` (best epoch on
validation), ``checkpoints/last.keras`` + ``state.json`` (what ``resume=True`` continues from),
``history.csv``, ``params.yaml``, ``labels.json``, ``metrics.json`` (validation and, once, test),
``run.json`` (seed, versions, git commit, wall time) and ``MODEL_CARD.md``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from pathlib import Path

import keras
import numpy as np
import yaml

from . import model as M
from .data import load_dataset, seeded_subset
from .errors import FerError
from .metrics import compute_metrics
from .reproducibility import run_info, utc_now

DEFAULTS: dict = {
    "model": "default",          # default | baseline
    "augment": "default",        # none | seed | default
    "dropout": 0.5,              # dense layer's rate, conv blocks scale with it; full.yaml: 0.3
    "labels": "distribution",    # distribution (soft FER+ votes) | majority (hard)
    "imbalance": "class_weight", # none | class_weight | sampling
    "class_weight_power": 0.3,   # weight = (n_max / n_class) ** power; 1 = fully balanced
    "epochs": 50,
    "batch_size": 128,
    "learning_rate": 0.002,
    "weight_decay": 0.01,
    "warmup_epochs": 1,
    "patience": 15,
    "monitor": "val_accuracy",   # val_accuracy | val_macro_f1
    "train_subset": None,
    "valid_subset": None,
    "strategy": "auto",          # auto | default | mirrored | one_device
    "precision": "auto",         # auto (bfloat16 where the hardware has it) | float32 | mixed_bfloat16
    "seed": 42,
    "evaluate_test": True,       # measure the test split once, with the best epoch, at the end
}
_CHOICES = {
    "model": tuple(M.BUILDERS), "augment": ("none", "seed", "default"),
    "labels": ("distribution", "majority"), "imbalance": ("none", "class_weight", "sampling"),
    "monitor": ("val_accuracy", "val_macro_f1"), "strategy": ("auto", "default", "mirrored", "one_device"),
    "precision": ("auto", "float32", "mixed_bfloat16"),
}


def load_params(path: str | os.PathLike) -> dict:
    """Read a params YAML (a profile file); a clear error when it is missing or malformed."""
    path = Path(path)
    try:
        params = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise FerError(f"params file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise FerError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(params, dict):
        raise FerError(f"{path}: expected a mapping of parameters")
    return params


def training_params(params: dict | None = None, **overrides) -> dict:
    """Complete and check training parameters: the profile's ``training`` section over DEFAULTS."""
    params = dict(params or {})
    section = params.get("training", params)
    if "seed" in params and "seed" not in section:
        section = {**section, "seed": params["seed"]}
    merged = {**DEFAULTS, **section, **{k: v for k, v in overrides.items() if v is not None}}
    unknown = sorted(set(merged) - set(DEFAULTS))
    if unknown:
        raise FerError(f"unknown training parameter(s): {', '.join(unknown)}; known: {', '.join(DEFAULTS)}")
    for key, choices in _CHOICES.items():
        if merged[key] not in choices:
            raise FerError(f"training.{key} must be one of {', '.join(choices)}, got {merged[key]!r}")
    for key in ("epochs", "batch_size"):
        if not isinstance(merged[key], int) or merged[key] < 1:
            raise FerError(f"training.{key} must be a positive integer, got {merged[key]!r}")
    if not isinstance(merged["dropout"], (int, float)) or not 0 <= merged["dropout"] < 1:
        raise FerError(f"training.dropout must be a number in [0, 1), got {merged['dropout']!r}")
    return merged


# ---------------------------------------------------------------------------------------------

def class_weights(y: np.ndarray, n_classes: int, power: float) -> np.ndarray:
    """Per-class weights ``(n_max / n_c) ** power`` from hard or soft labels, mean 1 over samples."""
    counts = np.bincount(y, minlength=n_classes) if y.ndim == 1 else y.sum(axis=0)
    counts = np.maximum(counts.astype(np.float64), 1.0)
    w = (counts.max() / counts) ** power
    per_sample = _targets(y, n_classes) @ w
    return (w / per_sample.mean()).astype(np.float32)


def _targets(y: np.ndarray, n_classes: int) -> np.ndarray:
    return np.eye(n_classes, dtype=np.float32)[y] if y.ndim == 1 else y.astype(np.float32)


class Batches(keras.utils.PyDataset):
    """Shuffled (or class-balanced) batches; the order of epoch ``e`` depends only on (seed, e),
    so a resumed run sees the same data order as an uninterrupted one."""

    def __init__(self, x, y, batch_size, seed, sample_weight=None, sampling_p=None):
        super().__init__()
        self.x, self.y, self.sw, self.p = x, y, sample_weight, sampling_p
        self.batch_size, self.seed = batch_size, seed
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        rng = np.random.default_rng([self.seed, epoch])
        n = len(self.x)
        self.order = rng.choice(n, n, p=self.p) if self.p is not None else rng.permutation(n)

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, i):
        idx = np.sort(self.order[i * self.batch_size:(i + 1) * self.batch_size])
        xb = self.x[idx][..., None].astype("float32")
        return (xb, self.y[idx]) if self.sw is None else (xb, self.y[idx], self.sw[idx])


class _EpochEnd(keras.callbacks.Callback):
    """Validation metrics, history row, checkpoints and early stopping, in that order, per epoch.

    Everything an interrupted run needs is on disk before the next epoch starts.
    """

    def __init__(self, run: "_Run"):
        super().__init__()
        self.run = run

    def on_epoch_begin(self, epoch, logs=None):
        self.run.batches.set_epoch(epoch)
        self.t0 = time.time()

    def on_epoch_end(self, epoch, logs=None):
        r = self.run
        probs = self.model.predict(r.x_val[..., None].astype("float32"), batch_size=256, verbose=0)
        m = compute_metrics(r.y_val, probs, r.classes)
        row = {"epoch": epoch + 1, "accuracy": logs.get("accuracy"), "loss": logs.get("loss"),
               "val_accuracy": m["accuracy"], "val_loss": m["loss"], "val_macro_f1": m["macro_f1"],
               "learning_rate": float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)),
               "epoch_seconds": round(time.time() - self.t0, 1)}
        r.append_history(row)
        self.model.save(r.last_ckpt)
        state = r.state
        value = row[r.p["monitor"]]
        if state.get("best") is None or value > state["best"]:
            self.model.save(r.out / M.MODEL_FILE)
            state.update(best=value, best_epoch=epoch + 1, wait=0)
        else:
            state["wait"] = state.get("wait", 0) + 1
        state.update(epoch=epoch + 1, wall_seconds=r.elapsed())
        r.save_state()
        done, total = epoch + 1, r.p["epochs"]
        eta = (r.elapsed() - r.start_wall) / max(done - r.initial_epoch, 1) * (total - done)
        print(f"epoch {done}/{total}: val_accuracy {m['accuracy']:.4f} val_macro_f1 {m['macro_f1']:.4f} "
              f"(best {state['best']:.4f} @ {state['best_epoch']}) | {row['epoch_seconds']:.0f}s, "
              f"about {eta / 60:.0f} min left", flush=True)
        if state["wait"] >= r.p["patience"]:
            print(f"early stop: {r.p['monitor']} has not improved for {r.p['patience']} epochs", flush=True)
            self.model.stop_training = True


def holds_run(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds a model or a run in progress, which training must not overwrite."""
    folder = Path(folder)
    return (folder / M.MODEL_FILE).is_file() or (folder / "checkpoints" / "state.json").is_file()


class _Run:
    """The files of one training run in ``out``."""

    def __init__(self, out: Path, p: dict):
        self.out, self.p = out, p
        self.ckpt_dir = out / "checkpoints"
        self.last_ckpt = self.ckpt_dir / "last.keras"
        self.state_file = self.ckpt_dir / "state.json"
        self.history = out / "history.csv"
        self.state: dict = json.loads(self.state_file.read_text()) if self.state_file.is_file() else {}
        self._t0 = time.time()
        self.start_wall = self.state.get("wall_seconds", 0.0)
        self.initial_epoch = self.state.get("epoch", 0)

    def elapsed(self) -> float:
        return self.start_wall + time.time() - self._t0

    def save_state(self) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, indent=2))
        os.replace(tmp, self.state_file)

    def append_history(self, row: dict) -> None:
        import pandas as pd

        rows = pd.read_csv(self.history).to_dict("records") if self.history.is_file() else []
        rows = [r for r in rows if r["epoch"] < row["epoch"]] + [row]  # drop rows of an epoch in flight
        pd.DataFrame(rows).to_csv(self.history, index=False)


def strategy_scope(name: str):
    """Keras' own multi-device strategy for the running backend (nothing hand-made)."""
    if name in ("auto", "default"):
        return contextlib.nullcontext()
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        strategy = (tf.distribute.MirroredStrategy() if name == "mirrored"
                    else tf.distribute.OneDeviceStrategy(tf.config.list_logical_devices()[0].name))
        return strategy.scope()
    if name == "mirrored" and keras.backend.backend() == "jax":
        keras.distribution.set_distribution(keras.distribution.DataParallel())
    return contextlib.nullcontext()


def resolve_precision(name: str) -> str:
    """``auto``: mixed bfloat16 on a GPU or a CPU with bfloat16 instructions (1.5x faster here), else float32.

    Without hardware bfloat16 (most laptops) it is emulated and slower, so it is never forced.
    """
    if name != "auto":
        return name
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if tf.config.list_physical_devices("GPU"):
            return "mixed_bfloat16"
    elif keras.backend.backend() == "jax":
        import jax

        if jax.default_backend() == "gpu":
            return "mixed_bfloat16"
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "float32"
    return "mixed_bfloat16" if ("avx512_bf16" in flags or "amx_bf16" in flags) else "float32"


@contextlib.contextmanager
def precision_policy(name: str):
    """Build (and train) models in ``name``'s dtype policy; the caller's policy is restored after."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(resolve_precision(name))
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _float32_copy(model: keras.Model, p: dict, n_classes: int) -> keras.Model:
    """The same network in float32, for a shipped model that runs at full speed on any CPU."""
    with precision_policy("float32"):
        copy = M.build(p["model"], num_classes=n_classes, augment=p["augment"], seed=p["seed"],
                       dropout=p["dropout"])
    copy.set_weights(model.get_weights())
    return copy


def _compile(model, p, steps_per_epoch):
    total = steps_per_epoch * p["epochs"]
    warmup = steps_per_epoch * p["warmup_epochs"]
    lr = p["learning_rate"]
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=lr / 10 if warmup else lr, decay_steps=max(total - warmup, 1),
        alpha=0.01, warmup_target=lr if warmup else None, warmup_steps=warmup)
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=p["weight_decay"]),
                  loss="categorical_crossentropy", metrics=["accuracy"])


def fit(params: dict | None = None, data_dir=None, out_dir="models/default", resume: bool = False,
        verbose: int | str = "auto", **overrides) -> Path:
    """Train ``params`` (a profile dict or its ``training`` section) into ``out_dir``.

    ``resume=True`` continues from ``checkpoints/last.keras`` after an interruption; without
    it, a folder that already holds a run is refused rather than overwritten.
    """
    out = Path(out_dir)
    if resume and (out / "params.yaml").is_file():
        # A resumed run keeps the parameters it started with; only its length may change.
        params = yaml.safe_load((out / "params.yaml").read_text())
        overrides = {k: v for k, v in overrides.items() if k in ("epochs", "patience")}
    p = training_params(params, **overrides)
    run = _Run(out, p)
    if holds_run(out) and not resume:  # never overwrite a model
        raise FerError(f"{out} already holds a training run (epoch {run.state.get('epoch', '?')}); "
                       "pass --resume to continue it or choose another --out")
    if resume and not run.last_ckpt.is_file():
        print(f"nothing to resume in {out}: starting a new run", flush=True)
        run.state, run.initial_epoch, run.start_wall = {}, 0, 0.0
    run.ckpt_dir.mkdir(parents=True, exist_ok=True)
    run.info = run_info(seed=p["seed"], params=p)  # the commit and versions the run started with
    run.info["precision"] = resolve_precision(p["precision"])

    keras.utils.set_random_seed(p["seed"])
    ds = load_dataset(data_dir)
    classes = ds.classes
    x_tr, y_tr = seeded_subset(*ds.split("train", labels=p["labels"]), p["train_subset"], p["seed"])
    run.x_val, run.y_val = seeded_subset(*ds.split("valid", labels="majority"), p["valid_subset"], p["seed"] + 1)
    run.classes = classes
    targets = _targets(y_tr, len(classes))
    sw, probs = None, None
    if p["imbalance"] != "none":
        w = class_weights(y_tr, len(classes), p["class_weight_power"])
        per_sample = targets @ w
        if p["imbalance"] == "class_weight":
            sw = per_sample.astype(np.float32)
        else:
            probs = per_sample / per_sample.sum()
    run.batches = Batches(x_tr, targets, p["batch_size"], p["seed"], sample_weight=sw, sampling_p=probs)

    (out / "params.yaml").write_text(yaml.safe_dump({"training": p}, sort_keys=False))
    (out / M.LABELS_FILE).write_text(json.dumps(classes, indent=2) + "\n")
    with precision_policy(run.info["precision"]):
        _train(run, p, len(classes), verbose)
    finish(out, ds, p, run)
    return out


def _train(run: "_Run", p: dict, n_classes: int, verbose) -> None:
    out = run.out
    with strategy_scope(p["strategy"]):
        if run.initial_epoch:
            model = keras.models.load_model(run.last_ckpt)
            print(f"resuming {out} after epoch {run.initial_epoch}", flush=True)
        else:
            model = M.build(p["model"], num_classes=n_classes, augment=p["augment"], seed=p["seed"],
                            dropout=p["dropout"])
            _compile(model, p, len(run.batches))
    if run.initial_epoch >= p["epochs"] or run.state.get("wait", 0) >= p["patience"]:
        return
    print(f"training {p['model']} ({model.count_params():,} parameters, {run.info['precision']}) on "
          f"{len(run.batches.x):,} images, validating on {len(run.x_val):,}", flush=True)
    try:
        model.fit(run.batches, epochs=p["epochs"], initial_epoch=run.initial_epoch,
                  callbacks=[_EpochEnd(run)], verbose=verbose)
    except KeyboardInterrupt:
        raise FerError(f"training interrupted after epoch {run.state.get('epoch', 0)}; "
                       f"continue with: fer train --out {out} --resume") from None


def finish(out: Path, ds, p: dict, run: "_Run") -> dict:
    """Metrics of the best epoch on validation and (once) test, run info and the model card."""
    best, classes = keras.models.load_model(out / M.MODEL_FILE, compile=False), ds.classes
    if any(layer.dtype_policy.name != "float32" for layer in best.layers):
        best = _float32_copy(best, p, len(classes))
    best.save(out / M.MODEL_FILE)  # float32, without the optimizer state: a third of the size
    metrics = {}
    splits = [("validation", "valid", p["valid_subset"], p["seed"] + 1)]
    if p["evaluate_test"]:
        splits.append(("test", "test", None, 0))
    for key, split, n, seed in splits:
        x, y = seeded_subset(*ds.split(split, labels="majority"), n, seed)
        metrics[key] = compute_metrics(y, best.predict(x[..., None].astype("float32"), batch_size=256, verbose=0),
                                       classes)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    info = dict(run.info)
    info.update(started=info.pop("finished"), finished=utc_now())  # run_info() was taken at the start
    info.update(wall_seconds=round(run.state.get("wall_seconds", 0.0), 1), epochs_run=run.state.get("epoch"),
                best_epoch=run.state.get("best_epoch"), parameters=int(best.count_params()),
                train_images=len(run.batches.x), data_dir=str(ds.root))
    (out / "run.json").write_text(json.dumps(info, indent=2) + "\n")
    (out / "MODEL_CARD.md").write_text(model_card(out.name, p, metrics, info))
    return metrics


def model_card(name: str, p: dict, metrics: dict, info: dict) -> str:
    """A short model card: what the model is for, how it was measured, and where it fails."""
    def fig(split, key):
        m = metrics.get(split)
        return f"{m[key]:.4f}" if m else "not measured"

    test = metrics.get("test")
    recalls = ", ".join(f"{c} {v['recall']:.2f}" for c, v in test["per_class"].items()) if test else "n/a"
    return f"""# Model card: {name}

- **Model**: `{p['model']}` CNN, {info['parameters']:,} parameters, raw 48x48 grayscale pixels (0-255) in,
  8 probabilities out (anger, contempt, disgust, fear, happiness, neutral, sadness, surprise).
- **Training data**: FER2013 training images with FER+ labels ({info['train_images']:,} images,
  labels: {p['labels']}, imbalance: {p['imbalance']}, augmentation: {p['augment']}), {info['epochs_run']} epochs
  (best on validation: {info['best_epoch']}), seed {p['seed']}, {info['wall_seconds'] / 60:.0f} min on {info['machine']['cpu_count']} CPU cores
  ({info.get('precision', 'float32')} training; the saved model computes in float32).
- **Protocol**: FER+ majority labels (single votes dropped, majority > half, unknown/NF excluded);
  chosen on FER2013Valid, measured once on FER2013Test.
- **Results**: validation accuracy {fig('validation', 'accuracy')}, macro F1 {fig('validation', 'macro_f1')};
  test accuracy {fig('test', 'accuracy')}, macro F1 {fig('test', 'macro_f1')}, weighted F1 {fig('test', 'weighted_f1')}.
- **Per-class test recall**: {recalls}.
- **Intended use**: research and teaching on facial expression recognition; classifying the
  apparent expression of already-detected, roughly frontal faces.
- **Not for**: inferring emotions, intent or mental state of real people, or any decision about
  them (hiring, policing, health): an expression is not an emotion, and annotators disagree.
- **Limits and known biases**: FER2013 is web-scraped, mostly frontal, young adult and
  light-skinned faces, with posed and exaggerated expressions; contempt and disgust have about
  120 training images each, so their recall is low and unstable; low resolution (48x48) loses
  subtle cues; faces at other angles, lighting, occlusion or ages may be misclassified more often.
  The data set holds exact duplicates across splits (see `fer data summary`).
- **Reproduce**: `fer train --params params.yaml --out models/{name}`; versions and git commit in `run.json`.
"""
