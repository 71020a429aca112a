"""scripts/ship_model.py: the rule chooses on validation (accuracy within the noise, then macro F1
minus robustness loss), and only the chosen run replaces the shipped model, whole."""

import importlib.util
import json
from pathlib import Path

import pytest
import yaml

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "ship_model.py"
_spec = importlib.util.spec_from_file_location("ship_model", SCRIPT)
ship_model = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ship_model)
INFO = {"parameters": 1000, "train_images": 50, "epochs_run": 3, "best_epoch": 2, "wall_seconds": 120.0,
        "machine": {"cpu_count": 2}, "precision": "float32"}


def fake_run(folder: Path, val_acc: float, with_checkpoints: bool = True, macro_f1: float = 0.5,
             loss: float = 2.0) -> Path:
    """A finished run's records (no real model) whose robustness on validation is measured already:
    ``loss`` points lost under every perturbation."""
    folder.mkdir(parents=True)
    per_class = {"anger": {"recall": 0.5}}
    split = {"accuracy": val_acc, "macro_f1": macro_f1, "weighted_f1": 0.6, "per_class": per_class}
    (folder / ship_model.ROBUSTNESS_RECORD).write_text(
        "perturbation,strength,accuracy,macro_f1,drop,n\n"
        f"clean,,{val_acc},{macro_f1},0.0,10\nblur,1.5,{val_acc - loss / 100},0.4,{-loss / 100},10\n")
    (folder / "metrics.json").write_text(json.dumps({"validation": split, "test": dict(split, accuracy=0.8)}))
    (folder / "run.json").write_text(json.dumps(INFO))
    (folder / "params.yaml").write_text(yaml.safe_dump({"training": {"epochs": 3}}))
    for name in ("model.keras", "labels.json", "history.csv"):
        (folder / name).write_text(name)
    if with_checkpoints:
        (folder / "checkpoints").mkdir()
        (folder / "checkpoints" / "last.keras").write_text("big")
    return folder


@pytest.fixture(autouse=True)
def exports(monkeypatch) -> list:
    """The export step, faked: these runs hold no real model (tests/test_engine.py checks the export).

    The fake writes the three files into the folder it is given and records which folder that was.
    """
    folders = []

    def fake_export(folder, data=None):
        folders.append(Path(folder))
        for name in ("model.onnx", "model.int8.onnx", "export.json"):
            (Path(folder) / name).write_text(name)
        return {"fake": True}

    def fake_calibrate(folder, data=None):  # before the export: the ONNX files hold the temperature
        assert not (Path(folder) / "model.onnx").exists()
        (Path(folder) / "calibration.json").write_text("{}")
        return {"temperature": 0.7, "validation": {"ece_before": 0.07, "ece_after": 0.01}}

    monkeypatch.setattr(ship_model, "export_model_dir", fake_export)
    monkeypatch.setattr(ship_model, "calibrate_model_dir", fake_calibrate)
    monkeypatch.setattr(ship_model, "summary_text", lambda record, folder: f"exported {folder}")
    return folders


@pytest.fixture
def ship(capsys):
    """Run the script's command line in-process: (exit code, stdout, stderr)."""
    def run(*args):
        code = ship_model.main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def test_a_better_run_is_shipped_without_checkpoints_and_with_its_own_card(tmp_path, ship, exports):
    dest = fake_run(tmp_path / "models" / "default", 0.80, with_checkpoints=False)
    (dest / "confusion_test.png").write_text("an old model's figure")
    (dest / "MODEL_CARD.md").write_text("# Model card: default\n")
    old = {p.name: p.read_bytes() for p in dest.iterdir()}
    run = fake_run(tmp_path / "runs" / "v9", 0.85)
    code, out, err = ship(run, "--to", dest, "--noise", 0.5)
    assert code == 0, err
    assert "validation 0.8500 (was 0.8000)" in out and f"exported {dest}" in out
    assert sorted(p.name for p in dest.iterdir()) == sorted(
        ["MODEL_CARD.md", "history.csv", "labels.json", "metrics.json", "model.keras", "params.yaml", "run.json",
         "calibration.json", "model.onnx", "model.int8.onnx", "export.json", ship_model.ROBUSTNESS_RECORD,
         "replaced.json"])
    # the model replaced is kept whole beside it, and named by the new one for the report's comparison
    previous = tmp_path / "models" / "previous"
    kept = {p.name: p.read_bytes() for p in previous.iterdir()}
    card = kept.pop("MODEL_CARD.md").decode()
    assert kept == {name: data for name, data in old.items() if name != "MODEL_CARD.md"}
    assert card.startswith("# Model card: previous") and "--out models/previous`" in card  # the name it has now
    from fer_helpers.comparison import replaced_model
    assert replaced_model(dest) == previous and f"kept as {previous}" in out
    assert "temperature 0.700, validation ECE 0.0700 -> 0.0100" in out
    assert "- **Calibration**: logits divided by a temperature of 0.700" in (dest / "MODEL_CARD.md").read_text()
    # exported inside the folder being swapped in, not into the old one
    assert len(exports) == 1 and exports[0] != dest and exports[0].parent == dest.parent
    card = (dest / "MODEL_CARD.md").read_text()
    assert card.startswith("# Model card: default") and "--out models/default" in card


def test_a_run_the_rule_does_not_choose_changes_nothing_and_force_ships_it(tmp_path, ship):
    dest = fake_run(tmp_path / "default", 0.85, with_checkpoints=False)
    before = {p.name: p.read_bytes() for p in dest.iterdir()}
    code, out, err = ship(fake_run(tmp_path / "v9", 0.85), "--to", dest, "--noise", 0.5)
    assert code == 0 and err == ""
    assert out.strip().endswith(f"{dest} stays: no candidate beats it by the rule; nothing shipped")
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before
    code, out, _ = ship(tmp_path / "v9", "--to", dest, "--force")
    assert code == 0 and "shipped" in out


def test_a_dry_run_names_the_winner_and_changes_no_folder(tmp_path, ship, exports):
    dest = fake_run(tmp_path / "default", 0.80, with_checkpoints=False)
    before = {p.name: p.read_bytes() for p in dest.iterdir()}
    code, out, err = ship(fake_run(tmp_path / "v9", 0.85), "--to", dest, "--noise", 0.5, "--dry-run")
    assert code == 0 and err == "", err
    assert out.strip().endswith(f"the rule would ship {tmp_path / 'v9'} as {dest} (dry run: nothing shipped)")
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["default", "v9"] and exports == []


def test_the_rule_weighs_fairness_and_robustness_within_the_accuracy_noise():
    F = ship_model.Figures
    shipped = F("default", 0.880, 0.73, 4.0)           # score 69
    robust = F("robust", 0.877, 0.74, 1.5)             # within 0.5 points, score 72.5: chosen
    sharp = F("sharp", 0.886, 0.72, 6.0)               # the best accuracy, score 66
    fragile_fair = F("fragile_fair", 0.870, 0.80, 0.5)  # best score, but 1.6 points below the best
    winner, table = ship_model.choose([shipped, robust, sharp, fragile_fair], noise=1.0)
    assert winner is robust
    assert table["in the race"].tolist() == [True, True, True, False]
    assert table["chosen"].tolist() == [False, True, False, False]
    assert ship_model.choose([shipped, robust, sharp, fragile_fair], noise=2.0)[0] is fragile_fair
    # a tie keeps the model shipped now (the first)
    assert ship_model.choose([shipped, F("same", 0.880, 0.73, 4.0)], noise=0.5)[0] is shipped


def test_robustness_is_measured_once_and_kept_beside_the_model(tmp_path, monkeypatch):
    run = fake_run(tmp_path / "v9", 0.85)
    (run / ship_model.ROBUSTNESS_RECORD).unlink()
    import pandas as pd
    from fer_helpers import robustness

    calls = []

    def measured(folder, data=None, split="test"):
        calls.append((Path(folder), split))
        return pd.DataFrame({"perturbation": ["clean", "blur", "jpeg"], "strength": [None, 1.5, 30],
                             "accuracy": [0.85, 0.80, 0.83], "macro_f1": [0.5, 0.4, 0.45],
                             "drop": [0.0, -0.05, -0.02], "n": [10, 10, 10]})

    monkeypatch.setattr(robustness, "robustness_of_model_dir", measured)
    first = ship_model.validation_figures(run)
    assert calls == [(run, "valid")] and first.robustness_loss == pytest.approx(3.5)
    assert ship_model.validation_figures(run) == first and len(calls) == 1  # read back, not measured again


def test_the_default_noise_is_two_seed_deviations_of_the_study():
    from fer_helpers import runs

    if not (ship_model.STUDY / "sweep.yaml").is_file():
        pytest.skip("the committed study (runs/candidates) is not in this checkout")
    table = runs.collect(ship_model.STUDY)
    seeds = table[table["variant"].isin(runs.seed_group(table, runs.sweep_record(ship_model.STUDY)))]
    assert len(seeds) >= 2
    assert ship_model.study_noise() == pytest.approx(200 * seeds["val_accuracy"].astype(float).std(ddof=1))


def test_a_dry_run_needs_only_the_records_of_a_run_without_weights(tmp_path, ship):
    dest = fake_run(tmp_path / "default", 0.80, with_checkpoints=False)
    run = fake_run(tmp_path / "v9", 0.85, with_checkpoints=False)
    (run / "model.keras").unlink()  # as in a clean clone: the weights of runs are not committed
    code, out, err = ship(run, "--to", dest, "--noise", 0.5, "--dry-run")
    assert code == 0 and err == "", err
    assert "the rule would ship" in out
    code, _, err = ship(run, "--to", dest, "--noise", 0.5)  # shipping does need them
    assert code == 1 and "missing model.keras" in err
    (run / ship_model.ROBUSTNESS_RECORD).unlink()  # nor can a robustness be measured without them
    code, _, err = ship(run, "--to", dest, "--noise", 0.5, "--dry-run")
    assert code == 1 and "missing model.keras" in err


def test_an_unfinished_run_is_refused(tmp_path, ship):
    run = fake_run(tmp_path / "v9", 0.9)
    (run / "metrics.json").unlink()
    code, _, err = ship(run, "--to", tmp_path / "default")
    assert code == 1 and "not a finished run (missing metrics.json)" in err
    assert not (tmp_path / "default").exists()


def test_a_failed_export_ships_nothing(tmp_path, ship, monkeypatch):
    dest = fake_run(tmp_path / "default", 0.80, with_checkpoints=False)
    before = {p.name: p.read_bytes() for p in dest.iterdir()}

    def refuse(folder, data=None):
        (Path(folder) / "model.onnx").write_text("half")
        raise ship_model.FerError(f"{folder}: export refused, nothing written: int8 parity check failed")

    monkeypatch.setattr(ship_model, "export_model_dir", refuse)
    code, out, err = ship(fake_run(tmp_path / "v9", 0.85), "--to", dest, "--noise", 0.5)
    assert code == 1 and out.startswith("validation figures") and err.count("\n") == 1
    assert "parity check failed" in err
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["default", "v9"]  # no temporary folder, no kept copy left


def test_the_folder_that_keeps_the_replaced_model_is_never_overwritten(tmp_path, ship):
    dest = fake_run(tmp_path / "default", 0.80, with_checkpoints=False)
    before = {p.name: p.read_bytes() for p in dest.iterdir()}
    (tmp_path / "previous").mkdir()
    (tmp_path / "previous" / "mine.txt").write_text("a user's file")
    code, _, err = ship(fake_run(tmp_path / "v9", 0.85), "--to", dest, "--noise", 0.5)
    assert code == 1 and "previous exists; give --keep-as a new folder" in err
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before
    assert [p.name for p in (tmp_path / "previous").iterdir()] == ["mine.txt"]
    assert ship(tmp_path / "v9", "--to", dest, "--noise", 0.5, "--keep-as", tmp_path / "wide")[0] == 0
    assert (tmp_path / "wide" / "model.keras").read_bytes() == before["model.keras"]


def test_no_export_ships_the_keras_model_alone(tmp_path, ship, exports):
    dest = tmp_path / "default"
    assert ship(fake_run(tmp_path / "v9", 0.85), "--to", dest, "--no-export", "--noise", 0.5)[0] == 0
    assert exports == [] and not (dest / "model.onnx").exists()
