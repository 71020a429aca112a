"""The ONNX Runtime engine: its answers match Keras on real faces, the export refuses what fails its
parity check, and ``fer predict`` on it never imports TensorFlow.

The shipped model folder holds the exports (``fer export models/default``); the real FER+ data set
is used where present (skipped, saying why, where not); the tiny models here are untrained, which
is enough for plumbing and refusals.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer_helpers import engine, files
from fer_helpers.data import load_dataset, seeded_subset
from fer_helpers.errors import FerError
from fer_helpers.labels import FERPLUS_CLASSES

PROJECT = Path(__file__).resolve().parent.parent
SHIPPED = engine.default_model_dir()
#: Modules that must not be loaded on the ONNX prediction path (seconds of start-up, log lines).
HEAVY = ("tensorflow", "keras", "tf2onnx", "pandas")


@pytest.fixture(scope="module")
def keras_folder(tmp_path_factory) -> Path:
    """A tiny untrained Keras model folder without ONNX files (as ``fer train`` leaves one)."""
    from fer_helpers.model import build, save_model_dir

    folder = tmp_path_factory.mktemp("keras-only")
    save_model_dir(build("baseline", seed=0), folder)
    return folder


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    skimage_data = pytest.importorskip("skimage.data")
    path = tmp_path_factory.mktemp("photos") / "astronaut.png"
    Image.fromarray(skimage_data.astronaut()).save(path)
    return path


@pytest.fixture(scope="module")
def real_test_faces(shared_data, real_cache_dir) -> tuple[np.ndarray, np.ndarray]:
    """400 seeded FER+ test faces (majority labels) from the real data set."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FER_CACHE_DIR", str(real_cache_dir))  # decode the 35k PNGs once per machine
        x, y = load_dataset(shared_data).split("test")
    return seeded_subset(x, y, 400, seed=0)


def _listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _run_fer(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fer_helpers.cli", *args], capture_output=True, text=True,
                          cwd=PROJECT, timeout=120)


# --------------------------------------------------------------------------------------------
# The shipped exports

def test_the_shipped_model_folder_has_a_current_export():
    for name in (engine.ONNX_FILE, engine.INT8_FILE, engine.EXPORT_RECORD):
        assert (SHIPPED / name).is_file(), f"{SHIPPED / name} missing: run `fer export models/default`"
    record = json.loads((SHIPPED / engine.EXPORT_RECORD).read_text())
    assert engine._export_is_current(SHIPPED), "model.keras changed since the export: run `fer export models/default`"
    for name, info in record["files"].items():
        assert files.sha256(SHIPPED / name) == info["sha256"], name
    parity, limits = record["parity"], record["limits"]
    assert parity["split"] == "test" and parity["subset"] is None and parity["n"] == 3137
    for name in ("onnx", "int8"):
        assert abs(parity[name]["accuracy"] - parity["keras"]["accuracy"]) <= limits["max_accuracy_gap"]
        assert parity[name]["agreement"] >= limits["min_agreement"]


def test_onnx_matches_keras_on_real_faces(real_test_faces):
    from fer_helpers.model import load_model_dir

    x, y = real_test_faces
    keras_model, classes = load_model_dir(SHIPPED)
    reference = engine.probabilities(keras_model, x)
    fp32, classes_onnx = engine.load_model(SHIPPED, "onnx")
    int8, _ = engine.load_model(SHIPPED, "int8")
    assert classes_onnx == classes == list(FERPLUS_CLASSES)

    p32 = engine.probabilities(fp32, x)
    np.testing.assert_allclose(p32, reference, atol=1e-4)
    assert (p32.argmax(axis=1) == reference.argmax(axis=1)).all()

    p8 = engine.probabilities(int8, x)
    assert p8.shape == reference.shape and np.allclose(p8.sum(axis=1), 1, atol=1e-3)
    assert (p8.argmax(axis=1) == reference.argmax(axis=1)).mean() >= 0.98
    assert abs((p8.argmax(axis=1) == y).mean() - (reference.argmax(axis=1) == y).mean()) <= 0.01
    # answers do not depend on how the faces are batched
    np.testing.assert_allclose(fp32.predict(x[:20], batch_size=7), p32[:20], atol=1e-6)
    assert engine.probabilities(fp32, x[:0]).shape == (0, 8)
    with pytest.raises(FerError, match="expected faces shaped"):
        engine.probabilities(fp32, np.zeros((2, 48, 48, 3)))


@pytest.mark.parametrize("choice", ["auto", "onnx", "int8"])
def test_predict_on_onnx_imports_no_tensorflow_and_agrees_with_keras(photo, choice, capsys):
    code = ("import json, sys\n"
            "from fer_helpers.cli import main\n"
            f"rc = main(['predict', '--engine', {choice!r}, '--json', {str(photo)!r}])\n"
            f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
            "print(json.dumps({'rc': rc, 'heavy': heavy}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT, timeout=120)
    assert done.stderr == ""  # no TensorFlow notes, no ONNX Runtime warnings
    *doc, check = done.stdout.strip().splitlines()
    assert json.loads(check) == {"rc": 0, "heavy": []}
    faces = json.loads("\n".join(doc))["images"][0]["faces"]

    from fer_helpers import faces as F  # the Keras engine, in this process, on the same photo

    assert F.run_predict([str(photo)], str(SHIPPED), as_json=True, engine="keras") == 0
    expected = json.loads(capsys.readouterr().out)["images"][0]["faces"]
    assert [f["box"] for f in faces] == [f["box"] for f in expected] and len(faces) == 1
    assert faces[0]["label"] == expected[0]["label"] == "happiness"
    tolerance = 0.05 if choice == "int8" else 2e-4  # JSON rounds to 4 digits
    for c in FERPLUS_CLASSES:
        assert faces[0]["probabilities"][c] == pytest.approx(expected[0]["probabilities"][c], abs=tolerance)


# --------------------------------------------------------------------------------------------
# Choosing an engine, and folders it cannot run

@pytest.mark.parametrize("choice, missing", [("onnx", "model.onnx"), ("int8", "model.int8.onnx")])
def test_asking_for_onnx_without_the_file_is_one_line(keras_folder, photo, choice, missing):
    done = _run_fer("predict", "--engine", choice, "--model", str(keras_folder), str(photo))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"fer: error: {keras_folder / missing}: missing; run `fer export {keras_folder}`")


def test_cli_engine_choices_match_the_package():
    from fer_helpers.cli import build_parser

    predict = build_parser()._subparsers._group_actions[0].choices["predict"]
    action = next(a for a in predict._actions if a.dest == "engine")
    assert tuple(action.choices) == engine.ENGINES and action.default == engine.ENGINES[0] == "auto"


def test_auto_falls_back_to_keras_with_a_note(keras_folder, photo, capsys):
    from fer_helpers.cli import main

    assert engine.choose_engine(keras_folder, "auto")[0] == "keras"
    assert main(["predict", "--model", str(keras_folder), str(photo)]) == 0
    out, err = capsys.readouterr()
    assert "astronaut.png (512x512): 1 face" in out
    assert err == (f"fer predict: note: {keras_folder} has no model.onnx: running Keras (slower start); "
                   f"`fer export {keras_folder}` makes it\n")


def test_an_export_of_an_earlier_model_is_never_used(keras_folder, tmp_path):
    folder = tmp_path / "retrained"
    shutil.copytree(keras_folder, folder)  # a model.keras that the shipped export was not made from
    for name in (engine.ONNX_FILE, engine.INT8_FILE, engine.EXPORT_RECORD):
        shutil.copy(SHIPPED / name, folder / name)
    choice, note = engine.choose_engine(folder, "auto")
    assert choice == "keras" and "exported from an earlier model.keras" in note
    with pytest.raises(FerError, match=r"model\.int8\.onnx: exported from an earlier model\.keras"):
        engine.choose_engine(folder, "int8")
    (folder / engine.EXPORT_RECORD).unlink()  # no record: the files are taken as they are
    assert engine.choose_engine(folder, "auto") == ("onnx", None)


def test_damaged_onnx_files_and_bad_choices_are_one_line(tmp_path, photo, capsys):
    from fer_helpers import faces as F

    (tmp_path / "labels.json").write_text(json.dumps(list(FERPLUS_CLASSES)))
    data = (SHIPPED / engine.ONNX_FILE).read_bytes()
    (tmp_path / engine.ONNX_FILE).write_bytes(data[: len(data) // 2])  # a copy cut short
    with pytest.raises(FerError, match="cannot load ONNX model"):
        engine.load_model(tmp_path, "onnx")
    assert F.run_predict([str(photo)], str(tmp_path), engine="onnx") == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "model.onnx: cannot load ONNX model" in err

    shutil.copy(SHIPPED / engine.ONNX_FILE, tmp_path / engine.ONNX_FILE)
    (tmp_path / "labels.json").write_text(json.dumps(["a", "b"]))
    with pytest.raises(FerError, match="8 outputs but labels.json lists 2 classes"):
        engine.load_model(tmp_path, "onnx")
    with pytest.raises(FerError, match="engine must be one of"):
        engine.choose_engine(tmp_path, "tflite")
    with pytest.raises(FerError, match="model folder not found"):
        engine.choose_engine(tmp_path / "nowhere", "onnx")


# --------------------------------------------------------------------------------------------
# fer export

def test_export_writes_checked_files_that_match_keras(shared_data, real_cache_dir, real_test_faces, tmp_path,
                                                      monkeypatch):
    from fer_helpers.model import load_model_dir

    monkeypatch.setenv("FER_CACHE_DIR", str(real_cache_dir))
    folder = tmp_path / "m"
    folder.mkdir()
    for name in ("model.keras", "labels.json"):
        shutil.copy(SHIPPED / name, folder / name)
    # 300 faces keep it quick; one face of 300 is 0.33 points, so the limits are a subset's
    record = engine.export_model_dir(folder, shared_data, subset=300, calibration_images=100,
                                     max_accuracy_gap=0.02, min_agreement=0.97)

    assert sorted(p.name for p in folder.iterdir()) == ["export.json", "labels.json", "model.int8.onnx",
                                                        "model.keras", "model.onnx"]  # no temporaries left
    assert json.loads((folder / "export.json").read_text()) == json.loads(json.dumps(record))
    assert record["parity"]["n"] == 300 and record["quantization"]["calibration"]["images"] == 100
    assert record["limits"] == {"max_accuracy_gap": 0.02, "min_agreement": 0.97}
    assert record["source"]["sha256"] == files.sha256(folder / "model.keras")
    assert record["parity"]["onnx"]["agreement"] == 1.0
    assert engine.choose_engine(folder, "auto") == ("onnx", None)
    x, _ = real_test_faces
    keras_model, _ = load_model_dir(folder)
    onnx_model, _ = engine.load_model(folder, "onnx")
    np.testing.assert_allclose(engine.probabilities(onnx_model, x), engine.probabilities(keras_model, x), atol=1e-4)
    # the exported graph is the inference graph: no random augmentation op survived into it
    import onnx

    ops = {node.op_type for node in onnx.load(folder / "model.onnx").graph.node}
    assert "Conv" in ops and not any("Random" in op for op in ops)


def test_the_strongest_augmentation_converts_to_the_bare_inference_graph(tmp_path):
    """Every augmentation layer (random flips, shifts, blur, erasing ...) is an identity at inference:
    none of it may reach the ONNX graph, and the graph must give Keras' predict's numbers."""
    import onnx

    from fer_helpers.model import build

    try:
        model = build("default", augment="strong", seed=0)
    except FerError:  # a model.py without the strong set
        model = build("default", augment="default", seed=0)
    assert any(layer.name.startswith("aug_") for layer in model.layers)
    engine._convert(model, tmp_path / "m.onnx")
    ops = {node.op_type for node in onnx.load(tmp_path / "m.onnx").graph.node}
    assert not any("Random" in op or "Image" in op for op in ops), ops
    x = np.random.default_rng(0).integers(0, 256, (16, 48, 48), dtype=np.uint8)
    np.testing.assert_allclose(engine.OnnxModel(tmp_path / "m.onnx").predict(x),
                               model.predict(x[..., None].astype("float32"), verbose=0), atol=1e-5)
    # the rescaling to [0, 1] is folded into the first convolution's weights: pixels go straight in
    graph = onnx.load(tmp_path / "m.onnx").graph
    first = [node for node in graph.node if graph.input[0].name in node.input]
    assert [node.op_type for node in first] == ["Reshape"], [node.op_type for node in first]


@pytest.mark.parametrize("corrupted", ["onnx", "int8"])
def test_export_refuses_a_failing_parity_check_and_writes_nothing(keras_folder, tmp_path, monkeypatch, capsys,
                                                                  corrupted):
    from synthetic import make_ferplus

    from fer_helpers.cli import main

    data = make_ferplus(tmp_path / "data")
    folder = tmp_path / "m"
    shutil.copytree(keras_folder, folder)
    before = _listing(folder)
    predict = engine.OnnxModel.predict

    def corrupt(self, x, batch_size=256, verbose=0):
        probs = predict(self, x, batch_size, verbose)
        return np.roll(probs, 1, axis=1) if self.path.name == engine.ENGINE_FILES[corrupted] else probs

    monkeypatch.setattr(engine.OnnxModel, "predict", corrupt)
    # the rolled probabilities move the top class of nearly every face; not of every one, since an
    # untrained model's int8 outputs tie (steps of 1/255) and may then land on Keras' class by chance
    with pytest.raises(FerError, match=f"export refused, nothing written: {corrupted} parity check failed "
                                       r"on 3 test images: .*top-class agreement \d+\.\d+% \(at least 99% needed\)"):
        engine.export_model_dir(folder, data)
    assert _listing(folder) == before
    if corrupted == "int8":
        return  # the command line once is enough (the onnx case fails sooner)
    assert main(["export", str(folder), "--data", str(data)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith(f"fer: error: {folder}: export refused")
    assert _listing(folder) == before


def test_sessions_have_one_thread_that_never_spins_and_batches_spread_over_them():
    """Threads that wait for each other at every layer collapse when the CPU is shared (OnnxModel)."""
    model, _ = engine.load_model(None, "int8", threads=2)
    options = model.session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    faces = np.random.default_rng(0).integers(0, 256, (3 * engine.OnnxModel.CHUNK + 5, 48, 48), dtype=np.uint8)
    one_face = model.predict(faces[:1])
    assert len(model._sessions) == 1, "a single face must not start the other sessions"
    spread = model.predict(faces)
    assert len(model._sessions) == 2
    alone, _ = engine.load_model(None, "int8", threads=1)
    np.testing.assert_array_equal(spread, alone.predict(faces))  # same faces, same order, same numbers
    np.testing.assert_array_equal(one_face, spread[:1])


def test_threads_come_from_the_command_line_or_fer_threads(monkeypatch, photo, capsys):
    monkeypatch.delenv("FER_THREADS", raising=False)
    assert 1 <= engine.default_threads() <= 4
    monkeypatch.setenv("FER_THREADS", "3")
    assert engine.default_threads() == 3
    assert engine.load_model(None, "int8")[0].threads == 3
    monkeypatch.setenv("FER_THREADS", "none")
    with pytest.raises(FerError, match="FER_THREADS must be a whole number"):
        engine.default_threads()
    monkeypatch.delenv("FER_THREADS")
    from fer_helpers.cli import main

    assert main(["predict", "--threads", "0", str(photo)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == "fer: error: --threads must be a whole number of at least 1, got '0'\n"
    assert main(["predict", "--threads", "1", "--json", str(photo)]) == 0
    assert os.environ["FER_THREADS"] == "1"  # the detector reads the same setting
    monkeypatch.delenv("FER_THREADS")
