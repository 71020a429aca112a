"""Sweeps and the runs registry (issue 10): sweep files, `fer sweep` through papermill, `fer runs`.

The end-to-end tests run the real command in a child process on a tiny synthetic FER+ folder:
papermill executes the training notebook once per variant, a second run skips what is finished,
a sweep killed mid-variant resumes it, and a variant another process holds is left alone.
"""

from __future__ import annotations

import fcntl
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
from fer_helpers.errors import FerError
from fer_helpers.runs import COLUMNS, collect, compare_to_noise, recipe_table, sweep_record
from fer_helpers.sweep import ERROR_FILE, LOCK_FILE, load_sweep
from test_model_training import TINY, tiny_ferplus

PROJECT = Path(__file__).resolve().parent.parent
BASE = {"run_name": "tiny", "train": True, "seed": 42, "data_dir": None, "model_dir": None,
        "training": {**TINY, "model": "baseline", "epochs": 2, "dropout": 0.3}}


def write_sweep(folder: Path, spec: dict, name: str = "tiny") -> Path:
    base = folder / "base.yaml"
    base.write_text(yaml.safe_dump(BASE))
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"base": str(base), **spec}))
    return path


def fer(*args, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "fer_helpers.cli", *map(str, args)], cwd=PROJECT,
                          capture_output=True, text=True, env=env, timeout=900, **kw)


# ---------------------------------------------------------------------------------------------
# Sweep files

def test_variants_and_grid_resolve_to_full_profiles(tmp_path):
    path = write_sweep(tmp_path, {"common": {"training": {"epochs": 3}}, "reference": "default",
                                  "variants": {"default": {}, "hard": {"training": {"labels": "majority"}}},
                                  "grid": {"seed": [1, 2]}})
    sweep = load_sweep(path, runs_dir=tmp_path / "runs")
    assert [v.name for v in sweep.variants] == ["default", "hard", "seed_1", "seed_2"]
    by = {v.name: v for v in sweep.variants}
    assert by["hard"].training["labels"] == "majority" and by["hard"].training["epochs"] == 3
    assert by["default"].training["labels"] == "distribution"
    assert by["seed_2"].training["seed"] == 2 and by["default"].training["seed"] == 42
    assert by["hard"].describe() == "labels=majority" and by["default"].describe() == "no change"
    assert by["seed_1"].folder == tmp_path / "runs" / "seed_1"


@pytest.mark.parametrize("spec, says", [
    ({"variants": {"a": {"training": {"dropout": 2}}}}, "variant a"),
    ({"variants": {"a": {"training": {"labls": "majority"}}}}, "labls"),
    ({"variants": {"a": {"epochs": 3}}}, "variant a"),
    ({"variants": {"a/b": {}}}, "a/b"),
    ({"variants": {"a": {}}, "reference": "b"}, "reference"),
    ({"variants": {"a": {}}, "grid": {"seed": 3}}, "grid.seed"),
    ({"variants": {"a": {}}, "extra": 1}, "extra"),
    ({}, "no variants"),
])
def test_bad_sweep_files_fail_in_one_line_before_anything_runs(tmp_path, capsys, spec, says):
    path = write_sweep(tmp_path, spec)
    assert cli.main(["sweep", str(path), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fer: error:") and says in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()


def test_dry_run_prints_every_variants_parameters_and_writes_nothing(tmp_path, capsys):
    path = write_sweep(tmp_path, {"variants": {"a": {}, "b": {"training": {"dropout": 0.5}}}})
    assert cli.main(["sweep", str(path), "--dry-run", "--out", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "2 variant(s)" in out and "b (dropout=0.5)" in out and "dropout: 0.5" in out and "min" in out
    assert not (tmp_path / "runs").exists()


def test_only_names_variants_and_refuses_unknown_ones(tmp_path, capsys):
    path = write_sweep(tmp_path, {"variants": {"a": {}, "b": {}}, "grid": {"seed": [1]}})
    assert cli.main(["sweep", str(path), "--list"]) == 0
    assert capsys.readouterr().out.split() == ["a", "b", "seed_1"]
    assert cli.main(["sweep", str(path), "--only", "b,zz", "--out", str(tmp_path / "r")]) == 2
    assert "zz" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# The registry and seed noise, from run folders written by hand

def fake_run(folder: Path, val: float, test: float, epochs: int = 2, finished: bool = True,
             machine: dict | None = None) -> None:
    folder.mkdir(parents=True)
    (folder / "params.yaml").write_text(yaml.safe_dump({"training": {"epochs": epochs}}))
    rows = [{"epoch": e, "val_accuracy": val - 0.01 * (epochs - e), "val_macro_f1": 0.5, "epoch_seconds": 60.0}
            for e in range(1, epochs + 1)]
    pd.DataFrame(rows).to_csv(folder / "history.csv", index=False)
    if finished:
        recall = {c: {"recall": (val * (i + 3) / 10) % 1} for i, c in enumerate(["anger", "contempt", "fear"])}
        m = {"validation": {"accuracy": val, "macro_f1": 0.5, "per_class": recall},
             "test": {"accuracy": test, "macro_f1": 0.4, "per_class": recall}}
        (folder / "metrics.json").write_text(json.dumps(m))
        (folder / "run.json").write_text(json.dumps({"best_epoch": epochs, "epochs_run": epochs,
                                                     "wall_seconds": 120.0, "git_commit": "abcdef123",
                                                     "machine": machine or {"cpu_count": 2, "accelerator": None}}))


def test_time_estimates_use_runs_of_a_machine_like_this_one(tmp_path):
    """A sweep whose finished runs came back from a lent GPU must not promise a CPU run in
    minutes: only runs that trained on this kind of machine set the rate."""
    import platform

    from fer_helpers import sweep as S

    path = write_sweep(tmp_path, {"variants": {"gpu": {}, "cpu": {}, "next": {}}})
    sw = load_sweep(path, tmp_path / "runs")
    here = {"processor": platform.machine(), "cpu_count": os.cpu_count(), "accelerator": None}
    lent = {"processor": platform.machine(), "cpu_count": (os.cpu_count() or 1) + 14, "accelerator": "NVIDIA H100"}
    for name, machine, seconds in (("gpu", lent, 10.0), ("cpu", here, 1000.0)):
        folder = tmp_path / "runs" / name
        folder.mkdir(parents=True)
        (folder / "metrics.json").write_text("{}")
        (folder / "run.json").write_text(json.dumps({"params": {"model": "baseline"}, "wall_seconds": seconds,
                                                     "epochs_run": 2, "train_images": 100, "machine": machine}))
    nxt = next(v for v in sw.variants if v.name == "next")
    images = min(nxt.training["train_subset"] or 100, 100)
    expected = 2 * images * (1000.0 / 200) + S._EVALUATION_SECONDS
    assert S.estimate_seconds(sw, nxt, train_images=100) == pytest.approx(expected)


def test_runs_lists_every_variant_whatever_its_state(tmp_path, capsys):
    sweep = tmp_path / "s"
    variants = {"default": {}, "seed_2": {"seed": 2}, "seed_3": {"seed": 3}, "big": {"training.dropout": 0.5},
                "half": {"training.epochs": 4}, "broken": {"training.labels": "majority"}, "later": {},
                "student": {"training.teachers": ["runs/s/default", "models/default"]}}
    sweep.mkdir()
    (sweep / "sweep.yaml").write_text(yaml.safe_dump({"name": "s", "reference": "default", "variants": variants}, sort_keys=False))
    fake_run(sweep / "default", 0.80, 0.79)
    fake_run(sweep / "seed_2", 0.81, 0.80)
    fake_run(sweep / "seed_3", 0.79, 0.78)
    fake_run(sweep / "big", 0.86, 0.85, machine={"cpu_count": 16, "accelerator": "NVIDIA H100 80GB HBM3"})
    fake_run(sweep / "student", 0.82, 0.81)
    fake_run(sweep / "half", 0.70, 0, epochs=2, finished=False)
    fake_run(sweep / "broken", 0.5, 0, finished=False)
    (sweep / "broken" / "sweep-error.txt").write_text("notebook 02_training.py: cell 3 failed\n")
    assert cli.main(["runs", str(sweep)]) == 0
    out = capsys.readouterr().out
    table = pd.read_csv(sweep / "runs.csv")
    status = dict(zip(table["variant"], table["status"]))
    assert list(table["variant"]) == list(variants)
    assert status["default"] == "finished" and status["later"] == "not started"
    assert status["half"].startswith("interrupted after epoch 2/2") and status["broken"].startswith("failed")
    assert "80.00%" in out and "dropout=0.5" in out and "abcdef1" in out

    assert cli.main(["runs", str(sweep), "--markdown"]) == 0
    markdown = capsys.readouterr().out
    # minutes mean nothing without the machine: one sweep may mix this CPU's runs with a GPU's
    assert "| big | dropout=0.5 | 86.00% / 0.500 | 85.00% / 0.400 | 2 of 2 | 2 | H100 GPU |" in markdown
    assert "| default | no change | 80.00% / 0.500 | 79.00% / 0.400 | 2 of 2 | 2 | 2-core CPU |" in markdown
    assert "| half |" not in markdown and "| broken |" not in markdown  # results, not progress
    assert "5 of 8 runs finished." in markdown
    assert "| student | teachers=[default, models/default] |" in markdown  # a sweep's runs by variant

    noise = compare_to_noise(collect(sweep), sweep_record(sweep)).set_index("variant")
    assert noise.attrs["seeds"] == ["default", "seed_2", "seed_3"]
    assert noise.attrs["seed_mean"] == pytest.approx(0.80) and noise.attrs["seed_std"] == pytest.approx(0.01)
    assert noise.loc["big", "verdict"] == "outside" and noise.loc["seed_2", "verdict"] == "seed"


def _runs_table(rows):
    """A runs table as ``collect`` returns it, from (variant, status, changes, val acc, test acc)."""
    return pd.DataFrame([{**dict.fromkeys(COLUMNS), "variant": v, "status": st, "changes": ch, "val_accuracy": val,
                          "test_accuracy": test, "val_macro_f1": 0.5, "best_epoch": 1, "epochs": 2}
                         for v, st, ch, val, test in rows], columns=COLUMNS)


def test_recipe_table_pools_the_seeds_of_one_recipe_and_keeps_a_rerun_apart():
    variants = {"default": {}, "seed_2": {"seed": 2}, "seed_3": {"training.seed": 3},
                "wide": {"seed": 1, "training.model": "wide"}, "wide_s2": {"training.model": "wide", "training.seed": 2},
                "wide_again": {"seed": 1, "training.model": "wide"},   # same changes, same seed: another run
                "teacher": {"training.teacher_seed": 3, "seed": 5},    # a "..._seed" change is a change
                "narrow": {"training.model": "narrow"}, "seed_4": {"seed": 4}}
    table = _runs_table([
        ("default", "finished", "no change", 0.80, 0.79),
        ("seed_2", "finished", "seed=2", 0.82, 0.81),
        ("seed_3", "finished", "seed=3", 0.78, 0.77),
        ("wide", "finished", "seed=1, model=wide", 0.85, 0.84),
        ("wide_s2", "finished", "model=wide, seed=2", 0.87, 0.86),
        ("wide_again", "finished", "seed=1, model=wide", 0.70, 0.69),
        ("teacher", "finished", "teacher_seed=3, seed=5", 0.75, 0.74),
        ("narrow", "failed: out of memory", "model=narrow", None, None),
        ("seed_4", "running, epoch 1/2", "seed=4", 0.99, None),              # not finished: left out
    ])
    out = recipe_table(table, {"variants": variants})
    assert list(out.columns) == ["recipe", "changes", "seeds", "val_accuracy", "val_sd", "test_accuracy"]
    assert out["recipe"].tolist() == ["wide, wide_s2", "default, seed_2, seed_3", "teacher", "wide_again"]
    assert out["changes"].tolist() == ["model=wide", "no change", "teacher_seed=3", "model=wide"]
    assert out["seeds"].tolist() == [2, 3, 1, 1]
    assert out["val_accuracy"].tolist() == pytest.approx([0.86, 0.80, 0.75, 0.70])
    assert out["test_accuracy"].tolist() == pytest.approx([0.85, 0.79, 0.74, 0.69])
    assert out["val_sd"].iloc[:2].tolist() == pytest.approx([0.02 ** 0.5 / 10, 0.02])   # sample sd (ddof=1)
    assert out["val_sd"].iloc[2:].isna().all()    # one seed: no spread to show
    assert out.index.tolist() == [0, 1, 2, 3]


def test_recipe_table_without_finished_runs_or_a_sweep_record():
    table = _runs_table([("a", "finished", "", 0.6, 0.5), ("b", "finished", "", 0.7, 0.6),
                         ("c", "not started", "seed=2", None, None)])
    out = recipe_table(table, {})   # runs found without a sweep.yaml: each changes nothing, one seed each
    assert out["recipe"].tolist() == ["b", "a"] and out["seeds"].tolist() == [1, 1] and out["val_sd"].isna().all()
    empty = recipe_table(table[table["status"] != "finished"], {"variants": {"c": {"seed": 2}}})
    assert empty.empty and list(empty.columns) == ["recipe", "changes", "seeds", "val_accuracy", "val_sd", "test_accuracy"]


def test_the_documented_study_tables_are_the_committed_records():
    """The study's tables (docs/results.md, between ``<!-- runs/<sweep>:start/end -->`` markers,
    wherever a README or docs page holds them) are what ``fer runs runs/<sweep> --markdown`` prints."""
    import re

    from fer_helpers.runs import format_markdown

    pages = [PROJECT / "README.md", *sorted((PROJECT / "docs").glob("*.md"))]
    blocks = [(page.relative_to(PROJECT), sweep, table) for page in pages
              for sweep, table in re.findall(r"<!-- runs/(\w+):start -->\n(.*?)\n<!-- runs/\1:end -->",
                                             page.read_text(), re.S)]
    found = {sweep for _, sweep, _ in blocks}
    assert {"ablations", "seed_budgets", "candidates"} <= found, \
        f"the study's table markers are gone (found {sorted(found)}; they belong in docs/results.md)"
    for page, sweep, table in blocks:
        assert table == format_markdown(collect(PROJECT / "runs" / sweep)), \
            f"{page}'s {sweep} table is stale: paste `fer runs runs/{sweep} --markdown` between its markers"


@pytest.mark.slow
def test_the_experiments_notebook_shows_a_sweep_from_its_text_records(tmp_path):
    from fer_helpers.pipeline import execute_notebook

    sweep = tmp_path / "study"
    sweep.mkdir()
    variants = {"default": {}, "seed_43": {"seed": 43}, "seed_44": {"seed": 44}, "no_aug": {"training.augment": "none"},
                "later": {}}
    (sweep / "sweep.yaml").write_text(yaml.safe_dump({"name": "study", "reference": "default", "variants": variants},
                                                     sort_keys=False))
    for name, val in [("default", 0.80), ("seed_43", 0.81), ("seed_44", 0.79), ("no_aug", 0.70)]:
        fake_run(sweep / name, val, val - 0.01)
    out = tmp_path / "report"
    execute_notebook(PROJECT / "notebooks" / "05_experiments.py", out / "05.ipynb",
                     {"run_name": "t", "experiments": str(sweep), "output_dir": str(out)}, progress=False)
    text = (out / "05.ipynb").read_text()
    assert "not started" in text  # the runs table lists the one that did not run
    assert "default, seed_43, seed_44" in text  # the recipe table: the seeds are one recipe
    assert "standard deviation 1.00 points" in text and "outside" in text  # no_aug: 10 points below the seeds
    for fig in ("curves", "ablations", "recall", "time"):
        assert (out / "figures" / f"experiments_study_{fig}.png").stat().st_size > 10_000


def test_a_variant_held_by_another_process_is_reported_running(tmp_path):
    """Running, even when its last attempt failed: a sweep run again retries a failed variant."""
    sweep = tmp_path / "s"
    sweep.mkdir()
    (sweep / "sweep.yaml").write_text(yaml.safe_dump({"name": "s", "variants": {"a": {}}}))
    fake_run(sweep / "a", 0.7, 0, finished=False)
    (sweep / "a" / ERROR_FILE).write_text("notebook 02_training.py: cell 8 failed with FerError: an earlier attempt\n")
    with open(sweep / "a" / LOCK_FILE, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        holder = subprocess.run([sys.executable, "-c", "import sys; from fer_helpers.runs import collect; "
                                 "print(collect(sys.argv[1])['status'][0])", str(sweep)],
                                cwd=PROJECT, capture_output=True, text=True)
    assert holder.stdout.strip() == "running, epoch 2/2", holder.stderr[-500:]


# ---------------------------------------------------------------------------------------------
# The real command, end to end

@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    return tiny_ferplus(tmp_path_factory.mktemp("sweep-data") / "data", per_class=(12, 2, 2))


@pytest.mark.slow
def test_a_sweep_runs_every_variant_once_and_a_second_run_skips_them(tmp_path, tiny_data):
    path = write_sweep(tmp_path, {"reference": "default", "variants": {"default": {}},
                                  "grid": {"training": {"dropout": [0.5]}}})
    runs = tmp_path / "runs"
    first = fer("sweep", path, "--data", tiny_data, "--out", runs)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "[1/2] default (no change)" in first.stdout and "[2/2] dropout_0.5 (dropout=0.5)" in first.stdout
    assert "all 2 variant(s) finished" in first.stdout
    lines = first.stdout.splitlines()
    assert len(lines) == len(set(lines)), first.stdout  # each line once, also when stdout is a pipe or a log
    assert "Traceback" not in first.stderr
    assert "InitializeLog" not in first.stderr + first.stdout and "oneDNN" not in first.stderr  # no TF start-up notes
    for name in ("default", "dropout_0.5"):
        folder = runs / name
        for f in ("params.yaml", "history.csv", "metrics.json", "run.json", "02_training.ipynb"):
            assert (folder / f).is_file(), f"{name}/{f} missing"
    assert yaml.safe_load((runs / "dropout_0.5" / "params.yaml").read_text())["training"]["dropout"] == 0.5
    stamp = (runs / "default" / "run.json").stat().st_mtime_ns

    again = fer("sweep", path, "--data", tiny_data, "--out", runs)
    assert again.returncode == 0 and again.stdout.count("finished already") == 2, again.stdout
    assert (runs / "default" / "run.json").stat().st_mtime_ns == stamp

    listed = fer("runs", runs)
    assert listed.returncode == 0 and listed.stdout.count("finished") == 2, listed.stdout + listed.stderr
    assert pd.read_csv(runs / "runs.csv")["val_accuracy"].notna().all()


@pytest.mark.slow
def test_a_killed_sweep_resumes_its_variant_and_refuses_a_changed_recipe(tmp_path, tiny_data):
    path = write_sweep(tmp_path, {"variants": {"long": {"training": {"epochs": 6}}}})
    runs = tmp_path / "runs"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen([sys.executable, "-m", "fer_helpers.cli", "sweep", str(path), "--data", str(tiny_data),
                             "--out", str(runs)], cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, start_new_session=True)
    deadline = time.monotonic() + 600
    while not (runs / "long" / "checkpoints" / "epoch-0002.json").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the sweep ended before its second epoch"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its notebook kernel, as a machine going down would
    proc.wait()
    assert not (runs / "long" / "run.json").exists()
    listed = fer("runs", runs)
    assert "interrupted after epoch" in listed.stdout, listed.stdout

    resumed = fer("sweep", path, "--data", tiny_data, "--out", runs)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "(resuming)" in resumed.stdout
    history = pd.read_csv(runs / "long" / "history.csv")
    assert list(history["epoch"]) == list(range(1, 7))

    changed = write_sweep(tmp_path, {"variants": {"long": {"training": {"epochs": 6, "dropout": 0.5}}}})
    refused = fer("sweep", changed, "--data", tiny_data, "--out", runs)
    assert refused.returncode == 2 and "other parameters (dropout: 0.3 there, 0.5 now)" in refused.stdout
    assert "Traceback" not in refused.stderr and (runs / "long" / "run.json").is_file()


def test_the_report_has_an_experiments_chapter_only_when_a_sweep_is_named(tmp_path):
    from fer_helpers.params import load_profile, notebook_parameters
    from fer_helpers.pipeline import report_sources

    smoke = load_profile("smoke")
    assert smoke["experiments"] is None
    assert [s.stem for s in report_sources(smoke)] == ["01_data_exploration", "02_training", "03_evaluation",
                                                        "04_gradcam", "06_conclusion", "07_your_photos"]
    sweep = tmp_path / "study"
    sweep.mkdir()
    named = load_profile("smoke", {"experiments": str(sweep)})
    assert [s.stem for s in report_sources(named)][-3:] == ["05_experiments", "06_conclusion", "07_your_photos"]
    assert notebook_parameters(named)["experiments"] == [str(sweep.resolve())]
    with pytest.raises(FerError, match="experiments folder not found"):
        notebook_parameters(load_profile("smoke", {"experiments": str(tmp_path / "nowhere")}))
