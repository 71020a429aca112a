"""scripts/ship_model.py: a run replaces the shipped model only when validation says it is better."""

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


def fake_run(folder: Path, val_acc: float, with_checkpoints: bool = True) -> Path:
    folder.mkdir(parents=True)
    per_class = {"anger": {"recall": 0.5}}
    split = {"accuracy": val_acc, "macro_f1": 0.5, "weighted_f1": 0.6, "per_class": per_class}
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
    run = fake_run(tmp_path / "runs" / "v9", 0.85)
    code, out, err = ship(run, "--to", dest)
    assert code == 0, err
    assert "validation 0.8500 (was 0.8000)" in out and f"exported {dest}" in out
    assert sorted(p.name for p in dest.iterdir()) == sorted(
        ["MODEL_CARD.md", "history.csv", "labels.json", "metrics.json", "model.keras", "params.yaml", "run.json",
         "calibration.json", "model.onnx", "model.int8.onnx", "export.json"])
    assert "temperature 0.700, validation ECE 0.0700 -> 0.0100" in out
    assert "- **Calibration**: logits divided by a temperature of 0.700" in (dest / "MODEL_CARD.md").read_text()
    # exported inside the folder being swapped in, not into the old one
    assert len(exports) == 1 and exports[0] != dest and exports[0].parent == dest.parent
    card = (dest / "MODEL_CARD.md").read_text()
    assert card.startswith("# Model card: default") and "--out models/default" in card


def test_a_run_no_better_on_validation_is_refused_and_nothing_changes(tmp_path, ship):
    dest = fake_run(tmp_path / "default", 0.85, with_checkpoints=False)
    before = {p.name: p.read_bytes() for p in dest.iterdir()}
    code, out, err = ship(fake_run(tmp_path / "v9", 0.85), "--to", dest)
    assert code == 1 and out == ""
    assert err.strip() == (
        f"error: {tmp_path / 'v9'}: validation accuracy 0.8500 does not beat {dest}'s 0.8500; "
        "nothing shipped (--force to ship anyway)")
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before
    assert ship(tmp_path / "v9", "--to", dest, "--force")[0] == 0


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
    code, out, err = ship(fake_run(tmp_path / "v9", 0.85), "--to", dest)
    assert code == 1 and out == "" and err.count("\n") == 1 and "parity check failed" in err
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["default", "v9"]  # no temporary folder left


def test_no_export_ships_the_keras_model_alone(tmp_path, ship, exports):
    dest = tmp_path / "default"
    assert ship(fake_run(tmp_path / "v9", 0.85), "--to", dest, "--no-export")[0] == 0
    assert exports == [] and not (dest / "model.onnx").exists()
