"""The report pipeline's machinery, fast: params and overrides, notebook execution errors, merging,
the offline HTML (no external URL), the table of contents. The real end-to-end run is in
tests/test_pipeline.py."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import nbformat
import pytest
import yaml

from fer_helpers import i18n, params, pipeline, render, turkish_results
from fer_helpers.errors import FerError

PROJECT = Path(__file__).resolve().parent.parent


def write_params(tmp_path: Path, **extra) -> Path:
    values = {"run_name": "t", "data_dir": None, "model_dir": None, "train": True, "seed": 1,
              "eval_subset": 10, "tta": False, "training": {"epochs": 2, "batch_size": 16}}
    values.update(extra)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


# ---------------------------------------------------------------------------------------------
# Parameters

def test_shipped_profiles_are_valid():
    for name in ("smoke", "full"):
        p = params.load_profile(PROJECT / "notebooks" / "params" / f"{name}.yaml")
        assert p["run_name"] == name
        assert set(p) == set(params.PARAMETERS)
    assert params.load_profile()["train"] is False            # `fer report` default: the shipped model
    assert params.load_profile("smoke")["run_name"] == "smoke"  # a profile name works too


def test_overrides_are_parsed_as_yaml():
    got = params.parse_overrides([("train", "true"), ("seed", "7"), ("eval_subset", "null"),
                             ("training.epochs", "3"), ("run_name", "my-run"), ("data_dir", "/x/y")])
    assert got == {"train": True, "seed": 7, "eval_subset": None, "training.epochs": 3,
                   "run_name": "my-run", "data_dir": "/x/y"}
    with pytest.raises(FerError, match="not valid YAML"):
        params.parse_overrides([("seed", "[1")])


def test_overrides_apply_nested_and_leave_the_input_alone(tmp_path):
    path = write_params(tmp_path)
    p = params.load_profile(path, {"training.epochs": 5, "training.learning_rate": 0.01, "seed": 3})
    assert p["training"]["epochs"] == 5 and p["training"]["learning_rate"] == 0.01
    assert p["training"]["batch_size"] == 16 and p["seed"] == 3
    base = {"run_name": "t", "train": True, "seed": 1, "training": {"epochs": 1}}
    params.apply_overrides(base, {"training.epochs": 9})
    assert base["training"]["epochs"] == 1


@pytest.mark.parametrize("overrides, message", [
    ({"epochs": 3}, "unknown parameter 'epochs'"),
    ({"train": "yes please"}, "train must be bool"),
    ({"seed": 1.5}, "seed must be int"),
    ({"seed": True}, "seed must be int"),
    ({"eval_subset": 0}, "eval_subset must be a positive"),
    ({"run_name": "../escape"}, "run_name must be a folder name"),
    ({"training.epocs": 3}, "unknown training parameter"),
    ({"training.labels": "votes"}, "training.labels must be one of"),
    ({"train": False}, "model_dir must name the model folder"),
])
def test_bad_params_fail_early_with_a_clear_message(tmp_path, overrides, message):
    with pytest.raises(FerError, match=re.escape(message)):
        params.load_profile(write_params(tmp_path), overrides)


def test_bad_params_files(tmp_path):
    with pytest.raises(FerError, match="params file not found"):
        params.load_profile(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("run_name: [unclosed\n")
    with pytest.raises(FerError, match="not valid YAML"):
        params.load_profile(bad)
    bad.write_text("- a list\n")
    with pytest.raises(FerError, match="expected a mapping"):
        params.load_profile(bad)
    bad.write_text("run_name: x\n")
    with pytest.raises(FerError, match="missing parameter"):
        params.load_profile(bad)


def test_notebook_parameters_make_paths_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = params.load_profile(write_params(tmp_path))
    nbp = params.notebook_parameters(p, "out")
    assert nbp["output_dir"] == str(tmp_path / "out")
    assert nbp["model_dir"] == str(tmp_path / "out" / "model")   # null + train: inside the run folder
    (tmp_path / "m").mkdir()
    nbp = params.notebook_parameters(params.load_profile(write_params(tmp_path, train=False, model_dir="m")))
    assert nbp["model_dir"] == str(tmp_path / "m")
    assert nbp["output_dir"] == str(PROJECT / "reports" / "t")  # the default is the project's, not the cwd's
    with pytest.raises(FerError, match="not found"):
        params.notebook_parameters(params.load_profile(write_params(tmp_path, train=False, model_dir="missing")))
    (tmp_path / "m" / "checkpoints").mkdir()
    (tmp_path / "m" / "checkpoints" / "state.json").write_text("{}")
    with pytest.raises(FerError, match="already holds a training run"):
        params.notebook_parameters(params.load_profile(write_params(tmp_path, model_dir="m")))


def test_cli_report_is_wired_to_the_pipeline():
    from fer_helpers import cli

    args = cli.build_parser().parse_args(["report", "--params", "x.yaml", "-p", "train", "true", "--out", "o"])
    assert args.func is cli.cmd_report and args.param == [["train", "true"]]
    assert params.parse_overrides(args.param) == {"train": True}


def test_cli_returns_2_with_one_line_on_a_bad_parameter(tmp_path, capsys):
    assert pipeline.run_report_cli(str(write_params(tmp_path)), [("bogus", "1")], str(tmp_path / "o")) == 2
    err = capsys.readouterr().err
    assert err.startswith("fer report: error:") and "bogus" in err and err.count("\n") == 1


# ---------------------------------------------------------------------------------------------
# The numbered notebooks

def test_numbered_notebooks_have_one_typed_parameters_cell_with_every_parameter():
    sources = pipeline.notebook_sources()
    assert [s.name[:3] for s in sources] == ["01_", "02_", "03_", "04_", "05_", "06_", "07_"]
    own = {"02_training": {"resume"}}  # set by fer sweep for its runs only, not a profile's parameter
    study = set(params.PARAMETERS) - set(params.OWN_PARAMETERS)
    # 07 takes the paths and its photos, and its own options (no profile has them)
    takes = {"07_your_photos": {"run_name", "model_dir", "output_dir", "photos", "detector", "every", "max_shown"}}
    for src in sources:
        nb = pipeline.to_notebook(src)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, src
        names = set(re.findall(r"^(\w+)\s*:\s*[\w|\[\], ]+=", tagged[0].source, flags=re.M))
        expected = takes.get(src.stem, study | own.get(src.stem, set()))
        assert names == expected, (src.name, names ^ expected)
        assert "matplotlib.use" not in src.read_text() and "Agg" not in src.read_text()
        assert sum(c.cell_type == "markdown" for c in nb.cells) >= 4, f"{src.name}: tell the story in prose"


@pytest.mark.parametrize("language", ["en", "tr"])
@pytest.mark.parametrize("experiments", [False, True])
def test_slide_cells_make_a_deck_of_12_to_15_slides_in_each_language(language, experiments):
    cells = [nbformat.v4.new_markdown_cell("# title", metadata={"slideshow": {"slide_type": "slide"}})]
    for src in pipeline.report_sources({"experiments": "runs/x" if experiments else None}):
        cells += pipeline.to_notebook(src).cells
    deck = render.slides_notebook(render.language_notebook(nbformat.v4.new_notebook(cells=cells), language))
    n = sum(c.metadata["slideshow"]["slide_type"] == "slide" for c in deck.cells)
    assert 12 <= n <= 15


def test_every_markdown_cell_of_the_notebooks_has_one_language_and_its_twin():
    """Prose is written once per language: a ``lang-en`` cell and a ``lang-tr`` cell, side by side."""
    for src in pipeline.notebook_sources():
        cells = [c for c in pipeline.to_notebook(src).cells if c.cell_type == "markdown"]
        languages = [render._language_of(c.metadata.get("tags", [])) for c in cells]
        assert None not in languages, (src.name, [c.source[:40] for c, lang in zip(cells, languages) if lang is None])
        assert languages.count("en") == languages.count("tr"), src.name


def test_citations_in_the_notebooks_are_numbers_of_the_reference_list():
    from fer_helpers import paper

    cited = set()
    for src in pipeline.notebook_sources():
        cited |= {int(n) for n in re.findall(r"(?<![\w\])])\[(\d+)\]", src.read_text())}  # not x[0]
    assert cited == set(range(1, len(paper.REFERENCES) + 1))  # every reference cited, none made up
    assert paper.cite("barsoum2016") == "[2]"
    listing = paper.references_markdown()
    assert listing.count("\n") == len(paper.REFERENCES) - 1 and "1. I. J. Goodfellow" in listing


def test_a_students_teachers_are_found_by_the_hash_it_recorded_not_by_their_old_folder_name(tmp_path):
    """A shipped student replaces its teacher in models/default: the abstract's teacher time must
    come from the folder now holding the teacher's weights, found by hash."""
    import hashlib

    from fer_helpers import paper

    def folder(name, weights, **run):
        (tmp_path / name).mkdir()
        (tmp_path / name / "model.keras").write_bytes(weights)
        (tmp_path / name / "run.json").write_text(json.dumps(run))
        return hashlib.sha256(weights).hexdigest()

    teacher_sha = folder("teacher", b"first generation", wall_seconds=5940.0)
    folder("default", b"second generation", wall_seconds=6250.0)
    student = {"teachers": [{"folder": "models/default", "sha256": teacher_sha},
                            {"folder": "models/gone", "sha256": "0" * 64}]}
    assert paper.teacher_runs(tmp_path / "default", student) == [{"wall_seconds": 5940.0}, {}]
    assert paper.teacher_runs(tmp_path / "default", {"wall_seconds": 1.0}) is None  # not distilled


def test_the_headline_says_how_the_reported_model_was_augmented(tmp_path):
    """The conclusion calls blur and compression in the augmentation a next step only for a model
    trained without them: the headline reads that from the model's own params.yaml."""
    from fer_helpers import paper

    (tmp_path / "evaluation").mkdir()
    (tmp_path / "evaluation" / "evaluation_test.json").write_text(json.dumps(
        {"accuracy": 0.8, "macro_f1": 0.7, "n": 10, "ece": 0.02, "per_class": {"anger": {"recall": 0.5}}}))
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "run.json").write_text(json.dumps({"wall_seconds": 60.0, "epochs_run": 2, "train_images": 5,
                                                    "machine": {"cpu_count": 2}, "parameters": 1000}))
    assert paper.headline(tmp_path, model_dir)["augment"] is None  # a model folder without its params
    (model_dir / "params.yaml").write_text("training:\n  model: wide\n  augment: strong\n")
    assert paper.headline(tmp_path, model_dir)["augment"] == "strong"


# ---------------------------------------------------------------------------------------------
# Execution and errors

TINY = textwrap.dedent('''\
    # %% [markdown] slideshow={"slide_type": "slide"}
    # # 1. Tiny
    #
    # Math: $a^2$.

    # %% tags=["parameters"]
    run_name: str = "x"   # a name
    seed: int = 0         # a seed

    # %% slideshow={"slide_type": "-"}
    print(f"run {run_name} seed {seed}")

    # %% [markdown]
    # ## A section

    # %%
    value = 6 * 7
    ''')


def test_failing_cell_names_notebook_and_cell_and_keeps_the_partial_notebook(tmp_path):
    src = tmp_path / "01_broken.py"
    src.write_text(TINY + '\n# %%\nraise ValueError("deliberate failure")\n\n# %%\nprint("never")\n')
    out = tmp_path / "out" / "01_broken.ipynb"
    with pytest.raises(FerError) as info:
        pipeline.execute_notebook(src, out, {"run_name": "t", "seed": 3}, progress=False)
    msg = str(info.value)
    assert "01_broken.py" in msg and "cell 6" in msg and "ValueError" in msg and "deliberate failure" in msg
    assert str(out) in msg
    nb = nbformat.read(out, as_version=4)  # the partly executed notebook stays
    texts = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "run t seed 3" in texts and "never" not in texts.replace('"never"', "")


#: What a notebook kernel used to put on the console of `fer report` and into executed notebooks.
NOISE = ("Kernel is running over TCP without encryption", "absl::InitializeLog", "oneDNN custom operations",
         "TqdmWarning", "IProgress not found")

QUIET = textwrap.dedent('''\
    # %% tags=["parameters"]
    seed: int = 0  # a seed

    # %%
    import warnings
    from fer_helpers import data, model  # TensorFlow, Keras and tqdm, as the real notebooks import them
    warnings.warn("a real warning")
    print("layers", len(model.build("baseline", seed=seed).layers))
    ''')


def test_kernels_keep_the_console_and_the_outputs_to_progress_and_real_warnings(tmp_path, capfd):
    """The kernel inherits this process's stderr (captured here at the file descriptor): no TCP
    warning, no TensorFlow start-up notes, no TqdmWarning there or in the executed notebook;
    a warning the notebook raises still reaches the reader."""
    src = tmp_path / "01_quiet.py"
    src.write_text(QUIET)
    out = tmp_path / "out" / "01_quiet.ipynb"
    pipeline.execute_notebook(src, out, {"seed": 1}, progress=False)
    console = "".join(capfd.readouterr())
    outputs = json.dumps([c.get("outputs", []) for c in nbformat.read(out, as_version=4).cells])
    assert "layers" in outputs and "a real warning" in outputs
    for line in NOISE:
        assert line not in console, line
        assert line not in outputs, line


def test_run_report_on_tiny_notebooks_renders_offline_html(tmp_path):
    for i in (1, 2):
        (tmp_path / f"0{i}_tiny.py").write_text(TINY.replace("# # 1. Tiny", f"# # {i}. Tiny {i}"))
    (tmp_path / "model").mkdir()
    out = pipeline.run_report({"run_name": "t", "train": False, "seed": 5, "model_dir": str(tmp_path / "model")},
                       output_dir=tmp_path / "run", progress=False, pdf=False,
                       notebooks=sorted(tmp_path.glob("0*_tiny.py")))
    page = (out / "report.html").read_text()
    slides = (out / "slides.html").read_text()
    for doc in (page, slides):
        # nothing loads from elsewhere: no script or link with a src/href (all inlined), no URL
        # to http(s) in the markup outside the inlined scripts, no CDN
        assert not re.search(r"<(script|link)[^>]*(src|href)\s*=", doc)
        markup = re.sub(r"<script[^>]*>.*?</script>", "", doc, flags=re.S)
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)
        assert "cdnjs" not in doc and "unpkg.com" not in doc
        assert "MathJax" in doc
        assert "run t seed 5" in doc
    assert "Reveal.initialize" in slides and "print-pdf" in slides
    # code hidden, parameters cells gone
    assert "value = 6 * 7" not in page and "injected-parameters" not in page
    # title and table of contents with links to both notebooks' headings
    toc = re.search(r'<nav id="fer-toc".*?</nav>', page, flags=re.S).group(0)
    assert "1. Tiny 1" in toc and "2. Tiny 2" in toc and "A section" in toc
    for anchor in re.findall(r'href="#([^"]+)"', toc):
        assert f'id="{anchor}"' in page
    assert json.loads((out / "timings.json").read_text()).keys() >= {"01_tiny", "02_tiny", "render_html"}


def _executed_run(folder: Path, **recorded) -> Path:
    """A run folder as `fer report` leaves it, without running a kernel: two executed notebooks with
    an output per language (as ``i18n.display_each`` marks them), params.yaml and timings.json."""
    folder.mkdir(parents=True)
    for i in (1, 2):
        nb = nbformat.v4.new_notebook(cells=[
            _cell("markdown", f"# {i}. Chapter {i}", ["lang-en"], slide="slide"),
            _cell("markdown", f"# {i}. Bölüm {i}", ["lang-tr"], slide="slide"),
            _cell("code", "show()", outputs=[_display(f"english output {i}", "en"), _display(f"türkçe çıktı {i}", "tr")],
                  slide="-")])
        nbformat.write(nb, folder / f"0{i}_chapter.ipynb")
    (folder / "05_experiments.ipynb").write_text("not read: the run named no sweep")
    p = {"run_name": "t", "train": False, "seed": 5, "model_dir": "/elsewhere/models/default", **recorded}
    (folder / "params.yaml").write_text(yaml.safe_dump(p))
    (folder / "timings.json").write_text(json.dumps({"01_chapter": 1.0, "02_chapter": 2.0, "total": 3.0}))
    return folder


def test_render_only_renders_an_executed_run_in_the_language_of_p_without_running_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(render, "find_chromium", lambda: None)  # HTML only: the PDFs are test_pipeline's
    run = _executed_run(tmp_path / "run")
    before = {path.name: path.stat().st_mtime_ns for path in run.glob("*.ipynb")}
    profile = write_params(tmp_path, train=False, model_dir=str(tmp_path))
    assert pipeline.run_report_cli(str(profile), [("language", "tr"), ("author", "Ada Yılmaz")], str(run),
                                   only_render=True) == 0
    printed = capsys.readouterr().out.splitlines()
    assert str(run / "tr" / "report.html") in printed and str(run / "tr" / "slides.html") in printed
    page = (run / "tr" / "report.html").read_text()
    assert "FER+ üzerinde yüz ifadesi tanıma" in page and "Ada Yılmaz" in page   # title block, -p author
    assert "türkçe çıktı 2" in page and "Bölüm 1" in page and "english output" not in page
    assert "<td>t</td>" in page and "default" in page                          # the run's recorded params
    assert "tohum 5" not in page  # the report's seed picks faces; a model's seed comes from its own records
    assert "türkçe çıktı 1" in (run / "tr" / "slides.html").read_text()
    assert not (run / "report.html").exists()                                     # English not asked for
    assert {path.name: path.stat().st_mtime_ns for path in run.glob("*.ipynb")} == before  # nothing executed
    assert "render_html_tr" in json.loads((run / "timings.json").read_text())


def test_render_only_needs_an_executed_run_and_says_so_in_one_line(tmp_path, capsys):
    profile = str(write_params(tmp_path))
    assert pipeline.run_report_cli(profile, [], str(tmp_path / "never-run"), only_render=True) == 2
    err = capsys.readouterr().err
    assert err.startswith("fer report: error: no executed run in") and err.count("\n") == 1
    (tmp_path / "empty").mkdir()
    assert pipeline.run_report_cli(profile, [], str(tmp_path / "empty"), only_render=True) == 2
    assert "no executed notebooks" in capsys.readouterr().err
    run = _executed_run(tmp_path / "failed")
    (run / "timings.json").write_text(json.dumps({"01_chapter": 1.0}))  # 02 failed in the last run
    with pytest.raises(FerError, match="02_chapter.ipynb .* did not finish"):
        pipeline.render_only(profile, output_dir=run, pdf=False)
    with pytest.raises(FerError, match="language must be one of"):
        pipeline.render_only(profile, {"language": "de"}, output_dir=tmp_path / "never-run")


def test_cli_render_only_is_wired_and_fails_in_one_line(tmp_path, capsys):
    from fer_helpers import cli

    args = cli.build_parser().parse_args(["report", "--render-only", "-p", "language", "tr", "--out", "o"])
    assert args.render_only and args.param == [["language", "tr"]] and args.out == "o"
    assert not cli.build_parser().parse_args(["report"]).render_only
    code = cli.main(["report", "--render-only", "--params", str(write_params(tmp_path)), "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err and "no executed run" in err


def test_missing_assets_fail_before_running_anything(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_REPORT_ASSETS", str(tmp_path / "nowhere"))
    with pytest.raises(FerError, match="install_report_tools.sh"):
        pipeline.run_report(write_params(tmp_path), output_dir=tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_inline_css_embeds_fonts_and_imports(tmp_path):
    (tmp_path / "fonts").mkdir()
    (tmp_path / "fonts" / "f.woff").write_bytes(b"wOFF0000")
    (tmp_path / "fonts" / "f.css").write_text(
        "@font-face { font-family: 'F'; src: url('f.eot'); src: url('f.eot?#iefix') format('embedded-opentype'),"
        " url('f.woff') format('woff'), url('f.ttf') format('truetype'); }")
    (tmp_path / "main.css").write_text("@import url(fonts/f.css);\nbody { background: url(missing.png); }")
    css = render.inline_css(tmp_path / "main.css")
    assert "@import" not in css and "data:font/woff;base64," in css
    assert ".eot" not in css and ".ttf" not in css and "missing.png" not in css


# ---------------------------------------------------------------------------------------------
# Languages: the filter, the translation table, the title block

def _cell(kind, source, tags=(), outputs=None, slide=None):
    cell = (nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell)(source)
    cell.metadata["tags"] = list(tags)
    if slide:
        cell.metadata["slideshow"] = {"slide_type": slide}
    if outputs is not None:
        cell.outputs = outputs
    return cell


def _display(text, language=None):
    meta = {i18n.OUTPUT_KEY: language} if language else {}
    return nbformat.v4.new_output("display_data", data={"text/markdown": text}, metadata=meta)


def test_language_filter_keeps_one_language_of_cells_and_outputs():
    nb = nbformat.v4.new_notebook(cells=[
        _cell("markdown", "# Abstract", ["lang-en"]), _cell("markdown", "# Özet", ["lang-tr"]),
        _cell("code", "x", outputs=[_display("neutral"), _display("english", "en"), _display("türkçe", "tr")]),
        _cell("code", "y", outputs=[_display("only english", "en")]),
    ])
    en, tr = render.language_notebook(nb, "en"), render.language_notebook(nb, "tr")
    assert [c.source for c in en.cells] == ["# Abstract", "x", "y"]
    assert [o["data"]["text/markdown"] for o in en.cells[1].outputs] == ["neutral", "english"]
    assert [c.source for c in tr.cells] == ["# Özet", "x"]  # a cell whose outputs were all English is gone
    assert [o["data"]["text/markdown"] for o in tr.cells[1].outputs] == ["neutral", "türkçe"]
    assert len(nb.cells) == 4 and len(nb.cells[2].outputs) == 3  # the input is left alone
    with pytest.raises(ValueError, match="language must be one of"):
        render.language_notebook(nb, "de")


def test_merge_moves_the_abstract_up_and_the_appendix_cells_behind_the_main_text(tmp_path):
    first = nbformat.v4.new_notebook(cells=[_cell("markdown", "# Intro", ["lang-en"]),
                                            _cell("markdown", "# Giriş", ["lang-tr"]), _cell("markdown", "text"),
                                            _cell("markdown", "## Pixels", ["lang-en", "appendix"]),
                                            _cell("markdown", "## Pikseller", ["lang-tr", "appendix"])])
    last = nbformat.v4.new_notebook(cells=[_cell("markdown", "# Conclusion", ["lang-en"]),
                                           _cell("markdown", "# Abstract", ["lang-en", "abstract"]),
                                           _cell("markdown", "# Özet", ["lang-tr", "abstract"]),
                                           _cell("markdown", "# Sonuç", ["lang-tr"]),
                                           _cell("markdown", "detail", ["appendix"])])
    paths = []
    for name, nb in (("01_a", first), ("02_b", last)):
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
        paths.append(tmp_path / f"{name}.ipynb")
    merged = render.merge_notebooks(paths, {"run_name": "r", "model_dir": "m", "seed": 1, "author": "Ada Yılmaz"})
    for language, expected in (("en", ["title", "# Abstract", "toc", "# Intro", "text", "# Conclusion",
                                       "# Appendices", "## Pixels", "detail"]),
                               ("tr", ["title", "# Özet", "toc", "# Giriş", "text", "# Sonuç",
                                       "# Ekler", "## Pikseller", "detail"])):
        doc = render.report_notebook(render.language_notebook(merged, language))  # the slides' title page left out
        order = ["title" if "title" in c.metadata["tags"] else "toc" if "toc" in c.metadata["tags"] else c.source
                 for c in doc.cells]
        assert order == expected, (language, order)
        breaks = [c.source for c in doc.cells if "page-break" in c.metadata["tags"]]
        assert breaks == [expected[6]]  # the main text runs on; the appendices start a page
        assert "Ada Yılmaz" in doc.cells[0].source


def test_slides_keep_the_notebooks_order_when_the_report_moves_a_cell_to_its_appendix(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[_cell("markdown", "# One", slide="slide"),
                                         _cell("markdown", "## Pairs", ["appendix"], slide="slide"),
                                         _cell("markdown", "## Takeaways", slide="slide")])
    nbformat.write(nb, tmp_path / "01_a.ipynb")
    merged = render.merge_notebooks([tmp_path / "01_a.ipynb"], {"run_name": "r", "model_dir": "m", "seed": 1})
    report = [c.source for c in render.language_notebook(merged, "en").cells]
    assert report.index("## Pairs") > report.index("## Takeaways")  # the report: in its appendix
    deck = [c.source for c in render.slides_notebook(render.language_notebook(merged, "en")).cells]
    assert deck[-3:] == ["# One", "## Pairs", "## Takeaways"]  # the slides: where the notebook had it


def test_floats_are_numbered_in_reading_order_and_named_in_the_language():
    nb = nbformat.v4.new_notebook(cells=[
        _cell("markdown", "As {@fig:curves} and {@tab:scores} show, and {@fig:faces} too."),
        _cell("markdown", "{tab:scores} Scores."),
        _cell("markdown", "{fig:faces} Faces."),
        _cell("markdown", "{fig:curves} Curves, after {@fig:faces}."),
    ])
    code = nbformat.v4.new_code_cell("")
    code.outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<p>{fig:late} late</p>",
                                                                  "text/plain": "x"})]
    nb.cells.append(code)
    en = render.number_floats(nb, "en")
    assert en.cells[0].source == "As Figure 2 and Table 1 show, and Figure 1 too."
    assert en.cells[1].source == "**Table 1.** Scores." and en.cells[3].source == "**Figure 2.** Curves, after Figure 1."
    assert en.cells[4].outputs[0]["data"]["text/html"] == "<p><strong>Figure 3.</strong> late</p>"
    assert render.number_floats(nb, "tr").cells[0].source == "As Şekil 2 and Tablo 1 show, and Şekil 1 too."
    assert nb.cells[0].source.startswith("As {@fig:curves}")  # the input is left alone
    with pytest.raises(FerError, match="fig:missing, which no caption defines"):
        render.number_floats(nbformat.v4.new_notebook(cells=[_cell("markdown", "see {@fig:missing}")]))
    with pytest.raises(FerError, match="captioned twice"):
        render.number_floats(nbformat.v4.new_notebook(cells=[_cell("markdown", "{fig:a} x"), _cell("markdown", "{fig:a} y")]))


def test_title_block_shows_the_set_parameters_in_the_language():
    base = {"run_name": "full", "model_dir": "/x/models/default", "seed": 42, "train": False, "eval_subset": None}
    en = render.title_cell_source({**base, "author": "Ada", "course": "BİL 401", "instructor": "", "date": "2026-11-26"})
    assert en.startswith("# Facial expression recognition on FER+") and "Ada" in en and "BİL 401" in en
    assert "2026-11-26" in en and "fer-instructor" not in en and "/x/models" not in en
    tr = render.title_cell_source({**base, "title": ""}, "tr")
    assert tr.startswith("# FER+ üzerinde yüz ifadesi tanıma") and "projeyle gelen model" in tr
    assert render.title_cell_source({**base, "title": "Bitirme projesi"}, "tr").startswith("# Bitirme projesi")


def test_translation_table():
    assert i18n.t("images", "en") == "images" and i18n.t("images", "tr") == "görüntü"
    assert i18n.class_names(["anger", "contempt", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"],
                            "tr") == ["öfke", "küçümseme", "iğrenme", "korku", "mutluluk", "nötr", "üzüntü", "şaşkınlık"]
    assert i18n.t("Reliability diagram (ECE = {ece:.3f})", "tr").format(ece=0.05) == "Güvenilirlik diyagramı (ECE = 0.050)"
    with pytest.raises(KeyError, match="no Turkish"):
        i18n.t("a label nobody translated", "tr")
    assert (i18n.pct(0.862, "en"), i18n.pct(0.862, "tr")) == ("86.2%", "%86,2")
    assert (i18n.num(3137, "en"), i18n.num(3137, "tr"), i18n.num(0.7201, "tr", 3)) == ("3,137", "3.137", "0,720")
    # every entry keeps the placeholders of its English key
    for english, turkish in i18n.TURKISH.items():
        assert re.findall(r"{\w+", english) == re.findall(r"{\w+", turkish), english


@pytest.mark.parametrize("overrides, message", [
    ({"language": "de"}, "language must be one of en, tr"),
    ({"author": "two\nlines"}, "author must be one line"),
    ({"course": ["a"]}, "course must be str"),
])
def test_language_and_title_block_parameters_are_checked(tmp_path, overrides, message):
    with pytest.raises(FerError, match=re.escape(message)):
        params.load_profile(write_params(tmp_path), overrides)


def test_title_block_parameters_default_empty_and_keep_a_date_as_written(tmp_path):
    p = params.load_profile(write_params(tmp_path))
    assert p["language"] == "en" and all(p[k] == "" for k in params.TITLE_BLOCK)
    path = tmp_path / "dated.yaml"
    path.write_text(write_params(tmp_path).read_text() + "date: 2026-11-26\ncourse: null\n")
    p = params.load_profile(path)
    assert p["date"] == "2026-11-26" and p["course"] == ""


def test_benchmark_results_strip_machine_paths_and_tolerate_missing_files(tmp_path):
    from fer_helpers import paper

    (tmp_path / "detectors.txt").write_text("100 scenes; command: python benchmarks/detectors.py --seed 7\n\ntable\ndone\n")
    (tmp_path / "framing_calibration.txt").write_text("command: python x.py\nfigure: /tmp/det/out/framing.png\n")
    got = {item["file"].split("/")[-1]: item for item in paper.benchmark_results(tmp_path)}
    assert got["detectors.txt"]["command"] == "python benchmarks/detectors.py --seed 7"
    assert got["detectors.txt"]["text"] == "100 scenes\n\ntable"
    assert got["framing_calibration.txt"]["text"] == "figure: framing.png"
    assert got["framing_calibration.txt"]["figure"] is None  # its PNG is not there
    assert got["speed.md"]["missing"] and got["speed.md"]["text"] is None
    assert got["photo_path.txt"]["missing"] and "photo_path.py" in got["photo_path.txt"]["command"]
    committed = paper.benchmark_results()  # the project's own results: no machine path survives
    assert not any(re.search(r"(?<![\w.])/(tmp|home|work|root|usr)/", item["text"] or "") for item in committed)


def test_benchmark_results_read_in_turkish_from_the_same_files():
    """Every line of prose and every table header of the committed results has its Turkish (a new
    column or note raises KeyError here), no Turkish header is cut, English stays as printed."""
    from fer_helpers import paper

    shown = [item for item in paper.benchmark_results() if not item["missing"]]
    assert shown, "the committed benchmark results are gone"
    for item in shown:
        assert turkish_results.benchmark_text(item["text"], "en") == item["text"]
        turkish = turkish_results.benchmark_text(item["text"], "tr")
        assert len(turkish.splitlines()) == len(item["text"].splitlines()), item["file"]
        for english, translated in zip(item["text"].splitlines(), turkish.splitlines()):
            if turkish_results._is_table_header(english):
                for column in turkish_results._header_columns(english, ""):
                    assert column.text in translated, (item["file"], column.text, translated)
    tables = "\n".join(turkish_results.benchmark_text(item["text"], "tr") for item in shown)
    for english in ("recall %", "false/img", "median", "acc found %", "figure", "target", "faces/s"):
        assert english not in tables, english
    with pytest.raises(KeyError, match="BENCHMARK_LINES_TR"):
        turkish_results.benchmark_text("a note nobody translated", "tr")
    with pytest.raises(KeyError, match="BENCHMARK_WORDS_TR"):
        turkish_results.benchmark_text("detector   a new column\nhaar            1.0", "tr")


def test_a_note_under_a_table_is_prose_even_when_it_starts_like_a_header():
    """``search ms: ...`` explains a column of the table above it: translated as a line of prose,
    not taken for the header of a new table (``search`` opens tables too)."""
    english = ("search          recall %\n"
               "default             94.2\n"
               "search ms: the search's processor time per photo (time.process_time), without the checks")
    header, row, note = turkish_results.benchmark_text(english, "tr").splitlines()
    assert header.startswith("arama") and row.startswith("varsayılan") and row.endswith("94,2")
    assert note.startswith("arama ms: aramanın fotoğraf başına işlemci süresi")
    first, _, last = english.splitlines()
    assert turkish_results._is_table_header(first) and not turkish_results._is_table_header(last)


def test_benchmark_tables_in_turkish_keep_their_columns_lined_up():
    english = ("path                    recall % acc found %\n"
               "haar, 20% margin (old)      60.3        84.5\n"
               "blazeface, not turned      100.0         9.0")
    header, first, second = turkish_results.benchmark_text(english, "tr").splitlines()
    assert header.startswith("yol ") and header.endswith("bulma % doğr. bulunan %")  # widened, not cut
    assert first.startswith("haar, %20 pay (eski)  ") and second.startswith("blazeface, döndürülmeden")
    for row, value in ((first, "60,3"), (second, "100,0")):  # right-aligned numbers end under their header
        assert row.index(value) + len(value) == header.index("bulma %") + len("bulma %")
    assert len(header) == len(first) == len(second)


def test_committed_benchmark_results_read_as_paragraphs_markdown_and_frames_in_both_languages():
    import pandas as pd

    from fer_helpers import paper

    shown = [item for item in paper.benchmark_results() if not item["missing"]]
    assert shown, "the committed benchmark results are gone"
    frames = markdown = 0
    for item in shown:
        english, turkish = (turkish_results.benchmark_blocks(item["text"], lang) for lang in ("en", "tr"))
        assert english and len(english) == len(turkish), item["file"]
        for en, tr in zip(english, turkish):   # block for block: one paper in two languages
            assert type(en) is type(tr) and isinstance(en, (str, pd.DataFrame)), item["file"]
            if isinstance(en, pd.DataFrame):
                frames += 1
                assert en.shape == tr.shape and en.shape[0] > 0 and en.shape[1] >= 2, item["file"]
                assert all(isinstance(v, str) for v in en.to_numpy().ravel())
                assert all(en.columns) and en.columns.is_unique, (item["file"], list(en.columns))
            else:
                assert en.strip() and "\n\n" not in en, item["file"]
                if en.startswith("|"):
                    markdown += 1
                    assert tr.startswith("|") and all(ln.startswith("|") for ln in en.splitlines() + tr.splitlines())
                    assert len(tr.splitlines()) == len(en.splitlines()) and tr.splitlines()[0] != en.splitlines()[0]
                    assert tr.count("|") == en.count("|")   # the same cells, in Turkish
                else:  # a paragraph: its lines joined into one
                    assert "\n" not in en and "\n" not in tr
    assert frames >= 10 and markdown >= 1


def test_photo_path_table_is_cut_into_its_columns_and_translated():
    from fer_helpers import paper

    item = next(i for i in paper.benchmark_results() if i["file"] == "benchmarks/results/photo_path.txt")
    if item["missing"]:
        pytest.skip("benchmarks/results/photo_path.txt is not committed")
    english, turkish = (turkish_results.benchmark_blocks(item["text"], lang) for lang in ("en", "tr"))
    en = next(b for b in english if not isinstance(b, str))
    tr = next(b for b in turkish if not isinstance(b, str))
    assert list(en.columns[:3]) == ["path", "recall %", "false/img"] and en.shape[0] == 5
    assert "blazeface, aligned (default)" in en.iloc[:, 0].tolist()
    assert tr.iloc[-1, 0] == "titiz, hizalı" and en.iloc[-1, 0] == "accurate, aligned"
    assert en.loc[en["path"] == "blazeface, aligned (default)", "recall %"].item() == "94.7"
    assert tr.shape == en.shape and list(tr.columns[:3]) == ["yol", "bulma %", "hata/foto"]
    assert "blazeface, hizalı (varsayılan)" in tr.iloc[:, 0].tolist() and tr.iloc[2, 1] == "94,7"
    assert isinstance(english[0], str) and english[0].startswith("300 photos")
    assert turkish[0].startswith("300 fotoğraf")
    # a note of two lines (the second indented) is one paragraph
    assert any(b.startswith("CPU ms: median") and "and unlike wall time" in b for b in english if isinstance(b, str))


def test_fixed_width_tables_split_on_wide_gaps_only():
    merged = turkish_results.fixed_width_frame([
        "pyramid      measured on  threshold",
        "default               12    default",
        "                      11        0.3"])
    # "measured" stands over no values: it belongs to the column beneath "on"
    assert list(merged.columns) == ["pyramid", "measured on", "threshold"]
    assert merged.values.tolist() == [["default", "12", "default"], ["", "11", "0.3"]]
    single = turkish_results.fixed_width_frame([
        "  id             recall %  faces",
        "  big face           60.3     12",
        "  old face, kept     94.7      3"])
    # one space in every row is not a column gap; the common indent goes
    assert list(single.columns) == ["id", "recall %", "faces"]
    assert single["id"].tolist() == ["big face", "old face, kept"] and single["faces"].tolist() == ["12", "3"]


def test_params_table_shows_lists_and_nothing_the_way_a_reader_scans_them():
    from fer_helpers import paper

    values = {"model": "wide", "epochs": 40, "dropout": 0.3, "teachers": ["runs/a", "runs/b"], "scales": [1, 2],
              "teacher": None, "extra": [], "augment": True}
    en = paper.params_table(values, "en")
    assert en.index.name == "parameter" and list(en.columns) == ["value"] and list(en.index) == list(values)
    assert en["value"].tolist() == ["wide", "40", "0.3", "runs/a, runs/b", "1, 2", "–", "–", "True"]
    tr = paper.params_table(values, "tr")
    assert tr.index.name == "parametre" and list(tr.columns) == ["değer"]
    assert tr["değer"].tolist() == en["value"].tolist()
    assert "nan" not in en.to_string() and "[]" not in en.to_string() and "None" not in en.to_string()


def test_numbers_are_written_the_way_each_language_writes_them():
    """One rule for prose, figures and the notebooks' tables (pandas' Styler takes ``formatter``)."""
    import pandas as pd

    assert i18n.pct(0.862, "tr") == "%86,2" and i18n.pct(0.862, "en") == "86.2%"
    assert i18n.num(3137, "tr") == "3.137" and i18n.num(3137, "en") == "3,137"
    assert i18n.formatter("+.2%", "tr")(-0.0123) == "-%1,23"
    table = pd.DataFrame({"accuracy": [0.862, float("nan")]})
    html = table.style.format(i18n.formatter(".1%", "tr"), na_rep="–").to_html()
    assert "%86,2" in html and "–" in html and "86.2" not in html


def test_a_runs_status_reads_in_turkish_whatever_its_epochs():
    assert i18n.run_status("interrupted after epoch 3/20", "tr") == "epok 3/20 sonrası kesildi"
    assert i18n.run_status("running, epoch 4/20", "tr") == "çalışıyor, epok 4/20"
    assert i18n.run_status("failed: notebook 02_training.py: cell 3 failed", "tr").startswith("başarısız: notebook")
    assert [i18n.run_status(s, "tr") for s in ("finished", "not started")] == ["bitti", "başlamadı"]
    assert i18n.run_status("finished", "en") == "finished"


# ---------------------------------------------------------------------------------------------
# The committed reports read as papers

def _pages(pdf: Path) -> list[str]:
    import subprocess

    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


@pytest.mark.parametrize("folder, references", [("reports", "References"), ("reports/tr", "Kaynaklar")])
def test_committed_report_has_a_main_text_of_at_most_20_pages(folder, references):
    pages = _pages(PROJECT / folder / "report.pdf")
    # the contents name the references too: their heading is the last line that says only that
    heading = max(i for i, page in enumerate(pages, start=1) if re.search(rf"^\s*{references}\s*$", page, re.M))
    assert heading <= 21, f"{folder}/report.pdf: the main text runs to page {heading - 1}, more than 20"
    body = "\n".join(pages)
    # "session" alone is ONNX Runtime's word for a loaded model (the speed tables); a work session is "this session"
    work = r"issue\s+\d|issue's|\b(this|next|previous|last|later|earlier|one|a)\s+(work\s+)?session\b(?!\s+of\s+\d)"
    assert not re.search(work, body, re.I), "the report names the project's own work items"
    assert not re.search(r"\{@?(fig|tab):", body)  # every caption and reference resolved
    figure, table = ("Figure", "Table") if folder == "reports" else ("Şekil", "Tablo")
    assert re.search(rf"{figure} 1\.", body) and re.search(rf"{table} 1\.", body)
