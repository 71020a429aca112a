"""Run the numbered notebooks with one params file, then render the study: HTML, PDF and slides.

    run_report("notebooks/params/smoke.yaml", overrides={"training.epochs": 1})

1. Read the params file, apply overrides and check them, so a typo fails before anything runs.
2. Convert each ``notebooks/0N_*.py`` (jupytext py:percent, the source of truth) to a notebook and
   execute it with papermill into ``reports/<run_name>/``, the parameters injected after the
   cell tagged ``parameters``. A failing cell raises ``FerError`` naming the notebook and the
   cell; the partly executed notebook stays for inspection.
3. Merge the executed notebooks into one document (a title, a table of contents, code hidden)
   and render ``report.html`` and, from the cells marked with ``slideshow`` metadata,
   ``slides.html`` (reveal.js). reveal.js, MathJax and fonts come from ``node_modules``
   (``scripts/install_report_tools.sh``) and are inlined with the images: the files are
   self-contained and make no network request.
4. Print both with headless Chromium: ``report.pdf`` (page numbers from CSS ``@page`` margin
   boxes) and ``slides.pdf`` (reveal.js' ``?print-pdf`` mode, one page per slide).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime as dt
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import yaml

from .data import PROJECT_ROOT
from .errors import FerError
from .files import atomic_path, ensure_dir, write_json, write_text

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
PARAMS_DIR = NOTEBOOK_DIR / "params"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
KERNEL_NAME = "python3"
TITLE = "Facial expression recognition on FER+"

#: The notebooks' parameters (every notebook takes all of them): name -> (allowed types, meaning).
PARAMETERS: dict[str, tuple[tuple[type, ...], str]] = {
    "run_name": ((str,), "names the output folder reports/<run_name>/"),
    "data_dir": ((str, type(None)), "data folder; null: data/ferplus, then ../shared/data/ferplus"),
    "model_dir": ((str, type(None)), "model folder reported on (02 trains into it when train is true); "
                                     "null with train: <output_dir>/model"),
    "train": ((bool,), "02 trains a fresh model (true) or shows the one in model_dir (false)"),
    "seed": ((int,), "one seed for sampling, training and figures"),
    "eval_subset": ((int, type(None)), "images per split explored and evaluated (null: all)"),
    "tta": ((bool,), "03 also reports horizontal-flip test-time augmentation"),
    "training": ((dict,), "the training section: fer_helpers.training.fit's parameters"),
    "output_dir": ((str, type(None)), "where notebooks, figures, metrics and the report go "
                                      "(null: reports/<run_name>)"),
}
_REQUIRED = ("run_name", "train", "seed")
_DEFAULTS = {"data_dir": None, "model_dir": None, "eval_subset": None, "tta": False, "training": {},
             "output_dir": None}


# ---------------------------------------------------------------------------------------------
# Parameters

def parse_overrides(pairs) -> dict:
    """``[(key, value), ...]`` from ``-p key value`` into a dict, each value parsed as YAML
    (``true``, ``3``, ``null``, ``[1, 2]`` ...). ``training.epochs`` style keys are kept dotted."""
    out = {}
    for pair in pairs or []:
        if len(pair) != 2:
            raise FerError(f"an override is a key and a value, got {pair!r}")
        key, value = pair
        try:
            out[str(key)] = yaml.safe_load(value) if isinstance(value, str) else value
        except yaml.YAMLError as exc:
            raise FerError(f"-p {key}: value {value!r} is not valid YAML ({str(exc).splitlines()[0]})") from None
    return out


def apply_overrides(params: dict, overrides: dict | None) -> dict:
    """A copy of ``params`` with ``overrides`` set; ``a.b`` keys set nested values (``training.epochs``)."""
    params = copy.deepcopy(params)
    for key, value in (overrides or {}).items():
        parts = str(key).split(".")
        if parts[0] not in PARAMETERS:
            raise FerError(f"unknown parameter {parts[0]!r}; known: {', '.join(PARAMETERS)}")
        target = params
        for part in parts[:-1]:
            if target.get(part) is None:
                target[part] = {}
            if not isinstance(target[part], dict):
                raise FerError(f"cannot set {key}: {part!r} is not a mapping")
            target = target[part]
        target[parts[-1]] = value
    return params


def check_params(params: dict, source: str = "params") -> dict:
    """Types and values of the notebook parameters, with the defaults filled in; ``FerError`` names the culprit."""
    if not isinstance(params, dict):
        raise FerError(f"{source}: expected a mapping of parameters, got {type(params).__name__}")
    unknown = sorted(repr(k) for k in set(params) - set(PARAMETERS))
    if unknown:
        raise FerError(f"{source}: unknown parameter(s) {', '.join(unknown)}; known: {', '.join(PARAMETERS)}")
    missing = [k for k in _REQUIRED if k not in params]
    if missing:
        raise FerError(f"{source}: missing parameter(s) {', '.join(missing)}")
    params = {**_DEFAULTS, **params}
    if params["training"] is None:
        params["training"] = {}
    for key, (types, meaning) in PARAMETERS.items():
        value = params[key]
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok:
            names = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise FerError(f"{source}: {key} must be {names} ({meaning}), got {value!r}")
    params["training"] = dict(params["training"])
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", params["run_name"]):
        raise FerError(f"{source}: run_name must be a folder name (letters, digits, . _ -), got {params['run_name']!r}")
    if params["eval_subset"] is not None and params["eval_subset"] < 1:
        raise FerError(f"{source}: eval_subset must be a positive number of images or null, got {params['eval_subset']}")
    if not params["train"] and params["model_dir"] is None:
        raise FerError(f"{source}: with train: false, model_dir must name the model folder to report on")
    from .params import training_params  # same checks as `fer train`, before anything runs

    training_params({"training": params["training"], "seed": params["seed"]})
    return params


def resolve_params_file(path: str | os.PathLike | None) -> Path:
    """The params file: as given, else relative to the project (``notebooks/params/full.yaml``),
    else a profile name (``smoke`` -> ``notebooks/params/smoke.yaml``)."""
    if path is None:
        path = PARAMS_DIR / "full.yaml"
    p = Path(path).expanduser()
    for candidate in (p, PROJECT_ROOT / p, PARAMS_DIR / f"{p}.yaml" if not p.suffix else None):
        if candidate is not None and candidate.is_file():
            return candidate
    raise FerError(f"params file not found: {p} (profiles: "
                   f"{', '.join(q.stem for q in sorted(PARAMS_DIR.glob('*.yaml'))) or 'none'})")


def load_params(path: str | os.PathLike | None = None, overrides: dict | None = None) -> dict:
    """Read a params YAML, apply ``overrides`` and check the result (see ``PARAMETERS``)."""
    from .params import load_params as read_params_file

    path = resolve_params_file(path)
    return check_params(apply_overrides(read_params_file(path), overrides), source=str(path))


def _resolve_path(value: str | None, what: str, must_exist: bool = False) -> str | None:
    """Absolute path: as given, else relative to the working directory, else to the project.

    With ``must_exist`` an absolute path is checked too: a missing one must fail here, not in
    a notebook after minutes of work.
    """
    if value is None:
        return None
    p = Path(value).expanduser()
    if not p.is_absolute() and not p.exists() and (PROJECT_ROOT / p).exists():
        p = PROJECT_ROOT / p
    if must_exist and not p.exists():
        looked = "" if p.is_absolute() else f" (looked in {Path.cwd()} and {PROJECT_ROOT})"
        raise FerError(f"{what} not found: {p}{looked}")
    return str(p.resolve())


def notebook_parameters(params: dict, output_dir: str | os.PathLike | None = None) -> dict:
    """The values papermill injects: every path absolute (the notebooks run inside the output folder)."""
    p = copy.deepcopy(params)
    out = output_dir or p.get("output_dir") or Path("reports") / p["run_name"]
    p["output_dir"] = str(Path(out).expanduser().resolve())
    p["data_dir"] = _resolve_path(p["data_dir"], "data_dir", must_exist=True)
    if p["model_dir"] is None:  # the run's own model, retrained by every run (run_report clears it)
        p["model_dir"] = str(Path(p["output_dir"]) / "model")
        return p
    p["model_dir"] = _resolve_path(p["model_dir"], "model_dir", must_exist=not p["train"])
    if not p["train"] and not Path(p["model_dir"]).is_dir():
        raise FerError(f"model_dir {p['model_dir']} is not a folder (a model folder holds model.keras and labels.json)")
    from .training import holds_run

    if p["train"] and holds_run(p["model_dir"]):
        raise FerError(f"{p['model_dir']} already holds a training run; choose another model_dir "
                       "(-p model_dir DIR), another output folder, or -p train false to report on it")
    return p


# ---------------------------------------------------------------------------------------------
# Executing the notebooks

def notebook_sources(folder: str | os.PathLike = NOTEBOOK_DIR) -> list[Path]:
    """The numbered notebooks ``0N_*.py``, in order."""
    paths = sorted(Path(folder).glob("[0-9][0-9]_*.py"))
    if not paths:
        raise FerError(f"no numbered notebooks (0N_name.py) in {folder}")
    return paths


def to_notebook(source: str | os.PathLike):
    """A jupytext py:percent file as an ``nbformat`` notebook bound to the Python 3 kernel."""
    import jupytext

    try:
        nb = jupytext.read(source, fmt="py:percent")
    except Exception as exc:  # jupytext raises several types for malformed files
        raise FerError(f"{source}: cannot read as a py:percent notebook ({exc})") from None
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Python 3", "language": "python"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    nb.metadata.pop("jupytext", None)
    return nb


@contextlib.contextmanager
def _kernel_environment():
    """Kernels run this interpreter (``python`` first on PATH) and import this checkout's package."""
    saved = {k: os.environ.get(k) for k in ("PATH", "PYTHONPATH", "TF_CPP_MIN_LOG_LEVEL", "PYDEVD_DISABLE_FILE_VALIDATION")}
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")] if p)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _failed_cell(executed_path: Path) -> tuple[int | None, str]:
    """1-based position (among the source's cells) and first line of the cell that raised."""
    import nbformat

    try:
        nb = nbformat.read(executed_path, as_version=4)
    except Exception:
        return None, ""
    skip = {"injected-parameters", "papermill-error-cell-tag"}
    cells = [c for c in nb.cells if not skip & set(c.metadata.get("tags", []))]
    for i, cell in enumerate(cells, start=1):
        if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            return i, first.strip()
    return None, ""


def execute_notebook(source: str | os.PathLike, output: str | os.PathLike, parameters: dict,
                     cwd: str | os.PathLike | None = None, progress: bool = True,
                     timeout: int | None = None):
    """Execute one jupytext notebook with papermill into ``output`` (.ipynb); ``FerError`` on a failing cell."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    source, output = Path(source), Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    nb = to_notebook(source)
    with _kernel_environment():
        try:
            return pm.execute_notebook(nb, str(output), parameters=parameters, kernel_name=KERNEL_NAME,
                                       cwd=str(cwd or output.parent), progress_bar=progress,
                                       request_save_on_cell_execute=True, execution_timeout=timeout)
        except PapermillExecutionError as exc:
            index, first = _failed_cell(output)
            where = f"cell {index}" if index else f"cell {exc.cell_index}"
            where += f" (`{first[:80]}`)" if first else ""
            evalue = str(exc.evalue).strip().splitlines()[0] if str(exc.evalue).strip() else ""
            raise FerError(f"notebook {source.name}: {where} failed with {exc.ename}: {evalue}; "
                           f"partly executed notebook kept at {output}") from None
        except FerError:
            raise
        except Exception as exc:  # dead kernel, timeout, missing kernel
            raise FerError(f"notebook {source.name}: execution failed ({exc.__class__.__name__}: "
                           f"{str(exc).strip()[:300]}); partly executed notebook (if any) at {output}") from None


def read_timings(output_dir: str | os.PathLike) -> dict:
    """Wall times (seconds) of the steps of a report run so far (``timings.json`` in the run folder)."""
    path = Path(output_dir) / "timings.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _record_timing(output_dir: Path, step: str, seconds: float) -> None:
    timings = read_timings(output_dir)
    timings[step] = round(seconds, 1)
    write_json(output_dir / "timings.json", timings)


# ---------------------------------------------------------------------------------------------
# One document from the executed notebooks

_DROP_TAGS = {"parameters", "injected-parameters", "papermill-error-cell-tag", "remove"}
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


def title_cell_source(params: dict, title: str = TITLE) -> str:
    """Markdown of the title block: what, when, which model and data, which commit."""
    from .reproducibility import git_commit

    when = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    mode = "trained in this run" if params.get("train") else "shipped model"
    subset = f"{params['eval_subset']} images per split" if params.get("eval_subset") else "every image"
    return (f"# {title}\n\n"
            f"<p class=\"fer-subtitle\">Data, training, evaluation and explanations of a CNN that reads "
            f"facial expressions (8 FER+ classes) &mdash; run <b>{html.escape(params['run_name'])}</b></p>\n\n"
            f"| | |\n|---|---|\n"
            f"| generated | {when} |\n"
            f"| model | `{Path(params['model_dir']).name}` ({mode}) |\n"
            f"| evaluated on | {subset} |\n"
            f"| seed | {params['seed']} |\n"
            f"| git commit | `{git_commit()[:19]}` |\n\n"
            f"<div id=\"fer-toc\"></div>\n")


def merge_notebooks(paths, params: dict, title: str = TITLE):
    """The executed notebooks as one: a title cell first, parameters cells and stderr dropped.

    The first cell of each notebook gets the ``page-break`` tag (a new page in the PDF).
    """
    import nbformat

    merged = nbformat.v4.new_notebook()
    head = nbformat.v4.new_markdown_cell(title_cell_source(params, title))
    head.metadata["slideshow"] = {"slide_type": "slide"}
    head.metadata["tags"] = ["title"]
    cells = [head]
    for k, path in enumerate(paths, start=1):
        nb = nbformat.read(path, as_version=4)
        if k == 1:
            merged.metadata = copy.deepcopy(nb.metadata)
        first = True
        for cell in nb.cells:
            if _DROP_TAGS & set(cell.metadata.get("tags", [])):
                continue
            cell = copy.deepcopy(cell)
            _clean_outputs(cell)
            if cell.cell_type == "code" and not cell.get("outputs") and "slideshow" not in cell.metadata:
                continue  # nothing to show with the code hidden
            if first:
                cell.metadata["tags"] = list(cell.metadata.get("tags", [])) + ["page-break"]
                first = False
            cell["id"] = f"nb{k}-{len(cells)}"
            cells.append(cell)
    merged.cells = cells
    for key in ("papermill", "widgets", "jupytext"):
        merged.metadata.pop(key, None)
    merged.metadata["title"] = title
    return merged


def slides_notebook(nb):
    """The slide deck: only cells with ``slideshow`` metadata (not ``skip``) and no ``report-only`` tag."""
    deck = copy.deepcopy(nb)
    deck.cells = [c for c in deck.cells
                  if c.metadata.get("slideshow", {}).get("slide_type", "skip") != "skip"
                  and "report-only" not in c.metadata.get("tags", [])]
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


def add_toc(page: str) -> str:
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
    toc = f'<nav id="fer-toc" aria-label="Contents"><h2 class="toc-title">Contents</h2><ol>{"".join(items)}</ol></nav>'
    toc = toc.replace("<ol></ol>", "")
    return page.replace('<div id="fer-toc"></div>', toc, 1)


def _exporter(kind: str):
    from nbconvert import HTMLExporter, SlidesExporter

    cls = SlidesExporter if kind == "slides" else HTMLExporter
    exporter = cls(template_name="fer_slides" if kind == "slides" else "fer_report",
                   extra_template_basedirs=[str(TEMPLATE_DIR)], extra_template_paths=[str(TEMPLATE_DIR)])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True
    exporter.require_js_url = ""      # the templates load nothing from a CDN; empty to be sure
    exporter.mathjax_url = ""
    exporter.jquery_url = ""
    exporter.mermaid_js_url = ""
    return exporter


def render_html(nb, path: str | os.PathLike, assets: dict | None = None) -> Path:
    """``report.html``: the merged notebook, code hidden, table of contents, everything inlined."""
    assets = assets or load_assets()
    body, _ = _exporter("report").from_notebook_node(report_notebook(nb), resources={"fer_assets": assets})
    return write_text(path, add_toc(body))


def render_slides(nb, path: str | os.PathLike, assets: dict | None = None) -> Path:
    """``slides.html``: reveal.js slides of the cells with ``slideshow`` metadata, everything inlined."""
    assets = assets or load_assets()
    body, _ = _exporter("slides").from_notebook_node(slides_notebook(nb), resources={"fer_assets": assets})
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
    failed or killed print leaves the previous PDF as it was.
    """
    chromium = find_chromium()
    if chromium is None:
        raise FerError("Chromium not found; install it (scripts/install_report_tools.sh) or set FER_CHROMIUM")
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    url = html_path.as_uri() + (f"?{query}" if query else "")
    with atomic_path(pdf_path) as tmp, tempfile.TemporaryDirectory(prefix="fer-chromium-") as profile:
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
               "--run-all-compositor-stages-before-draw", f"--virtual-time-budget={budget_ms}",
               f"--print-to-pdf={tmp}", url]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise FerError(f"Chromium took more than {timeout}s to print {html_path.name}") from None
        if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
            tail = " | ".join((proc.stderr or "").strip().splitlines()[-5:])
            raise FerError(f"Chromium could not print {html_path.name} (exit {proc.returncode}): {tail}")
    return pdf_path


# ---------------------------------------------------------------------------------------------
# The whole run

def _say(msg: str) -> None:
    print(f"[fer report] {msg}", flush=True)


def run_report(params: str | os.PathLike | dict = "notebooks/params/full.yaml", overrides: dict | None = None,
               output_dir: str | os.PathLike | None = None, progress: bool = True, pdf: bool | None = None,
               notebooks: list | None = None) -> Path:
    """Execute the numbered notebooks with a params file and render report.{html,pdf}, slides.{html,pdf}.

    ``params``: a params YAML (path or profile name) or an already loaded dict; ``overrides``:
    ``{"train": True, "training.epochs": 3}``; ``output_dir``: default ``reports/<run_name>``.
    ``pdf``: print the PDFs (default: when Chromium is found). Returns the output folder.
    """
    t_start = time.time()
    if isinstance(params, dict):
        p = check_params(apply_overrides(params, overrides))
    else:
        p = load_params(params, overrides)
    assets = load_assets()  # before minutes of notebooks: missing assets fail now
    if pdf is None:
        pdf = find_chromium() is not None
        if not pdf:
            _say("warning: Chromium not found, the PDFs are skipped (scripts/install_report_tools.sh)")
    own_model = p["model_dir"] is None
    p = notebook_parameters(p, output_dir)  # data_dir and model_dir exist, or one line now
    out = ensure_dir(p["output_dir"], "report folder")  # a file, /proc, read-only: one line now
    if own_model and p["train"] and Path(p["model_dir"]).is_dir():
        shutil.rmtree(p["model_dir"])  # a previous run's model in this run folder: train afresh
    if p["train"]:
        ensure_dir(p["model_dir"], "model folder")  # 02 trains into it: writable, checked now
    (out / "timings.json").unlink(missing_ok=True)
    write_text(out / "params.yaml", yaml.safe_dump(p, sort_keys=False))
    sources = [Path(n) for n in notebooks] if notebooks else notebook_sources()
    executed = []
    for i, src in enumerate(sources, start=1):
        target = out / f"{src.stem}.ipynb"
        _say(f"[{i}/{len(sources)}] executing {src.name} -> {target}")
        t0 = time.time()
        execute_notebook(src, target, p, cwd=out, progress=progress)
        _record_timing(out, src.stem, time.time() - t0)
        _say(f"[{i}/{len(sources)}] {src.stem} done in {time.time() - t0:.0f}s")
        executed.append(target)

    t0 = time.time()
    nb = merge_notebooks(executed, p)
    html_path = render_html(nb, out / "report.html", assets)
    slides_path = render_slides(nb, out / "slides.html", assets)
    _record_timing(out, "render_html", time.time() - t0)
    _say(f"wrote {html_path.name} and {slides_path.name} ({time.time() - t0:.0f}s)")
    if pdf:
        t0 = time.time()
        print_pdf(html_path, out / "report.pdf")
        print_pdf(slides_path, out / "slides.pdf", query="print-pdf")
        _record_timing(out, "render_pdf", time.time() - t0)
        _say(f"wrote report.pdf and slides.pdf ({time.time() - t0:.0f}s)")
    _record_timing(out, "total", time.time() - t_start)
    _say(f"done in {time.time() - t_start:.0f}s: {out}")
    return out


def run_report_cli(params: str | os.PathLike | None, overrides, output_dir: str | os.PathLike | None) -> int:
    """``fer report``: 0 on success; a ``FerError`` prints one line and returns 2."""
    try:
        out = run_report(params or PARAMS_DIR / "full.yaml", parse_overrides(overrides), output_dir)
    except FerError as exc:
        print(f"fer report: error: {exc}", file=sys.stderr)
        return exc.exit_code
    for name in ("report.html", "report.pdf", "slides.html", "slides.pdf"):
        if (out / name).is_file():
            print(out / name)
    return 0
