"""Shared fixtures: the project on sys.path, a private cache for every test, the real data set."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
for p in (str(PROJECT), str(TESTS)):   # import fer_helpers without `pip install -e .`, and tests/synthetic.py
    if p not in sys.path:
        sys.path.insert(0, p)

#: The real FER+ data set, read-only (see ../shared/data/ferplus/README.md).
SHARED_DATA = PROJECT.parent / "shared" / "data" / "ferplus"


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets an empty FER_CACHE_DIR of its own: tests never read or write the user's cache."""
    d = tmp_path_factory.mktemp("fer-cache")
    monkeypatch.setenv("FER_CACHE_DIR", str(d))
    return d


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the real FER+ data set; the test is skipped, saying why, when it is absent."""
    if not (SHARED_DATA / "FER2013Test" / "label.csv").is_file():
        pytest.skip(f"real FER+ data set not found at {SHARED_DATA} (see ../shared/data/ferplus/README.md)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def real_cache_dir(request, tmp_path_factory) -> Path:
    """A cache for the real data set that outlives one run (under .pytest_cache, not the user's
    ~/.cache), so only the first run pays for decoding 35,000 PNGs; a temporary one when
    pytest runs without its cache (-p no:cacheprovider)."""
    cache = getattr(request.config, "cache", None)
    if cache is None:
        return tmp_path_factory.mktemp("fer-real-data-cache")
    return Path(cache.mkdir("fer-real-data-cache"))
