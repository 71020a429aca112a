"""The shipped model against the one it replaced: the record ship_model.py writes and the report's table."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from fer_helpers import comparison
from fer_helpers.errors import FerError
from fer_helpers.labels import FERPLUS_CLASSES
from fer_helpers.model import build, save_model_dir


def faces(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 48, 48), dtype=np.uint8), rng.integers(0, len(FERPLUS_CLASSES), n)


def test_the_record_finds_the_replaced_model_by_its_hash_and_says_when_it_is_gone(tmp_path):
    old = save_model_dir(build("baseline", seed=0), tmp_path / "previous")
    new = save_model_dir(build("baseline", seed=1), tmp_path / "default")
    assert comparison.replaced_model(new) is None  # a model a user trained: no record, no comparison
    comparison.record_replaced(new, old)
    assert comparison.replaced_model(new) == old
    save_model_dir(build("baseline", seed=2), old)  # another model under the recorded name
    with pytest.raises(comparison.ReplacedModelGone, match="no longer at .*previous") as gone:
        comparison.replaced_model(new)
    assert gone.value.folder == str(old)  # what the report's one line names
    shutil.rmtree(old)  # the kept model deleted: the same
    with pytest.raises(comparison.ReplacedModelGone):
        comparison.replaced_model(new)
    (new / comparison.REPLACED_FILE).write_text("{")
    with pytest.raises(FerError, match="damaged"):
        comparison.replaced_model(new)


def test_the_table_compares_every_figure_and_its_change_in_both_languages(tmp_path):
    x, y = faces()
    old = save_model_dir(build("baseline", seed=0), tmp_path / "old")
    new = save_model_dir(build("default", seed=1), tmp_path / "new")
    a, b = comparison.model_figures(old, x, y), comparison.model_figures(new, x, y)
    table = comparison.comparison_table(a, b)
    assert list(table.columns) == ["replaced", "shipped", "change"]
    rows = list(table.index)
    assert rows[:2] == ["accuracy (%)", "macro F1"]
    assert [r for r in rows if r.startswith("recall: ")] == [f"recall: {c}" for c in FERPLUS_CLASSES]
    assert "points lost: blur 1.5" in rows and "points lost: jpeg 30" in rows
    assert rows[-1] == "parameters (millions)"
    acc = table.loc["accuracy (%)"]
    assert acc["replaced"] == f"{100 * a['accuracy']:.1f}" and acc["shipped"] == f"{100 * b['accuracy']:.1f}"
    assert acc["change"] == f"{100 * (b['accuracy'] - a['accuracy']):+.1f}"
    blur = a["robustness"].query("perturbation == 'blur' and strength == 1.5")["drop"].iloc[0]
    assert table.loc["points lost: blur 1.5", "replaced"] == f"{-100 * blur:.1f}"
    assert table.loc["parameters (millions)", "shipped"] == f"{b['parameters'] / 1e6:.2f}"
    tr = comparison.comparison_table(a, b, language="tr")
    assert list(tr.columns) == ["önceki", "yayımlanan", "değişim"]
    assert "kaybedilen puan: bulanıklık 1,5" in tr.index and "duyarlılık: küçümseme" in tr.index
    assert tr.iloc[-1]["yayımlanan"] == f"{b['parameters'] / 1e6:.2f}".replace(".", ",")


def test_a_robustness_table_given_is_used_as_it_is_and_checked(tmp_path):
    x, y = faces(12)
    folder = save_model_dir(build("baseline", seed=0), tmp_path / "m")
    full = comparison.model_figures(folder, x, y)["robustness"]
    assert comparison.model_figures(folder, x, y, robust=full)["robustness"] is full
    with pytest.raises(FerError, match="every perturbation"):
        comparison.model_figures(folder, x, y, robust=full.iloc[:3])
    assert comparison.mean_loss(pd.DataFrame({"perturbation": ["clean", "a", "b"], "drop": [0, -0.01, -0.03]})) == \
        pytest.approx(2.0)
    assert json.loads(json.dumps(comparison.record_replaced(folder, folder)))["folder"] == str(folder)


def test_the_report_compares_on_the_faces_it_scores_and_only_for_a_model_that_replaced_one(tmp_path):
    from test_model_training import tiny_ferplus

    from fer_helpers.robustness import robustness_of_model_dir

    data = tiny_ferplus(tmp_path / "data")
    old = save_model_dir(build("baseline", seed=0), tmp_path / "previous")
    new = save_model_dir(build("baseline", seed=1), tmp_path / "default")
    assert comparison.against_replaced(new, data) is None
    comparison.record_replaced(new, old)
    robust = robustness_of_model_dir(new, data, split="test")
    previous, a, b = comparison.against_replaced(new, data, robust=robust)
    assert previous == old and a["n"] == b["n"] == 16  # the tiny set's test faces, as evaluate scores them
    assert b["robustness"] is robust and a["robustness"].iloc[0]["accuracy"] == pytest.approx(a["accuracy"])
