"""The classes, their spellings, and the FER+ label protocol (Barsoum et al., ICMI 2016).

Votes are kept per image as counts over ``classes + ["unknown", "NF"]``; every layout is
turned into that shape so that one protocol serves them all (a folder label is ten unanimous votes).
"""

from __future__ import annotations

import numpy as np

from .errors import FerError

#: The 8 FER+ classes in the project's order (alphabetical): model outputs follow it.
FERPLUS_CLASSES: tuple[str, ...] = (
    "anger", "contempt", "disgust", "fear", "happiness", "neutral", "sadness", "surprise",
)
#: The 7 FER2013 classes (no contempt), same naming and order.
FER2013_CLASSES: tuple[str, ...] = tuple(c for c in FERPLUS_CLASSES if c != "contempt")
#: The two non-emotion vote columns of FER+.
EXTRA_COLUMNS: tuple[str, ...] = ("unknown", "NF")
#: Column order of the vote counts in Microsoft's label.csv / fer2013new.csv.
FERPLUS_VOTE_COLUMNS: tuple[str, ...] = (
    "neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt",
    "unknown", "NF",
)
#: Kaggle fer2013.csv ``emotion`` codes.
FER2013_CODES: tuple[str, ...] = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")

_ALIASES = {
    "anger": "anger", "angry": "anger", "mad": "anger",
    "contempt": "contempt", "contemptuous": "contempt",
    "disgust": "disgust", "disgusted": "disgust",
    "fear": "fear", "fearful": "fear", "scared": "fear", "afraid": "fear",
    "happiness": "happiness", "happy": "happiness", "joy": "happiness",
    "neutral": "neutral", "calm": "neutral",
    "sadness": "sadness", "sad": "sadness",
    "surprise": "surprise", "surprised": "surprise", "suprise": "surprise",
}

#: Majority votes count as agreement only above this share of the (cleaned) votes.
MAJORITY_SHARE = 0.5


def canonical_class(name: str) -> str | None:
    """The project's name for a class spelled ``name`` (any case), or None if unknown."""
    return _ALIASES.get(name.strip().lower().replace("-", "").replace("_", ""))


def clean_votes(votes: np.ndarray) -> np.ndarray:
    """Drop single votes: FER+ treats a lone vote as annotator noise."""
    votes = np.asarray(votes, dtype=np.float32)
    return np.where(votes <= 1, 0, votes)


def majority_labels(votes: np.ndarray) -> np.ndarray:
    """Index of the emotion holding more than half of the cleaned votes, or -1 (excluded).

    ``votes`` has one column per class followed by ``unknown`` and ``NF``; an image whose
    majority is unknown/NF, or that has no majority, gets -1.
    """
    votes = clean_votes(votes)
    n_classes = votes.shape[1] - len(EXTRA_COLUMNS)
    total = votes.sum(axis=1)
    top = votes.argmax(axis=1)
    has_majority = votes.max(axis=1) > MAJORITY_SHARE * total
    keep = has_majority & (top < n_classes) & (total > 0)
    return np.where(keep, top, -1).astype(np.int64)


def vote_distribution(votes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """FER+ "probability" scheme: cleaned emotion votes normalised to sum to 1.

    Returns ``(probabilities, keep)``. An image is kept when its most-voted column is an
    emotion (not unknown/NF); unlike the majority view it needs no majority, so ambiguous
    faces still teach the model their ambiguity. unknown/NF votes are dropped before
    normalising.
    """
    votes = clean_votes(votes)
    n_classes = votes.shape[1] - len(EXTRA_COLUMNS)
    emotion = votes[:, :n_classes]
    keep = (votes.argmax(axis=1) < n_classes) & (emotion.sum(axis=1) > 0)
    sums = np.where(keep, emotion.sum(axis=1), 1.0)[:, None]
    probs = np.where(keep[:, None], emotion / sums, 0.0).astype(np.float32)
    return probs, keep


def one_hot_votes(indices: np.ndarray, n_classes: int, votes: int = 10) -> np.ndarray:
    """Votes for layouts that only have one label per image: ``votes`` unanimous votes."""
    indices = np.asarray(indices, dtype=np.int64)
    if indices.size and (indices.min() < 0 or indices.max() >= n_classes):
        raise FerError(f"class index out of range 0..{n_classes - 1}: {indices.min()}..{indices.max()}")
    out = np.zeros((len(indices), n_classes + len(EXTRA_COLUMNS)), dtype=np.float32)
    out[np.arange(len(indices)), indices] = votes
    return out


def ferplus_votes_to_project_order(raw: np.ndarray) -> np.ndarray:
    """Reorder vote columns from Microsoft's order to ``FERPLUS_CLASSES + EXTRA_COLUMNS``."""
    order = [FERPLUS_VOTE_COLUMNS.index(c) for c in FERPLUS_CLASSES + EXTRA_COLUMNS]
    return np.asarray(raw, dtype=np.float32)[:, order]
