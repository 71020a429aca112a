"""The data layer: three layouts detected and read into one contract, bad inputs, the cache,
and the real FER+ set (skipped when ../shared/data/ferplus is absent)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import synthetic as S
from fer_helpers import data as D
from fer_helpers import labels as L
from fer_helpers.errors import FerError


def check_contract(ds: D.Dataset) -> None:
    """What every layout promises for every split under every label view."""
    assert ds.classes == sorted(ds.classes)
    n = len(ds.classes)
    for s in ds.splits:
        x, y = ds.split(s)
        assert x.dtype == np.uint8 and x.ndim == 3 and x.shape[1:] == (48, 48)
        assert y.dtype == np.int64 and y.shape == (len(x),)
        assert ((y >= 0) & (y < n)).all()
        xd, yd = ds.split(s, labels="distribution")
        assert xd.dtype == np.uint8 and xd.shape[1:] == (48, 48)
        assert yd.dtype == np.float32 and yd.shape == (len(xd), n)
        np.testing.assert_allclose(yd.sum(axis=1), 1.0, rtol=1e-5)
        assert (yd >= 0).all()
        xv, yv = ds.split(s, labels="votes")
        assert yv.shape == (len(xv), n + 2) and len(ds.names(s)) == len(xv)
        assert len(xd) >= len(x)          # the distribution view keeps images without a majority


def by_name(ds, split, labels="majority"):
    x, y, names = ds.split(split, labels=labels, return_names=True)
    return {n: (xi, yi) for n, xi, yi in zip(names, x, y)}


# =========================================================================== FER+ layout

@pytest.fixture
def ferplus(tmp_path) -> Path:
    return S.make_ferplus(tmp_path / "ferplus")


def test_ferplus_layout_detected_and_contract(ferplus):
    assert D.detect_layout(ferplus) == "ferplus"
    ds = D.load_dataset(ferplus)
    assert ds.report.layout == "ferplus"
    assert ds.classes == list(L.FERPLUS_CLASSES)
    assert ds.splits == ["train", "valid", "test"]
    check_contract(ds)
    assert dict(ds.report.read) == {"train": 6, "valid": 3, "test": 4}
    assert sum(ds.report.converted.values()) == 0 and ds.report.skipped == []


def test_ferplus_majority_labels_follow_microsoft_column_order(ferplus):
    ds = D.load_dataset(ferplus)
    c = ds.classes.index
    train = by_name(ds, "train")
    assert {n: int(y) for n, (_, y) in train.items()} == {
        "fer0000000.png": c("neutral"), "fer0000001.png": c("happiness"),
        "fer0000002.png": c("contempt"), "fer0000005.png": c("fear")}
    assert {n: int(y) for n, (_, y) in by_name(ds, "valid").items()} == {"fer0028638.png": c("surprise")}
    assert {n: int(y) for n, (_, y) in by_name(ds, "test").items()} == {
        "fer0032220.png": c("contempt"), "fer0032223.png": c("neutral"), "fer0032224.png": c("happiness")}


def test_ferplus_pixels_arrive_unchanged(ferplus):
    ds = D.load_dataset(ferplus)
    for split in ds.splits:
        x, _, names = ds.split(split, labels="votes", return_names=True)
        for xi, n in zip(x, names):
            np.testing.assert_array_equal(xi, S.ferplus_pixels(ferplus, split, n))


def test_ferplus_distribution_view(ferplus):
    ds = D.load_dataset(ferplus)
    dist = by_name(ds, "train", labels="distribution")
    # the tie (sadness 5 / anger 5) has no majority but stays in the distribution view; NF goes
    assert set(dist) == {"fer0000000.png", "fer0000001.png", "fer0000002.png", "fer0000003.png", "fer0000005.png"}
    c = ds.classes.index
    np.testing.assert_allclose(dist["fer0000003.png"][1][[c("sadness"), c("anger")]], [0.5, 0.5])
    np.testing.assert_allclose(dist["fer0000002.png"][1][[c("contempt"), c("anger")]], [6 / 9, 3 / 9])
    assert set(by_name(ds, "valid", labels="distribution")) == {"fer0028638.png", "fer0028639.png"}


def test_ferplus_split_aliases_and_unknown_split(ferplus):
    ds = D.load_dataset(ferplus)
    for alias in ("validation", "val", "VALID"):
        np.testing.assert_array_equal(ds.split(alias)[0], ds.split("valid")[0])
    with pytest.raises(FerError, match="split 'holdout'"):
        ds.split("holdout")
    with pytest.raises(FerError, match="labels must be"):
        ds.split("test", labels="soft")


def test_ferplus_counts_and_unlabelled_files(ferplus):
    S.write_png(ferplus / "FER2013Test" / "stray.png", S.face(999))
    ds = D.load_dataset(ferplus)
    assert ds.report.unlabelled["test"] == 1 and ds.report.read["test"] == 4
    counts = ds.counts().set_index(["split", "class"])
    assert counts.loc[("test", "contempt"), "majority"] == 1
    assert counts.loc[("test", "excluded by protocol"), "majority"] == 1
    assert counts.loc[("train", "NF"), "plurality"] == 1
    for s in ds.splits:   # every image is counted once under each view
        assert counts.loc[s, "plurality"].sum() == len(ds.votes(s))
        assert counts.loc[s, "majority"].sum() == len(ds.votes(s))


def test_ferplus_all_zero_rows_have_no_plurality_class(tmp_path):
    rows = {s: list(r) for s, r in S.DEFAULT_FERPLUS_ROWS.items()}
    rows["test"] = rows["test"] + [("fer0099999.png", S.votes(**{c: 1 for c in S.MS_ORDER}))]
    ds = D.load_dataset(S.make_ferplus(tmp_path / "d", rows))
    counts = ds.counts().set_index(["split", "class"])
    assert counts.loc[("test", "anger"), "plurality"] == 0
    assert counts.loc[("test", "excluded by protocol"), "plurality"] == 1


def test_ferplus_nine_vote_rows_are_read(tmp_path):
    ds = D.load_dataset(S.make_ferplus(tmp_path / "d"))
    v = by_name(ds, "train", labels="votes")["fer0000005.png"][1]
    assert v.sum() == 9 and v[ds.classes.index("fear")] == 9


# =========================================================================== class folders

SEVEN = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
EIGHT_OTHER_SPELLING = ("Anger", "contempt", "disgusted", "fearful", "happiness", "Neutral", "sadness", "surprised")


@pytest.mark.parametrize("valid_name", ["valid", "validation", "val"])
def test_folders_seven_classes(tmp_path, valid_name):
    root = S.make_folders(tmp_path / "f", SEVEN, per_class=2, valid_name=valid_name)
    assert D.detect_layout(root) == "folders"
    ds = D.load_dataset(root)
    assert ds.report.layout == "folders"
    assert ds.classes == list(L.FER2013_CLASSES) and len(ds.classes) == 7
    assert ds.splits == ["train", "valid", "test"]
    check_contract(ds)
    assert dict(ds.report.read) == {"train": 14, "valid": 14, "test": 14}
    x, y, names = ds.split("train", return_names=True)
    assert len(x) == 14                              # a folder label is a unanimous majority
    for xi, yi, n in zip(x, y, names):
        folder = Path(n).parts[1]
        assert ds.classes[yi] == L.canonical_class(folder)
        np.testing.assert_array_equal(xi, np.asarray(Image.open(root / n)))


def test_folders_eight_classes_any_spelling(tmp_path):
    root = S.make_folders(tmp_path / "f", EIGHT_OTHER_SPELLING, per_class=1)
    ds = D.load_dataset(root)
    assert ds.classes == list(L.FERPLUS_CLASSES)
    check_contract(ds)
    _, y, names = ds.split("test", return_names=True)
    got = {Path(n).parts[1]: ds.classes[i] for n, i in zip(names, y)}
    assert got == {s: L.canonical_class(s) for s in EIGHT_OTHER_SPELLING}


def test_folders_without_validation_split(tmp_path):
    ds = D.load_dataset(S.make_folders(tmp_path / "f", SEVEN, per_class=1, valid_name=None))
    assert ds.splits == ["train", "test"]
    with pytest.raises(FerError, match="valid"):
        ds.split("valid")


def test_folders_two_validation_folders_is_an_error(tmp_path):
    root = S.make_folders(tmp_path / "f", SEVEN, per_class=1)
    S.make_folders(root, SEVEN, per_class=1, split_names={"valid": "val"}, seed=5)
    with pytest.raises(FerError, match="two folders for the valid split"):
        D.load_dataset(root)


def test_folders_missing_split_folder(tmp_path):
    root = S.make_folders(tmp_path / "f", SEVEN, per_class=1)
    shutil.rmtree(root / "test")
    with pytest.raises(FerError, match=r"split folder 'test/' missing"):
        D.load_dataset(root)


def test_folders_unknown_class_folder_is_named(tmp_path):
    root = S.make_folders(tmp_path / "f", SEVEN, per_class=1)
    S.write_png(root / "train" / "bored" / "x.png", S.face(77))
    with pytest.raises(FerError, match="bored") as err:
        D.load_dataset(root)
    assert str(root / "train" / "bored") in str(err.value)


def test_folders_ignore_hidden_tool_litter(tmp_path):
    root = S.make_folders(tmp_path / "f", SEVEN, per_class=1)
    (root / "train" / ".ipynb_checkpoints").mkdir()
    (root / "train" / "happy" / "._x.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    ds = D.load_dataset(root)
    assert ds.report.read["train"] == 7 and ds.report.skipped == []


# ---------------------------------------------------------------- images that need converting

def _converted_cases():
    grey = np.full((48, 48), 100, np.uint8)
    return {
        "rgb": (Image.fromarray(np.stack([grey] * 3, axis=-1), "RGB"), 100),
        "big": (Image.fromarray(np.full((96, 96), 100, np.uint8)), 100),
        "small": (Image.fromarray(np.full((24, 30), 100, np.uint8)), 100),
        "16bit": (Image.fromarray(np.full((48, 48), 65535, np.uint16)), 255),
        "rgba_transparent": (Image.fromarray(np.zeros((48, 48, 4), np.uint8), "RGBA"), 255),
        "palette": (Image.fromarray(np.stack([grey] * 3, axis=-1), "RGB").convert("P"), 100),
    }


@pytest.mark.parametrize("case", list(_converted_cases()))
def test_non_standard_images_are_converted_and_counted(tmp_path, case):
    root = S.make_folders(tmp_path / "f", SEVEN, per_class=1)
    img, expected = _converted_cases()[case]
    img.save(root / "test" / "happy" / "odd.png")
    ds = D.load_dataset(root)
    assert ds.report.converted["test"] == 1 and ds.report.converted.get("train", 0) == 0
    x, y, names = ds.split("test", return_names=True)
    arr = x[names.index(str(Path("test") / "happy" / "odd.png"))]
    assert arr.shape == (48, 48) and arr.dtype == np.uint8
    assert abs(int(arr.mean()) - expected) <= 1


def test_jpeg_images_are_read(tmp_path):
    root = S.make_folders(tmp_path / "f", SEVEN, per_class=1)
    Image.fromarray(np.full((48, 48), 50, np.uint8)).save(root / "test" / "sad" / "x.jpg")
    ds = D.load_dataset(root)
    assert ds.report.read["test"] == 8 and ds.report.converted["test"] == 0


# ---------------------------------------------------------------- unreadable images

def _corrupt_cases():
    good = S.png_bytes(S.face(1))
    return {
        "corrupt_png": good[:40] + bytes(range(256)) * 4,       # PNG signature, garbage chunks
        "text_named_png": b"this is not an image\n",
        "truncated_png": good[: len(good) // 2],
        "empty_file": b"",
    }


@pytest.mark.parametrize("case", list(_corrupt_cases()))
def test_unreadable_image_raises_naming_the_file(tmp_path, case):
    root = S.make_folders(tmp_path / "f", SEVEN, per_class=2)
    bad = root / "train" / "sad" / f"{case}.png"
    bad.write_bytes(_corrupt_cases()[case])
    with pytest.raises(FerError, match="cannot read image") as err:
        D.load_dataset(root)
    assert str(bad) in str(err.value)


def test_unreadable_images_skipped_on_request(tmp_path):
    root = S.make_folders(tmp_path / "f", SEVEN, per_class=2)
    bad = []
    for case, content in _corrupt_cases().items():
        p = root / "train" / "sad" / f"{case}.png"
        p.write_bytes(content)
        bad.append(p)
    ds = D.load_dataset(root, on_error="skip")
    assert len(ds.report.skipped) == len(bad)
    for p in bad:
        assert any(s.startswith(str(p)) for s in ds.report.skipped)
    assert ds.report.read["train"] == 14 and ds.report.read["test"] == 14
    x, y, names = ds.split("train", return_names=True)
    assert len(x) == len(y) == len(names) == 14
    assert not any(Path(n).stem in _corrupt_cases() for n in names)
    # labels stay aligned with their images after the gaps
    for xi, yi, n in zip(x, y, names):
        assert ds.classes[yi] == L.canonical_class(Path(n).parts[1])
        np.testing.assert_array_equal(xi, np.asarray(Image.open(root / n)))
    check_contract(ds)


def test_ferplus_unreadable_image_skipped_keeps_votes_aligned(tmp_path):
    root = S.make_ferplus(tmp_path / "d")
    (root / "FER2013Train" / "fer0000001.png").write_bytes(b"junk")
    with pytest.raises(FerError, match="fer0000001.png"):
        D.load_dataset(root)
    ds = D.load_dataset(root, on_error="skip")
    assert len(ds.report.skipped) == 1 and "fer0000001.png" in ds.report.skipped[0]
    train = by_name(ds, "train")
    assert "fer0000001.png" not in train
    assert int(train["fer0000002.png"][1]) == ds.classes.index("contempt")
    np.testing.assert_array_equal(train["fer0000002.png"][0], S.ferplus_pixels(root, "train", "fer0000002.png"))


def test_ferplus_labelled_image_missing(tmp_path):
    root = S.make_ferplus(tmp_path / "d")
    (root / "FER2013Test" / "fer0032224.png").unlink()
    with pytest.raises(FerError, match="fer0032224.png: listed in label.csv but missing"):
        D.load_dataset(root)
    ds = D.load_dataset(root, on_error="skip")
    assert any("fer0032224.png" in s for s in ds.report.skipped)
    assert ds.report.read["test"] == 3


def test_on_error_must_be_known(tmp_path):
    with pytest.raises(FerError, match="on_error"):
        D.load_dataset(S.make_ferplus(tmp_path / "d"), on_error="ignore")


# ---------------------------------------------------------------- malformed label.csv

@pytest.mark.parametrize("line,why", [
    ('fer0032224.png,"(0, 0, 48, 48)",10,0,0,0,0,0,0,0,0', "expected 12 fields"),
    ('fer0032224.png,10,0,0,0,0,0,0,0,0,0', "expected 12 fields"),
    ('fer0032224.png,"(0, 0, 48, 48)",ten,0,0,0,0,0,0,0,0,0', "must be numbers"),
    ('fer0032224.png,"(0, 0, 48, 48)",10,0,0,0,0,0,0,0,0,-1', "non-negative"),
    ('fer0032224.png,"(0, 0, 48, 48)",nan,0,0,0,0,0,0,0,0,0', "finite"),
])
def test_malformed_label_csv_names_file_and_line(tmp_path, line, why):
    root = S.make_ferplus(tmp_path / "d")
    label = root / "FER2013Test" / "label.csv"
    lines = label.read_text().splitlines()
    lines[3] = line                                            # line 4 of the file
    label.write_text("\n".join(lines) + "\n")
    with pytest.raises(FerError, match=why) as err:
        D.load_dataset(root)
    assert f"{label}:4:" in str(err.value)


def test_blank_lines_in_label_csv_are_ignored(tmp_path):
    root = S.make_ferplus(tmp_path / "d")
    label = root / "FER2013Test" / "label.csv"
    label.write_text(label.read_text().replace("\n", "\n\n", 1) + "\n\n")
    assert D.load_dataset(root).report.read["test"] == 4


def test_ferplus_missing_split_folder_and_label_file(tmp_path):
    root = S.make_ferplus(tmp_path / "d")
    shutil.rmtree(root / "FER2013Valid")
    with pytest.raises(FerError, match="FER2013Valid: split folder missing"):
        D.load_dataset(root)
    root2 = S.make_ferplus(tmp_path / "d2")
    (root2 / "FER2013Train" / "label.csv").unlink()
    with pytest.raises(FerError, match=r"FER2013Train/label.csv: label file missing"):
        D.load_dataset(root2)
    (root2 / "FER2013Train" / "label.csv").write_text("\n")
    with pytest.raises(FerError, match="no label rows"):
        D.load_dataset(root2)


# =========================================================================== Kaggle CSV

def test_kaggle_csv_seven_classes(tmp_path):
    path = S.make_kaggle_csv(tmp_path / "k")
    assert D.detect_layout(path.parent) == "csv" and D.detect_layout(path) == "csv"
    ds = D.load_dataset(path.parent)
    assert ds.report.layout == "csv"
    assert ds.classes == list(L.FER2013_CLASSES)
    check_contract(ds)
    assert dict(ds.report.read) == {"train": 4, "valid": 2, "test": 3}
    x, y = ds.split("train")
    assert [ds.classes[i] for i in y] == ["anger", "happiness", "neutral", "disgust"]
    np.testing.assert_array_equal(x[1], S.face(1))
    xt, yt = ds.split("test")
    assert [ds.classes[i] for i in yt] == ["fear", "happiness", "neutral"]
    np.testing.assert_array_equal(xt[0], S.face(6))
    assert ds.names("test") == ["fer2013.csv:8", "fer2013.csv:9", "fer2013.csv:10"]


def test_kaggle_csv_file_path_and_nested_folder(tmp_path):
    path = S.make_kaggle_csv(tmp_path / "k", subdir="fer2013")
    a = D.load_dataset(path, cache=False)
    b = D.load_dataset(tmp_path / "k", cache=False)
    for s in ("train", "valid", "test"):
        np.testing.assert_array_equal(a.split(s)[0], b.split(s)[0])
        np.testing.assert_array_equal(a.split(s)[1], b.split(s)[1])


def test_kaggle_csv_with_fer2013new_gives_ferplus_classes(tmp_path):
    new_votes = [S.votes(anger=8, disgust=2), S.votes(happiness=10), S.votes(neutral=5, sadness=5),
                 S.votes(contempt=7, neutral=3), S.votes(sadness=6, unknown=4), S.votes(NF=10),
                 S.votes(fear=9), S.votes(unknown=7, surprise=3), S.votes(neutral=6, contempt=4)]
    path = S.make_kaggle_csv(tmp_path / "k", new_votes=new_votes)
    ds = D.load_dataset(path.parent)
    assert ds.classes == list(L.FERPLUS_CLASSES)
    check_contract(ds)
    _, y, names = ds.split("train", return_names=True)
    assert [ds.classes[i] for i in y] == ["anger", "happiness", "contempt"]
    assert names == ["fer2013.csv:2", "fer2013.csv:3", "fer2013.csv:5"]
    assert [ds.classes[i] for i in ds.split("valid")[1]] == ["sadness"]
    assert [ds.classes[i] for i in ds.split("test")[1]] == ["fear", "neutral"]
    assert len(ds.split("train", labels="distribution")[0]) == 4   # the 5/5 tie stays


def test_kaggle_fer2013new_row_count_must_match(tmp_path):
    path = S.make_kaggle_csv(tmp_path / "k")
    S.write_fer2013new(path.parent / "fer2013new.csv", S.DEFAULT_CSV_ROWS[:-1], [S.votes(happiness=10)] * 8)
    with pytest.raises(FerError, match="must align row by row"):
        D.load_dataset(path.parent)


@pytest.mark.parametrize("line,why", [
    ("3,1 2 3,Training", "pixel values"),
    ("3," + " ".join(["x"] * 2304) + ",Training", "malformed row"),
    ("9," + " ".join(["0"] * 2304) + ",Training", "emotion code 9"),
    ("3," + " ".join(["0"] * 2304) + ",Holdout", "unknown Usage"),
    ("3," + " ".join(["0"] * 2304), "expected 3 fields"),
    ("3," + " ".join(["300"] * 2304) + ",Training", "pixel values 0-255"),
])
def test_kaggle_malformed_row_names_file_and_line(tmp_path, line, why):
    path = S.make_kaggle_csv(tmp_path / "k", extra_lines=[line])
    with pytest.raises(FerError, match=why) as err:
        D.load_dataset(path.parent)
    assert f"{path}:11:" in str(err.value)
    ds = D.load_dataset(path.parent, on_error="skip")
    assert len(ds.report.skipped) == 1 and f"{path}:11:" in ds.report.skipped[0]
    assert dict(ds.report.read) == {"train": 4, "valid": 2, "test": 3}


def test_kaggle_bad_header(tmp_path):
    path = S.make_kaggle_csv(tmp_path / "k")
    path.write_text(path.read_text().replace("emotion,pixels,Usage", "label,img,split", 1))
    with pytest.raises(FerError, match=r"fer2013.csv:1: expected header"):
        D.load_dataset(path.parent)


def test_kaggle_blank_lines_do_not_shift_row_ids(tmp_path):
    path = S.make_kaggle_csv(tmp_path / "k", extra_lines=["", ""])
    ds = D.load_dataset(path.parent)
    assert dict(ds.report.read) == {"train": 4, "valid": 2, "test": 3}


# =========================================================================== paths and layouts

def test_missing_data_path(tmp_path):
    with pytest.raises(FerError, match="data path not found") as err:
        D.load_dataset(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(err.value)


def test_default_path_error_lists_where_it_looked(tmp_path, monkeypatch):
    tried = [tmp_path / "a" / "ferplus", tmp_path / "b" / "ferplus"]
    monkeypatch.setattr(D, "default_data_paths", lambda: tried)
    with pytest.raises(FerError, match="no data set given") as err:
        D.load_dataset()
    for p in tried:
        assert str(p) in str(err.value)


def test_default_path_is_used_when_present(tmp_path, monkeypatch):
    root = S.make_ferplus(tmp_path / "b" / "ferplus")
    monkeypatch.setattr(D, "default_data_paths", lambda: [tmp_path / "a", root])
    assert D.resolve_data_path() == root
    assert D.load_dataset().report.read["test"] == 4


def test_default_paths_include_the_shared_data():
    project = Path(D.__file__).resolve().parent.parent
    assert project.parent / "shared" / "data" / "ferplus" in D.default_data_paths()


@pytest.mark.parametrize("make", ["empty_dir", "text_file"])
def test_not_a_data_set(tmp_path, make):
    if make == "empty_dir":
        p = tmp_path / "empty"
        p.mkdir()
    else:
        p = tmp_path / "notes.txt"
        p.write_text("hello")
    with pytest.raises(FerError, match="not a FER data set") as err:
        D.load_dataset(p)
    assert str(p) in str(err.value)


# =========================================================================== duplicates

def test_duplicates_within_and_across_splits(tmp_path):
    root = S.make_folders(tmp_path / "f", SEVEN, per_class=1)
    assert D.load_dataset(root, cache=False).duplicates()["groups"] == 0
    src = root / "train" / "happy" / "train_happy_0.png"
    shutil.copy(src, root / "test" / "happy" / "copy.png")
    shutil.copy(src, root / "train" / "sad" / "copy.png")
    dup = D.load_dataset(root, cache=False).duplicates()
    assert dup["groups"] == 1 and dup["images_in_groups"] == 3
    assert dup["across_splits"] == 1 and dup["split_pairs"] == {"test-train": 1}
    assert len(dup["examples"]) == 1 and len(dup["examples"][0]) == 3


def test_copies_in_flags_the_test_faces_seen_in_training_aligned_with_split(tmp_path):
    root = S.make_ferplus(tmp_path / "d")
    ds = D.load_dataset(root, cache=False)
    assert not ds.copies_in("test").any() and not ds.copies_in("valid").any()
    test_dir, train_dir = root / S.FERPLUS_DIRS["test"], root / S.FERPLUS_DIRS["train"]
    # a majority training face copied over the second test face of the majority view, and the tied
    # (no-majority) training face over a test face without a majority: only the first is in this view
    shutil.copy(train_dir / "fer0000001.png", test_dir / "fer0032223.png")
    shutil.copy(train_dir / "fer0000003.png", test_dir / "fer0032222.png")
    ds = D.load_dataset(root, cache=False)
    x, _, names = ds.split("test", return_names=True)
    assert names == ["fer0032220.png", "fer0032223.png", "fer0032224.png"]
    mask = ds.copies_in("test")
    assert mask.dtype == bool and mask.shape == (len(x),)
    assert mask.tolist() == [False, True, False]
    np.testing.assert_array_equal(x[mask][0], S.ferplus_pixels(root, "train", "fer0000001.png"))
    # other label views: the same question, in that view's order
    _, _, names = ds.split("test", labels="votes", return_names=True)
    assert [n for n, m in zip(names, ds.copies_in("test", labels="votes")) if m] == ["fer0032222.png", "fer0032223.png"]
    # any image of `other` counts, even one its own majority view leaves out (the tie)
    assert not ds.copies_in("test", other="valid").any()
    assert ds.copies_in("train", other="test", labels="votes").tolist() == [False, True, False, True, False, False]
    assert ds.copies_in("valid").tolist() == [False]
    with pytest.raises(FerError, match="split 'nope'"):
        ds.copies_in("test", other="nope")


def test_summary_text(tmp_path):
    ds = D.load_dataset(S.make_ferplus(tmp_path / "d"))
    text = D.summary_text(ds)
    assert "layout: ferplus" in text and "exact duplicates: 0 groups" in text
    for s in ds.splits:
        assert s in text
    for c in ds.classes:
        assert c in text


# =========================================================================== cache

def _assert_same(a: D.Dataset, b: D.Dataset) -> None:
    assert a.classes == b.classes and a.splits == b.splits
    for s in a.splits:
        np.testing.assert_array_equal(a.votes(s), b.votes(s))
        assert a.names(s) == b.names(s)
        for view in ("majority", "distribution"):
            for u, v in zip(a.split(s, labels=view), b.split(s, labels=view)):
                np.testing.assert_array_equal(u, v)
                assert u.dtype == v.dtype
    assert a.report.read == b.report.read and a.report.converted == b.report.converted
    assert a.report.skipped == b.report.skipped and a.report.unlabelled == b.report.unlabelled


@pytest.mark.parametrize("layout", ["ferplus", "folders", "csv"])
def test_second_load_comes_from_cache_and_equals_first(tmp_path, private_cache, layout):
    root = {"ferplus": lambda: S.make_ferplus(tmp_path / "d"),
            "folders": lambda: S.make_folders(tmp_path / "d", SEVEN, per_class=1),
            "csv": lambda: S.make_kaggle_csv(tmp_path / "d").parent}[layout]()
    first = D.load_dataset(root)
    assert not first.report.from_cache
    assert len(list(private_cache.glob("*.npz"))) == 1          # written to FER_CACHE_DIR only
    second = D.load_dataset(root)
    assert second.report.from_cache and second.report.layout == layout
    _assert_same(first, second)
    check_contract(second)


def test_touching_or_adding_a_file_rebuilds_the_cache(tmp_path):
    root = S.make_folders(tmp_path / "f", SEVEN, per_class=1)
    D.load_dataset(root)
    assert D.load_dataset(root).report.from_cache
    f = root / "train" / "happy" / "train_happy_0.png"
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert not D.load_dataset(root).report.from_cache
    assert D.load_dataset(root).report.from_cache
    S.write_png(root / "train" / "happy" / "new.png", S.face(4242))
    ds = D.load_dataset(root)
    assert not ds.report.from_cache and ds.report.read["train"] == 8
    (root / "train" / "happy" / "new.png").unlink()
    ds = D.load_dataset(root)          # back to a state cached before: that entry is valid again
    assert ds.report.read["train"] == 7 and len(ds.split("train")[0]) == 7


def test_label_change_rebuilds_the_cache(tmp_path):
    root = S.make_ferplus(tmp_path / "d")
    before = D.load_dataset(root)
    label = root / "FER2013Test" / "label.csv"
    label.write_text(label.read_text().replace(",0,10,0,0,0,0,0,0,0,0", ",0,0,10,0,0,0,0,0,0,0"))
    after = D.load_dataset(root)
    assert not after.report.from_cache
    c = after.classes.index
    assert int(by_name(before, "test")["fer0032224.png"][1]) == c("happiness")
    assert int(by_name(after, "test")["fer0032224.png"][1]) == c("surprise")


def test_csv_file_path_cache_sees_fer2013new_appear(tmp_path):
    path = S.make_kaggle_csv(tmp_path / "k")
    assert len(D.load_dataset(path).classes) == 7
    assert D.load_dataset(path).report.from_cache
    S.write_fer2013new(path.parent / "fer2013new.csv", S.DEFAULT_CSV_ROWS, [S.votes(happiness=10)] * 9)
    ds = D.load_dataset(path)
    assert not ds.report.from_cache and ds.classes == list(L.FERPLUS_CLASSES)


def test_skip_and_raise_are_cached_separately(tmp_path):
    root = S.make_folders(tmp_path / "f", SEVEN, per_class=1)
    D.load_dataset(root)
    ds = D.load_dataset(root, on_error="skip")
    assert not ds.report.from_cache


def test_cache_false_writes_nothing(tmp_path, private_cache):
    ds = D.load_dataset(S.make_ferplus(tmp_path / "d"), cache=False)
    assert not ds.report.from_cache and list(private_cache.iterdir()) == []


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_damaged_cache_file_is_rebuilt(tmp_path, private_cache, damage):
    root = S.make_ferplus(tmp_path / "d")
    first = D.load_dataset(root)
    (cache_file,) = private_cache.glob("*.npz")
    data = cache_file.read_bytes()
    cache_file.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"not a cache")
    again = D.load_dataset(root)
    assert not again.report.from_cache
    _assert_same(first, again)
    assert D.load_dataset(root).report.from_cache


def test_unwritable_cache_dir_only_costs_speed(tmp_path, monkeypatch):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    monkeypatch.setenv("FER_CACHE_DIR", str(blocker / "cache"))
    ds = D.load_dataset(S.make_ferplus(tmp_path / "d"))
    assert ds.report.read["test"] == 4


def test_cache_dir_follows_environment(tmp_path, monkeypatch, private_cache):
    assert D.cache_dir() == private_cache
    monkeypatch.delenv("FER_CACHE_DIR")
    assert D.cache_dir() == Path.home() / ".cache" / "fer_helpers"


# =========================================================================== the real FER+ set

REAL_TEST_MAJORITY = {"neutral": 1083, "happiness": 892, "surprise": 394, "sadness": 382,
                      "anger": 269, "disgust": 16, "fear": 86, "contempt": 15}


@pytest.fixture(scope="module")
def real_ds(shared_data, real_cache_dir):
    mp = pytest.MonkeyPatch()
    mp.setenv("FER_CACHE_DIR", str(real_cache_dir))
    try:
        D.load_dataset(shared_data)               # cold the first time, from .pytest_cache after
        ds = D.load_dataset(shared_data)
    finally:
        mp.undo()
    return ds


@pytest.mark.slow
def test_real_set_layout_and_sizes(real_ds):
    ds = real_ds
    assert ds.report.from_cache                   # the second load of the fixture hit the cache
    assert ds.report.layout == "ferplus" and ds.classes == list(L.FERPLUS_CLASSES)
    assert dict(ds.report.read) == {"train": 28558, "valid": 3579, "test": 3573}
    assert ds.report.skipped == []
    check_contract(ds)


@pytest.mark.slow
def test_real_set_majority_counts_match_the_paper(real_ds):
    ds = real_ds
    x, y = ds.split("test")
    assert len(x) == 3137
    got = {c: int((y == i).sum()) for i, c in enumerate(ds.classes)}
    assert got == REAL_TEST_MAJORITY
    assert len(ds.split("valid")[1]) == 3191


@pytest.mark.slow
def test_real_set_train_counts_sum(real_ds):
    ds = real_ds
    counts = ds.counts().set_index(["split", "class"])
    for s in ds.splits:
        assert counts.loc[s, "majority"].sum() == len(ds.votes(s))
        assert counts.loc[s, "plurality"].sum() == len(ds.votes(s))
        n_major = counts.loc[s, "majority"].drop("excluded by protocol").sum()
        assert n_major == len(ds.split(s)[1])
    train_major = counts.loc["train", "majority"]
    emotions = train_major[list(L.FERPLUS_CLASSES)]
    assert (emotions > 0).all()
    assert train_major[["unknown", "NF"]].sum() == 0
    assert emotions.sum() + train_major["excluded by protocol"] == 28558
    assert 20000 < emotions.sum() < 28558


# =========================================================================== `fer data summary`

PROJECT = Path(__file__).resolve().parent.parent


def run_cli(*args: str):
    """``python -m fer_helpers.cli ...`` in a fresh process (inherits this test's FER_CACHE_DIR)."""
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PROJECT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "fer_helpers.cli", *args], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=120)


def table_row(text: str, name: str) -> list[int]:
    """The numbers of a class row of the summary's per-class table."""
    for line in text.splitlines():
        parts = line.split()
        if parts and " ".join(parts[: len(name.split())]) == name and parts[-1].isdigit():
            return [int(v) for v in parts[len(name.split()):]]
    raise AssertionError(f"no row {name!r} in:\n{text}")


def test_cli_data_summary_counts_and_duplicates(tmp_path):
    root = S.make_folders(tmp_path / "f", SEVEN, per_class=2)
    shutil.copy(root / "train" / "happy" / "train_happy_0.png", root / "test" / "happy" / "dup.png")
    res = run_cli("data", "summary", str(root))
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "layout: folders" in out
    for split, n in (("train", 14), ("valid", 14), ("test", 15)):
        assert f"{split}:     {n} images read" in out
    # columns: plurality train valid test, majority train valid test
    assert table_row(out, "happiness") == [2, 2, 3, 2, 2, 3]
    assert table_row(out, "anger") == [2, 2, 2, 2, 2, 2]
    assert "exact duplicates: 1 groups" in out and "test-train" in out


def test_cli_data_summary_in_process_ferplus(tmp_path, capsys):
    from fer_helpers import cli

    assert cli.main(["data", "summary", str(S.make_ferplus(tmp_path / "d"))]) == 0
    out = capsys.readouterr().out
    assert "layout: ferplus" in out
    assert "test:      4 images read" in out and "3 under the majority protocol (1 excluded)" in out
    assert table_row(out, "contempt") == [1, 0, 1, 1, 0, 1]
    assert table_row(out, "excluded by protocol")[3:] == [2, 2, 1]
    assert "exact duplicates: 0 groups" in out


def test_cli_data_summary_skip_bad_lists_skipped(tmp_path, capsys):
    from fer_helpers import cli

    root = S.make_folders(tmp_path / "f", SEVEN, per_class=1)
    (root / "test" / "sad" / "broken.png").write_bytes(b"not a png")
    assert cli.main(["data", "summary", str(root)]) == 2
    err = capsys.readouterr().err
    assert "broken.png" in err and len(err.strip().splitlines()) == 1
    assert cli.main(["data", "summary", "--skip-bad", str(root)]) == 0
    out = capsys.readouterr().out
    assert "skipped: 1" in out and "broken.png" in out


@pytest.mark.parametrize("bad", ["missing", "empty_dir", "text_file", "corrupt_label"])
def test_cli_data_summary_bad_path_one_line_no_traceback(tmp_path, bad):
    if bad == "missing":
        path = tmp_path / "nowhere"
    elif bad == "empty_dir":
        path = tmp_path / "empty"
        path.mkdir()
    elif bad == "text_file":
        path = tmp_path / "notes.txt"
        path.write_text("hello")
    else:
        path = S.make_ferplus(tmp_path / "d")
        (path / "FER2013Valid" / "label.csv").write_text("a,b,c\n")
    res = run_cli("data", "summary", str(path))
    assert res.returncode != 0
    assert "Traceback" not in res.stderr and res.stdout == ""
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("fer: error:"), res.stderr
    assert str(path) in lines[0]


def test_fer_entry_point(tmp_path):
    fer = shutil.which("fer")
    if fer is None:
        pytest.skip("`fer` not on PATH (pip install -e . installs it); python -m fer_helpers.cli is tested above")
    import subprocess

    res = subprocess.run([fer, "data", "summary", str(S.make_ferplus(tmp_path / "d"))],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "layout: ferplus" in res.stdout


def test_display_path_keeps_a_linked_sibling_relative(tmp_path, monkeypatch):
    """../shared may be a symbolic link to another disk: reports still say ../shared/..., never
    the link's target (a machine's layout); a folder elsewhere stays absolute."""
    (tmp_path / "project").mkdir()
    (tmp_path / "disk" / "data").mkdir(parents=True)
    (tmp_path / "shared").symlink_to(tmp_path / "disk")
    monkeypatch.setattr(D, "PROJECT_ROOT", tmp_path / "project")
    assert D.display_path(tmp_path / "shared" / "data") == "../shared/data"
    assert D.display_path(tmp_path / "project" / "models") == "models"
    assert D.display_path("/usr/share") == "/usr/share"
