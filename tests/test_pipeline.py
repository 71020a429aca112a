"""End to end: the smoke profile through all four notebooks, the HTML and PDF report and the slides.

One run (module fixture, a few minutes on 2 CPU cores) on the real FER+ data, then checks of what
a reader gets: the PDF's pages, page numbers and images, the test accuracy it prints against the
run's metrics file, the HTML and slides opened in real headless Chromium with no request leaving
the file, no console error and every image loaded, and a deck of 10-15 slides.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
from pathlib import Path

import pytest

from fer_helpers import pipeline, render
from fer_helpers.evaluation import result_stem
from test_report import NOISE

pytestmark = pytest.mark.slow

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def _requirements():
    chromium = render.find_chromium()
    if chromium is None:
        pytest.skip("Chromium not found (scripts/install_report_tools.sh installs Debian's chromium)")
    try:
        render.check_assets()
    except Exception as exc:  # FerError
        pytest.skip(f"report assets missing: {exc}")
    return chromium


@contextlib.contextmanager
def console_to(path: Path):
    """Everything a terminal would show, into ``path``: this process's ``sys.stdout``/``sys.stderr``
    and file descriptors 1 and 2, which the notebook kernels inherit."""
    sys.stdout.flush()
    sys.stderr.flush()
    with open(path, "ab", buffering=0) as raw, open(path, "a", buffering=1) as text, \
            contextlib.redirect_stdout(text), contextlib.redirect_stderr(text):
        saved = [os.dup(1), os.dup(2)]
        os.dup2(raw.fileno(), 1)
        os.dup2(raw.fileno(), 2)
        try:
            yield
        finally:
            for fd, copy in zip((1, 2), saved):
                os.dup2(copy, fd)
                os.close(copy)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, shared_data, real_cache_dir):
    """``run_report`` of the smoke profile into a temporary folder: (folder, seconds); what the
    run's kernels wrote to the console is in ``console.txt`` beside the folder."""
    _requirements()
    out = tmp_path_factory.mktemp("report") / "smoke"
    t0 = time.time()
    with pytest.MonkeyPatch.context() as mp, console_to(out.parent / "console.txt"):
        mp.setenv("FER_CACHE_DIR", str(real_cache_dir))  # never the user's cache; decoded once per machine
        pipeline.run_report("notebooks/params/smoke.yaml", {"data_dir": str(shared_data)}, output_dir=out,
                            progress=False)
    return out, time.time() - t0


@pytest.fixture(scope="module")
def browser():
    chromium = _requirements()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python package) not installed")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def open_page(browser, path: Path, query: str = ""):
    """Load a local HTML file; returns (page, report) where report lists every request, failure
    and console error. Anything that is not the file itself or a data: URI is aborted and counted."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    page = ctx.new_page()
    own = path.resolve().as_uri()
    report = {"external": [], "failed": [], "errors": []}

    def route(r):
        url = r.request.url
        if url.split("?")[0].split("#")[0] == own or url.startswith("data:"):
            r.continue_()
        else:
            report["external"].append(url[:120])
            r.abort()

    page.route("**/*", route)
    page.on("requestfailed", lambda r: report["failed"].append(r.url[:120]))
    page.on("console", lambda m: report["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: report["errors"].append(str(e)))
    page.goto(own + query, wait_until="load")
    page.wait_for_selector("html[data-fer-ready='1']", timeout=60_000)
    page.wait_for_function("window.ferMathReady === true", timeout=60_000)
    return page, report


def pdf_text(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(path).pages]


# ---------------------------------------------------------------------------------------------

def test_smoke_run_writes_every_output_and_its_timings(smoke_run):
    out, _ = smoke_run
    for name in ("01_data_exploration.ipynb", "02_training.ipynb", "03_evaluation.ipynb", "04_gradcam.ipynb",
                 "report.html", "report.pdf", "slides.html", "slides.pdf", "params.yaml", "timings.json",
                 f"evaluation/evaluation_{result_stem('test', 300)}.json", "model/model.keras", "model/history.csv",
                 "figures/class_balance.png", "figures/history.png", "figures/gradcam_per_class.png"):
        assert (out / name).is_file(), name
    # how long it took is timings.json's to record (and a benchmark's to judge), not a test's:
    # a wall-clock limit fails on a busy machine and passes a slow change on a fast one
    timings = json.loads((out / "timings.json").read_text())
    assert set(timings) >= {"01_data_exploration", "02_training", "03_evaluation", "04_gradcam",
                            "render_html", "render_pdf", "total"}


def test_console_and_executed_notebooks_hold_no_start_up_noise(smoke_run):
    out, _ = smoke_run
    console = (out.parent / "console.txt").read_text(errors="replace")
    assert "executing 04_gradcam.py" in console and "04_gradcam done" in console  # the capture saw the run
    for line in NOISE:
        assert line not in console, line
    for name in ("01_data_exploration", "02_training", "03_evaluation", "04_gradcam"):
        text = (out / f"{name}.ipynb").read_text()
        for line in NOISE:
            assert line not in text, (name, line)


def test_report_pdf_pages_numbers_and_images(smoke_run):
    from pypdf import PdfReader

    out, _ = smoke_run
    reader = PdfReader(out / "report.pdf")
    n = len(reader.pages)
    assert 8 <= n <= 60, n
    texts = pdf_text(out / "report.pdf")
    for i, text in enumerate(texts, start=1):
        assert f"page {i} of {n}" in text, f"page {i} has no page number"
    assert "Facial expression recognition on FER+" in texts[0] and "Contents" in texts[0]
    images = sum(len(p.images) for p in reader.pages)
    assert images >= 12, f"only {images} images embedded in the PDF"
    body = "\n".join(texts)
    for heading in ("1. The data", "2. The model and its training", "3. Evaluation on the test split",
                    "4. What the model looks at", "Reproducibility"):
        assert heading in body
    assert "import " not in body and "plots.save_figure" not in body  # code is hidden


def test_pdf_prints_the_test_accuracy_of_the_metrics_file(smoke_run):
    out, _ = smoke_run
    metrics = json.loads((out / "evaluation" / f"evaluation_{result_stem('test', 300)}.json").read_text())
    printed = re.findall(r"Test accuracy: ([0-9.]+)%", "\n".join(pdf_text(out / "report.pdf")))
    assert printed, "the report does not print the test accuracy"
    assert {float(v) for v in printed} == {round(metrics["accuracy"] * 100, 2)}


def test_report_html_is_offline_and_complete_in_chromium(smoke_run, browser):
    out, _ = smoke_run
    page, report = open_page(browser, out / "report.html")
    assert report == {"external": [], "failed": [], "errors": []}
    images = page.evaluate("Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
    assert len(images) >= 12 and all(images)
    assert page.evaluate("Array.from(document.images).every(i => i.src.startsWith('data:'))")
    assert page.evaluate("document.querySelectorAll('mjx-container').length") >= 3  # the math is typeset
    toc = page.evaluate("Array.from(document.querySelectorAll('#fer-toc a')).map(a => a.getAttribute('href'))")
    assert len(toc) >= 10
    assert page.evaluate("hrefs => hrefs.every(h => document.getElementById(decodeURIComponent(h.slice(1))))", toc)
    page.context.close()


def test_slides_are_offline_with_10_to_15_slides(smoke_run, browser):
    from pypdf import PdfReader

    out, _ = smoke_run
    page, report = open_page(browser, out / "slides.html")
    assert report == {"external": [], "failed": [], "errors": []}
    total = page.evaluate("Reveal.getTotalSlides()")
    assert 10 <= total <= 15, total
    assert page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    page.context.close()
    pages = PdfReader(out / "slides.pdf").pages
    assert len(pages) == total, f"slides.pdf has {len(pages)} pages for {total} slides"
    w, h = float(pages[0].mediabox.width), float(pages[0].mediabox.height)
    assert 1.6 < w / h < 1.9  # 16:9 slides, not A4 pages
    page, report = open_page(browser, out / "slides.html", "?print-pdf")
    assert report["external"] == [] and report["errors"] == []
    page.context.close()
