"""The registry of runs: what each run folder of a sweep holds, as one table (``fer runs``).

A run folder is read from its small text files only (``params.yaml``, ``history.csv``,
``metrics.json``, ``run.json``), so the committed study can be tabulated and plotted without
its models. Every variant the sweep names gets a row: finished, running, interrupted, failed or
not started; none is silently dropped.

The seed-noise helpers compare each ablation with the spread of the reference recipe over
seeds: a difference is called real only when it is larger than that noise.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .data import PROJECT_ROOT, display_path
from .errors import FerError
from .files import sha256, write_text
from .sweep import ERROR_FILE, RUNS_DIR, SWEEP_RECORD, is_running, read_records

COLUMNS = ["variant", "status", "changes", "val_accuracy", "val_macro_f1", "test_accuracy", "test_macro_f1",
           "best_epoch", "epochs", "wall_minutes", "machine", "commit"]


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def read_history(folder: str | os.PathLike) -> pd.DataFrame | None:
    """A run's ``history.csv`` (one row per epoch), or ``None`` when it has none yet."""
    try:
        return pd.read_csv(Path(folder) / "history.csv")
    except (OSError, ValueError, pd.errors.EmptyDataError):
        return None


def sweep_record(folder: str | os.PathLike) -> dict:
    """The ``sweep.yaml`` that ``fer sweep`` wrote into the sweep folder (``{}`` when absent)."""
    try:
        return yaml.safe_load((Path(folder) / SWEEP_RECORD).read_text()) or {}
    except (OSError, yaml.YAMLError):
        return {}


def _short(value):
    """A change as a table shows it: runs of a sweep named by variant (``runs/candidates/seed_1`` ->
    ``seed_1``), so that a student of seven teachers fits a line; other values as they are."""
    if isinstance(value, list):
        return "[" + ", ".join(str(_short(v)) for v in value) + "]"
    if isinstance(value, str) and value.startswith(f"{RUNS_DIR.name}/") and value.count("/") == 2:
        return value.rsplit("/", 1)[1]
    return value


def _describe(changes: dict) -> str:
    return ", ".join(f"{str(k).removeprefix('training.')}={_short(v)}"
                     for k, v in (changes or {}).items()) or "no change"


def _short_commit(sha: str | None) -> str | None:
    """``474e864``, or ``474e864+dirty`` when the run started from uncommitted changes."""
    if not sha:
        return None
    return sha[:7] + ("+dirty" if sha.endswith("+dirty") else "")


def machine_name(info: dict | None) -> str | None:
    """Where a finished run trained, in two words ("H100 GPU", "2-core CPU"): its minutes mean
    nothing without it, since one sweep may mix this CPU's runs with a lent GPU's."""
    machine = (info or {}).get("machine") or {}
    if machine.get("accelerator"):
        words = str(machine["accelerator"]).removeprefix("NVIDIA ").split()
        return f"{words[0]} GPU" if words else "GPU"
    return f"{machine['cpu_count']}-core CPU" if machine.get("cpu_count") else None


@functools.lru_cache(maxsize=None)
def _weights_hash(path: str, size: int, mtime: float) -> str:
    return sha256(path)


def _models_by_hash(root: Path) -> dict[str, str]:
    """The model folders under ``root/models`` by the sha256 of their ``model.keras``."""
    found = {}
    for weights in sorted((root / "models").glob("*/model.keras")):
        stat = weights.stat()
        found[_weights_hash(str(weights), stat.st_size, stat.st_mtime)] = f"models/{weights.parent.name}"
    return found


def _teachers_as_found(changes: dict, info: dict | None, root: Path) -> dict:
    """``changes`` with each teacher (and a fine-tune's starting model) named by the folder that
    holds it now: a run records their hashes, and the folder it named (``models/default``) may hold
    another model since (a shipped student replaces its teacher). One found nowhere keeps its name
    and hash."""
    info = info or {}
    by_hash = None

    def now(t) -> str:
        nonlocal by_hash
        folder = str(t.get("folder", "?"))
        if folder.startswith(f"{RUNS_DIR.name}/"):
            return folder  # a run of a sweep keeps its folder
        by_hash = _models_by_hash(root) if by_hash is None else by_hash
        return by_hash.get(t["sha256"], f"{folder}@{t['sha256'][:7]}")

    changes = dict(changes)
    recorded = info.get("teachers") or []
    key = next((k for k in ("training.teachers", "teachers") if k in changes), None)
    if recorded and key is not None and all(isinstance(t, dict) and t.get("sha256") for t in recorded):
        changes[key] = [now(t) for t in recorded]
    start = info.get("init_from")
    key = next((k for k in ("training.init_from", "init_from") if k in changes), None)
    if key is not None and isinstance(start, dict) and start.get("sha256"):
        changes[key] = now(start)
    return changes


def run_row(folder: Path, name: str, changes: dict | None) -> dict:
    """One row of the table for the run in ``folder``: its teachers (a distilled run) named by the
    model folder that holds them now (``_teachers_as_found``)."""
    row = dict.fromkeys(COLUMNS)
    row.update(variant=name, changes=_describe(changes) if changes is not None else "")
    params = {}
    try:
        params = (yaml.safe_load((folder / "params.yaml").read_text()) or {}).get("training", {})
    except (OSError, ValueError, yaml.YAMLError, AttributeError):
        pass
    metrics, info, damage = read_records(folder)
    history = read_history(folder)
    epochs = params.get("epochs") if isinstance(params, dict) else None
    row["epochs"] = epochs if isinstance(epochs, int) and not isinstance(epochs, bool) else None
    if changes is not None and info is not None:
        row["changes"] = _describe(_teachers_as_found(changes, info, PROJECT_ROOT))
    if metrics is not None and info is not None:
        row.update(status="finished", val_accuracy=metrics["validation"]["accuracy"],
                   val_macro_f1=metrics["validation"]["macro_f1"], best_epoch=info.get("best_epoch"),
                   epochs=info.get("epochs_run"), wall_minutes=round(info.get("wall_seconds", 0) / 60, 1),
                   machine=machine_name(info), commit=_short_commit(info.get("git_commit")))
        if "test" in metrics:
            row.update(test_accuracy=metrics["test"]["accuracy"], test_macro_f1=metrics["test"]["macro_f1"])
        return row
    done = 0 if history is None else len(history)
    if done:
        try:
            best = history["val_accuracy"].idxmax()
            row.update(val_accuracy=float(history.loc[best, "val_accuracy"]),
                       val_macro_f1=float(history.loc[best, "val_macro_f1"]),
                       best_epoch=int(history.loc[best, "epoch"]),
                       wall_minutes=round(float(history["epoch_seconds"].sum()) / 60, 1))
        except (KeyError, ValueError, TypeError):  # a history.csv of other columns: its rows still count
            pass
    if is_running(folder):  # first: a sweep run again retries a variant whose last attempt failed
        row["status"] = f"running, epoch {done}/{row['epochs'] or '?'}"
    elif damage:  # not "interrupted": its training ended, and a record of it is broken
        row["status"] = f"damaged: {damage}"
    elif (folder / ERROR_FILE).is_file():
        reason = (folder / ERROR_FILE).read_text().strip().splitlines()
        row["status"] = f"failed: {reason[0][:120]}" if reason else "failed"
    elif done or folder.is_dir() and any(folder.iterdir()):
        row["status"] = f"interrupted after epoch {done}/{row['epochs'] or '?'}"
    else:
        row["status"] = "not started"
    return row


def _is_run_folder(path: Path) -> bool:
    return path.is_dir() and any((path / f).exists() for f in ("params.yaml", "history.csv", "run.json",
                                                                "checkpoints", ERROR_FILE))


def collect(folder: str | os.PathLike) -> pd.DataFrame:
    """The runs table of one sweep folder: the sweep's variants in its order, then any other run folders."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FerError(f"runs folder not found: {folder}")
    record = sweep_record(folder)
    variants = dict(record.get("variants") or {})
    rows = [run_row(folder / name, name, changes) for name, changes in variants.items()]
    for sub in sorted(p for p in folder.iterdir() if p.name not in variants and _is_run_folder(p)):
        rows.append(run_row(sub, sub.name, None))
    return pd.DataFrame(rows, columns=COLUMNS)


def sweep_folders(root: str | os.PathLike = RUNS_DIR) -> list[Path]:
    """``root`` itself when it is a sweep (or run) folder, else the sweep folders inside it."""
    root = Path(root)
    if (root / SWEEP_RECORD).is_file() or any(_is_run_folder(p) for p in root.iterdir() if p.is_dir()):
        return [root]
    return sorted(p for p in root.iterdir() if p.is_dir() and ((p / SWEEP_RECORD).is_file()
                                                               or any(_is_run_folder(q) for q in p.iterdir())))


#: Short column names for printed tables (``fer runs``, the report): ten columns fit a page.
SHORT_NAMES = {"val_accuracy": "val acc", "val_macro_f1": "val F1", "test_accuracy": "test acc",
               "test_macro_f1": "test F1", "best_epoch": "best", "wall_minutes": "minutes"}


def format_table(table: pd.DataFrame) -> str:
    """The table as ``fer runs`` prints it: percentages, short columns, blanks for what is unknown."""
    shown = table.copy()
    for col in ("val_accuracy", "test_accuracy"):
        shown[col] = [f"{v:.2%}" if pd.notna(v) else "" for v in shown[col]]
    for col in ("val_macro_f1", "test_macro_f1"):
        shown[col] = [f"{v:.3f}" if pd.notna(v) else "" for v in shown[col]]
    for col in ("best_epoch", "epochs"):
        shown[col] = [str(int(v)) if pd.notna(v) else "" for v in shown[col]]
    shown["wall_minutes"] = [f"{v:.0f}" if pd.notna(v) else "" for v in shown["wall_minutes"]]
    shown = shown.fillna("").rename(columns=SHORT_NAMES)
    return shown.to_string(index=False)


def format_markdown(table: pd.DataFrame) -> str:
    """The finished runs as a Markdown table (``fer runs --markdown``), what the README shows:
    results, not progress, so it reads the same wherever the finished runs are committed."""
    done = table[table["status"] == "finished"]
    lines = ["| run | change | validation acc. / macro F1 | test acc. / macro F1 | best epoch | minutes | machine |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in done.itertuples():
        test = f"{r.test_accuracy:.2%} / {r.test_macro_f1:.3f}" if pd.notna(r.test_accuracy) else "not measured"
        lines.append(f"| {r.variant} | {r.changes} | {r.val_accuracy:.2%} / {r.val_macro_f1:.3f} | {test} "
                     f"| {int(r.best_epoch)} of {int(r.epochs)} | {r.wall_minutes:.0f} | {r.machine or ''} |")
    if len(done) < len(table):
        lines.append(f"\n{len(done)} of {len(table)} runs finished.")
    return "\n".join(lines)


def run_runs_cli(folder: str | os.PathLike | None = None, say=print, markdown: bool = False) -> int:
    """``fer runs [FOLDER] [--markdown]``: print each sweep's table and write its ``runs.csv``;
    the paths it prints are the working directory's (``data.shell_path``), to paste as they are."""
    from .data import shell_path

    root = Path(folder) if folder else RUNS_DIR
    if not root.is_dir():
        raise FerError(f"runs folder not found: {root}" + ("" if folder else " (run a sweep first: fer sweep FILE)"))
    sweeps = sweep_folders(root)
    if not sweeps:
        raise FerError(f"no runs in {root}")
    for i, sweep in enumerate(sweeps):
        table = collect(sweep)
        csv = sweep / "runs.csv"
        write_text(csv, table.to_csv(index=False))
        for name, status in zip(table["variant"], table["status"]):  # one line each, the table still whole
            if str(status).startswith("damaged: "):
                print(f"fer runs: {shell_path(sweep / name)}: damaged run record: "
                      f"{status.removeprefix('damaged: ')} (fer sweep trains it again)", file=sys.stderr)
        description = sweep_record(sweep).get("description")
        say(("\n" if i else "") + f"{shell_path(sweep)}" + (f": {description}" if description else ""))
        if markdown:
            say(format_markdown(table))
        else:
            say(format_table(table))
            say(f"({shell_path(csv)})")
    return 0


# ---------------------------------------------------------------------------------------------
# Seed noise

def seed_group(table: pd.DataFrame, record: dict) -> list[str]:
    """The reference recipe and the variants that change nothing but the seed."""
    reference = record.get("reference")
    variants = record.get("variants") or {}
    if reference is None:
        return []
    ref = {k: v for k, v in (variants.get(reference) or {}).items() if k not in ("seed", "training.seed")}
    group = [reference]
    for name, changes in variants.items():
        rest = {k: v for k, v in (changes or {}).items() if k not in ("seed", "training.seed")}
        if name != reference and rest == ref and changes != variants.get(reference):
            group.append(name)
    return [n for n in group if n in set(table["variant"])]


def compare_to_noise(table: pd.DataFrame, record: dict, metric: str = "val_accuracy", k: float = 2.0) -> pd.DataFrame:
    """Each finished run's difference from the seed mean of the reference recipe, against the noise.

    The noise is the standard deviation of ``metric`` over the seed group (sample std, ddof=1);
    a difference is ``outside`` the noise when it is larger than ``k`` of them. With fewer than
    two finished seeds there is no noise estimate and every verdict is ``unknown``.
    """
    finished = table[table["status"] == "finished"].set_index("variant")
    seeds = [n for n in seed_group(table, record) if n in finished.index]
    values = finished.loc[seeds, metric].astype(float) if seeds else pd.Series(dtype=float)
    mean = float(values.mean()) if len(values) else np.nan
    std = float(values.std(ddof=1)) if len(values) >= 2 else np.nan
    rows = []
    for name, run in finished.iterrows():
        diff = float(run[metric]) - mean
        if name in seeds:
            verdict = "seed"
        elif np.isnan(std):
            verdict = "unknown"
        else:
            verdict = "outside" if abs(diff) > k * std else "inside"
        rows.append({"variant": name, "changes": run["changes"], metric: float(run[metric]),
                     "difference": diff, "noise": k * std, "verdict": verdict})
    out = pd.DataFrame(rows, columns=["variant", "changes", metric, "difference", "noise", "verdict"])
    out.attrs.update(seed_mean=mean, seed_std=std, seeds=seeds, k=k)
    return out


def recipe_table(table: pd.DataFrame, record: dict) -> pd.DataFrame:
    """The finished runs of a sweep as recipes, best first on validation: variants that change
    nothing but the seed are one recipe. Two runs with the same changes and the same seed stay
    apart (a variant that names a teacher folder whose model was later replaced reads the same as
    an earlier one, yet trained on another teacher). Columns: recipe (its runs' names), changes
    (without the seed), seeds, val/test accuracy (mean over the seeds) and the validation standard
    deviation where there are two seeds or more."""
    variants = record.get("variants") or {}
    finished = table[table["status"] == "finished"]
    groups: list[tuple[str, set, list]] = []  # (changes without the seed, seeds, runs)
    for _, run in finished.iterrows():
        changes = dict(variants.get(run["variant"]) or {})
        seed = changes.pop("seed", changes.pop("training.seed", None))
        key = repr(sorted(changes.items()))
        group = next((g for g in groups if g[0] == key and seed not in g[1]), None)
        if group is None:
            group = (key, set(), [])
            groups.append(group)
        group[1].add(seed)
        group[2].append(run)
    rows = []
    for _, _, group in groups:
        g = pd.DataFrame(group)
        changes = re.sub(r"(^|, )seed=\d+", "", str(g["changes"].iloc[0])).strip(", ")
        rows.append({"recipe": ", ".join(g["variant"]), "changes": changes, "seeds": len(g),
                     "val_accuracy": g["val_accuracy"].astype(float).mean(),
                     "val_sd": g["val_accuracy"].astype(float).std(ddof=1) if len(g) > 1 else np.nan,
                     "test_accuracy": g["test_accuracy"].astype(float).mean()})
    out = pd.DataFrame(rows, columns=["recipe", "changes", "seeds", "val_accuracy", "val_sd", "test_accuracy"])
    return out.sort_values("val_accuracy", ascending=False, ignore_index=True)


def recall_table(folder: str | os.PathLike, table: pd.DataFrame, split: str = "validation") -> pd.DataFrame:
    """Per-class recall of every finished run on ``split`` (runs down, classes across)."""
    rows = {}
    for name in table.loc[table["status"] == "finished", "variant"]:
        m = _read_json(Path(folder) / name / "metrics.json") or {}
        per_class = (m.get(split) or {}).get("per_class") or {}
        rows[name] = {c: v["recall"] for c, v in per_class.items()}
    return pd.DataFrame.from_dict(rows, orient="index")


def histories(folder: str | os.PathLike, table: pd.DataFrame) -> dict:
    """Every listed run's history (finished or not), by variant name."""
    return {name: read_history(Path(folder) / name) for name in table["variant"]}


def resolve_sweep_folder(path: str | os.PathLike) -> Path:
    """A sweep folder: as given, else relative to the project, else ``runs/<name>``."""
    from .data import PROJECT_ROOT

    p = Path(path).expanduser()
    for candidate in (p, PROJECT_ROOT / p, RUNS_DIR / p):
        if candidate.is_dir():
            return candidate.resolve()
    raise FerError(f"sweep folder not found: {path} (nor {display_path(RUNS_DIR / p)}); run fer sweep first")
