"""Train a model into a model folder; a run killed at any moment resumes to the same numbers.

``fit(params, data_dir, out_dir)`` writes ``models/<name>/``: ``model.keras`` (best epoch on
validation, float32), ``history.csv``, ``params.yaml``, ``labels.json``, ``metrics.json``
(validation and, once, test), ``run.json`` (seed, versions, git commit, data fingerprint, wall
time), ``MODEL_CARD.md``, and ``checkpoints/`` (what ``resume=True`` continues from, see ``_Run``).
Every file is written atomically (``files``), by one process at a time (``locks.writer``: a second
``fer train`` into the folder is refused); a full disk stops the run with the command that resumes it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shlex
import time
from pathlib import Path

from .quiet import import_keras_quietly

import_keras_quietly()  # before Keras: TensorFlow's C++ start-up notes muted, also in a notebook's kernel (which echoes them)

import cv2  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402

from . import augment, distill, files, i18n, locks
from . import model as M
from .data import display_path, load_dataset, seeded_subset
from .errors import FerError, Interrupted, WriteFailed, disk_error, write_failed
from .metrics import compute_metrics
from .params import run_training_params, training_params
from .reproducibility import data_fingerprint, run_info, utc_now

# ---------------------------------------------------------------------------------------------

def class_weights(y: np.ndarray, n_classes: int, power: float) -> np.ndarray:
    """Per-class weights ``(n_max / n_c) ** power`` from hard or soft labels, mean 1 over samples."""
    counts = np.bincount(y, minlength=n_classes) if y.ndim == 1 else y.sum(axis=0)
    counts = np.maximum(counts.astype(np.float64), 1.0)
    w = (counts.max() / counts) ** power
    per_sample = _targets(y, n_classes) @ w
    return (w / per_sample.mean()).astype(np.float32)


@keras.saving.register_keras_serializable(package="fer")
class LogitAdjustedLoss(keras.losses.Loss):
    """Cross-entropy on the logits shifted by ``tau * log(prior)`` (Menon et al., ICLR 2021).

    Training against shifted logits makes a common class pay for its head start: the network
    learns logits that are right for balanced classes, and answers with them unshifted. At
    ``tau = 1`` it is the balanced softmax of Ren et al. (NeurIPS 2020). The network returns
    probabilities, so their log stands in for the logits (the same up to a constant per face,
    which a softmax ignores); registered so a checkpoint reloads with it on resume.
    """

    def __init__(self, prior, tau: float = 1.0, name: str = "logit_adjusted_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.prior = [float(v) for v in prior]
        self.tau = float(tau)
        self._shift = np.float32(self.tau) * np.log(np.maximum(np.asarray(self.prior, np.float32), 1e-12))

    def call(self, y_true, y_pred):
        ops = keras.ops
        logits = ops.log(ops.clip(ops.cast(y_pred, "float32"), 1e-7, 1.0)) + self._shift
        return -ops.sum(ops.cast(y_true, "float32") * ops.log_softmax(logits, axis=-1), axis=-1)

    def get_config(self):
        return {**super().get_config(), "prior": self.prior, "tau": self.tau}


def _targets(y: np.ndarray, n_classes: int) -> np.ndarray:
    return np.eye(n_classes, dtype=np.float32)[y] if y.ndim == 1 else y.astype(np.float32)


#: Share of training faces re-encoded as JPEG with ``augment: strong`` or ``camera``, and their quality range.
JPEG_SHARE, JPEG_QUALITY = 0.3, (25, 90)


def jpeg_artefacts(faces: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Re-encode a random ``JPEG_SHARE`` of uint8 faces as JPEG at a random quality (a copy)."""
    out = faces.copy()
    for k in np.flatnonzero(rng.random(len(faces)) < JPEG_SHARE):
        quality = int(rng.integers(*JPEG_QUALITY, endpoint=True))
        ok, buf = cv2.imencode(".jpg", faces[k], [cv2.IMWRITE_JPEG_QUALITY, quality])
        out[k] = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return out


class Batches(keras.utils.PyDataset):
    """Shuffled (or class-balanced) batches; the order of epoch ``e`` depends only on (seed, e),
    so a resumed run sees the same data order as an uninterrupted one.

    Batch ``i`` of epoch ``e`` draws its own random numbers from (seed, e, i): JPEG artefacts
    (``jpeg``), the augmentation when the pipeline does it (``augment``, ``augment_in: batches``,
    see ``augment.py``) and mixup (``mixup`` > 0: each face blended with another of the batch,
    weight Beta(alpha, alpha), and so are its soft targets and sample weights).
    """

    def __init__(self, x, y, batch_size, seed, sample_weight=None, sampling_p=None, mixup: float = 0.0,
                 jpeg: bool = False, augment: str = "none"):
        super().__init__()
        self.x, self.y, self.sw, self.p = x, y, sample_weight, sampling_p
        self.batch_size, self.seed, self.mixup, self.jpeg = batch_size, seed, mixup, jpeg
        self.augment_strength = augment
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        rng = np.random.default_rng([self.seed, epoch])
        n = len(self.x)
        self.epoch = epoch
        self.order = rng.choice(n, n, p=self.p) if self.p is not None else rng.permutation(n)

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, i):
        idx = np.sort(self.order[i * self.batch_size:(i + 1) * self.batch_size])
        faces, y = self.x[idx], self.y[idx]
        sw = None if self.sw is None else self.sw[idx]
        if self.jpeg or self.mixup:
            rng = np.random.default_rng([self.seed, self.epoch, i, 1])
            if self.jpeg:
                faces = jpeg_artefacts(faces, rng)
        if self.augment_strength != "none":
            rng_augment = np.random.default_rng([self.seed, self.epoch, i, 2])
            faces = augment.augment_batch(faces, self.augment_strength, rng_augment)
        xb = faces[..., None].astype("float32")
        if self.mixup:
            lam = rng.beta(self.mixup, self.mixup, size=len(idx)).astype("float32")
            lam = np.maximum(lam, 1 - lam)  # each face stays the larger part of its own blend
            other = rng.permutation(len(idx))
            xb = lam[:, None, None, None] * xb + (1 - lam[:, None, None, None]) * xb[other]
            y = lam[:, None] * y + (1 - lam[:, None]) * y[other]
            sw = None if sw is None else lam * sw + (1 - lam) * sw[other]
        return (xb, y) if sw is None else (xb, y, sw)


def swap_ema(model: keras.Model) -> None:
    """Exchange the model's weights and the optimizer's moving averages of them (``ema`` > 0).

    Validation and checkpoints use the averaged weights: on_epoch_end swaps them in, measures and
    saves, then swaps back, so training always continues from the raw weights. A checkpoint
    therefore holds the averages as its weights (what ``finish`` ships) and the raw weights in
    the optimizer's average slots; ``_Run.restore`` swaps once to continue exactly.
    (Keras' own ``SwapEMAWeights`` callback keeps its state in the process, which a resumed run
    does not have.)
    """
    opt = model.optimizer
    for var, average in zip(opt._trainable_variables, opt._model_variables_moving_average):
        raw = keras.ops.convert_to_numpy(var)
        var.assign(average)
        average.assign(raw)


def reseed(model: keras.Model, seed: int, epoch: int) -> None:
    """Restart every random layer's generator (augmentation, dropout) from ``(seed, epoch, i)``.

    Each epoch's random draws then depend only on the seed and the epoch, like the batch order:
    a run resumed after epoch ``e`` draws exactly what an uninterrupted run draws in epoch ``e + 1``.
    Distinct streams per layer also keep flip, rotation and zoom from sharing one random number.
    """
    generators = [g for layer in model._flatten_layers(include_self=False, recursive=True)
                  for g in getattr(layer, "_seed_generators", [])]
    for i, g in enumerate(generators):
        value = np.random.default_rng([seed, epoch, i]).integers(0, 2**31 - 1)
        g.state.assign(np.array([value, 0], dtype=keras.backend.standardize_dtype(g.state.dtype)))


class _EpochEnd(keras.callbacks.Callback):
    """Per epoch: validation metrics, then the checkpoint, the history row and the state, in that order.

    Everything an interrupted run needs is on disk before the next epoch starts.
    """

    def __init__(self, run: "_Run"):
        super().__init__()
        self.run = run

    def on_epoch_begin(self, epoch, logs=None):
        self.run.batches.set_epoch(epoch)
        reseed(self.model, self.run.p["seed"], epoch)
        self.t0 = time.time()

    def on_epoch_end(self, epoch, logs=None):
        r = self.run
        if r.p["ema"]:
            swap_ema(self.model)  # measure and save the averaged weights
        try:
            self._measure_and_commit(epoch, logs)
        finally:
            if r.p["ema"]:
                swap_ema(self.model)

    def _measure_and_commit(self, epoch, logs):
        r = self.run
        probs = self.model.predict(r.x_val[..., None].astype("float32"), batch_size=256, verbose=0)
        m = compute_metrics(r.y_val, probs, r.classes)
        row = {"epoch": epoch + 1, "accuracy": logs.get("accuracy"), "loss": logs.get("loss"),
               "val_accuracy": m["accuracy"], "val_loss": m["loss"], "val_macro_f1": m["macro_f1"],
               "learning_rate": float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)),
               "epoch_seconds": round(time.time() - self.t0, 1)}
        state = dict(r.state)
        value = row[r.p["monitor"]]
        if state.get("best") is None or value > state["best"]:
            state.update(best=value, best_epoch=epoch + 1, wait=0)
        else:
            state["wait"] = state.get("wait", 0) + 1
        state.update(epoch=epoch + 1, wall_seconds=r.elapsed())
        r.commit(self.model, row, state)
        done, total = epoch + 1, r.p["epochs"]
        eta = (r.elapsed() - r.start_wall) / max(done - r.initial_epoch, 1) * (total - done)
        print(f"epoch {done}/{total}: val_accuracy {m['accuracy']:.4f} val_macro_f1 {m['macro_f1']:.4f} "
              f"(best {state['best']:.4f} @ {state['best_epoch']}) | {row['epoch_seconds']:.0f}s, "
              f"about {eta / 60:.0f} min left", flush=True)
        if state["wait"] >= r.p["patience"]:
            print(f"early stop: {r.p['monitor']} has not improved for {r.p['patience']} epochs", flush=True)
            self.model.stop_training = True


CHECKPOINTS = "checkpoints"
#: Committed epochs kept on disk (with each one's best epoch): a damaged newest falls back to the one before.
KEEP_LAST = 2


def holds_run(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds a model or a run in progress, which training must not overwrite."""
    folder = Path(folder)
    ckpt = folder / CHECKPOINTS
    return ((folder / M.MODEL_FILE).is_file() or (ckpt / "start.json").is_file()
            or (ckpt / "state.json").is_file() or any(ckpt.glob("epoch-*.json")))


class _Run:
    """The files of one training run in ``out``.

    ``checkpoints/start.json`` records the data set (path and fingerprint) and the commit the run
    started with. After each epoch ``e``: ``epoch-<e>.keras`` (model and optimizer), the history
    row, then ``epoch-<e>.json`` (best so far, patience, wall time), each written atomically. The
    state file is the commit point: an epoch whose state is not on disk did not happen, and a
    resumed run replays it exactly (see ``reseed``).
    """

    def __init__(self, out: Path, p: dict):
        self.out, self.p = out, p
        self.ckpt_dir = out / CHECKPOINTS
        self.start_file = self.ckpt_dir / "start.json"
        self.history = out / "history.csv"
        self.state: dict = {}
        self._t0 = time.time()
        self.start_wall, self.initial_epoch = 0.0, 0

    def checkpoint(self, epoch: int) -> Path:
        return self.ckpt_dir / f"epoch-{epoch:04d}.keras"

    def state_file(self, epoch: int) -> Path:
        return self.ckpt_dir / f"epoch-{epoch:04d}.json"

    def committed(self) -> list[int]:
        """Epochs with a state file, newest first."""
        epochs = []
        for f in self.ckpt_dir.glob("epoch-*.json"):
            try:
                epochs.append(int(f.stem.split("-", 1)[1]))
            except ValueError:
                pass
        return sorted(epochs, reverse=True)

    def elapsed(self) -> float:
        return self.start_wall + time.time() - self._t0

    def commit(self, model: keras.Model, row: dict, state: dict) -> None:
        epoch = state["epoch"]
        files.save_model(model, self.checkpoint(epoch))
        self._write_history(row["epoch"], row)
        files.write_json(self.state_file(epoch), state)  # the commit point
        self.state = state
        self._prune()

    def _prune(self) -> None:
        """Keep the newest committed epochs and their best epochs; delete the others' files."""
        keep = set()
        for e in self.committed()[:KEEP_LAST]:
            keep.add(e)
            try:
                keep.add(json.loads(self.state_file(e).read_text())["best_epoch"])
            except (OSError, ValueError, KeyError):
                pass
        for f in list(self.ckpt_dir.glob("epoch-*")):
            try:
                epoch = int(f.name.split("-", 1)[1].split(".")[0])
            except ValueError:
                continue
            if epoch not in keep:
                f.unlink(missing_ok=True)

    def _write_history(self, upto: int, row: dict | None = None) -> None:
        """history.csv with the rows of epochs before ``upto`` (and ``row``): a replayed epoch is not doubled."""
        import pandas as pd

        rows = pd.read_csv(self.history).to_dict("records") if self.history.is_file() else []
        rows = [r for r in rows if r["epoch"] < upto] + ([row] if row else [])
        with files.atomic_path(self.history) as tmp:
            pd.DataFrame(rows).to_csv(tmp, index=False)

    def restore(self):
        """The newest committed epoch whose files are intact: ``(model, state)``, or ``(None, {})``.

        A damaged checkpoint (a disk filled up, a copy cut short) is reported in one line and the
        epoch before it is used; nothing the run wrote later than the restored epoch is kept.
        """
        files.remove_stale_temporaries(self.ckpt_dir)
        files.remove_stale_temporaries(self.out)
        for epoch in self.committed():
            try:
                state = json.loads(self.state_file(epoch).read_text())
                model = keras.models.load_model(self.checkpoint(epoch))
                if self.p["ema"]:
                    swap_ema(model)  # the checkpoint holds the averages as weights (see swap_ema)
            except Exception as exc:  # Keras raises many types for a damaged file
                print(f"checkpoint of epoch {epoch} is damaged or missing ({exc.__class__.__name__}); "
                      "falling back to the one before", flush=True)
                self.state_file(epoch).unlink(missing_ok=True)
                continue
            self._write_history(epoch + 1)
            self.state, self.initial_epoch = state, epoch
            self.start_wall = state.get("wall_seconds", 0.0)
            return model, state
        return None, {}


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


def model_augment(p: dict) -> str:
    """The augmentation the network's own layers do: none when the input pipeline does it."""
    return p["augment"] if p["augment_in"] == "model" else "none"


def pipeline_augment(p: dict) -> str:
    """The augmentation ``Batches`` does (``augment_in: batches``): none when the network does it."""
    return p["augment"] if p["augment_in"] == "batches" else "none"


def _float32_copy(model: keras.Model, p: dict, n_classes: int) -> keras.Model:
    """The same network in float32, for a shipped model that runs at full speed on any CPU."""
    with precision_policy("float32"):
        copy = M.build(p["model"], num_classes=n_classes, augment=model_augment(p), seed=p["seed"],
                       dropout=p["dropout"])
    copy.set_weights(model.get_weights())
    return copy


def _start_from(model: keras.Model, folder: str) -> None:
    """Fine-tuning: ``model`` takes the weights of the trained model in ``folder``, which must be the
    same network (``training.model``); only the training that follows differs. A resumed run
    starts from its checkpoint instead, so this happens once per run."""
    source = keras.models.load_model(Path(distill._folder(folder)) / M.MODEL_FILE, compile=False)
    mine, theirs = model.get_weights(), source.get_weights()
    if [w.shape for w in mine] != [w.shape for w in theirs]:
        raise FerError(f"training.init_from {folder}: a different network than training.model "
                       f"({source.count_params():,} parameters, this run's has {model.count_params():,})")
    model.set_weights(theirs)


def _loss(p: dict, prior):
    """The training loss: plain cross-entropy, or with ``imbalance: logit_adjusted`` shifted by the classes' prior."""
    if p["imbalance"] == "logit_adjusted":
        return LogitAdjustedLoss(prior, tau=p["logit_adjust_tau"])
    return keras.losses.CategoricalCrossentropy(label_smoothing=p["label_smoothing"])


def _compile(model, p, steps_per_epoch, prior):
    total = steps_per_epoch * p["epochs"]
    warmup = steps_per_epoch * p["warmup_epochs"]
    lr = p["learning_rate"]
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=lr / 10 if warmup else lr, decay_steps=max(total - warmup, 1),
        alpha=0.01, warmup_target=lr if warmup else None, warmup_steps=warmup)
    ema = {"use_ema": True, "ema_momentum": p["ema"]} if p["ema"] else {}
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=p["weight_decay"], **ema),
                  loss=_loss(p, prior),
                  metrics=["accuracy"])


def _open_data(run: _Run, data_dir, resume: bool):
    """The data set, and the record of it: a resumed run trains on the data it started with."""
    start = None
    if resume and run.start_file.is_file():
        try:
            start = json.loads(run.start_file.read_text())
        except (OSError, ValueError):
            raise FerError(f"{run.start_file}: damaged; the run's data set is unknown, start a new run") from None
        if data_dir is None:
            data_dir = start["data_dir"]
            if not Path(data_dir).exists():
                raise FerError(f"the data set this run started on is gone: {data_dir} "
                               "(pass --data with its new place to resume)")
    ds = load_dataset(data_dir)
    fingerprint = data_fingerprint(ds)
    if start is not None and fingerprint != start["data_fingerprint"]:
        raise FerError(f"{ds.root} is not the data set this run started on ({start['data_dir']}, "
                       f"fingerprint {start['data_fingerprint']}, now {fingerprint}); resume with that data")
    return ds, fingerprint, start


def fit(params: dict | None = None, data_dir=None, out_dir="models/default", resume: bool = False,
        verbose: int | str = "auto", **overrides) -> Path:
    """Train ``params`` (a profile dict or its ``training`` section) into ``out_dir``.

    ``resume=True`` continues from the last committed epoch after an interruption, on the same
    data, with the same numbers as an uninterrupted run; without it, a folder that already holds
    a run is refused rather than overwritten.
    """
    out = Path(out_dir)
    params, overrides = run_training_params(params, out, resume, overrides)
    p = training_params(params, **overrides)
    lock = out / locks.WRITER_LOCK
    if holds_run(out) and not resume and not locks.is_locked(lock):  # never overwrite a model
        raise FerError(f"{out} already holds a training run; pass --resume to continue it or choose another --out")
    files.ensure_dir(out, "model folder")
    # One writer per model folder, from before the check that it holds no run until the last file:
    # two runs started together both passed that check and mixed their files.
    with locks.writer(out, "model folder", "wait for it to finish, or choose another --out"):
        if holds_run(out) and not resume:
            raise FerError(f"{out} already holds a training run; pass --resume to continue it or choose another --out")
        try:
            return _fit(out, p, data_dir, resume, verbose)
        except FerError as exc:
            if not isinstance(exc, WriteFailed):
                raise
            disk, path = exc, exc.path
        except Exception as exc:
            disk = disk_error(exc)  # a write outside files.atomic_path (a library's own)
            if disk is None:
                raise
            path = disk.filename or out
    # what a full disk (or lost write access) leaves is a resumable run: say how to continue
    then = (f"continue with: fer train --out {shlex.quote(str(out))} --resume"
            if (out / "params.yaml").is_file() else "run the same command again with --resume")
    raise write_failed(path, disk, then=then) from None


def _fit(out: Path, p: dict, data_dir, resume: bool, verbose) -> Path:
    run = _Run(out, p)
    files.ensure_dir(run.ckpt_dir, "model folder")
    model = None
    if resume:
        model, _ = run.restore()
        if model is None:
            print(f"nothing to resume in {out}: starting a new run", flush=True)
    ds, fingerprint, start = _open_data(run, data_dir, resume and model is not None)
    if start is None:
        info = run_info(seed=p["seed"], params=p)  # the commit and versions the run started with
        start = {"data_dir": str(ds.root.resolve()), "data_fingerprint": fingerprint,
                 "started": info.pop("finished"), "info": info}
        if p["teachers"]:  # which models taught it (checked here, before any work)
            start["teachers"] = distill.teacher_record(p["teachers"], ds.classes)
        if p["init_from"]:  # and which one it started from
            start["init_from"] = distill.teacher_record([p["init_from"]], ds.classes)[0]
        files.write_json(run.start_file, start)
    run.start = start
    run.precision = resolve_precision(p["precision"])

    keras.utils.set_random_seed(p["seed"])
    classes = ds.classes
    x_tr, y_tr = seeded_subset(*ds.split("train", labels=p["labels"]), p["train_subset"], p["seed"])
    run.x_val, run.y_val = seeded_subset(*ds.split("valid", labels="majority"), p["valid_subset"], p["seed"] + 1)
    run.classes = classes
    targets = _targets(y_tr, len(classes))
    sw, probs = None, None
    run.prior = targets.mean(axis=0)  # the classes' share of the votes, before any teacher's view
    if p["imbalance"] in ("class_weight", "sampling"):  # weighted by the votes: a teacher's view does not make a face rarer
        w = class_weights(y_tr, len(classes), p["class_weight_power"])
        per_sample = targets @ w
        if p["imbalance"] == "class_weight":
            sw = per_sample.astype(np.float32)
        else:
            probs = per_sample / per_sample.sum()
    if p["teachers"]:
        targets = distill.distilled_targets(targets, x_tr, p["teachers"], p["teacher_weight"],
                                            run.ckpt_dir / distill.TEACHER_FILE)
        keras.utils.set_random_seed(p["seed"])  # as if no teacher had been loaded: fresh and resumed runs alike
    run.batches = Batches(x_tr, targets, p["batch_size"], p["seed"], sample_weight=sw, sampling_p=probs,
                          mixup=p["mixup"], jpeg=p["augment"] in ("strong", "camera"),
                          augment=pipeline_augment(p))

    files.write_text(out / "params.yaml", yaml.safe_dump({"training": p}, sort_keys=False))
    files.write_text(out / M.LABELS_FILE, json.dumps(classes, indent=2) + "\n")
    with precision_policy(run.precision):
        _train(run, model, p, len(classes), verbose)
    finish(out, ds, p, run)
    return out


def _train(run: "_Run", model, p: dict, n_classes: int, verbose) -> None:
    out = run.out
    with strategy_scope(p["strategy"]):
        if model is not None:
            print(f"resuming {out} after epoch {run.initial_epoch}", flush=True)
        else:
            model = M.build(p["model"], num_classes=n_classes, augment=model_augment(p), seed=p["seed"],
                            dropout=p["dropout"])
            if p["init_from"]:
                _start_from(model, p["init_from"])
            _compile(model, p, len(run.batches), run.prior)
    if run.initial_epoch >= p["epochs"] or run.state.get("wait", 0) >= p["patience"]:
        return
    print(f"training {p['model']} ({model.count_params():,} parameters, {run.precision}) on "
          f"{len(run.batches.x):,} images, validating on {len(run.x_val):,}", flush=True)
    try:
        # shuffle=False: Batches already shuffles by (seed, epoch); Keras' own batch shuffle draws
        # from Python's global random state, which a resumed process cannot restore
        model.fit(run.batches, epochs=p["epochs"], initial_epoch=run.initial_epoch, shuffle=False,
                  callbacks=[_EpochEnd(run)], verbose=verbose)
    except KeyboardInterrupt:
        raise Interrupted(f"training interrupted after epoch {run.state.get('epoch', 0)}; "
                          f"continue with: fer train --out {out} --resume") from None


def finish(out: Path, ds, p: dict, run: "_Run") -> dict:
    """The best epoch as a float32 ``model.keras``; its metrics on validation and (once) test; run info and card."""
    best_epoch = run.state.get("best_epoch")
    if best_epoch is None:
        raise FerError(f"{out}: no finished epoch to make a model from")
    try:
        best = keras.models.load_model(run.checkpoint(best_epoch), compile=False)
    except Exception as exc:  # Keras raises many types for a damaged file
        raise FerError(f"{run.checkpoint(best_epoch)}: best checkpoint damaged ({exc.__class__.__name__})") from None
    classes = ds.classes
    if any(layer.dtype_policy.name != "float32" for layer in best.layers):
        best = _float32_copy(best, p, len(classes))
    files.save_model(best, out / M.MODEL_FILE)  # float32, without the optimizer state: a third of the size
    metrics = {}
    splits = [("validation", "valid", p["valid_subset"], p["seed"] + 1)]
    if p["evaluate_test"]:
        splits.append(("test", "test", None, 0))
    for key, split, n, seed in splits:
        x, y = seeded_subset(*ds.split(split, labels="majority"), n, seed)
        metrics[key] = compute_metrics(y, best.predict(x[..., None].astype("float32"), batch_size=256, verbose=0),
                                       classes)
    files.write_json(out / "metrics.json", metrics)
    info = dict(run.start["info"])
    info.update(started=run.start["started"], finished=utc_now(), precision=run.precision)
    info.update(wall_seconds=round(run.state.get("wall_seconds", 0.0), 1), epochs_run=run.state.get("epoch"),
                best_epoch=best_epoch, parameters=int(best.count_params()),
                train_images=len(run.batches.x), data_dir=display_path(ds.root),
                data_fingerprint=run.start["data_fingerprint"])
    if "teachers" in run.start:  # a student's record names the exact models that taught it (sha256)
        info["teachers"] = run.start["teachers"]
    if "init_from" in run.start:
        info["init_from"] = run.start["init_from"]
    files.write_json(out / "run.json", info)
    files.write_text(out / "MODEL_CARD.md", model_card(out.name, p, metrics, info))
    return metrics


def _named(model: dict) -> str:
    """A model a run started from or learnt from, as its record names it: folder and hash."""
    return f"`{model['folder']}` (model.keras sha256 {model['sha256'][:12]})"


def _distilled_line(p: dict, info: dict, language: str = "en") -> str:
    teachers = info.get("teachers")  # finish() copies them from the run's start record
    if not teachers:
        return ""
    w = lambda v: i18n.number(v, language, "g")  # noqa: E731
    named = ", ".join(_named(t) for t in teachers)
    if language == "tr":
        return (f"\n- **Damıtılmış**: hedefler {w(1 - p['teacher_weight'])} x FER+ oyları + {w(p['teacher_weight'])} x "
                f"{named} modellerinin ortalama olasılıkları, eğitim başladığındaki halleriyle; öğretmenlerin kendi "
                "eğitim süresi yukarıdaki süreye dahil değildir.")
    return (f"\n- **Distilled**: targets {1 - p['teacher_weight']:g} x FER+ votes + {p['teacher_weight']:g} x the "
            f"mean probabilities of {named}, as they were when training began; the teachers' own training "
            "time is not in the time above.")


def _started_line(info: dict, language: str = "en") -> str:
    """Where a fine-tuned model's weights started (``training.init_from``), by folder and hash."""
    start = info.get("init_from")
    if not start:
        return ""
    named = _named(start)
    if language == "tr":
        return f"\n- **İnce ayar**: ağırlıklar {named} modelinden başladı; o modelin eğitim süresi yukarıdaki süreye dahil değildir."
    return f"\n- **Fine-tuned**: the weights started from {named}; that model's training time is not in the time above."


def _teachers_now(p: dict) -> str:
    """A student retrains from its teachers where they are now (found by the hashes above)."""
    return " -p teachers '[FOLDER, ...]'" if p.get("teachers") else ""


def model_card(name: str, p: dict, metrics: dict, info: dict, language: str = "en") -> str:
    """A short model card: what the model is for, how it was measured, and where it fails; in
    ``language`` (the file is English; the Turkish report shows the same card in Turkish)."""
    if i18n.check_language(language) == "tr":
        return _model_card_tr(name, p, metrics, info)

    def fig(split, key):
        m = metrics.get(split)
        return f"{m[key]:.4f}" if m else "not measured"

    test = metrics.get("test")
    machine = info["machine"]
    where = machine.get("accelerator") or f"{machine['cpu_count']} CPU cores"
    recalls = ", ".join(f"{c} {v['recall']:.2f}" for c, v in test["per_class"].items()) if test else "n/a"
    return f"""# Model card: {name}

- **Model**: `{p['model']}` CNN, {info['parameters']:,} parameters, raw 48x48 grayscale pixels (0-255) in,
  8 probabilities out (anger, contempt, disgust, fear, happiness, neutral, sadness, surprise).
- **Training data**: FER2013 training images with FER+ labels ({info['train_images']:,} images,
  labels: {p['labels']}, imbalance: {p['imbalance']}, augmentation: {p['augment']}), {info['epochs_run']} epochs
  (best on validation: {info['best_epoch']}), seed {p['seed']}, {info['wall_seconds'] / 60:.0f} min on {where}
  ({info.get('precision', 'float32')} training; the saved model computes in float32).{_distilled_line(p, info)}{_started_line(info)}
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
- **Reproduce**: `fer train --params params.yaml{_teachers_now(p)} --out models/{name}`; versions and git commit in `run.json`.
"""


def _model_card_tr(name: str, p: dict, metrics: dict, info: dict) -> str:
    """``model_card`` in Turkish, from the same records, numbers written the Turkish way."""
    def fig(split, key):
        m = metrics.get(split)
        return i18n.number(m[key], "tr", ".4f") if m else "ölçülmedi"

    test = metrics.get("test")
    machine = info["machine"]
    where = f"{machine['accelerator']} üzerinde" if machine.get("accelerator") else f"{machine['cpu_count']} işlemci çekirdeğinde"
    recalls = (", ".join(f"{i18n.class_name(c, 'tr')} {i18n.number(v['recall'], 'tr', '.2f')}"
                         for c, v in test["per_class"].items()) if test else "yok")
    classes = ", ".join(i18n.class_names(["anger", "contempt", "disgust", "fear", "happiness", "neutral", "sadness",
                                          "surprise"], "tr"))
    return f"""# Model kartı: {name}

- **Model**: `{p['model']}` CNN, {i18n.num(info['parameters'], 'tr')} parametre; girdi ham 48x48 gri tonlamalı
  pikseller (0-255), çıktı 8 olasılık ({classes}).
- **Eğitim verisi**: FER+ etiketli FER2013 eğitim görüntüleri ({i18n.num(info['train_images'], 'tr')} görüntü;
  etiketler: {p['labels']}, dengesizlik: {p['imbalance']}, veri çoğaltma: {p['augment']}), {info['epochs_run']} epok
  (doğrulamada en iyisi: {info['best_epoch']}), tohum {p['seed']}, {where} {i18n.num(info['wall_seconds'] / 60, 'tr')} dk
  ({info.get('precision', 'float32')} eğitim; kaydedilen model float32 ile hesaplar).{_distilled_line(p, info, 'tr')}{_started_line(info, 'tr')}
- **Protokol**: FER+ çoğunluk etiketleri (tek oylar atılır, çoğunluk yarıdan fazla olmalı, bilinmiyor ve yüz
  değil dışarıda); FER2013Valid üzerinde seçildi, FER2013Test üzerinde bir kez ölçüldü.
- **Sonuçlar**: doğrulama doğruluğu {fig('validation', 'accuracy')}, makro F1 {fig('validation', 'macro_f1')};
  test doğruluğu {fig('test', 'accuracy')}, makro F1 {fig('test', 'macro_f1')}, ağırlıklı F1 {fig('test', 'weighted_f1')}.
- **Sınıf başına test duyarlılığı**: {recalls}.
- **Amaçlanan kullanım**: yüz ifadesi tanıma üzerine araştırma ve öğretim; önceden bulunmuş, kabaca önden
  çekilmiş yüzlerin görünen ifadesini sınıflandırmak.
- **Ne için değil**: gerçek kişilerin duygularını, niyetini ya da ruh halini çıkarmak ya da onlar hakkında
  herhangi bir karar (işe alım, kolluk, sağlık): ifade duygu değildir ve etiketleyiciler de anlaşamaz.
- **Sınırlar ve bilinen yanlılıklar**: FER2013 webden toplanmıştır: çoğunlukla önden çekilmiş, genç yetişkin
  ve açık tenli yüzler, pozlanmış ve abartılı ifadeler; küçümseme ve iğrenmenin her birinde yaklaşık 120
  eğitim görüntüsü vardır, bu yüzden duyarlılıkları düşük ve kararsızdır; düşük çözünürlük (48x48) ince
  ipuçlarını yitirir; başka açılardan, başka ışıkta, örtülü ya da başka yaşlardaki yüzler daha sık yanlış
  sınıflandırılabilir. Veri kümesi bölümler arasında birebir kopyalar içerir (bkz. `fer data summary`).
- **Yeniden üretme**: `fer train --params params.yaml{_teachers_now(p)} --out models/{name}`; sürümler ve git
  commit `run.json` içinde.
"""
