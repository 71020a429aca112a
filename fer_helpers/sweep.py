"""Sweeps: one YAML file names a base profile and its variants; ``fer sweep`` trains each one.

A sweep file (``notebooks/sweeps/<name>.yaml``)::

    description: one change at a time to the shipped recipe, 20 epochs each
    base: notebooks/params/full.yaml     # the profile every variant starts from
    common: {training: {epochs: 20}}     # applied to every variant
    reference: default                   # what the ablations are compared with (05_experiments)
    variants:
      default: {}
      hard_labels: {training: {labels: majority}}
    grid:                                # shorthand: one variant per value (seed_43, seed_44)
      seed: [43, 44]

Each variant is the training notebook (``02_training``) executed by papermill into
``runs/<sweep>/<variant>/``: the model folder (``params.yaml``, ``history.csv``, ``metrics.json``,
``run.json``), the executed notebook and its figures. Variants are independent jobs, so
``--only`` lets a batch scheduler run them on several machines. Running the same command again
skips finished variants and resumes an interrupted one from its last committed epoch (the
training's exact resume), so a sweep killed at any moment finishes with the numbers it would
have had. A lock file per variant keeps two processes from training the same folder.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
import os
import platform
import re
import shlex
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import locks
from .data import PROJECT_ROOT, display_path, shell_path
from .errors import FerError, Interrupted
from .files import ensure_dir, write_text

SWEEP_DIR = PROJECT_ROOT / "notebooks" / "sweeps"
RUNS_DIR = PROJECT_ROOT / "runs"
TRAINING_NOTEBOOK = PROJECT_ROOT / "notebooks" / "02_training.py"
SWEEP_RECORD = "sweep.yaml"       # the resolved sweep, written into runs/<sweep>/ by every run
ERROR_FILE = "sweep-error.txt"    # why a variant's last attempt failed (removed when it succeeds)
LOCK_FILE = ".sweep.lock"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
_KEYS = {"description", "base", "common", "reference", "variants", "grid"}
#: Seconds per image-epoch when neither the sweep nor models/<architecture> has a finished run:
#: the shipped model's (99 min for 50 epochs of 28,385 images on this project's 2-core CPU).
_FALLBACK_SECONDS_PER_IMAGE_EPOCH = 5922.6 / (50 * 28385)
_EVALUATION_SECONDS = 60  # the notebook's start, the best model's evaluation and its figures


@dataclass
class Variant:
    """One run of a sweep: its name, what it changes and the full profile it trains with."""

    name: str
    changes: dict            # dotted keys -> values, what the sweep file says for this variant
    params: dict             # the resolved profile (base + common + changes)
    folder: Path

    @property
    def training(self) -> dict:
        from .params import training_params

        return training_params(self.params)

    def describe(self) -> str:
        """What the variant changes, as ``labels=majority, seed=43`` (``training.`` left out)."""
        return ", ".join(f"{k.removeprefix('training.')}={v}" for k, v in self.changes.items()) or "no change"


@dataclass
class Sweep:
    name: str
    source: Path
    base: Path
    description: str
    common: dict
    reference: str | None
    variants: list[Variant] = field(default_factory=list)
    folder: Path = RUNS_DIR

    def select(self, only: str | None) -> list[Variant]:
        """The variants named in ``only`` (``a,b``), in the sweep's order; all of them without it."""
        if not only:
            return list(self.variants)
        wanted = [n.strip() for n in only.split(",") if n.strip()]
        known = {v.name for v in self.variants}
        unknown = [n for n in wanted if n not in known]
        if unknown:
            raise FerError(f"{display_path(self.source)}: no variant named {', '.join(unknown)}; "
                           f"variants: {', '.join(v.name for v in self.variants)}")
        return [v for v in self.variants if v.name in wanted]

    def record(self) -> dict:
        """What ``runs/<sweep>/sweep.yaml`` keeps: enough for ``fer runs`` and 05_experiments."""
        return {"name": self.name, "source": display_path(self.source), "base": display_path(self.base),
                "description": self.description, "reference": self.reference,
                "variants": {v.name: v.changes for v in self.variants}}


# ---------------------------------------------------------------------------------------------
# Reading a sweep file

def _flatten(mapping, prefix: str = "") -> dict:
    """``{training: {labels: majority}}`` -> ``{"training.labels": "majority"}``."""
    out = {}
    for key, value in (mapping or {}).items():
        key = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(_flatten(value, key + "."))
        else:
            out[key] = value
    return out


def _grid_variants(grid: dict, where: str) -> dict[str, dict]:
    """Every combination of the grid's values, named ``key_value`` (joined by ``-``)."""
    if not isinstance(grid, dict) or not grid:
        raise FerError(f"{where}: grid must map a parameter to a list of values")
    keys, value_lists = [], []
    for key, values in _flatten(grid).items():
        if not isinstance(values, list) or not values:
            raise FerError(f"{where}: grid.{key} must be a non-empty list of values")
        keys.append(key)
        value_lists.append(values)
    variants = {}
    for combo in itertools.product(*value_lists):
        name = "-".join(f"{k.rsplit('.', 1)[-1]}_{v}" for k, v in zip(keys, combo))
        variants[name] = dict(zip(keys, combo))
    return variants


def resolve_sweep_file(path: str | os.PathLike) -> Path:
    """A path as given, else relative to the project, else a sweep's name in ``notebooks/sweeps``."""
    p = Path(path).expanduser()
    for candidate in (p, PROJECT_ROOT / p, SWEEP_DIR / p, SWEEP_DIR / f"{p}.yaml"):
        if candidate.is_file():
            return candidate
    raise FerError(f"sweep file not found: {path} (nor in {display_path(SWEEP_DIR)})")


def load_sweep(path: str | os.PathLike, runs_dir: str | os.PathLike | None = None,
               data_dir: str | None = None) -> Sweep:
    """Read and check a sweep file: every variant's profile is resolved and validated up front,
    so a typo in the last variant fails before hours of the first one."""
    from .params import apply_overrides, check_params, load_params, resolve_params_file, training_params

    source = resolve_sweep_file(path)
    spec = load_params(source)  # the same YAML reader and one-line errors as a params file
    where = display_path(source)
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        raise FerError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}")
    if "base" not in spec:
        raise FerError(f"{where}: no base profile (base: notebooks/params/full.yaml)")
    base = resolve_params_file(spec["base"])
    declared = spec.get("variants") or {}
    if not isinstance(declared, dict):
        raise FerError(f"{where}: variants must map names to overrides")
    changes = {name: _flatten(over) for name, over in declared.items()}
    if spec.get("grid") is not None:
        for name, over in _grid_variants(spec["grid"], where).items():
            if name in changes:
                raise FerError(f"{where}: grid variant {name} is also declared under variants")
            changes[name] = over
    if not changes:
        raise FerError(f"{where}: no variants")
    common = _flatten(spec.get("common"))
    name = source.stem
    folder = Path(runs_dir) if runs_dir else RUNS_DIR / name
    reference = spec.get("reference")
    if reference is not None and reference not in changes:
        raise FerError(f"{where}: reference {reference!r} is not one of the variants")
    sweep = Sweep(name=name, source=source, base=base, description=str(spec.get("description") or ""),
                  common=common, reference=reference, folder=folder)
    base_params = load_params(base)
    for vname, over in changes.items():
        if not isinstance(vname, str) or not _NAME.match(vname):
            raise FerError(f"{where}: variant name {vname!r} must be letters, digits, _ . + - (it names a folder)")
        if not isinstance(over, dict):
            raise FerError(f"{where}: variant {vname}: expected a mapping of overrides")
        vfolder = folder / vname
        try:
            params = apply_overrides(base_params, {**common, **over})
            # a variant is a training run: no report chapters of its own (experiments)
            params.update(run_name=f"{name}-{vname}", model_dir=str(vfolder), train=True, experiments=None)
            if data_dir is not None:
                params["data_dir"] = data_dir
            params = check_params(params, source=f"{where}, variant {vname}")
            training_params(params)
        except FerError as exc:
            msg = str(exc)
            raise FerError(msg if f"variant {vname}" in msg else f"{where}, variant {vname}: {msg}") from None
        sweep.variants.append(Variant(vname, over, params, vfolder))
    return sweep


# ---------------------------------------------------------------------------------------------
# State of a variant's folder, and time estimates

def _epochs_done(folder: Path) -> int:
    try:
        with open(folder / "history.csv") as f:
            return max(0, sum(1 for line in f if line.strip()) - 1)
    except OSError:
        return 0


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _metrics_problem(m) -> str | None:
    if not isinstance(m, dict):
        return f"holds {type(m).__name__ if m is not None else 'null'}, not the run's metrics"
    for split in ("validation", "test"):
        if split not in m and split == "test":
            continue
        part = m.get(split)
        if not isinstance(part, dict) or not all(_number(part.get(k)) for k in ("accuracy", "macro_f1")):
            return f"has no {split} accuracy and macro F1"
    return None


def _info_problem(info) -> str | None:
    if not isinstance(info, dict):
        return f"holds {type(info).__name__ if info is not None else 'null'}, not the run's record"
    checks = {"wall_seconds": _number, "best_epoch": _number, "epochs_run": _number,
              "git_commit": lambda v: isinstance(v, str), "machine": lambda v: isinstance(v, dict)}
    bad = [k for k, ok in checks.items() if info.get(k) is not None and not ok(info[k])]
    return f"has a bad {bad[0]}" if bad else None


def read_records(folder: Path) -> tuple[dict | None, dict | None, str | None]:
    """``(metrics, info, damage)`` of the run in ``folder``: its ``metrics.json`` and ``run.json``
    (``None`` where absent) and, where either is there but unreadable or of the wrong shape
    (truncated, emptied, binary, another program's JSON), one line saying so (then both are ``None``).

    A damaged record is not a finished run: ``fer runs`` lists it as damaged, ``fer sweep`` trains
    it again (its training resumes from the last checkpoint and writes the records anew).
    """
    found = {}
    for name, problem in (("metrics.json", _metrics_problem), ("run.json", _info_problem)):
        path = Path(folder) / name
        if not path.exists():
            found[name] = None
            continue
        try:
            raw = path.read_bytes()
        except OSError as exc:
            return None, None, f"{name} cannot be read ({exc.strerror or exc})"
        if not raw.strip():
            return None, None, f"{name} is empty"
        try:
            value = json.loads(raw.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError too: a binary file
            return None, None, f"{name} is not valid JSON (truncated or overwritten)"
        why = problem(value)
        if why:
            return None, None, f"{name} {why}"
        found[name] = value
    return found["metrics.json"], found["run.json"], None


def is_finished(folder: Path) -> bool:
    """A variant is finished once training wrote its ``run.json`` (the last file ``finish`` writes)
    and both it and ``metrics.json`` read back whole (``read_records``)."""
    metrics, info, damage = read_records(folder)
    return metrics is not None and info is not None and damage is None


def _rate(folder: Path) -> tuple[str | None, float] | None:
    """(architecture, seconds per image-epoch) of the finished run in ``folder``, if it trained on
    a machine like this one: a sweep whose runs came back from a lent GPU estimated the next CPU
    run at 4 minutes instead of 70."""
    try:
        info = json.loads((folder / "run.json").read_text())
        if not _like_this_machine(info.get("machine") or {}):
            return None
        return info["params"]["model"], info["wall_seconds"] / (info["epochs_run"] * info["train_images"])
    except (OSError, ValueError, KeyError, ZeroDivisionError, TypeError, AttributeError):
        return None


def _like_this_machine(machine: dict) -> bool:
    """Same processor kind and core count (what ``reproducibility.run_info`` records); a run that
    recorded no machine counts as this one's."""
    return (machine.get("processor", platform.machine()) == platform.machine()
            and machine.get("cpu_count", os.cpu_count()) == os.cpu_count())


def _seconds_per_image_epoch(sweep: Sweep, model: str) -> float:
    """Measured, not assumed: the sweep's finished runs of the same architecture, else the shipped
    ``models/<architecture>``, else any finished run of the sweep, else the shipped model's rate."""
    rates = [r for r in (_rate(v.folder) for v in sweep.variants) if r]
    same = [rate for m, rate in rates if m == model] or [r[1] for r in filter(None, [_rate(PROJECT_ROOT / "models" / model)])]
    pool = same or [rate for _, rate in rates]
    return sum(pool) / len(pool) if pool else _FALLBACK_SECONDS_PER_IMAGE_EPOCH


def estimate_seconds(sweep: Sweep, variant: Variant, train_images: int = 28385) -> float:
    """Seconds the variant still needs: its remaining epochs at the measured rate (0 once finished).

    An upper bound: early stopping may end a run sooner.
    """
    if is_finished(variant.folder):
        return 0.0
    p = variant.training
    images = min(p["train_subset"] or train_images, train_images)
    left = max(0, p["epochs"] - _epochs_done(variant.folder))
    return left * images * _seconds_per_image_epoch(sweep, p["model"]) + _EVALUATION_SECONDS


def format_duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


# ---------------------------------------------------------------------------------------------
# Running

@contextlib.contextmanager
def _variant_lock(folder: Path):
    """Hold the variant's lock for the duration; ``None`` is yielded when another process holds it.

    The same OS lock as a training run's (``locks``): released by the kernel when the process
    ends, however it ends. The training inside the notebook kernel takes the folder's writer lock.
    """
    ensure_dir(folder, "run folder")
    f = locks.try_lock(folder / LOCK_FILE)
    if f is None:
        yield None
        return
    try:
        yield f
    finally:
        locks.unlock(f)


def is_running(folder: Path) -> bool:
    """Whether a ``fer sweep`` process holds this variant's lock now.

    (Not the training's own writer lock: the notebook kernel of a sweep killed a moment ago may
    still hold it for a second while it notices its parent is gone, and the folder then reads as
    interrupted, which is what it is; a new training waits for nothing, ``locks.writer`` refuses
    it only while that kernel lives.)
    """
    return locks.is_locked(Path(folder) / LOCK_FILE)


def _check_same_recipe(variant: Variant) -> None:
    """A folder trained with other parameters is not this variant: refuse rather than mix them."""
    recorded = variant.folder / "params.yaml"
    if not recorded.is_file():
        return
    try:
        had = (yaml.safe_load(recorded.read_text()) or {}).get("training", {})
    except (OSError, yaml.YAMLError):
        return  # training's resume reports a damaged params.yaml itself
    want = variant.training
    differ = [k for k in want if k in had and had[k] != want[k]]
    if differ:
        shown = ", ".join(f"{k}: {had[k]!r} there, {want[k]!r} now" for k in differ[:3])
        raise FerError(f"{display_path(variant.folder)} was trained with other parameters ({shown}); "
                       "rename the variant or move that folder away")


class _EpochWatcher:
    """A progress bar over the variant's epochs, fed by the rows its ``history.csv`` gains.

    The training runs inside a notebook kernel; its history file is the one place its progress
    shows outside it.
    """

    def __init__(self, folder: Path, epochs: int, label: str):
        from tqdm import tqdm  # plain bars, as data.py (tqdm.auto warns in a kernel without ipywidgets)

        self.folder, self.stop = folder, threading.Event()
        done = _epochs_done(folder)
        self.bar = tqdm(total=epochs, initial=done, desc=label, unit="epoch", leave=False, dynamic_ncols=True)
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self):
        while not self.stop.wait(2.0):
            done = min(_epochs_done(self.folder), self.bar.total)
            if done > self.bar.n:
                self.bar.update(done - self.bar.n)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.bar.close()


def _summary(folder: Path) -> str:
    m, info, damage = read_records(folder)
    if m is None or info is None or damage:
        return ""
    parts = [f"validation {m['validation']['accuracy']:.2%}"]
    if "test" in m:
        parts.append(f"test {m['test']['accuracy']:.2%}")
    parts.append(f"best epoch {info.get('best_epoch')}/{info.get('epochs_run')}")
    return ", ".join(parts)


def _run_variant(sweep: Sweep, variant: Variant, progress: bool) -> None:
    from .params import notebook_parameters
    from .pipeline import execute_notebook
    from .quiet import import_keras_quietly

    import_keras_quietly()  # training (for holds_run) imports Keras: without TensorFlow's start-up notes
    from .training import holds_run

    resume = holds_run(variant.folder)
    params = copy.deepcopy(variant.params)
    params["train"] = False  # notebook_parameters refuses to train into a folder holding a run
    injected = notebook_parameters(params, output_dir=variant.folder)
    injected.update(train=True, resume=resume, model_dir=str(variant.folder.resolve()))
    error_file = variant.folder / ERROR_FILE
    label = f"  {variant.name}"
    watcher = _EpochWatcher(variant.folder, variant.training["epochs"], label) if progress else contextlib.nullcontext()
    try:
        with watcher:
            execute_notebook(TRAINING_NOTEBOOK, variant.folder / "02_training.ipynb", injected,
                             cwd=variant.folder, progress=False)
    except FerError as exc:
        write_text(error_file, f"{exc}\n")
        raise
    with contextlib.suppress(FileNotFoundError):
        error_file.unlink()


def run_sweep(path: str | os.PathLike, only: str | None = None, dry_run: bool = False,
              data_dir: str | None = None, runs_dir: str | os.PathLike | None = None,
              progress: bool = True, say=print, list_only: bool = False) -> int:
    """``fer sweep``: train every variant not yet finished, one after another; exit status 0 when all finished."""
    sweep = load_sweep(path, runs_dir=runs_dir, data_dir=data_dir)
    chosen = sweep.select(only)
    if list_only:  # one name per line, for a scheduler's job array
        for v in chosen:
            say(v.name)
        return 0
    estimates = {v.name: estimate_seconds(sweep, v) for v in chosen}
    total = sum(estimates.values())
    if dry_run:
        say(f"sweep {sweep.name}: {len(chosen)} variant(s) into {shell_path(sweep.folder)}, "
            f"base {shell_path(sweep.base)}; about {format_duration(total)} left")
        for v in chosen:
            state = "finished" if is_finished(v.folder) else f"about {format_duration(estimates[v.name])}"
            say(f"\n{v.name} ({v.describe()}): {state}")
            say(yaml.safe_dump({k: v.params[k] for k in ("seed", "data_dir")} | {"training": v.training},
                               sort_keys=False).rstrip())
        return 0
    ensure_dir(sweep.folder, "runs folder")
    write_text(sweep.folder / SWEEP_RECORD, yaml.safe_dump(sweep.record(), sort_keys=False, allow_unicode=True))
    failed, skipped = [], []
    started = time.monotonic()
    for i, v in enumerate(chosen, start=1):
        head = f"[{i}/{len(chosen)}] {v.name} ({v.describe()})"
        try:
            _check_same_recipe(v)
        except FerError as exc:
            say(f"{head}: {exc}")
            failed.append(v.name)
            continue
        if is_finished(v.folder):
            say(f"{head}: finished already, {_summary(v.folder)}")
            continue
        damage = read_records(v.folder)[2]
        if damage:  # training resumes from its last checkpoint and writes the records again
            say(f"{head}: damaged record, {damage}; not finished, training it again")
        left = sum(estimates[u.name] for u in chosen[i - 1:] if not is_finished(u.folder))
        with _variant_lock(v.folder) as lock:
            if lock is None:
                say(f"{head}: another process is training it now; skipped")
                skipped.append(v.name)
                continue
            resumed = " (resuming)" if _epochs_done(v.folder) else ""
            say(f"{head}{resumed}: about {format_duration(estimates[v.name])}; "
                f"sweep about {format_duration(left)} left")
            t0 = time.monotonic()
            try:
                _run_variant(sweep, v, progress)
            except Interrupted:
                raise
            except KeyboardInterrupt:
                again = ["fer", "sweep", str(path)] + (["--only", only] if only else []) \
                    + (["--data", str(data_dir)] if data_dir else []) + (["--out", str(runs_dir)] if runs_dir else [])
                raise Interrupted(f"sweep interrupted during {v.name}; resume it with: {shlex.join(again)}") from None
            except FerError as exc:
                say(f"{head}: failed: {exc}")
                failed.append(v.name)
                continue
            say(f"{head}: done in {format_duration(time.monotonic() - t0)}, {_summary(v.folder)}")
    elapsed = format_duration(time.monotonic() - started)
    if failed or skipped:
        parts = [f"failed: {', '.join(failed)}"] if failed else []
        parts += [f"running elsewhere: {', '.join(skipped)}"] if skipped else []
        raise FerError(f"sweep {sweep.name} not finished after {elapsed} ({'; '.join(parts)}); "
                       f"see fer runs {shlex.quote(shell_path(sweep.folder))}")
    say(f"sweep {sweep.name}: all {len(chosen)} variant(s) finished ({elapsed}); "
        f"results: fer runs {shlex.quote(shell_path(sweep.folder))}")
    return 0
