"""Inputs a user did not mean to be hostile but are (issue 13): annotating into the photos'
own folder, two runs at once, huge photos, broken or foreign CSV files, and fuzzed data sets.

The ``fer`` runs are real processes: overwriting, races and what reaches stderr are process
behaviour. The fuzz tests (Hypothesis) hold every data reader to one contract: a data set is
read, or one ``FerError`` line says why, whatever the bytes on disk.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import synthetic as S
from fer_helpers import data as D
from fer_helpers import faces
from fer_helpers.errors import FerError

PROJECT = Path(__file__).resolve().parent.parent


def run_fer(*args: str, cwd: Path = PROJECT) -> subprocess.CompletedProcess:
    """``python -m fer_helpers.cli ...`` in a fresh process."""
    return subprocess.run(fer_command(*args), cwd=cwd, env=fer_env(), capture_output=True, text=True, timeout=300)


def fer_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "fer_helpers.cli", *args]


def fer_env() -> dict:
    # TF_ENABLE_ONEDNN_OPTS=0: TensorFlow prints a two-line oneDNN notice on stderr at import,
    # which would hide whether *our* output is the promised single line.
    return dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0",
                PYTHONPATH=os.pathsep.join([str(PROJECT), os.environ.get("PYTHONPATH", "")]))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def photo(path: Path, seed: int, size=(64, 48)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path)
    return path


def blank_png(path: Path, width: int, height: int) -> Path:
    """A valid all-black 1-bit PNG of any size, compressed row by row: a few KB on disk and in memory
    however many pixels it declares."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    z = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)   # filter byte + packed bits
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


# =========================================================================== fer predict --annotate

def test_annotate_into_the_photos_folder_keeps_the_photo(tmp_path):
    """`fer predict C --annotate C` used to replace C/photo.png with its annotated copy."""
    folder = tmp_path / "C"
    original = photo(folder / "photo.png", seed=1)
    before = sha(original)
    res = run_fer("predict", str(folder), "--annotate", str(folder), "--no-detect", "--json")
    assert res.returncode == 0, res.stderr
    assert sha(original) == before                            # the user's photo is untouched
    doc = json.loads(res.stdout)
    assert [r["path"] for r in doc["images"]] == [str(original)]   # its own output is not re-read
    written = Path(doc["images"][0]["annotated"])
    assert written == folder / "photo-2.png" and written.is_file()
    assert Image.open(written).size == (64, 48)
    assert sorted(p.name for p in folder.iterdir()) == ["photo-2.png", "photo.png"]   # no temporaries left


def test_concurrent_annotate_runs_lose_nothing(tmp_path):
    """Two `fer predict --annotate DIR` at once on the same photos: every copy kept, none replaced."""
    folder = tmp_path / "shared"
    inputs = [photo(folder / f"p{i}.png", seed=i) for i in range(5)]
    inputs += [photo(folder / "sub" / "p0.png", seed=10), photo(folder / "p5.jpg", seed=11)]  # same stems
    before = {p: sha(p) for p in inputs}
    # inputs given as files, not the folder: what each run reads must not depend on the other's progress
    cmd = fer_command("predict", *map(str, inputs), "--annotate", str(folder), "--no-detect", "--json")
    procs = [subprocess.Popen(cmd, cwd=PROJECT, env=fer_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err
    annotated = [Path(r["annotated"]) for out, _ in outs for r in json.loads(out)["images"]]
    assert len(annotated) == 2 * len(inputs)
    assert len(set(annotated)) == len(annotated)               # every output its own file
    assert not set(annotated) & set(inputs)
    for p in annotated:
        assert p.parent == folder and Image.open(p).size == (64, 48)
    assert {p: sha(p) for p in inputs} == before
    on_disk = [p for p in folder.rglob("*") if p.is_file()]
    assert len(on_disk) == 2 * len(inputs) + len(inputs)      # none lost, no temporaries
    assert set(on_disk) == set(annotated) | set(inputs)


# =========================================================================== huge photos

def test_huge_photo_is_refused_in_one_line_without_warning(tmp_path):
    big = blank_png(tmp_path / "big.png", 12000, 12000)        # 144 Mpixels, 2.4 GB once decoded
    assert big.stat().st_size < 100_000
    res = run_fer("predict", str(big), "--no-detect")
    assert res.returncode != 0
    assert "Traceback" not in res.stderr and "DecompressionBombWarning" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert str(big) in lines[0] and "12000x12000" in lines[0] and "limit is 64 Mpixels" in lines[0]


def test_huge_image_is_refused_before_it_is_decoded(tmp_path, monkeypatch):
    from PIL import ImageFile

    big = blank_png(tmp_path / "big.png", 12000, 12000)
    loads = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(self) or real_load(self))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")                         # any warning fails the test
        for read in (D.read_image, faces.load_image):
            with pytest.raises(FerError, match=r"big.png: image too large: 12000x12000") as err:
                read(big)
            assert "\n" not in str(err.value)
    assert loads == []                                         # refused from the header alone
    # far above Pillow's own limit, Image.open itself refuses: the same kind of error
    bigger = blank_png(tmp_path / "bigger.png", 20000, 20000)
    with pytest.raises(FerError, match=r"bigger.png: image too large"):
        D.read_image(bigger)


def test_image_cap_boundary(tmp_path, monkeypatch):
    monkeypatch.setattr(D, "MAX_IMAGE_PIXELS", 48 * 48)
    ok = S.write_png(tmp_path / "ok.png", S.face(0))
    np.testing.assert_array_equal(D.read_image(ok)[0], S.face(0))
    over = S.write_png(tmp_path / "over.png", np.zeros((48, 49), np.uint8))
    with pytest.raises(FerError, match="too large"):
        D.read_image(over)
    root = S.make_folders(tmp_path / "f", ("happy", "sad"), per_class=1)
    S.write_png(root / "train" / "sad" / "wide.png", np.zeros((48, 49), np.uint8))
    ds = D.load_dataset(root, cache=False, on_error="skip")
    assert len(ds.report.skipped) == 1 and "wide.png: image too large" in ds.report.skipped[0]


# =========================================================================== broken CSV files

NUL = b"3,1 2\x00 3,Training"
LATIN1 = "3,caf\u00e9,Training".encode("latin-1")
FIELD_TOO_LONG = b"3," + b"1" * 200_000 + b",Training"         # over csv's 131,072-character limit
HUGE_PIXEL = b"3," + b" ".join([b"99999999999999999999999"] * 2304) + b",Training"   # beyond int64
BIG_PIXEL = b"3," + b" ".join([b"256"] * 2304) + b",Training"

KAGGLE_BAD_ROWS = {"nul": NUL, "latin1": LATIN1, "field_too_long": FIELD_TOO_LONG,
                   "huge_integer": HUGE_PIXEL, "pixel_over_255": BIG_PIXEL}


def append_line(path: Path, line: bytes) -> int:
    """Append one raw line; returns its line number."""
    with open(path, "ab") as fh:
        fh.write(line + b"\n")
    return len(path.read_bytes().splitlines())


def insert_line(path: Path, lineno: int, line: bytes) -> None:
    lines = path.read_bytes().splitlines()
    lines[lineno - 1] = line
    path.write_bytes(b"\n".join(lines) + b"\n")


def assert_one_line_naming(exc: FerError, where: str) -> None:
    assert "\n" not in str(exc) and where in str(exc), str(exc)


@pytest.mark.parametrize("case", list(KAGGLE_BAD_ROWS))
def test_kaggle_csv_bad_row_names_file_and_line_or_is_skipped(tmp_path, case):
    path = S.make_kaggle_csv(tmp_path / "k")
    lineno = append_line(path, KAGGLE_BAD_ROWS[case])
    with pytest.raises(FerError) as err:
        D.load_dataset(path.parent, cache=False)
    assert_one_line_naming(err.value, f"{path}:{lineno}: malformed row")
    ds = D.load_dataset(path.parent, cache=False, on_error="skip")
    assert len(ds.report.skipped) == 1 and ds.report.skipped[0].startswith(f"{path}:{lineno}:")
    assert dict(ds.report.read) == {"train": 4, "valid": 2, "test": 3}
    assert ds.names("train") == ["fer2013.csv:2", "fer2013.csv:3", "fer2013.csv:4", "fer2013.csv:5"]


def test_kaggle_csv_bad_row_in_the_middle_keeps_later_rows(tmp_path):
    """A latin-1 byte used to end the whole file; now only its row goes, and the rows after it stay."""
    path = S.make_kaggle_csv(tmp_path / "k")
    insert_line(path, 3, LATIN1)                                # the second Training row
    ds = D.load_dataset(path.parent, cache=False, on_error="skip")
    assert ds.report.skipped == [f"{path}:3: malformed row (not UTF-8 text (binary, or another encoding "
                                 "such as latin-1))"]
    assert dict(ds.report.read) == {"train": 3, "valid": 2, "test": 3}
    x, y, names = ds.split("train", return_names=True)
    assert names == ["fer2013.csv:2", "fer2013.csv:4", "fer2013.csv:5"]
    np.testing.assert_array_equal(x[1], S.face(2))              # pixels stay with their rows


def test_kaggle_csv_binary_file_is_one_line_error(tmp_path):
    path = tmp_path / "k" / "fer2013.csv"
    path.parent.mkdir()
    path.write_bytes(bytes(range(256)) * 64 + b"\x00" * 1000)
    res = run_fer("data", "summary", str(path.parent))
    assert res.returncode != 0 and res.stdout == ""
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fer: error:") and str(path) in lines[0], res.stderr
    with pytest.raises(FerError, match="expected header"):
        D.load_dataset(path.parent, cache=False, on_error="skip")


def test_kaggle_csv_with_utf8_byte_order_mark(tmp_path):
    path = S.make_kaggle_csv(tmp_path / "k")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())        # as spreadsheet programs save it
    assert dict(D.load_dataset(path.parent, cache=False).report.read) == {"train": 4, "valid": 2, "test": 3}


VOTE_BAD_ROWS = {
    "nul": b"Training,fer0000001.png,10,0,0,0,0,0,0,0,0\x00,0",
    "latin1": "Training,f\u00e9r.png,10,0,0,0,0,0,0,0,0,0".encode("latin-1"),
    "field_too_long": b"Training," + b"x" * 200_000 + b",10,0,0,0,0,0,0,0,0,0",
    "huge_vote": b"Training,fer0000001.png,1e39,0,0,0,0,0,0,0,0,0",   # beyond float32: infinite votes
    "not_a_number": b"Training,fer0000001.png,ten,0,0,0,0,0,0,0,0,0",
}


@pytest.mark.parametrize("case", list(VOTE_BAD_ROWS))
def test_fer2013new_bad_row_names_file_and_line_or_is_skipped(tmp_path, case):
    new_votes = [S.votes(happiness=10)] * len(S.DEFAULT_CSV_ROWS)
    path = S.make_kaggle_csv(tmp_path / "k", new_votes=new_votes)
    new = path.parent / "fer2013new.csv"
    insert_line(new, 3, VOTE_BAD_ROWS[case])                    # the votes of fer2013.csv line 3
    with pytest.raises(FerError) as err:
        D.load_dataset(path.parent, cache=False)
    assert_one_line_naming(err.value, f"{new}:3:")
    ds = D.load_dataset(path.parent, cache=False, on_error="skip")
    assert len(ds.report.skipped) == 1 and ds.report.skipped[0].startswith(f"{new}:3:")
    # the image whose votes are unreadable goes with them; the others keep their own votes
    assert ds.names("train") == ["fer2013.csv:2", "fer2013.csv:4", "fer2013.csv:5"]
    assert dict(ds.report.read) == {"train": 3, "valid": 2, "test": 3}
    assert (ds.split("train")[1] == ds.classes.index("happiness")).all()


LABEL_BAD_ROWS = {
    "nul": b'fer0032224.png,"(0, 0, 48, 48)",10,0,0,0,0,0,0,0,0\x00,0',
    "latin1": 'fer0032224.png,"(0, 0, 48, 48)",10,0,0,0,0,0,0,0,0,0\u00e9'.encode("latin-1"),
    "field_too_long": b"fer0032224.png," + b"x" * 200_000 + b",10,0,0,0,0,0,0,0,0,0",
    "fields": b'fer0032224.png,"(0, 0, 48, 48)",10,0,0,0,0,0,0,0,0',
    "not_a_number": b'fer0032224.png,"(0, 0, 48, 48)",ten,0,0,0,0,0,0,0,0,0',
    "negative": b'fer0032224.png,"(0, 0, 48, 48)",10,0,0,0,0,0,0,0,0,-1',
    "nan": b'fer0032224.png,"(0, 0, 48, 48)",nan,0,0,0,0,0,0,0,0,0',
}


@pytest.mark.parametrize("case", list(LABEL_BAD_ROWS))
def test_ferplus_label_csv_bad_row_names_file_and_line_or_is_skipped(tmp_path, case):
    """--skip-bad used to stop at a malformed label.csv row anyway (issue 13, bug 3)."""
    root = S.make_ferplus(tmp_path / "d")
    label = root / "FER2013Test" / "label.csv"
    insert_line(label, 4, LABEL_BAD_ROWS[case])                 # fer0032224.png's row
    with pytest.raises(FerError) as err:
        D.load_dataset(root, cache=False)
    assert_one_line_naming(err.value, f"{label}:4:")
    ds = D.load_dataset(root, cache=False, on_error="skip")
    assert len(ds.report.skipped) == 1 and ds.report.skipped[0].startswith(f"{label}:4:")
    assert dict(ds.report.read) == {"train": 6, "valid": 3, "test": 3}
    assert ds.report.unlabelled["test"] == 1                    # its image is now a file without a row
    assert "fer0032224.png" not in ds.names("test")
    test = dict(zip(ds.names("test"), ds.votes("test")))
    assert test["fer0032220.png"][ds.classes.index("contempt")] == 7   # the other rows keep their votes


def test_cli_skip_bad_label_csv_row(tmp_path, capsys):
    from fer_helpers import cli

    root = S.make_ferplus(tmp_path / "d")
    label = root / "FER2013Valid" / "label.csv"
    insert_line(label, 2, LATIN1)
    assert cli.main(["data", "summary", str(root)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and f"{label}:2: not UTF-8 text" in err
    assert cli.main(["data", "summary", "--skip-bad", str(root)]) == 0
    out = capsys.readouterr().out
    assert "skipped: 1" in out and f"{label}:2:" in out


def test_label_csv_with_only_bad_rows(tmp_path):
    root = S.make_ferplus(tmp_path / "d")
    (root / "FER2013Valid" / "label.csv").write_bytes(b"\xff\xfe\x00junk\n" * 3)
    with pytest.raises(FerError, match=r"FER2013Valid/label.csv: no label rows \(3 malformed, skipped\)"):
        D.load_dataset(root, cache=False, on_error="skip")


# =========================================================================== fuzzing the readers

def test_names_with_line_breaks_give_one_line_errors(tmp_path):
    """Found by the fuzz test below: a class folder named "\\n" made a two-line error."""
    root = S.make_folders(tmp_path / "f", ("happy", "sad"), per_class=1)
    (root / "test" / "odd\nname").mkdir()
    with pytest.raises(FerError, match=r"test/odd\\nname: unknown class folder") as err:
        D.load_dataset(root, cache=False)
    assert "\n" not in str(err.value)
    (root / "test" / "odd\nname").rmdir()
    (root / "train" / "sad" / "bad\n.png").write_bytes(b"not a png")
    ds = D.load_dataset(root, cache=False, on_error="skip")
    assert len(ds.report.skipped) == 1 and "bad\\n.png: cannot read image" in ds.report.skipped[0]
    with pytest.raises(FerError, match=r"bad\\n.png: cannot read image: not an image"):
        faces.load_image(root / "train" / "sad" / "bad\n.png")
    ferplus = S.make_ferplus(tmp_path / "d")
    with open(ferplus / "FER2013Test" / "label.csv", "a") as fh:   # a quoted name holding a line break
        fh.write('"new\nface.png","(0, 0, 48, 48)",10,0,0,0,0,0,0,0,0,0\n')
    with pytest.raises(FerError, match=r"new\\nface.png: listed in label.csv but missing") as err:
        D.load_dataset(ferplus, cache=False)
    assert "\n" not in str(err.value)



FUZZ = settings(max_examples=60, deadline=None, derandomize=False,
                # each example makes its own temporary folder; the autouse cache fixture is unused (cache=False)
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


def load_or_fail_cleanly(path: Path) -> None:
    """The contract: under both on_error values a data set loads (and `fer data summary` can print it)
    or one ``FerError`` line says why; nothing else. A set that loads without skipping loads the
    same when skipping is allowed."""
    loaded = {}
    for on_error in ("raise", "skip"):
        try:
            ds = D.load_dataset(path, cache=False, on_error=on_error)
        except FerError as exc:
            assert "\n" not in str(exc), str(exc)
            continue
        D.summary_text(ds)
        for s in ds.splits:
            x, votes = ds.split(s, labels="votes")
            assert x.dtype == np.uint8 and x.shape[1:] == (48, 48)
            assert len(x) == len(votes) == len(ds.names(s)) == ds.report.read[s]
            assert np.isfinite(votes).all() and (votes >= 0).all()
        loaded[on_error] = ds
    if "raise" in loaded:
        strict, lenient = loaded["raise"], loaded.get("skip")
        assert lenient is not None and lenient.report.skipped == []
        for s in strict.splits:
            np.testing.assert_array_equal(strict.split(s, labels="votes")[0], lenient.split(s, labels="votes")[0])


names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
                min_size=1, max_size=12).filter(lambda s: s not in (".", "..") and len(s.encode()) < 100)


@st.composite
def image_bytes(draw) -> bytes:
    """Random bytes, a small valid image of some mode and format, or one with bytes changed or cut."""
    kind = draw(st.sampled_from(["random", "valid", "damaged", "damaged"]))
    if kind == "random":
        return draw(st.binary(max_size=300))
    w, h = draw(st.integers(1, 60)), draw(st.integers(1, 60))
    img = Image.fromarray(np.random.default_rng(w * 100 + h).integers(0, 256, (h, w), dtype=np.uint8))
    img = img.convert(draw(st.sampled_from(["L", "RGB", "RGBA", "P", "1", "I", "F", "LA"])))
    buf = io.BytesIO()
    try:
        img.save(buf, format=draw(st.sampled_from(["PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"])))
    except (OSError, ValueError, KeyError):  # a mode the format cannot hold
        buf = io.BytesIO()
        img.convert("L").save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    if kind == "damaged":
        for pos, byte in draw(st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)),
                                       min_size=1, max_size=4)):
            data[pos] = byte
        if draw(st.booleans()):
            data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


def csv_bytes(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8")


@st.composite
def corrupted(draw, content: bytes) -> bytes:
    """``content`` as is, or with random bytes put in or cut at random places."""
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        pos = draw(st.integers(0, len(content)))
        if draw(st.booleans()):
            content = content[:pos] + draw(st.binary(min_size=1, max_size=20)) + content[pos:]
        else:
            content = content[:pos] + content[pos + draw(st.integers(1, 50)):]
    return content


@st.composite
def edited(draw, rows: list[list[str]], fields) -> list[list[str]]:
    """``rows`` with none (often), one or a few fields replaced, added or removed."""
    rows = [list(r) for r in rows]
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3])) if rows else 0):
        row = rows[draw(st.integers(0, len(rows) - 1))]
        how = draw(st.sampled_from(["replace", "replace", "add", "drop"]))
        if how == "replace":
            row[draw(st.integers(0, len(row) - 1))] = draw(fields)
        elif how == "add":
            row.insert(draw(st.integers(0, len(row))), draw(fields))
        elif row:
            del row[draw(st.integers(0, len(row) - 1))]
    return rows


vote_field = st.one_of(st.integers(-3, 12).map(str), st.sampled_from(["nan", "inf", "-0", "1e39", "", " 2 ", "1_0"]),
                       st.floats().map(repr), st.text(max_size=4))


@st.composite
def ferplus_set(draw, root: Path) -> Path:
    """The synthetic FER+ set with one split's label.csv replaced by random bytes or its rows edited,
    and some of its images replaced by random or damaged ones."""
    S.make_ferplus(root)
    split_dir = root / draw(st.sampled_from(list(S.FERPLUS_DIRS.values())))
    label = split_dir / "label.csv"
    if draw(st.integers(0, 4)) == 0:
        label.write_bytes(draw(st.binary(max_size=400)))
    else:
        rows = list(csv.reader(io.StringIO(label.read_text())))
        rows = draw(edited(rows, st.one_of(vote_field, names)))
        label.write_bytes(draw(corrupted(csv_bytes(rows))))
    pngs = sorted(p.name for p in split_dir.glob("*.png"))
    for name in draw(st.lists(st.sampled_from(pngs), max_size=2)):
        (split_dir / name).write_bytes(draw(image_bytes()))
    if draw(st.booleans()):
        (split_dir / draw(names)).write_bytes(draw(image_bytes()))   # a file without a label row
    return root


@FUZZ
@given(st.data())
def test_fuzz_ferplus_layout(data):
    with tempfile.TemporaryDirectory() as tmp:
        load_or_fail_cleanly(data.draw(ferplus_set(Path(tmp) / "ferplus")))


VALID_CLASSES = st.sampled_from(["happy", "sad", "Angry", "contempt", "neutral", "surprised", "fear", "disgust"])
class_names = st.one_of(VALID_CLASSES, VALID_CLASSES, VALID_CLASSES, st.just(".ipynb_checkpoints"), names)
file_names = st.tuples(names, st.sampled_from(sorted(D.IMAGE_EXTENSIONS) + [".PNG", ".txt", ""])).map("".join)
class_folders = st.dictionaries(class_names, st.dictionaries(file_names, image_bytes(), max_size=3), max_size=3)


@FUZZ
@given(train=class_folders, test=class_folders, extra=st.dictionaries(
    st.one_of(st.sampled_from(["valid", "val", "Training", "PrivateTest", "TEST"]), names), class_folders, max_size=2))
def test_fuzz_class_folder_layout(train, test, extra):
    """train/ and test/ (the layout needs both) of random class folders and files, and other folders
    that may be split folders, duplicates of one, or neither."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "folders"
        for split, classes in {"train": train, "test": test, **extra}.items():
            (root / split).mkdir(parents=True, exist_ok=True)
            for cls, files in classes.items():
                (root / split / cls).mkdir(exist_ok=True)
                for name, content in files.items():
                    (root / split / cls / name).write_bytes(content)
        load_or_fail_cleanly(root)


pixel_value = st.one_of(st.integers().map(str), st.integers(-300, 300).map(str), st.text(max_size=6))


@st.composite
def pixel_field(draw) -> str:
    """2304 valid values with a few edited, added or removed: random pixel strings that still get
    past the length check often enough to test the values."""
    values = [str(v) for v in np.random.default_rng(draw(st.integers(0, 2**16))).integers(0, 256, 2304)]
    for pos, new in draw(st.lists(st.tuples(st.integers(0, 2303), pixel_value), max_size=3)):
        values[pos] = new
    n = len(values) + draw(st.sampled_from([0, 0, 0, -1, 1]))
    return " ".join((values * 2)[:n])


kaggle_field = st.one_of(st.integers(-1, 8).map(str), st.sampled_from(["Training", "PublicTest", "PrivateTest"]),
                         st.text(max_size=8), pixel_field())


@st.composite
def kaggle_set(draw, root: Path) -> Path:
    """fer2013.csv as random bytes, or rows (a Training and a PrivateTest one among them) with random
    fields and pixel strings; maybe a fer2013new.csv beside it, random or with edited vote rows."""
    root.mkdir()
    main = root / "fer2013.csv"
    n_rows = 0
    if draw(st.integers(0, 4)) == 0:
        head = draw(st.sampled_from([b"", b"emotion,pixels,Usage\n"]))
        main.write_bytes(head + draw(st.binary(max_size=400)))
    else:
        usages = ["Training", "PrivateTest"] + draw(st.lists(st.sampled_from(["Training", "PublicTest", "PrivateTest"]),
                                                             max_size=3))
        rows = [[str(draw(st.integers(0, 6))), pixel_field_valid(draw), u] for u in usages]
        rows = draw(edited(draw(st.permutations(rows)), kaggle_field))
        n_rows = len(rows)
        main.write_bytes(draw(corrupted(csv_bytes([["emotion", "pixels", "Usage"], *rows]))))
    new = draw(st.sampled_from(["none", "none", "random bytes", "rows", "rows", "rows"]))
    if new == "random bytes":
        (root / "fer2013new.csv").write_bytes(draw(st.binary(max_size=300)))
    elif new == "rows":
        n = n_rows + draw(st.sampled_from([0, 0, 0, -1, 1]))
        votes = [str(v) for v in S.votes(happiness=8, NF=2)]
        rows = draw(edited([["Training", f"fer{i:07d}.png", *votes] for i in range(max(n, 0))], vote_field))
        header = ["Usage", "Image name", *S.MS_ORDER]
        (root / "fer2013new.csv").write_bytes(draw(corrupted(csv_bytes([header, *rows]))))
    return root


def pixel_field_valid(draw) -> str:
    return S.pixels_str(S.face(draw(st.integers(0, 2**16))))


@FUZZ
@given(st.data())
def test_fuzz_kaggle_csv_layout(data):
    with tempfile.TemporaryDirectory() as tmp:
        load_or_fail_cleanly(data.draw(kaggle_set(Path(tmp) / "kaggle")))
