"""Cold and cached load times of the full data set (a script, not a test).

    python benchmarks/data_load.py [PATH] [--repeat N]

Cold = decoding every image with a fresh, empty FER_CACHE_DIR (a temporary folder, removed
afterwards; the user's cache is never touched); cached = the same call again, served from the
.npz cache. PATH defaults to the project's default data locations.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fer_helpers.data import load_dataset, resolve_data_path  # noqa: E402
from fer_helpers.errors import FerError  # noqa: E402


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", help="data folder or fer2013.csv (default: the project's defaults)")
    ap.add_argument("--repeat", type=int, default=3, help="cached loads to time (default 3)")
    args = ap.parse_args(argv)
    try:
        root = resolve_data_path(args.path)
    except FerError as exc:
        print(f"data_load: error: {exc}", file=sys.stderr)
        return 2

    saved = os.environ.get("FER_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="fer-bench-cache-") as cache:
        os.environ["FER_CACHE_DIR"] = cache
        try:
            ds, cold = timed(lambda: load_dataset(root))
            assert not ds.report.from_cache
            cached = []
            for _ in range(max(1, args.repeat)):
                again, t = timed(lambda: load_dataset(root))
                assert again.report.from_cache, "second load did not come from the cache"
                cached.append(t)
            size = sum(p.stat().st_size for p in Path(cache).glob("*.npz"))
        finally:
            if saved is None:
                os.environ.pop("FER_CACHE_DIR", None)
            else:
                os.environ["FER_CACHE_DIR"] = saved

    n = sum(len(ds.votes(s)) for s in ds.splits)
    print(f"data set : {root} (layout {ds.report.layout}, {n} images: "
          + ", ".join(f"{s} {len(ds.votes(s))}" for s in ds.splits) + ")")
    print(f"machine  : {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")
    print(f"cold     : {cold:7.2f} s  ({n / cold:,.0f} images/s, decoding + writing the cache)")
    print(f"cached   : {statistics.median(cached):7.2f} s  (median of {len(cached)}; "
          f"min {min(cached):.2f} s, max {max(cached):.2f} s)")
    print(f"cache    : {size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
