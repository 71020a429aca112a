"""Temperature scaling: the fit recovers a known temperature, folding it changes confidences only."""

from __future__ import annotations

import numpy as np
import pytest

from fer_helpers import calibration
from fer_helpers.errors import FerError


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("true_temperature", [0.7, 1.0, 1.8])
def test_fit_recovers_the_temperature_that_made_the_probabilities(true_temperature):
    """Labels drawn from softmax(z); a model reporting softmax(z / T) is off by exactly T."""
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2.5, (20000, 8))
    y = np.array([rng.choice(8, p=p) for p in _softmax(z)])
    reported = _softmax(z / true_temperature)
    fitted = calibration.fit_temperature(reported, y)
    assert fitted == pytest.approx(1 / true_temperature, rel=0.05)
    fixed = calibration.scale_probabilities(reported, fitted)
    np.testing.assert_allclose(fixed, _softmax(z), atol=0.03)
    assert (fixed.argmax(1) == reported.argmax(1)).all()
    assert calibration.fit_temperature(fixed, y) == pytest.approx(1.0, abs=0.01)  # calibrating twice: no change
    assert calibration.negative_log_likelihood(fixed, y) <= calibration.negative_log_likelihood(reported, y) + 1e-9


def test_an_empty_split_is_an_error():
    with pytest.raises(FerError, match="no images"):
        calibration.fit_temperature(np.zeros((0, 8)), np.zeros(0, int))


def test_folding_divides_the_logits_and_keeps_every_answer():
    from fer_helpers.model import build

    model = build("baseline", seed=0, augment="none")
    x = np.random.default_rng(1).integers(0, 256, (32, 48, 48, 1)).astype("float32")
    before = model.predict(x, verbose=0)
    calibration.fold_temperature(model, 0.5)
    after = model.predict(x, verbose=0)
    np.testing.assert_allclose(after, calibration.scale_probabilities(before, 0.5), atol=1e-4)
    assert (after.argmax(1) == before.argmax(1)).all()


def test_a_model_without_a_softmax_dense_output_is_refused():
    import keras

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Activation("softmax")(keras.layers.Dense(3)(inputs)))
    with pytest.raises(FerError, match="Dense softmax output layer"):
        calibration.fold_temperature(model, 2.0)


def test_the_shipped_model_is_calibrated_on_validation():
    """models/default carries its temperature, fitted on validation, and the record says so."""
    from fer_helpers.engine import default_model_dir

    record = calibration.read_calibration(default_model_dir())
    assert record is not None and record["fitted_on"]["split"] == "valid"
    v = record["validation"]
    assert v["ece_after"] < v["ece_before"] and v["nll_after"] < v["nll_before"]
    assert not record["fitted_on"]["data_dir"].startswith("/")


def test_an_unreadable_record_is_one_line(tmp_path):
    (tmp_path / calibration.CALIBRATION_RECORD).write_text("{not json")
    with pytest.raises(FerError, match="calibration.json: unreadable"):
        calibration.read_calibration(tmp_path)
    assert calibration.read_calibration(tmp_path / "nowhere") is None


def test_fer_calibrate_folds_the_temperature_and_records_it(tmp_path, capsys):
    """The command on a small folder and a small synthetic data set: model.keras rewritten with
    the temperature in it, calibration.json written, and a second run's record keeps the product
    (an untrained network's fit may sit at a bound, so only the bookkeeping is checked here)."""
    import synthetic as S

    from fer_helpers.cli import main
    from fer_helpers.model import build, load_model_dir, save_model_dir

    rng = np.random.default_rng(0)
    valid = [(f"fer{28700 + i:07d}.png", S.votes(**{c: 10})) for i, c in
             enumerate(rng.choice(["happiness", "neutral", "sadness", "anger"], 40))]
    data = S.make_ferplus(tmp_path / "data", dict(S.DEFAULT_FERPLUS_ROWS, valid=valid))
    folder = tmp_path / "model"
    save_model_dir(build("baseline", seed=0, augment="none"), folder)
    x = np.random.default_rng(1).integers(0, 256, (8, 48, 48, 1)).astype("float32")
    before = load_model_dir(folder)[0].predict(x, verbose=0)

    assert main(["calibrate", str(folder), "--data", str(data)]) == 0
    assert "fitted on 40 validation images" in capsys.readouterr().out
    first = calibration.read_calibration(folder)
    after = load_model_dir(folder)[0].predict(x, verbose=0)
    np.testing.assert_allclose(after, calibration.scale_probabilities(before, first["temperature"]), atol=1e-4)

    assert main(["calibrate", str(folder), "--data", str(data)]) == 0
    second = calibration.read_calibration(folder)
    assert second["temperature"] == pytest.approx(first["temperature"] * second["this_fit"])
