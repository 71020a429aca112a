"""Read FER2013 / FER+ in whichever layout a user has, once, into uint8 arrays and vote counts.

Three layouts are detected automatically:

* **FER+** (Microsoft's tooling): ``FER2013Train|Valid|Test/`` with ``label.csv`` vote counts;
* **class folders** (Kaggle downloads, the seed project): ``{train,valid|validation|val,test}/<class>/*.png``;
* **Kaggle CSV**: ``fer2013.csv`` (7 classes) and, with ``fer2013new.csv`` beside it, the 8 FER+ classes.

Every layout becomes per-split images ``(N, 48, 48) uint8`` and votes over
``classes + [unknown, NF]``, so one label protocol (``fer_helpers.labels``) serves them all.
Decoded arrays are cached (``.npz``) under ``$FER_CACHE_DIR`` (default ``~/.cache/fer_helpers``),
keyed by the source files' names, sizes and modification times.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import math
import os
import re
import stat
import sys
import threading
import warnings
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from tqdm import tqdm  # plain bars: tqdm.auto's widget bars need ipywidgets, and warn without it

from . import labels as L
from .errors import FerError, one_line

SPLITS: tuple[str, ...] = ("train", "valid", "test")
IMAGE_SIZE = 48
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
_SPLIT_ALIASES = {
    "train": "train", "training": "train",
    "valid": "valid", "validation": "valid", "val": "valid", "publictest": "valid",
    "test": "test", "privatetest": "test",
}
_FERPLUS_DIRS = {"train": "FER2013Train", "valid": "FER2013Valid", "test": "FER2013Test"}
_CACHE_VERSION = 1
#: Images with more pixels than this are refused before they are decoded: a 12000x12000 photo
#: takes 2.4 GB once decoded, and a tiny file can declare any size (a decompression bomb).
MAX_IMAGE_PIXELS = 64_000_000


#: The checkout this package lives in: default data, models and notebooks are found from here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: What ``pyproject.toml`` names this project (how ``find_project`` recognises a checkout of it).
PROJECT_NAME = "fer-helpers"


def _is_project(folder: Path) -> bool:
    """A checkout of this project: ``notebooks/`` beside ``fer_helpers/`` or a ``pyproject.toml``
    naming the project (another clone, another version of it)."""
    if not (folder / "notebooks").is_dir():
        return False
    if (folder / "fer_helpers").is_dir():
        return True
    try:
        text = (folder / "pyproject.toml").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return re.search(rf"""^name\s*=\s*["']{re.escape(PROJECT_NAME)}["']""", text, flags=re.M) is not None


def find_project(start: str | os.PathLike | None = None) -> Path | None:
    """The checkout of this project that holds ``start`` (default: the working directory), the
    nearest enclosing one; None outside any.

    A notebook's kernel starts in the notebook's folder in JupyterLab (``<project>/notebooks``),
    so this is the project the notebook was opened from, which need not be ``PROJECT_ROOT``:
    with two clones on one machine, the package installed (``pip install -e``) is one clone's.
    """
    try:
        here = Path(start if start is not None else os.getcwd()).expanduser().resolve()
    except OSError:  # the working directory was deleted
        return None
    for folder in (here, *here.parents):
        if _is_project(folder):
            return folder
    return None


def working_project(start: str | os.PathLike | None = None) -> Path:
    """The checkout holding ``start`` (default: the working directory, a notebook's folder in
    JupyterLab), else ``PROJECT_ROOT``: the project whose reports/, models/ and notebooks/params/
    a notebook opened there means (``params.run_paths`` takes its defaults from here)."""
    return find_project(start) or PROJECT_ROOT


def other_project_notice(start: str | os.PathLike | None = None) -> str | None:
    """One line when ``start`` (default: the working directory) lies in another checkout of the
    project than the one this package comes from (``PROJECT_ROOT``): its files are that
    checkout's, its code the other's; None when they are the same, or ``start`` is in none."""
    project = find_project(start)
    if project is None or project == PROJECT_ROOT:
        return None
    return (f"fer_helpers: this notebook reads and writes the project {project} (its reports/, models/ "
            f"and notebooks/params/), but runs the fer_helpers code of {PROJECT_ROOT}, the one installed; "
            f"to run {project.name}'s own code, run `pip install -e {project}` "
            f"(or start Jupyter with PYTHONPATH={project})")


def _announce_other_project() -> None:
    """In a notebook kernel (ipykernel loaded), print ``other_project_notice`` for the kernel's
    working directory once, as this module is imported: the notebook's first cells import the
    package, so the line shows under them, in JupyterLab and in a notebook papermill runs."""
    if "ipykernel" not in sys.modules:
        return
    with contextlib.suppress(Exception):  # a notice must never keep a notebook from running
        notice = other_project_notice()
        if notice:
            print(notice, flush=True)


def display_path(path: str | os.PathLike) -> str:
    """``path`` as a reader should see it: relative to the project when it lies in or beside it
    (``models/default``, ``../shared/data/ferplus``), else absolute.

    Reports, printed summaries and committed records then show no one machine's folder layout.
    """
    given = Path(os.path.normpath(Path(path).expanduser().absolute()))
    resolved = Path(path).expanduser().resolve()
    beside = PROJECT_ROOT.parent
    # as given first: a ../shared that is a symbolic link to elsewhere still reads ../shared
    for p in (given, resolved):
        if beside != Path(beside.anchor) and p.is_relative_to(beside):
            return os.path.relpath(p, PROJECT_ROOT)
    return str(resolved)


def shell_path(path: str | os.PathLike) -> str:
    """``path`` as a user types it back into a command where they are (``results: fer runs ...``):
    relative to the working directory when it lies in or beside it (``runs/k1``, ``../sw/k1``),
    else absolute. ``display_path`` is for records and reports, which must not depend on it."""
    given = Path(os.path.normpath(Path(path).expanduser().absolute()))
    try:
        here = Path(os.getcwd())
    except OSError:  # the working directory was deleted
        return str(given)
    beside = here.parent
    if beside != Path(beside.anchor) and given.is_relative_to(beside):
        return os.path.relpath(given, here)
    return str(given)


def default_data_paths() -> list[Path]:
    """Where the data is looked for when no path is given, in order."""
    return [Path("data/ferplus"), PROJECT_ROOT / "data" / "ferplus",
            PROJECT_ROOT.parent / "shared" / "data" / "ferplus"]


def seeded_subset(x, y, n: int | None, seed: int):
    """``n`` images (and their labels) drawn without replacement, in their original order; all if ``n`` is None."""
    if n is None or n >= len(x):
        return x, y
    idx = np.sort(np.random.default_rng(seed).choice(len(x), int(n), replace=False))
    return x[idx], y[idx]


def resolve_data_path(path: str | os.PathLike | None = None) -> Path:
    """The data folder to use: ``path`` if given, else the first default that exists."""
    if path is not None:
        p = Path(path).expanduser()
        if not p.exists():
            raise FerError(f"data path not found: {p}")
        return p
    for candidate in default_data_paths():
        if candidate.exists():
            return candidate
    tried = ", ".join(str(c) for c in dict.fromkeys(default_data_paths()))
    raise FerError(f"no data set given and none found at the defaults ({tried}); see README 'Getting the data'")


@dataclass
class LoadReport:
    """What happened while reading: nothing is dropped without being counted here."""

    layout: str = ""
    read: Counter = field(default_factory=Counter)       # images decoded per split
    converted: Counter = field(default_factory=Counter)  # not 48x48 8-bit grayscale on disk
    skipped: list[str] = field(default_factory=list)     # "path: reason" (only with on_error="skip")
    unlabelled: Counter = field(default_factory=Counter) # image files with no label row, ignored
    from_cache: bool = False

    def to_dict(self) -> dict:
        return {"layout": self.layout, "read": dict(self.read), "converted": dict(self.converted),
                "skipped": list(self.skipped), "unlabelled": dict(self.unlabelled), "from_cache": self.from_cache}


class Dataset:
    """Images and vote counts per split, with the FER+ protocol applied on request."""

    def __init__(self, root: Path, classes: tuple[str, ...], images: dict, votes: dict,
                 names: dict, report: LoadReport):
        self.root, self.classes, self.report = Path(root), list(classes), report
        self._images, self._votes, self._names = images, votes, names

    def __repr__(self) -> str:
        sizes = ", ".join(f"{s}={len(self._images[s])}" for s in self.splits)
        return f"Dataset({display_path(self.root)}, layout={self.report.layout}, {len(self.classes)} classes, {sizes})"

    @property
    def splits(self) -> list[str]:
        return [s for s in SPLITS if s in self._images]

    def _check_split(self, split: str) -> str:
        name = _SPLIT_ALIASES.get(split.lower())
        if name not in self._images:
            raise FerError(f"split {split!r} not in {self.root} (has: {', '.join(self.splits)})")
        return name

    def votes(self, split: str) -> np.ndarray:
        """Raw vote counts ``(N, n_classes + 2)`` over ``classes + [unknown, NF]``."""
        return self._votes[self._check_split(split)]

    def names(self, split: str) -> list[str]:
        """File names (or CSV row ids) of the images of a split, in array order."""
        return self._names[self._check_split(split)]

    def split(self, split: str, labels: str = "majority", return_names: bool = False):
        """``(x, y)`` for a split under a label view.

        ``labels="majority"``: ``y`` int64 class indices, images without a majority excluded.
        ``labels="distribution"``: ``y`` float32 ``(N, n_classes)`` rows summing to 1
        (FER+ "probability" scheme, see ``labels.vote_distribution``).
        ``labels="votes"``: every image, ``y`` the raw vote counts.
        """
        name = self._check_split(split)
        x, votes, names = self._images[name], self._votes[name], self._names[name]
        if labels == "majority":
            y = L.majority_labels(votes)
            keep = y >= 0
            y = y[keep]
        elif labels == "distribution":
            y, keep = L.vote_distribution(votes)
            y = y[keep]
        elif labels == "votes":
            keep, y = np.ones(len(x), bool), votes
        else:
            raise FerError(f"labels must be 'majority', 'distribution' or 'votes', got {labels!r}")
        out = (x[keep], y)
        return out + ([n for n, k in zip(names, keep) if k],) if return_names else out

    def counts(self) -> "pd.DataFrame":
        """Images per split and class: raw (all files) and under the majority protocol."""
        import pandas as pd

        rows = []
        for s in self.splits:
            votes = self._votes[s]
            cleaned = L.clean_votes(votes)
            # an image with no votes left after cleaning has no plurality class (not class 0)
            top = np.where(cleaned.sum(axis=1) > 0, cleaned.argmax(axis=1), -1)
            maj = L.majority_labels(votes)
            for i, c in enumerate(self.classes + list(L.EXTRA_COLUMNS)):
                rows.append({"split": s, "class": c, "plurality": int((top == i).sum()),
                             "majority": int((maj == i).sum()) if i < len(self.classes) else 0})
            rows.append({"split": s, "class": "excluded by protocol", "plurality": int((top < 0).sum()),
                         "majority": int((maj < 0).sum())})
        return pd.DataFrame(rows)

    def copies_in(self, split: str, other: str = "train", labels: str = "majority") -> np.ndarray:
        """For each image of ``split`` as ``split(split, labels)`` returns them, whether ``other``
        holds an image with exactly the same pixels: a test face the model may have seen in
        training. Scores on the faces without one (``~mask``) say how much such copies helped."""
        seen = {hashlib.blake2b(img.tobytes(), digest_size=16).digest() for img in self._images[self._check_split(other)]}
        x = self.split(split, labels=labels)[0]
        return np.array([hashlib.blake2b(img.tobytes(), digest_size=16).digest() in seen for img in x], dtype=bool)

    def duplicates(self) -> dict:
        """Exact duplicate images (same pixels) within and across splits, by content hash."""
        where: dict[bytes, list[tuple[str, str]]] = {}
        for s in self.splits:
            for img, n in zip(self._images[s], self._names[s]):
                where.setdefault(hashlib.blake2b(img.tobytes(), digest_size=16).digest(), []).append((s, n))
        groups = [v for v in where.values() if len(v) > 1]
        across = [g for g in groups if len({s for s, _ in g}) > 1]
        pairs = Counter()
        for g in across:
            for a in sorted({s for s, _ in g}):
                for b in sorted({s for s, _ in g}):
                    if a < b:
                        pairs[f"{a}-{b}"] += 1
        return {"groups": len(groups), "images_in_groups": sum(len(g) for g in groups),
                "across_splits": len(across), "split_pairs": dict(pairs),
                "examples": [g for g in across[:10]]}


# --------------------------------------------------------------------------------------------
# Reading one image

def to_8bit(img: Image.Image) -> Image.Image:
    """Upright (EXIF), 8-bit, opaque: 16-bit scaled down, transparency put on white.

    Shared by the data layer and by ``faces.load_image`` so both read odd files the same way.
    """
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr * 255.0 / top, 0, 255).astype(np.uint8))
    elif img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return img


def to_face_array(img: Image.Image) -> tuple[np.ndarray, bool]:
    """Any PIL image -> ``(48, 48) uint8`` grayscale, and whether it had to be converted."""
    converted = img.mode != "L" or img.size != (IMAGE_SIZE, IMAGE_SIZE)
    img = to_8bit(img)
    if img.mode != "L":
        img = img.convert("L")
    if img.size != (IMAGE_SIZE, IMAGE_SIZE):
        img = img.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS)
    return np.asarray(img, dtype=np.uint8), converted


# Image.open is only made under this lock: warnings.catch_warnings swaps the process-wide filter
# list, and _decode_many opens images from several threads at once (decoding stays parallel).
_OPEN_LOCK = threading.Lock()


@contextlib.contextmanager
def open_image(path: str | os.PathLike):
    """The decoded image in ``path``; one ``FerError`` line naming the file when it cannot be one.

    The size is read from the header (``Image.open`` decodes nothing) and checked against
    ``MAX_IMAGE_PIXELS`` before ``load()``, so a huge photo is refused without the memory it
    would take. Pillow's DecompressionBombWarning is silenced: our lower cap replaces it with a
    clear error. Pillow errors raised inside the ``with`` block (converting a damaged file) become
    the same ``FerError``. Shared by ``read_image`` and ``faces.load_image``: data sets and photos
    are read alike.
    """
    p = Path(path)

    def error(why: str) -> FerError:
        return FerError(f"{p}: {why}")

    try:
        st = p.stat()
    except FileNotFoundError:
        raise error("no such file or directory") from None
    except OSError as exc:
        raise error(f"cannot read image ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        raise error("not a file")
    if st.st_size == 0:
        raise error("cannot read image: empty file")
    try:
        with _OPEN_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(p)
        with img:
            w, h = img.size
            if w * h > MAX_IMAGE_PIXELS:
                raise error(f"image too large: {w}x{h} is {w * h / 1e6:.0f} Mpixels, "
                            f"the limit is {MAX_IMAGE_PIXELS / 1e6:.0f} Mpixels")
            img.load()
            yield img
    except UnidentifiedImageError:
        raise error("cannot read image: not an image (or a format Pillow cannot read)") from None
    except Image.DecompressionBombError as exc:  # open() itself refuses sizes far above our cap
        raise error(f"image too large: {exc}") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise error(f"cannot read image: corrupt or truncated ({exc.__class__.__name__}: {exc})") from None


def read_image(path: Path) -> tuple[np.ndarray, bool]:
    """Decode one file; a corrupt, non-image or too large file raises ``FerError`` naming it."""
    with open_image(path) as img:
        return to_face_array(img)


def _decode_many(paths: list[Path], desc: str, on_error: str, report: LoadReport, split: str):
    """Decode files in threads (PIL releases the GIL); returns arrays and which ones succeeded."""
    def one(p):
        try:
            return read_image(p)
        except FerError as exc:
            if on_error == "skip":
                return exc
            raise

    out, ok = np.zeros((len(paths), IMAGE_SIZE, IMAGE_SIZE), np.uint8), np.ones(len(paths), bool)
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) * 2)) as pool:
        # disable=None: a bar on a terminal only; none in pipes, logs, captured or notebook output
        # (the CLI promises a single stderr line on errors)
        for i, res in enumerate(tqdm(pool.map(one, paths), total=len(paths), desc=desc, unit="img",
                                     leave=False, mininterval=1.0, disable=None)):
            if isinstance(res, FerError):
                ok[i] = False
                report.skipped.append(str(res))
                continue
            out[i], conv = res
            report.converted[split] += int(conv)
    report.read[split] += int(ok.sum())
    return out[ok], ok


def _check_on_error(on_error: str) -> None:
    if on_error not in ("raise", "skip"):
        raise FerError(f"on_error must be 'raise' or 'skip', got {on_error!r}")


# --------------------------------------------------------------------------------------------
# Layout detection and readers

def detect_layout(root: Path) -> str:
    """``"ferplus"``, ``"folders"`` or ``"csv"``; a clear error when it is none of them."""
    root = Path(root)
    if root.is_file():
        if root.suffix.lower() == ".csv":
            return "csv"
        raise FerError(f"{root}: not a FER data set (a file, but not a .csv; expected a folder "
                       "with FER2013Train/ ..., train/<class>/ ..., or fer2013.csv)")
    if any((root / d).is_dir() for d in _FERPLUS_DIRS.values()):
        return "ferplus"
    if (root / "fer2013.csv").is_file() or (root / "fer2013" / "fer2013.csv").is_file():
        return "csv"
    if any(p.is_dir() and p.name.lower() in _SPLIT_ALIASES for p in root.iterdir()):
        return "folders"
    raise FerError(f"{root}: not a FER data set (expected FER2013Train/ ..., train/<class>/ ..., "
                   "or fer2013.csv)")


def _shown(value, limit: int = 80) -> str:
    """``repr`` of file content for an error line, cut short: one field may be 100,000 characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _csv_rows(path: Path):
    """Yield ``(line number, fields)`` for each non-blank row of a CSV file, or ``(line number,
    problem)`` (a str) for a row that cannot be read, so that callers raise or skip it like any
    other malformed row, and the rows after it are still read.

    Unreadable rows: bytes that are not UTF-8 (a latin-1 export), NUL bytes (refused by the csv
    module before Python 3.11), a field over the csv module's field size limit. The text is
    decoded with ``surrogateescape`` so a bad byte spoils its row, not the whole file.
    """
    try:
        fh = open(path, newline="", encoding="utf-8-sig", errors="surrogateescape")
    except OSError as exc:
        raise FerError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with fh:
        reader = csv.reader(fh)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # the reader starts afresh on the next line
                yield reader.line_num, f"not a readable CSV row ({exc})"
                continue
            if not row or not "".join(row).strip():
                continue  # blank line (e.g. a trailing one), not a row
            if not all(f.isascii() for f in row):
                try:
                    "".join(row).encode("utf-8")
                except UnicodeEncodeError:  # an undecodable byte, kept as a lone surrogate
                    yield reader.line_num, "not UTF-8 text (binary, or another encoding such as latin-1)"
                    continue
            yield reader.line_num, row


def _bad_row(message: str, on_error: str, report: LoadReport) -> None:
    """A malformed row: a ``FerError``, or with ``on_error="skip"`` listed in ``report.skipped``."""
    if on_error == "raise":
        raise FerError(message) from None
    report.skipped.append(message)


#: Votes are kept as float32: a count beyond its range would become infinite there.
_MAX_VOTES = float(np.finfo(np.float32).max)


def _vote_counts(fields: list[str]) -> list[float]:
    """Ten vote counts (label.csv, fer2013new.csv); ``ValueError`` saying what is wrong."""
    try:
        counts = [float(v) for v in fields]
    except ValueError:
        raise ValueError(f"vote counts must be numbers, got {_shown(fields)}") from None
    if not all(math.isfinite(c) and 0 <= c <= _MAX_VOTES for c in counts):
        raise ValueError(f"vote counts must be finite and non-negative, got {_shown(fields)}")
    return counts


def _read_ferplus_labels(label_csv: Path, on_error: str, report: LoadReport) -> tuple[list[str], np.ndarray]:
    if not label_csv.is_file():
        raise FerError(f"{label_csv}: label file missing")
    names, votes, n_bad = [], [], 0
    for lineno, row in _csv_rows(label_csv):
        try:
            if isinstance(row, str):
                raise ValueError(row)
            if len(row) != 12:
                raise ValueError(f"expected 12 fields (name, box, 10 vote counts), got {len(row)}")
            counts = _vote_counts(row[2:])
        except ValueError as exc:
            _bad_row(f"{label_csv}:{lineno}: {exc}", on_error, report)
            n_bad += 1
            continue
        names.append(row[0].strip())
        votes.append(counts)
    if not names:
        raise FerError(f"{label_csv}: no label rows" + (f" ({n_bad} malformed, skipped)" if n_bad else ""))
    return names, L.ferplus_votes_to_project_order(np.array(votes))


def _read_ferplus(root: Path, on_error: str, report: LoadReport):
    images, votes, names = {}, {}, {}
    for split, dirname in _FERPLUS_DIRS.items():
        d = root / dirname
        if not d.is_dir():
            raise FerError(f"{d}: split folder missing (FER+ layout needs {', '.join(_FERPLUS_DIRS.values())})")
        row_names, row_votes = _read_ferplus_labels(d / "label.csv", on_error, report)
        present = {p.name for p in d.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS}
        missing = [n for n in row_names if n not in present]
        if missing and on_error == "raise":
            raise FerError(f"{d / missing[0]}: listed in label.csv but missing ({len(missing)} missing)")
        report.skipped += [f"{d / n}: listed in label.csv but missing" for n in missing]
        report.unlabelled[split] = len(present - set(row_names))
        keep_rows = [i for i, n in enumerate(row_names) if n in present]
        row_names = [row_names[i] for i in keep_rows]
        arr, ok = _decode_many([d / n for n in row_names], f"reading {dirname}", on_error, report, split)
        images[split], votes[split] = arr, row_votes[keep_rows][ok]
        names[split] = [n for n, k in zip(row_names, ok) if k]
    return L.FERPLUS_CLASSES, images, votes, names


def _read_folders(root: Path, on_error: str, report: LoadReport):
    split_dirs = {}
    for p in sorted(root.iterdir()):
        if p.is_dir() and p.name.lower() in _SPLIT_ALIASES:
            split = _SPLIT_ALIASES[p.name.lower()]
            if split in split_dirs:
                raise FerError(f"{root}: two folders for the {split} split ({split_dirs[split].name}, {p.name})")
            split_dirs[split] = p
    for needed in ("train", "test"):
        if needed not in split_dirs:
            raise FerError(f"{root}: split folder '{needed}/' missing (found: {', '.join(sorted(split_dirs)) or 'none'})")
    found: dict[str, dict[str, Path]] = {}
    for split, d in split_dirs.items():
        found[split] = {}
        # hidden entries (.ipynb_checkpoints, macOS ._* files) are tool litter, not classes or images
        for c in sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith(".")):
            name = L.canonical_class(c.name)
            if name is None:
                raise FerError(f"{c}: unknown class folder {c.name!r}; expected one of "
                               f"{', '.join(L.FERPLUS_CLASSES)} (or a common spelling)")
            found[split][name] = c
    present = set().union(*(set(v) for v in found.values()))
    classes = L.FERPLUS_CLASSES if "contempt" in present else L.FER2013_CLASSES
    images, votes, names = {}, {}, {}
    for split in SPLITS:
        if split not in found:
            continue
        paths, idx = [], []
        for name, c in found[split].items():
            files = sorted(p for p in c.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
                           and not p.name.startswith("."))
            paths += files
            idx += [classes.index(name)] * len(files)
        arr, ok = _decode_many(paths, f"reading {split_dirs[split].name}", on_error, report, split)
        images[split] = arr
        votes[split] = L.one_hot_votes(np.array(idx, dtype=np.int64)[ok], len(classes))
        names[split] = [str(p.relative_to(root)) for p, k in zip(paths, ok) if k]
    return classes, images, votes, names


def _csv_paths(root: Path) -> tuple[Path, Path | None]:
    if root.is_file():
        main = root
    else:
        main = next((p for p in (root / "fer2013.csv", root / "fer2013" / "fer2013.csv") if p.is_file()))
    new = main.parent / "fer2013new.csv"
    if not new.is_file() and (main.parent.parent / "fer2013new.csv").is_file():
        new = main.parent.parent / "fer2013new.csv"
    return main, (new if new.is_file() else None)


def _pixels(text: str) -> np.ndarray:
    """A Kaggle ``pixels`` field as a 48x48 uint8 image; ``ValueError`` saying what is wrong."""
    values = text.split()
    if len(values) != IMAGE_SIZE * IMAGE_SIZE:
        raise ValueError(f"expected {IMAGE_SIZE * IMAGE_SIZE} pixel values 0-255, got {len(values)}")
    try:
        pixels = np.array(values, dtype=np.int64)
    except OverflowError:  # a number beyond int64
        raise ValueError(f"expected {IMAGE_SIZE * IMAGE_SIZE} pixel values 0-255, got a huge number") from None
    if pixels.min() < 0 or pixels.max() > 255:
        raise ValueError(f"expected {IMAGE_SIZE * IMAGE_SIZE} pixel values 0-255, "
                         f"got values {pixels.min()}..{pixels.max()}")
    return pixels.astype(np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE)


def _read_csv(root: Path, on_error: str, report: LoadReport):
    main, new = _csv_paths(root)
    pixel_rows, codes, usages, linenos = [], [], [], []   # None where a row was skipped
    rows = _csv_rows(main)
    lineno, header = next(rows, (1, None))
    if not isinstance(header, list) or [h.strip().lower() for h in header[:3]] != ["emotion", "pixels", "usage"]:
        raise FerError(f"{main}:{lineno}: expected header 'emotion,pixels,Usage', got {_shown(header)}")
    for lineno, row in rows:
        linenos.append(lineno)
        try:
            if isinstance(row, str):
                raise ValueError(row)
            if len(row) != 3:
                raise ValueError(f"expected 3 fields, got {len(row)}")
            code = int(row[0])
            if not 0 <= code < len(L.FER2013_CODES):
                raise ValueError(f"emotion code {code} not in 0..6")
            pixels = _pixels(row[1])
            split = _SPLIT_ALIASES.get(row[2].strip().lower())
            if split is None:
                raise ValueError(f"unknown Usage {_shown(row[2])}")
        except ValueError as exc:
            _bad_row(f"{main}:{lineno}: malformed row ({exc})", on_error, report)
            pixel_rows.append(None), codes.append(None), usages.append(None)
            continue
        pixel_rows.append(pixels)
        codes.append(code)
        usages.append(split)
    if new is not None:
        classes = L.FERPLUS_CLASSES
        new_votes = []   # None where a row was skipped: rows stay aligned with fer2013.csv
        new_rows = _csv_rows(new)
        next(new_rows, None)  # header
        for lineno, row in new_rows:
            try:
                if isinstance(row, str):
                    raise ValueError(row)
                if len(row) != 12:
                    raise ValueError(f"expected 12 fields (Usage, Image name, 10 votes), got {len(row)}")
                new_votes.append(_vote_counts(row[2:]))
            except ValueError as exc:
                _bad_row(f"{new}:{lineno}: {exc}", on_error, report)
                new_votes.append(None)
        if len(new_votes) != len(pixel_rows):
            raise FerError(f"{new}: {len(new_votes)} rows but {main} has {len(pixel_rows)}; they must align row by row")
        # an image whose votes were skipped is left out with them
        usages = [u if v is not None else None for u, v in zip(usages, new_votes)]
        all_votes = L.ferplus_votes_to_project_order(
            np.array([v if v is not None else [0.0] * 10 for v in new_votes]).reshape(-1, 10))
    else:
        classes = L.FER2013_CLASSES
        idx = [classes.index(L.FER2013_CODES[c]) if c is not None else 0 for c in codes]
        all_votes = L.one_hot_votes(np.array(idx, dtype=np.int64), len(classes))
    images, votes, names = {}, {}, {}
    for split in SPLITS:
        sel = [i for i, u in enumerate(usages) if u == split]
        if not sel:
            continue
        images[split] = np.stack([pixel_rows[i] for i in sel])
        votes[split] = all_votes[sel]
        names[split] = [f"{main.name}:{linenos[i]}" for i in sel]
        report.read[split] = len(sel)
    if "train" not in images or "test" not in images:
        raise FerError(f"{main}: needs Training and PrivateTest rows (found: {', '.join(images) or 'none'})")
    return classes, images, votes, names


_READERS = {"ferplus": _read_ferplus, "folders": _read_folders, "csv": _read_csv}


# --------------------------------------------------------------------------------------------
# Cache

def cache_dir() -> Path:
    return Path(os.environ.get("FER_CACHE_DIR") or Path.home() / ".cache" / "fer_helpers")


def _fingerprint(root: Path, layout: str, on_error: str) -> str:
    """Changes whenever a source file is added, removed, resized or touched."""
    h = hashlib.sha256(f"{_CACHE_VERSION}|{layout}|{on_error}|{root.resolve()}".encode())
    stack = [root.resolve()]
    if root.is_file():  # a fer2013.csv given directly: fer2013new.csv beside it changes the data too
        stack += [p for p in (root.parent / "fer2013new.csv", root.parent.parent / "fer2013new.csv")
                  if p.is_file()]
    while stack:
        d = stack.pop()
        if d.is_file():
            st = d.stat()
            h.update(f"{d}|{st.st_size}|{st.st_mtime_ns}".encode())
            continue
        with os.scandir(d) as it:
            entries = sorted(it, key=lambda e: e.name)
        for e in entries:
            if e.is_dir():
                stack.append(Path(e.path))
            else:
                st = e.stat()
                h.update(f"{e.path}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:24]


def _save_cache(path: Path, ds: Dataset) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for s in ds.splits:
        arrays[f"images_{s}"], arrays[f"votes_{s}"] = ds._images[s], ds._votes[s]
    meta = {"classes": ds.classes, "names": ds._names, "report": ds.report.to_dict()}
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    os.replace(tmp, path)


def _load_cache(path: Path, root: Path) -> Dataset | None:
    try:
        with np.load(path) as z:
            meta = json.loads(z["meta"].tobytes())
            splits = [s for s in SPLITS if f"images_{s}" in z]
            images = {s: z[f"images_{s}"] for s in splits}
            votes = {s: z[f"votes_{s}"] for s in splits}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # unreadable cache (e.g. truncated): rebuild it
    r = meta["report"]
    report = LoadReport(r["layout"], Counter(r["read"]), Counter(r["converted"]), r["skipped"],
                        Counter(r["unlabelled"]), from_cache=True)
    return Dataset(root, tuple(meta["classes"]), images, votes, meta["names"], report)


# --------------------------------------------------------------------------------------------

def load_dataset(path: str | os.PathLike | None = None, *, on_error: str = "raise",
                 cache: bool = True) -> Dataset:
    """Load a FER data set in any supported layout (detected), using the cache when valid.

    ``on_error="raise"`` stops at the first unreadable image or bad row with a ``FerError``
    naming it; ``"skip"`` leaves such items out and lists them in ``ds.report.skipped``.
    """
    _check_on_error(on_error)
    root = resolve_data_path(path)
    layout = detect_layout(root)
    cache_file = None
    if cache:
        key = _fingerprint(root, layout, on_error)
        cache_file = cache_dir() / f"{root.resolve().name}-{layout}-{key}.npz"
        if cache_file.is_file():
            ds = _load_cache(cache_file, root)
            if ds is not None:
                return ds
    report = LoadReport(layout=layout)
    classes, images, votes, names = _READERS[layout](root, on_error, report)
    report.skipped = [one_line(s) for s in report.skipped]
    ds = Dataset(root, classes, images, votes, names, report)
    if cache_file is not None:
        try:
            _save_cache(cache_file, ds)
        except OSError:
            pass  # a read-only home only costs speed next time
    return ds


def summary_text(ds: Dataset) -> str:
    """The text ``fer data summary`` prints: counts per split and class, duplicates, load report."""
    counts = ds.counts()
    table = counts.pivot_table(index="class", columns="split", values=["plurality", "majority"],
                               aggfunc="sum", sort=False)
    r = ds.report
    dup = ds.duplicates()
    lines = [f"data set: {ds.root}  (layout: {r.layout}{', from cache' if r.from_cache else ''})",
             f"classes: {', '.join(ds.classes)}", ""]
    for s in ds.splits:
        n_major = int((L.majority_labels(ds.votes(s)) >= 0).sum())
        lines.append(f"{s:>5}: {len(ds.votes(s)):6d} images read, {r.converted.get(s, 0)} converted, "
                     f"{r.unlabelled.get(s, 0)} unlabelled files ignored, {n_major} under the majority protocol "
                     f"({len(ds.votes(s)) - n_major} excluded)")
    lines += [f"skipped: {len(r.skipped)}"] + [f"  {s}" for s in r.skipped[:20]]
    lines += ["", "images per class (plurality = most-voted column of all images; majority = FER+ protocol):",
              table.to_string(), "",
              f"exact duplicates: {dup['groups']} groups of identical images "
              f"({dup['images_in_groups']} images); {dup['across_splits']} groups span splits "
              f"{dup['split_pairs']}"]
    return "\n".join(lines)


_announce_other_project()
