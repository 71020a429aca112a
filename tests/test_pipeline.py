"""End to end: the smoke profile through the notebooks, the HTML and PDF report and the slides,
in English and (rendered again from the same executed notebooks) in Turkish.

One run (module fixture, a few minutes on 2 CPU cores) on the real FER+ data, then checks of what
a reader gets: the PDF's pages, page numbers and images, the paper's sections in each language,
the test accuracy it prints against the run's metrics file, Turkish glyphs in the PDF's text layer
(``pdftotext``), every font embedded (``pdffonts``), no absolute path, the HTML and slides opened
in real headless Chromium with no request leaving the file, no console error and every image
loaded, and a deck of 12-15 slides.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

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
def smoke_run_tr(smoke_run):
    """The same run rendered in Turkish from its executed notebooks (nothing runs again): its folder."""
    out, _ = smoke_run
    p = yaml.safe_load((out / "params.yaml").read_text())
    return pipeline.render_run(out, p, language="tr")


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
                 "06_conclusion.ipynb", "figures/tr/class_balance.png",
                 "report.html", "report.pdf", "slides.html", "slides.pdf", "params.yaml", "timings.json",
                 f"evaluation/evaluation_{result_stem('test', 300)}.json", "model/model.keras", "model/history.csv",
                 "figures/class_balance.png", "figures/history.png", "figures/gradcam_per_class.png"):
        assert (out / name).is_file(), name
    # how long it took is timings.json's to record (and a benchmark's to judge), not a test's:
    # a wall-clock limit fails on a busy machine and passes a slow change on a fast one
    timings = json.loads((out / "timings.json").read_text())
    assert set(timings) >= {"01_data_exploration", "02_training", "03_evaluation", "04_gradcam", "06_conclusion",
                            "render_html", "render_pdf", "total"}


def test_console_and_executed_notebooks_hold_no_start_up_noise(smoke_run):
    out, _ = smoke_run
    console = (out.parent / "console.txt").read_text(errors="replace")
    assert "executing 04_gradcam.py" in console and "04_gradcam done" in console  # the capture saw the run
    for line in NOISE:
        assert line not in console, line
    for name in ("01_data_exploration", "02_training", "03_evaluation", "04_gradcam", "06_conclusion"):
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
    assert "Facial expression recognition on FER+" in texts[0] and "Abstract" in texts[0]
    assert "Contents" in texts[0] + texts[1]
    images = sum(len(p.images) for p in reader.pages)
    assert images >= 12, f"only {images} images embedded in the PDF"
    body = "\n".join(texts)
    for heading in ("Introduction", "Data", "Method", "Results", "Faces in photos, and speed", "What the model looks at",
                    "Limitations and ethics", "Conclusion", "References", "Appendices", "Reproducibility"):
        assert heading in body, heading
    assert "import " not in body and "plots.save_figure" not in body  # code is hidden
    appendix = max(i for i, text in enumerate(texts) if "Appendices" in text)  # not the contents
    references = max(i for i, text in enumerate(texts) if "References" in text)
    assert references <= appendix  # the appendices come after the references
    assert all(i >= appendix for i, text in enumerate(texts) if "Layer (type)" in text)  # the listing: appendix only
    assert re.search(r"Figure \d+\.", body) and re.search(r"Table \d+\.", body)  # numbered captions
    assert not re.search(r"\{@?(fig|tab):", body)  # every caption and reference resolved


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


def test_slides_are_offline_with_12_to_15_slides(smoke_run, browser):
    from pypdf import PdfReader

    out, _ = smoke_run
    page, report = open_page(browser, out / "slides.html")
    assert report == {"external": [], "failed": [], "errors": []}
    total = page.evaluate("Reveal.getTotalSlides()")
    assert 12 <= total <= 15, total
    assert page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    page.context.close()
    pages = PdfReader(out / "slides.pdf").pages
    assert len(pages) == total, f"slides.pdf has {len(pages)} pages for {total} slides"
    w, h = float(pages[0].mediabox.width), float(pages[0].mediabox.height)
    assert 1.6 < w / h < 1.9  # 16:9 slides, not A4 pages
    page, report = open_page(browser, out / "slides.html", "?print-pdf")
    assert report["external"] == [] and report["errors"] == []
    page.context.close()


# ---------------------------------------------------------------------------------------------
# The Turkish report, rendered from the same executed notebooks

TURKISH_GLYPHS = "çğıİöşü"


def pdftotext(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not found (poppler-utils; scripts/setup.sh installs it)")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pdffonts(path: Path) -> list[tuple[str, str]]:
    """(font name, emb) of every font of a PDF, from poppler's ``pdffonts``."""
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts not found (poppler-utils; scripts/setup.sh installs it)")
    lines = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()
    header = lines[0]
    emb = header.index("emb")
    return [(line.split()[0], line[emb:emb + 3].strip()) for line in lines[2:] if line.strip()]


def test_turkish_report_has_the_papers_sections_in_turkish(smoke_run_tr):
    text = pdftotext(smoke_run_tr / "report.pdf")
    for heading in ("Özet", "İçindekiler", "Giriş", "Veri", "Yöntem", "Sonuçlar", "Model nereye bakıyor",
                    "Sınırlılıklar ve etik", "Sonuç", "Kaynaklar", "Ekler", "Yeniden üretilebilirlik"):
        assert heading in text, heading
    for english in ("Abstract", "Contents", "Conclusion", "Limitations and ethics", "Appendices", "Reproducibility"):
        assert english not in text, english
    assert "FER+ üzerinde yüz ifadesi tanıma" in text and "sayfa 1 /" in text
    assert set(TURKISH_GLYPHS) <= set(text), set(TURKISH_GLYPHS) - set(text)
    assert re.search(r"test doğruluğu: %[0-9]+,[0-9]{2}", text)
    slides = pdftotext(smoke_run_tr / "slides.pdf")
    assert "Çıkarımlar" in slides and "Sonuç" in slides and set("çğış") <= set(slides)


def test_english_report_has_its_sections_in_english(smoke_run):
    out, _ = smoke_run
    text = pdftotext(out / "report.pdf")
    for heading in ("Abstract", "Contents", "Conclusion", "References", "Appendices", "Reproducibility"):
        assert heading in text, heading
    assert "Özet" not in text and "Kaynaklar" not in text


def test_every_font_of_every_pdf_is_embedded(smoke_run, smoke_run_tr):
    out, _ = smoke_run
    for pdf in (out / "report.pdf", out / "slides.pdf", smoke_run_tr / "report.pdf", smoke_run_tr / "slides.pdf"):
        fonts = pdffonts(pdf)
        assert fonts, pdf
        assert [name for name, emb in fonts if emb != "yes"] == [], pdf


def test_no_absolute_path_in_report_or_slides(smoke_run, smoke_run_tr):
    out, _ = smoke_run
    machine = re.compile(r"(?<![\w.])/(tmp|home|work|root|usr|var|opt|mnt)/[\w.-]")
    for folder in (out, smoke_run_tr):
        for name in ("report.pdf", "slides.pdf"):
            text = pdftotext(folder / name)
            assert not machine.search(text), (name, machine.search(text).group(0))
        for name in ("report.html", "slides.html"):
            page = re.sub(r"<script[^>]*>.*?</script>|data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+", "",
                          (folder / name).read_text(), flags=re.S)
            for found in machine.finditer(page):
                raise AssertionError(f"{name}: {page[max(0, found.start() - 60):found.end() + 40]!r}")


def test_turkish_html_and_slides_load_in_chromium_with_no_failed_request(smoke_run_tr, browser):
    from pypdf import PdfReader

    page, report = open_page(browser, smoke_run_tr / "report.html")
    assert report == {"external": [], "failed": [], "errors": []}
    assert page.evaluate("document.documentElement.lang") == "tr"
    assert page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    assert "Özet" in page.evaluate("document.body.innerText")
    page.context.close()
    page, report = open_page(browser, smoke_run_tr / "slides.html")
    assert report == {"external": [], "failed": [], "errors": []}
    total = page.evaluate("Reveal.getTotalSlides()")
    assert 12 <= total <= 15 and len(PdfReader(smoke_run_tr / "slides.pdf").pages) == total
    page.context.close()
