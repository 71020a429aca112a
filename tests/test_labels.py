"""The FER+ label protocol (Barsoum et al., ICMI 2016) and the class names."""

from __future__ import annotations

import numpy as np
import pytest

from fer_helpers import labels as L
from fer_helpers.errors import FerError

COLS = L.FERPLUS_CLASSES + L.EXTRA_COLUMNS      # project order: 8 emotions, unknown, NF


def row(**counts) -> list[float]:
    """A vote row in the project's column order."""
    assert set(counts) <= set(COLS), set(counts) - set(COLS)
    return [float(counts.get(c, 0)) for c in COLS]


def majority(*rows) -> list[int]:
    return L.majority_labels(np.array(rows, dtype=np.float32)).tolist()


def idx(name: str) -> int:
    return L.FERPLUS_CLASSES.index(name)


# --------------------------------------------------------------------------- class names

def test_class_orders_are_alphabetical_and_consistent():
    assert list(L.FERPLUS_CLASSES) == sorted(L.FERPLUS_CLASSES)
    assert len(L.FERPLUS_CLASSES) == 8
    assert L.FER2013_CLASSES == tuple(c for c in L.FERPLUS_CLASSES if c != "contempt")
    assert sorted(L.FERPLUS_VOTE_COLUMNS) == sorted(COLS)
    assert sorted(L.FER2013_CODES) == sorted(L.FER2013_CLASSES)
    assert L.FER2013_CODES[0] == "anger" and L.FER2013_CODES[3] == "happiness" and L.FER2013_CODES[6] == "neutral"


@pytest.mark.parametrize("spelling,name", [
    ("angry", "anger"), ("Anger", "anger"), ("HAPPY", "happiness"), ("happiness", "happiness"),
    ("sad", "sadness"), ("Sadness", "sadness"), ("surprised", "surprise"), ("surprise", "surprise"),
    ("fearful", "fear"), ("disgusted", "disgust"), ("contempt", "contempt"), (" neutral ", "neutral"),
])
def test_canonical_class_spellings(spelling, name):
    assert L.canonical_class(spelling) == name


@pytest.mark.parametrize("spelling", ["unknown", "NF", "cat", "", "0"])
def test_canonical_class_unknown_is_none(spelling):
    assert L.canonical_class(spelling) is None


def test_microsoft_order_is_reordered_to_project_order():
    raw = np.array([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]])       # neutral..NF in Microsoft's order
    out = L.ferplus_votes_to_project_order(raw)[0]
    for col, value in zip(L.FERPLUS_VOTE_COLUMNS, raw[0]):
        assert out[COLS.index(col)] == value
    assert out.dtype == np.float32


# --------------------------------------------------------------------------- majority

def test_clear_majority():
    assert majority(row(happiness=10), row(neutral=6, sadness=4), row(contempt=7, anger=3)) == \
        [idx("happiness"), idx("neutral"), idx("contempt")]


def test_single_votes_are_dropped_before_counting():
    # 5 of 10 raw votes is not a majority, but the lone votes go first: 5 of 7 is.
    assert majority(row(surprise=5, fear=2, anger=1, neutral=1, sadness=1)) == [idx("surprise")]
    np.testing.assert_array_equal(L.clean_votes(np.array([[1, 2, 0, 1]])), [[0, 2, 0, 0]])


def test_exactly_half_is_not_a_majority():
    assert majority(row(happiness=5, neutral=3, sadness=2)) == [-1]
    assert majority(row(happiness=4, neutral=4)) == [-1]              # 4 of 8 after cleaning


def test_ties_have_no_majority():
    assert majority(row(anger=5, disgust=5), row(fear=3, sadness=3, happiness=2, neutral=2)) == [-1, -1]


def test_unknown_or_nf_majority_is_excluded():
    assert majority(row(unknown=6, happiness=4), row(NF=10), row(NF=7, neutral=3)) == [-1, -1, -1]


def test_unknown_and_nf_votes_count_in_the_total():
    # 5 happiness of 5+3+2: exactly half, so no majority although unknown/NF are not emotions.
    assert majority(row(happiness=5, unknown=3, NF=2)) == [-1]
    assert majority(row(happiness=6, unknown=2, NF=2)) == [idx("happiness")]


def test_nine_vote_rows():
    assert majority(row(fear=9), row(fear=5, neutral=4), row(fear=4, neutral=3, sadness=2)) == \
        [idx("fear"), idx("fear"), -1]


def test_all_zero_and_all_single_rows_are_excluded():
    assert majority(row(), row(**{c: 1 for c in COLS})) == [-1, -1]


def test_majority_on_seven_classes():
    cols7 = L.FER2013_CLASSES + L.EXTRA_COLUMNS
    v = np.zeros((2, len(cols7)), np.float32)
    v[0, cols7.index("neutral")] = 10
    v[1, cols7.index("unknown")] = 10
    assert L.majority_labels(v).tolist() == [L.FER2013_CLASSES.index("neutral"), -1]
    assert L.majority_labels(v).dtype == np.int64


# --------------------------------------------------------------------------- distribution

def dist(*rows):
    return L.vote_distribution(np.array(rows, dtype=np.float32))


def test_distribution_rows_sum_to_one_and_drop_single_votes():
    probs, keep = dist(row(happiness=6, surprise=3, neutral=1), row(sadness=8, unknown=2))
    assert keep.tolist() == [True, True]
    assert probs.dtype == np.float32 and probs.shape == (2, 8)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(probs[0, idx("happiness")], 6 / 9)
    np.testing.assert_allclose(probs[0, idx("surprise")], 3 / 9)
    assert probs[0, idx("neutral")] == 0                      # the single vote is gone
    np.testing.assert_allclose(probs[1, idx("sadness")], 1.0)  # unknown votes dropped before normalising


def test_distribution_keeps_images_without_a_majority():
    probs, keep = dist(row(anger=5, disgust=5), row(fear=4, sadness=4, unknown=2))
    assert keep.tolist() == [True, True]
    np.testing.assert_allclose(probs[0, [idx("anger"), idx("disgust")]], [0.5, 0.5])
    np.testing.assert_allclose(probs[1, [idx("fear"), idx("sadness")]], [0.5, 0.5])
    assert majority(row(anger=5, disgust=5)) == [-1]


def test_distribution_drops_unknown_or_nf_plurality_and_empty_rows():
    probs, keep = dist(row(unknown=4, happiness=3, sadness=3), row(NF=10), row(),
                       row(neutral=1, happiness=1, unknown=1), row(happiness=3, unknown=2, NF=2))
    assert keep.tolist() == [False, False, False, False, True]
    assert (probs[~keep] == 0).all()


def test_one_hot_votes():
    v = L.one_hot_votes(np.array([0, 2, 6]), 7)
    assert v.shape == (3, 9) and v.dtype == np.float32
    assert L.majority_labels(v).tolist() == [0, 2, 6]
    probs, keep = L.vote_distribution(v)
    assert keep.all()
    np.testing.assert_array_equal(probs, np.eye(7, dtype=np.float32)[[0, 2, 6]])
    assert L.one_hot_votes(np.array([], dtype=np.int64), 7).shape == (0, 9)


@pytest.mark.parametrize("bad", [[7], [-1]])
def test_one_hot_votes_rejects_out_of_range(bad):
    with pytest.raises(FerError, match="out of range"):
        L.one_hot_votes(np.array(bad), 7)
