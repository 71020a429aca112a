"""The study as a reader gets it: one document from the executed notebooks, rendered to HTML,
slides and PDF that open offline.

    nb = merge_notebooks(executed_paths, params)       # title, abstract, contents; every language
    render_html(nb, "report.html", language="tr"); render_slides(nb, "slides.html", language="tr")
    print_pdf("report.html", "report.pdf"); print_pdf("slides.html", "slides.pdf", query="print-pdf")

- **Merging**: the executed notebooks become one paper: the title block, the cells tagged
  ``abstract`` (computed by the last notebook), the table of contents, the main text (each
  notebook in order), then the appendices: every cell tagged ``appendix``, moved behind the
  references in notebook order and opened on a new page, so that a notebook keeps its detail next
  to its story while the paper's main text stays short. Parameters cells, stderr (warnings,
  progress bars) and code are left out.
- **Numbered figures and tables**: a caption starts with ``{fig:key}`` or ``{tab:key}`` and text
  refers to it as ``{@fig:key}``; ``number_floats`` numbers them in the order a reader meets them
  (so a float moved to an appendix keeps a number that follows the main text's) and names them in
  the document's language.
- **Which cells**: ``report_notebook`` and ``slides_notebook`` choose the cells of each document
  by their metadata (``slideshow``, tags ``slides-only`` and ``report-only``); beside them,
  ``language_notebook`` keeps one language: markdown cells tagged ``lang-en``/``lang-tr`` and
  outputs marked by ``i18n.display_each``. ``render_html`` and ``render_slides`` apply both.
- **Offline**: reveal.js, MathJax and their fonts come from ``node_modules``
  (``scripts/install_report_tools.sh``) and are inlined with the images, so the files are
  self-contained and make no network request.
- **PDF**: headless Chromium prints ``report.pdf`` (page numbers from CSS ``@page`` margin
  boxes) and ``slides.pdf`` (reveal.js' ``?print-pdf`` mode, one page per slide).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime as dt
import functools
import html
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

from .data import PROJECT_ROOT
from . import i18n
from .errors import FerError
from .files import atomic_path, write_text

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TITLE = "Facial expression recognition on FER+"
#: Markdown cells for one language only carry the tag ``lang-en`` or ``lang-tr``.
LANG_TAG_PREFIX = "lang-"


# ---------------------------------------------------------------------------------------------
# One document from the executed notebooks

_DROP_TAGS = {"parameters", "injected-parameters", "injected-setup", "papermill-error-cell-tag", "remove"}
_WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _clean_outputs(cell) -> None:
    """Keep what a reader should see: no stderr (warnings, progress bars), no widget views."""
    if cell.cell_type != "code":
        return
    kept = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            continue
        if "data" in out:
            out["data"].pop(_WIDGET_MIME, None)
            if not out["data"]:
                continue
        kept.append(out)
    cell.outputs = kept


def model_seed(params: dict):
    """The seed the reported model was trained with, from its own records (``run.json``, else
    ``params.yaml`` of ``model_dir``): the report's ``seed`` parameter only picks which faces are
    shown, and a shipped model was trained with its own. ``None`` when no record says."""
    import json

    import yaml

    folder = Path(params["model_dir"])
    for name, read in (("run.json", json.loads), ("params.yaml", yaml.safe_load)):
        try:
            record = read((folder / name).read_text()) or {}
            seed = record.get("seed", (record.get("training") or {}).get("seed"))
        except (OSError, ValueError, yaml.YAMLError, AttributeError):
            continue
        if seed is not None:
            return seed
    return params.get("seed") if params.get("train") else None


def _people(params: dict) -> str:
    return "".join(f"<p class=\"fer-{key}\">{html.escape(str(params[key]))}</p>\n"
                   for key in ("author", "course", "instructor", "date") if params.get(key))


def title_cell_source(params: dict, language: str = "en") -> str:
    """Markdown of the report's title block in ``language``: title, author, course, instructor,
    date (each line only when its parameter is set), then what was run: when, which model (and the
    seed it was trained with, from its records) and data. The git commit is in the reproducibility
    appendix, not here."""
    tr = functools.partial(i18n.t, language=language)
    title = params.get("title") or tr(TITLE)
    when = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    mode = tr("trained in this run" if params.get("train") else "shipped model")
    seed = model_seed(params)
    if seed is not None:
        mode += f", {tr('seed')} {seed}"
    subset = (tr("{n} images per split").format(n=params["eval_subset"]) if params.get("eval_subset")
              else tr("every image"))
    return (f"# {html.escape(title)}\n\n"
            f"<p class=\"fer-subtitle\">{tr('A CNN that reads facial expressions (8 FER+ classes) from raw pixels')}</p>\n\n"
            f"{_people(params)}\n"
            f"| | |\n|---|---|\n"
            f"| {tr('generated')} | {when} |\n"
            f"| {tr('model')} | `{Path(params['model_dir']).name}` ({mode}) |\n"
            f"| {tr('evaluated on')} | {subset} |\n"
            f"| {tr('run')} | {html.escape(params['run_name'])} |\n")


def title_slide_source(params: dict, language: str = "en") -> str:
    """Markdown of the title slide in ``language``: the title, its subtitle and the people (author,
    course, instructor, date as the parameters give them; today's date when none is set)."""
    tr = functools.partial(i18n.t, language=language)
    title = params.get("title") or tr(TITLE)
    people = _people(params)
    if not params.get("date"):
        people += f"<p class=\"fer-date\">{dt.date.today().isoformat()}</p>\n"
    return (f"# {html.escape(title)}\n\n"
            f"<p class=\"fer-subtitle\">{tr('A CNN that reads facial expressions (8 FER+ classes) from raw pixels')}</p>\n\n"
            f"{people}")


#: Cells tagged ``abstract`` (the last notebook computes it from the results) come right after the title.
ABSTRACT_TAG = "abstract"


def _title_cells(params: dict) -> list:
    """The report's title block and the title slide, once per language (tagged ``lang-<code>``)."""
    import nbformat

    cells = []
    for language in i18n.LANGUAGES:
        head = nbformat.v4.new_markdown_cell(title_cell_source(params, language))
        head.metadata["tags"] = ["title", f"lang-{language}", "report-only"]
        slide = nbformat.v4.new_markdown_cell(title_slide_source(params, language))
        slide.metadata["slideshow"] = {"slide_type": "slide"}
        slide.metadata["tags"] = ["title", f"lang-{language}", "slides-only"]
        cells += [head, slide]
    return cells


def merge_notebooks(paths, params: dict):
    """The executed notebooks as one, in every language: title block, then the cells tagged
    ``abstract`` (wherever they are), the table of contents, the main text, then the cells tagged
    ``appendix`` under an "Appendices" heading that starts a new page; parameters cells and stderr
    dropped. ``language_notebook`` keeps one language of it.
    """
    import nbformat

    merged = nbformat.v4.new_notebook()
    cells = []
    for k, path in enumerate(paths, start=1):
        nb = nbformat.read(path, as_version=4)
        if k == 1:
            merged.metadata = copy.deepcopy(nb.metadata)
        for cell in nb.cells:
            if _DROP_TAGS & set(cell.metadata.get("tags", [])):
                continue
            cell = copy.deepcopy(cell)
            _clean_outputs(cell)
            if cell.cell_type == "code" and not cell.get("outputs"):
                continue  # nothing to show with the code hidden (not even an empty slide)
            cell["id"] = f"nb{k}-{len(cells)}"
            cells.append(cell)
    tagged = lambda cell, tag: tag in cell.metadata.get("tags", [])  # noqa: E731
    abstract = [c for c in cells if tagged(c, ABSTRACT_TAG)]
    appendix = [c for c in cells if tagged(c, APPENDIX_TAG) and not tagged(c, ABSTRACT_TAG)]
    body = [c for c in cells if not (tagged(c, ABSTRACT_TAG) or tagged(c, APPENDIX_TAG))]
    toc = nbformat.v4.new_markdown_cell('<div id="fer-toc"></div>', metadata={"tags": ["toc"]})
    merged.cells = _title_cells(params) + abstract + [toc] + body
    if appendix:
        merged.cells += _appendix_heads() + appendix
    for key in ("papermill", "widgets", "jupytext"):
        merged.metadata.pop(key, None)
    merged.metadata["title"] = params.get("title") or TITLE
    return merged


#: Cells tagged ``appendix`` leave the main text for the appendices at the end of the report.
APPENDIX_TAG = "appendix"


def _appendix_heads() -> list:
    """The "Appendices" heading once per language, on a new page."""
    import nbformat

    return [nbformat.v4.new_markdown_cell(f"# {i18n.t('Appendices', language)}",
                                          metadata={"tags": [f"lang-{language}", "page-break", "appendix-head"]})
            for language in i18n.LANGUAGES]


_FLOAT_DEF = re.compile(r"\{(fig|tab):([\w.-]+)\}")
_FLOAT_REF = re.compile(r"\{@(fig|tab):([\w.-]+)\}")
_FLOAT_WORDS = {"fig": "Figure", "tab": "Table"}


def _float_texts(doc):
    """Every text of the document a reader sees, in order, as (container, key): markdown cells'
    sources and the markdown/HTML outputs of code cells."""
    for cell in doc.cells:
        if cell.cell_type == "markdown":
            yield cell, "source"
        elif cell.cell_type == "code":
            for out in cell.get("outputs", []):
                for mime in ("text/markdown", "text/html"):
                    if mime in out.get("data", {}):
                        yield out["data"], mime


def number_floats(doc, language: str = "en"):
    """Number the captioned figures and tables of one language's document in reading order:
    ``{fig:key}`` at a caption's start becomes "**Figure 3.**", ``{@fig:key}`` in the text
    "Figure 3" (in Turkish "Şekil 3"). A reference to a caption that does not exist, or a key
    captioned twice, is an error: a report must not point at the wrong figure."""
    doc = copy.deepcopy(doc)
    numbers: dict[tuple[str, str], int] = {}
    counts = {"fig": 0, "tab": 0}
    for holder, key in _float_texts(doc):
        text = holder[key] if isinstance(holder[key], str) else "".join(holder[key])
        for kind, name in _FLOAT_DEF.findall(text):
            if (kind, name) in numbers:
                raise FerError(f"{kind}:{name} is captioned twice in the report")
            counts[kind] += 1
            numbers[(kind, name)] = counts[kind]

    def word(kind: str) -> str:
        return i18n.t(_FLOAT_WORDS[kind], language)

    def ref(m):
        if (m.group(1), m.group(2)) not in numbers:
            raise FerError(f"the report refers to {m.group(1)}:{m.group(2)}, which no caption defines")
        return f"{word(m.group(1))} {numbers[(m.group(1), m.group(2))]}"

    for holder, key in _float_texts(doc):
        text = holder[key] if isinstance(holder[key], str) else "".join(holder[key])
        bold = (lambda s: f"<strong>{s}</strong>") if key == "text/html" else (lambda s: f"**{s}**")
        text = _FLOAT_REF.sub(ref, text)
        text = _FLOAT_DEF.sub(lambda m: bold(f"{word(m.group(1))} {numbers[(m.group(1), m.group(2))]}."), text)
        holder[key] = text
    return doc


def _language_of(tags) -> str | None:
    found = [tag[len(LANG_TAG_PREFIX):] for tag in tags if tag.startswith(LANG_TAG_PREFIX)]
    return found[0] if found else None


def language_notebook(nb, language: str = "en"):
    """The notebook in one language: cells tagged ``lang-<other>`` dropped, and outputs whose
    metadata names another language (``i18n.display_each``); untagged cells and outputs are
    language-neutral and stay. The document's title follows the language."""
    i18n.check_language(language)
    doc = copy.deepcopy(nb)
    kept = []
    for cell in doc.cells:
        if _language_of(cell.metadata.get("tags", [])) not in (None, language):
            continue
        if cell.cell_type == "code":
            outputs = [o for o in cell.get("outputs", [])
                       if o.get("metadata", {}).get(i18n.OUTPUT_KEY, language) == language]
            if cell.get("outputs") and not outputs:
                continue  # every output was another language's
            cell.outputs = outputs
        kept.append(cell)
    doc.cells = kept
    if doc.metadata.get("title") == TITLE:
        doc.metadata["title"] = i18n.t(TITLE, language)
    doc.metadata["fer_language"] = language
    return doc


def _notebook_order(cell) -> tuple[int, int]:
    """Where a merged cell stood in its notebook (its id ``nb<k>-<n>``); the title cells first."""
    m = re.fullmatch(r"nb(\d+)-(\d+)", str(cell.get("id", "")))
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def slides_notebook(nb):
    """The slide deck: only cells with ``slideshow`` metadata (not ``skip``) and no ``report-only``
    tag, in the notebooks' order (a figure the report moves to its appendices keeps its slide)."""
    deck = copy.deepcopy(nb)
    deck.cells = sorted((c for c in deck.cells
                         if c.metadata.get("slideshow", {}).get("slide_type", "skip") != "skip"
                         and "report-only" not in c.metadata.get("tags", [])), key=_notebook_order)
    if not deck.cells:
        raise FerError("no cell is marked for the slides (cell metadata slideshow.slide_type)")
    return deck


def report_notebook(nb):
    """The report: every cell except those tagged ``slides-only``."""
    doc = copy.deepcopy(nb)
    doc.cells = [c for c in doc.cells if "slides-only" not in c.metadata.get("tags", [])]
    return doc


# ---------------------------------------------------------------------------------------------
# Offline assets (node_modules) inlined into the HTML

def assets_dir() -> Path:
    """``node_modules`` with reveal.js and MathJax (``$FER_REPORT_ASSETS`` or the project's)."""
    return Path(os.environ.get("FER_REPORT_ASSETS") or PROJECT_ROOT / "node_modules")


_ASSET_FILES = {
    "mathjax": "mathjax/es5/tex-svg-full.js",
    "reveal_js": "reveal.js/dist/reveal.js",
    "reveal_notes": "reveal.js/plugin/notes/notes.js",
    "reveal_css": "reveal.js/dist/reveal.css",
    "reveal_theme": "reveal.js/dist/theme/white.css",
}


def check_assets() -> Path:
    root = assets_dir()
    missing = [rel for rel in _ASSET_FILES.values() if not (root / rel).is_file()]
    if missing:
        raise FerError(f"report assets missing in {root} ({', '.join(missing)}); "
                       "install them with scripts/install_report_tools.sh (npm ci)")
    return root


def _data_uri(path: Path) -> str:
    mime = {".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".png": "image/png",
            ".svg": "image/svg+xml", ".gif": "image/gif", ".jpg": "image/jpeg"}.get(path.suffix.lower(),
                                                                                 "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def inline_css(path: Path) -> str:
    """A stylesheet with its ``@import``s inlined and fonts embedded (only the WOFF of each face)."""
    css = path.read_text()
    imports: list[str] = []  # inlined last, so this file's rules do not rewrite them again

    def hold_import(m):
        imports.append(inline_css((path.parent / m.group(1)).resolve()))
        return f"/*@fer-import-{len(imports) - 1}@*/"

    css = re.sub(r"@import\s+url\(\s*['\"]?([^'\")]+)['\"]?\s*\)\s*;", hold_import, css)

    def font_face(m):
        block = m.group(0)
        woff = re.search(r"url\(\s*['\"]?([^'\")?#]+\.woff2?)['\"]?\s*\)", block)
        if not woff or not (path.parent / woff.group(1)).is_file():
            return ""  # a face we cannot embed is dropped: the fallback font is used, no request
        src = f"src: url({_data_uri(path.parent / woff.group(1))}) format('woff');"
        return re.sub(r"src\s*:[^;]*;", "", block, flags=re.S).replace("{", "{ " + src, 1)

    css = re.sub(r"@font-face\s*{[^}]*}", font_face, css, flags=re.S)

    def other_url(m):
        target = m.group(1)
        if target.startswith(("data:", "#")):
            return m.group(0)
        f = path.parent / target.split("?")[0].split("#")[0]
        return f"url({_data_uri(f)})" if f.is_file() else "none"

    css = re.sub(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", other_url, css)
    return re.sub(r"/\*@fer-import-(\d+)@\*/", lambda m: imports[int(m.group(1))], css)


def _script_safe(js: str) -> str:
    return js.replace("</script", "<\\/script")


def load_assets() -> dict:
    root = check_assets()
    read = lambda key: (root / _ASSET_FILES[key]).read_text(encoding="utf-8")  # noqa: E731
    return {"mathjax": _script_safe(read("mathjax")), "reveal_js": _script_safe(read("reveal_js")),
            "reveal_notes": _script_safe(read("reveal_notes")),
            "reveal_css": inline_css(root / _ASSET_FILES["reveal_css"]),
            "reveal_theme": inline_css(root / _ASSET_FILES["reveal_theme"])}


# ---------------------------------------------------------------------------------------------
# HTML

class _Headings(HTMLParser):
    """h1/h2 headings (id, text) of markdown cells, skipping those inside cell outputs and the title."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open div: inside an output area or the title?
        self.current: list | None = None
        self.found: list[tuple[int, str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div":
            cls = a.get("class") or ""
            self.stack.append(bool(self.stack and self.stack[-1]) or "jp-OutputArea" in cls
                              or "celltag_title" in cls)
        elif tag in ("h1", "h2") and a.get("id") and not (self.stack and self.stack[-1]):
            self.current = [int(tag[1]), a["id"], ""]
        elif tag == "a" and self.current is not None and "anchor-link" in (a.get("class") or ""):
            self.found.append((self.current[0], self.current[1], self.current[2].strip()))
            self.current = None

    def handle_endtag(self, tag):
        if tag == "div" and self.stack:
            self.stack.pop()
        elif tag in ("h1", "h2") and self.current is not None:
            self.found.append((self.current[0], self.current[1], self.current[2].strip()))
            self.current = None

    def handle_data(self, data):
        if self.current is not None:
            self.current[2] += data


def add_toc(page: str, title: str = "Contents") -> str:
    """Fill ``<div id="fer-toc">`` with a linked table of contents of the h1/h2 headings."""
    parser = _Headings()
    parser.feed(page)
    items, open_sub = [], False
    for level, anchor, text in parser.found:
        link = f'<a href="#{html.escape(anchor, quote=True)}">{html.escape(text)}</a>'
        if level == 1:
            if open_sub:
                items.append("</ol></li>")
                open_sub = False
            items.append(f"<li class=\"toc-h1\">{link}")
            items.append("<ol>")
            open_sub = True
        else:
            items.append(f"<li class=\"toc-h2\">{link}</li>")
    if open_sub:
        items.append("</ol></li>")
    toc = f'<nav id="fer-toc" aria-label="Contents"><h2 class="toc-title">{html.escape(title)}</h2><ol>{"".join(items)}</ol></nav>'
    toc = toc.replace("<ol></ol>", "")
    return page.replace('<div id="fer-toc"></div>', toc, 1)


def _exporter(kind: str, language: str = "en"):
    from nbconvert import HTMLExporter, SlidesExporter

    cls = SlidesExporter if kind == "slides" else HTMLExporter
    exporter = cls(template_name="fer_slides" if kind == "slides" else "fer_report",
                   extra_template_basedirs=[str(TEMPLATE_DIR)], extra_template_paths=[str(TEMPLATE_DIR)])
    exporter.language_code = language
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    exporter.require_js_url = ""      # the templates load nothing from a CDN; empty to be sure
    exporter.mathjax_url = ""
    exporter.jquery_url = ""
    exporter.mermaid_js_url = ""
    return exporter


def _resources(assets: dict, language: str) -> dict:
    """What the templates read: the inlined assets and the words of the page frame in ``language``."""
    words = {key: i18n.t(key, language) for key in ("page", "of", "slides")}
    words["running_title"] = i18n.t(TITLE, language)
    return {"fer_assets": assets, "fer_text": words}


def render_html(nb, path: str | os.PathLike, assets: dict | None = None, language: str = "en") -> Path:
    """``report.html`` in ``language``: the merged notebook, code hidden, table of contents, everything inlined."""
    assets = assets or load_assets()
    doc = number_floats(report_notebook(language_notebook(nb, language)), language)
    body, _ = _exporter("report", language).from_notebook_node(doc, resources=_resources(assets, language))
    return write_text(path, add_toc(body, i18n.t("Contents", language)))


def render_slides(nb, path: str | os.PathLike, assets: dict | None = None, language: str = "en") -> Path:
    """``slides.html`` in ``language``: reveal.js slides of the cells with ``slideshow`` metadata, everything inlined."""
    assets = assets or load_assets()
    deck = number_floats(slides_notebook(language_notebook(nb, language)), language)
    body, _ = _exporter("slides", language).from_notebook_node(deck, resources=_resources(assets, language))
    return write_text(path, body)


# ---------------------------------------------------------------------------------------------
# PDF with headless Chromium

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio")


def find_chromium() -> str | None:
    """Chromium's executable: ``$FER_CHROMIUM``, else ``chromium`` (Debian) or a Chrome on PATH."""
    env = os.environ.get("FER_CHROMIUM")
    if env:
        return env if Path(env).is_file() else shutil.which(env)
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(html_path: str | os.PathLike, pdf_path: str | os.PathLike, query: str = "",
              timeout: int = 300, budget_ms: int = 30000) -> Path:
    """Print a local HTML file to PDF with headless Chromium (its own CSS decides page size and footer).

    Chromium prints to a temporary name that replaces ``pdf_path`` only once it holds a PDF: a
    failed or killed print leaves the previous PDF as it was. Chromium runs in a process group of
    its own, its profile and its temporary files in one temporary folder (``fer-chromium-*``):
    however the print ends (done, failed, timed out, Ctrl-C, SIGTERM), the whole group is killed
    before that folder is removed, so no browser process is left writing into a folder being
    deleted, and neither outlives the call.
    """
    chromium = find_chromium()
    if chromium is None:
        raise FerError("Chromium not found; install it (scripts/install_report_tools.sh) or set FER_CHROMIUM")
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    url = html_path.as_uri() + (f"?{query}" if query else "")
    with atomic_path(pdf_path) as tmp, _chromium_folder() as folder:
        profile, scratch = folder / "profile", folder / "tmp"
        scratch.mkdir()
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
               "--run-all-compositor-stages-before-draw", f"--virtual-time-budget={budget_ms}",
               f"--print-to-pdf={tmp}", url]
        # a session of its own: a Ctrl-C in the terminal reaches fer alone, which ends the whole
        # browser (its renderer and helper processes too) before removing their profile
        # TMPDIR: its singleton socket folder (org.chromium.Chromium.*), which a killed browser leaves
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True, env={**os.environ, "TMPDIR": str(scratch)})
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise FerError(f"Chromium took more than {timeout}s to print {html_path.name}") from None
        finally:
            _kill_process_group(proc)
        if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
            tail = " | ".join((stderr or "").strip().splitlines()[-5:])
            raise FerError(f"Chromium could not print {html_path.name} (exit {proc.returncode}): {tail}")
    return pdf_path


@contextlib.contextmanager
def _chromium_folder():
    """A temporary folder (``fer-chromium-*``) for Chromium's profile and its own temporary files,
    removed on the way out whatever happened.

    Not ``tempfile.TemporaryDirectory``: its clean-up raised "Directory not empty: 'Default'" (a
    traceback instead of one line) when a browser process still wrote into it.
    """
    folder = Path(tempfile.mkdtemp(prefix="fer-chromium-"))
    try:
        yield folder
    finally:
        _remove_tree(folder)


def _remove_tree(folder: Path, tries: int = 20) -> None:
    """``shutil.rmtree`` that ignores errors and tries again while the folder is still there
    (a file a dying process wrote meanwhile)."""
    for _ in range(tries):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.05)


def _kill_process_group(proc: subprocess.Popen, wait_s: float = 5.0) -> None:
    """SIGKILL the process group ``proc`` leads (it was started with ``start_new_session``) and
    wait until none of its processes is left, for at most ``wait_s`` seconds."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=wait_s)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)  # still someone in the group (a helper the leader started)
        except (ProcessLookupError, PermissionError):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        time.sleep(0.02)
