"""Parameters: the profiles that drive the notebooks, ``-p`` overrides, and the one place that checks them.

A *profile* (``notebooks/params/smoke.yaml``, ``full.yaml``) holds the notebook parameters
(``PARAMETERS``) and a ``training`` section (``DEFAULTS``). ``fer report``, ``fer train``, ``fer
sweep``, the notebooks and ``scripts/ship_model.py`` all read and check them here, so a value of
the wrong type or out of range fails with one line naming it before anything is written:

- ``load_params``: read a YAML file (a profile, a sweep file, a model folder's params.yaml);
- ``training_params``: the ``training`` section over ``DEFAULTS``, every value checked;
- ``load_profile``: a profile with ``-p`` overrides applied (``parse_overrides``,
  ``apply_overrides``) and checked (``check_params``);
- ``run_paths``: where a run reads and writes. One rule for every way a notebook runs (``fer
  report``, papermill from any folder, JupyterLab in ``notebooks/``): the defaults live in the
  project (``reports/<run_name>``, ``models/default``), never in the working directory; a
  relative path a user gives is taken from the working directory, else from the project. The
  project is the checkout the notebook or command was started in (``data.working_project``: a
  second clone writes into itself), else the one the package comes from.
  ``notebook_parameters`` adds the checks ``fer report`` makes before its first notebook.
- ``use_profile``: ``FER_PROFILE=smoke`` (a profile name or a params file) chooses the profile of
  a notebook run by hand (JupyterLab, papermill) without editing a tracked file.

This module imports neither Keras nor papermill: checking parameters is instant.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import os
import re
from pathlib import Path

import yaml

from .data import PROJECT_ROOT, display_path, working_project
from .errors import FerError
from .i18n import LANGUAGES

PARAMS_DIR = PROJECT_ROOT / "notebooks" / "params"

DEFAULTS: dict = {
    "model": "default",          # default | baseline | wide (default at 1.5x width, 3.5M parameters)
                                 # | narrow_stem (default with a 16-channel first block: faster on a CPU)
    "augment": "default",        # none | seed | default | strong (default + blur, JPEG, erasing)
                                 # | camera (default + blur, JPEG, fewer pixels, noise; augment_in: batches)
    "augment_in": "model",       # model (Keras layers in the network) | batches (OpenCV in the input pipeline: for JAX on a GPU)
    "dropout": 0.5,              # dense layer's rate, conv blocks scale with it; full.yaml: 0.3
    "labels": "distribution",    # distribution (soft FER+ votes) | majority (hard)
    "imbalance": "class_weight", # none | class_weight | sampling | logit_adjusted (the loss shifts the
                                 # logits by tau * log(prior), Menon et al. 2021; no class weights then)
    "class_weight_power": 0.3,   # weight = (n_max / n_class) ** power; 1 = fully balanced
    "logit_adjust_tau": 1.0,     # imbalance: logit_adjusted's tau (1: balanced softmax)
    "epochs": 50,
    "batch_size": 128,
    "learning_rate": 0.002,
    "weight_decay": 0.01,
    "warmup_epochs": 1,
    "patience": 15,
    "monitor": "val_accuracy",   # val_accuracy | val_macro_f1
    "train_subset": None,
    "valid_subset": None,
    "strategy": "auto",          # auto | default | mirrored | one_device
    "precision": "auto",         # auto (bfloat16 where the hardware has it) | float32 | mixed_bfloat16
    "seed": 42,
    "evaluate_test": True,       # measure the test split once, with the best epoch, at the end
    # Levers of the accuracy study, off by default (so the shipped recipe and its runs stay what they were):
    "ema": 0.0,                  # momentum of an exponential moving average of the weights (0: off; e.g. 0.999)
    "mixup": 0.0,                # mixup's Beta(alpha, alpha) on images and soft labels (0: off; e.g. 0.2)
    "label_smoothing": 0.0,      # mixes each target with the uniform distribution (0: off)
    "teachers": [],              # trained model folders to distil from (distill.py; []: off)
    "teacher_weight": 0.5,       # share of the teachers' mean probabilities in each target
    "init_from": None,           # a trained model folder of the same network to start from (fine-tuning; null: random)
}

MODELS = ("default", "baseline", "wide", "narrow_stem")  # model.BUILDERS' names (model imports Keras; this module must not)
CHOICES = {
    "model": MODELS, "augment": ("none", "seed", "default", "strong", "camera"), "augment_in": ("model", "batches"),
    "labels": ("distribution", "majority"), "imbalance": ("none", "class_weight", "sampling", "logit_adjusted"),
    "monitor": ("val_accuracy", "val_macro_f1"), "strategy": ("auto", "default", "mirrored", "one_device"),
    "precision": ("auto", "float32", "mixed_bfloat16"),
}
#: Numeric parameters: (kind, lowest, highest, lowest allowed?, highest allowed?, may be null?).
RANGES = {
    "dropout": ("number", 0, 1, True, False, False),
    "class_weight_power": ("number", 0, 10, True, True, False),
    "logit_adjust_tau": ("number", 0, 10, True, True, False),
    "epochs": ("integer", 1, 100_000, True, True, False),
    "batch_size": ("integer", 1, 1_000_000, True, True, False),
    "learning_rate": ("number", 0, 10, False, True, False),
    "weight_decay": ("number", 0, 10, True, True, False),
    "warmup_epochs": ("integer", 0, 100_000, True, True, False),
    "patience": ("integer", 1, 100_000, True, True, False),
    "train_subset": ("integer", 1, 10**9, True, True, True),
    "valid_subset": ("integer", 1, 10**9, True, True, True),
    "seed": ("integer", 0, 2**32 - 1, True, True, False),
    "ema": ("number", 0, 1, True, False, False),
    "mixup": ("number", 0, 10, True, True, False),
    "label_smoothing": ("number", 0, 1, True, False, False),
    "teacher_weight": ("number", 0, 1, True, True, False),
}


def load_params(path: str | os.PathLike) -> dict:
    """Read a params YAML (a profile file); one-line errors when it is missing or malformed."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
        params = yaml.safe_load(text)
    except FileNotFoundError:
        raise FerError(f"params file not found: {path}") from None
    except IsADirectoryError:
        raise FerError(f"{path}: a folder, not a params file") from None
    except OSError as exc:
        raise FerError(f"{path}: cannot read params file ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise FerError(f"{path}: not UTF-8 text (byte {exc.start}); save the params file as UTF-8") from None
    except yaml.YAMLError as exc:
        raise FerError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # PyYAML constructors
        raise FerError(f"{path}: not a valid params file ({exc.__class__.__name__}: {str(exc)[:100]})") from None
    if not isinstance(params, dict):
        raise FerError(f"{path}: expected a mapping of parameters")
    return params


def _check_number(key: str, value, spec) -> None:
    kind, lo, hi, lo_ok, hi_ok, nullable = spec
    if value is None and nullable:
        return
    is_int = isinstance(value, int) and not isinstance(value, bool)
    is_number = is_int or (isinstance(value, float) and math.isfinite(value))
    ok = is_int if kind == "integer" else is_number
    if ok:
        ok = (lo <= value if lo_ok else lo < value) and (value <= hi if hi_ok else value < hi)
    if not ok:
        bounds = f"{'[' if lo_ok else '('}{lo}, {hi}{']' if hi_ok else ')'}"
        null = " or null" if nullable else ""
        raise FerError(f"training.{key} must be {'an integer' if kind == 'integer' else 'a number'} "
                       f"in {bounds}{null}, got {value!r}")


def run_training_params(params: dict | None, out: str | os.PathLike, resume: bool,
                        overrides: dict) -> tuple[dict | None, dict]:
    """``(params, overrides)`` that ``fer train --out OUT`` trains with: a resumed run keeps the
    parameters it started with (``OUT/params.yaml``); only its length (epochs, patience) may change.

    Here, not in ``training``, so ``fer train`` checks them before it imports TensorFlow."""
    recorded = Path(out) / "params.yaml"
    if resume and recorded.is_file():
        return load_params(recorded), {k: v for k, v in overrides.items() if k in ("epochs", "patience")}
    return params, overrides


def training_params(params: dict | None = None, **overrides) -> dict:
    """Complete and check training parameters: the profile's ``training`` section over DEFAULTS.

    Every parameter's type and range is checked here, once; ``FerError`` names the first bad one.
    """
    params = dict(params or {})
    section = params.get("training", params)
    if section is None:
        section = {}
    if not isinstance(section, dict):
        raise FerError(f"training must be a mapping of parameters, got {type(section).__name__}")
    if "seed" in params and "seed" not in section:
        section = {**section, "seed": params["seed"]}
    merged = {**DEFAULTS, **section, **{k: v for k, v in overrides.items() if v is not None}}
    unknown = sorted(repr(k) for k in set(merged) - set(DEFAULTS))
    if unknown:
        raise FerError(f"unknown training parameter(s): {', '.join(unknown)}; known: {', '.join(DEFAULTS)}")
    for key, choices in CHOICES.items():
        if not isinstance(merged[key], str) or merged[key] not in choices:
            raise FerError(f"training.{key} must be one of {', '.join(choices)}, got {merged[key]!r}")
    for key, spec in RANGES.items():
        _check_number(key, merged[key], spec)
    teachers = merged["teachers"]
    if not isinstance(teachers, list) or not all(isinstance(t, str) and t for t in teachers):
        raise FerError(f"training.teachers must be a list of model folders, got {teachers!r}")
    if merged["augment"] == "camera" and merged["augment_in"] != "batches":
        raise FerError("training.augment: camera is done by the input pipeline alone; set training.augment_in: batches")
    if merged["init_from"] is not None and not (isinstance(merged["init_from"], str) and merged["init_from"]):
        raise FerError(f"training.init_from must be a model folder or null, got {merged['init_from']!r}")
    if not isinstance(merged["evaluate_test"], bool):
        raise FerError(f"training.evaluate_test must be true or false, got {merged['evaluate_test']!r}")
    return merged


# ---------------------------------------------------------------------------------------------
# Profiles: the notebook parameters

#: The notebooks' parameters (every notebook takes all of them but those of ``OWN_PARAMETERS``):
#: name -> (allowed types, meaning).
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
                                      "(null: reports/<run_name> in the project)"),
    "experiments": ((str, list, type(None)), "sweep folder(s) that 05_experiments shows, e.g. runs/ablations "
                                             "(null: the report has no Experiments chapter)"),
    "language": ((str,), "language of the rendered report and slides: en | tr (the notebooks hold both)"),
    "title": ((str,), "title block: the report's title (empty: the default title, in the report's language)"),
    "author": ((str,), "title block: author(s) (empty: no line)"),
    "course": ((str,), "title block: course (empty: no line)"),
    "instructor": ((str,), "title block: instructor (empty: no line)"),
    "date": ((str,), "title block: date as written, e.g. 2026-11-26 (empty: no line)"),
    "photos": ((str, list, type(None)), "photos, videos or folders of them that 07_your_photos shows "
                                        "(samples: generated ones; null: the report runs no 07)"),
}
#: Parameters that one notebook takes alone: the others are not given them (``pipeline.declared_parameters``).
OWN_PARAMETERS = {"photos": "07_your_photos"}
#: The ``photos`` value that means the generated sample photos and video (``your_photos.write_samples``).
PHOTO_SAMPLES = "samples"
#: The title block's parameters: one line of text each, empty by default.
TITLE_BLOCK = ("title", "author", "course", "instructor", "date")
_REQUIRED = ("run_name", "train", "seed")
_PROFILE_DEFAULTS = {"data_dir": None, "model_dir": None, "eval_subset": None, "tta": False, "training": {},
                     "output_dir": None, "experiments": None, "language": "en", "photos": None,
                     **{key: "" for key in TITLE_BLOCK}}


def parse_overrides(pairs, allow_empty: bool = True) -> dict:
    """``[(key, value), ...]`` from ``-p key value`` into a dict, each value parsed as YAML
    (``true``, ``3``, ``null``, ``[1, 2]`` ...). ``training.epochs`` style keys are kept dotted.

    ``allow_empty=False`` (``fer train``) refuses an empty value: YAML reads it as null, which a
    training parameter ignores, so ``-p epochs ""`` would silently train the profile's epochs.
    (``fer report`` allows it: ``-p author ""`` clears a title line.)"""
    out = {}
    for pair in pairs or []:
        if len(pair) != 2:
            raise FerError(f"an override is a key and a value, got {pair!r}")
        key, value = pair
        if not allow_empty and isinstance(value, str) and not value.strip():
            raise FerError(f"-p {key}: the value is empty; give one (e.g. -p {key} 5), or leave -p {key} out")
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
    params = {**_PROFILE_DEFAULTS, **params}
    if params["training"] is None:
        params["training"] = {}
    for key in TITLE_BLOCK:  # YAML reads an unquoted 2026-11-26 as a date, 2026 as a number: keep them as written
        if params[key] is None:
            params[key] = ""
        elif isinstance(params[key], (dt.date, int, float)) and not isinstance(params[key], bool):
            params[key] = str(params[key])
    for key, (types, meaning) in PARAMETERS.items():
        value = params[key]
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok:
            names = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise FerError(f"{source}: {key} must be {names} ({meaning}), got {value!r}")
    params["training"] = dict(params["training"])
    if params["language"] not in LANGUAGES:
        raise FerError(f"{source}: language must be one of {', '.join(LANGUAGES)}, got {params['language']!r}")
    for key in TITLE_BLOCK:
        if "\n" in params[key] or len(params[key]) > 200:
            raise FerError(f"{source}: {key} must be one line of at most 200 characters, got {params[key][:40]!r}...")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", params["run_name"]):
        raise FerError(f"{source}: run_name must be a folder name (letters, digits, . _ -), got {params['run_name']!r}")
    if params["eval_subset"] is not None and params["eval_subset"] < 1:
        raise FerError(f"{source}: eval_subset must be a positive number of images or null, got {params['eval_subset']}")
    photos = params["photos"]
    if isinstance(photos, list) and not all(isinstance(item, str) and item.strip() for item in photos):
        raise FerError(f"{source}: photos must be a path or a list of paths, got {photos!r}")
    if not params["train"] and params["model_dir"] is None:
        raise FerError(f"{source}: with train: false, model_dir must name the model folder to report on")
    training_params({"training": params["training"], "seed": params["seed"]})  # same checks as `fer train`
    return params


def resolve_params_file(path: str | os.PathLike | None) -> Path:
    """The params file: as given, else relative to the project (``notebooks/params/full.yaml``),
    else a profile name (``smoke`` -> ``notebooks/params/smoke.yaml``). The project is the checkout
    the working directory lies in (``data.working_project``), then the package's."""
    project = working_project()
    profiles = project / "notebooks" / "params"
    if path is None:
        path = profiles / "full.yaml"
    p = Path(path).expanduser()
    named = [] if p.suffix else [profiles / f"{p}.yaml", PARAMS_DIR / f"{p}.yaml"]
    for candidate in (p, project / p, PROJECT_ROOT / p, *named):
        if candidate.is_file():
            return candidate
    raise FerError(f"params file not found: {p} (profiles: "
                   f"{', '.join(q.stem for q in sorted(profiles.glob('*.yaml'))) or 'none'})")


def load_profile(path: str | os.PathLike | None = None, overrides: dict | None = None) -> dict:
    """Read a profile (a path or a name; default ``full``), apply ``overrides`` and check the result."""
    path = resolve_params_file(path)
    return check_params(apply_overrides(load_params(path), overrides), source=str(path))


# ---------------------------------------------------------------------------------------------
# Paths: one rule for fer report, papermill and JupyterLab

def _resolve_path(value: str | os.PathLike | None, what: str, must_exist: bool = False) -> str | None:
    """Absolute path: as given, else relative to the working directory, else to the project
    (``data.working_project``: the checkout the working directory lies in, else the package's).

    With ``must_exist`` an absolute path is checked too: a missing one must fail here, not in
    a notebook after minutes of work.
    """
    if value is None:
        return None
    p = Path(value).expanduser()
    project = working_project()
    if not p.is_absolute() and not p.exists() and (project / p).exists():
        p = project / p
    if must_exist and not p.exists():
        looked = "" if p.is_absolute() else f" (looked in {Path.cwd()} and {project})"
        raise FerError(f"{what} not found: {p}{looked}")
    # absolute but with its links kept: a ../shared that links elsewhere still reads ../shared in
    # reports (display_path), where the link's target would show one machine's layout
    return os.path.normpath(p.absolute())


def run_paths(run_name: str, data_dir: str | None = None, model_dir: str | None = None,
              output_dir: str | None = None) -> tuple[str | None, str, str]:
    """``(data_dir, model_dir, output_dir)`` of a run, absolute; a ``data_dir`` of None stays None
    (the data set's own search, ``data.default_data_paths``).

    ``output_dir`` None is ``reports/<run_name>`` in the project, ``model_dir`` None the run's own
    ``<output_dir>/model``. A notebook calls this right after its parameters cell, so papermill
    from any folder, JupyterLab and ``fer report`` read and write the same places. The project
    is the checkout the working directory lies in (a notebook's kernel starts in its folder), so
    a notebook of a second clone writes into that clone even when the package imported is the
    first clone's; outside any checkout it is the package's (``data.working_project``).
    """
    out = Path(output_dir).expanduser() if output_dir else working_project() / "reports" / run_name
    out = out.resolve()
    model = _resolve_path(model_dir, "model_dir") if model_dir is not None else str(out / "model")
    return _resolve_path(data_dir, "data_dir"), model, str(out)


def notebook_parameters(params: dict, output_dir: str | os.PathLike | None = None,
                        fresh_model: bool = True) -> dict:
    """The values papermill injects (``run_paths``), after the checks ``fer report`` makes before
    its first notebook: the data and model folders exist, a model to train into holds no run
    (``fresh_model``; ``use_profile`` skips that check, as a notebook run by hand may report on
    the model its profile trained, and training never overwrites a model anyway)."""
    p = copy.deepcopy(params)
    out = output_dir or p.get("output_dir")
    _, _, p["output_dir"] = run_paths(p["run_name"], output_dir=str(out) if out else None)
    p["data_dir"] = _resolve_path(p["data_dir"], "data_dir", must_exist=True)
    if p.get("experiments"):  # sweep folders: absolute, and present before any notebook runs
        folders = [p["experiments"]] if isinstance(p["experiments"], str) else p["experiments"]
        p["experiments"] = [_resolve_path(f, "experiments folder", must_exist=True) for f in folders]
    if p.get("photos") and p["photos"] != PHOTO_SAMPLES:  # 07's photos: absolute, and present now
        items = [p["photos"]] if isinstance(p["photos"], str) else p["photos"]
        p["photos"] = [_resolve_path(item, "photos", must_exist=True) for item in items]
    if p["model_dir"] is None:  # the run's own model, retrained by every run (run_report clears it)
        p["model_dir"] = str(Path(p["output_dir"]) / "model")
        return p
    p["model_dir"] = _resolve_path(p["model_dir"], "model_dir", must_exist=not p["train"])
    if not p["train"] and not Path(p["model_dir"]).is_dir():
        raise FerError(f"model_dir {p['model_dir']} is not a folder (a model folder holds model.keras and labels.json)")
    if not fresh_model:
        return p
    from .training import holds_run

    if p["train"] and holds_run(p["model_dir"]):
        raise FerError(f"{p['model_dir']} already holds a training run; choose another model_dir "
                       "(-p model_dir DIR), another output folder, or -p train false to report on it")
    return p


# ---------------------------------------------------------------------------------------------
# FER_PROFILE: a profile for a notebook run by hand

#: The environment variable that chooses the profile of a notebook run by hand.
PROFILE_ENV = "FER_PROFILE"


class ProfileError(FerError):
    """A ``FerError`` raised in a notebook's kernel: IPython (JupyterLab, papermill's error cell)
    shows ``_render_traceback_``'s one line instead of a wall of traceback."""

    def _render_traceback_(self) -> list[str]:
        return [f"FerError: {self}"]


def profile_parameters(profile: str | os.PathLike) -> tuple[Path, dict]:
    """``(params file, values)``: the values ``fer report --params <profile>`` injects into every
    notebook (``load_profile``, then ``notebook_parameters``: paths absolute, the data and model
    folders checked), except the check that a model to train into holds no run yet."""
    path = resolve_params_file(profile)
    return path, notebook_parameters(load_profile(path), fresh_model=False)


def use_profile(namespace: dict, env: str = PROFILE_ENV) -> Path | None:
    """Replace a notebook's parameter defaults with the profile that ``$FER_PROFILE`` names.

    A notebook's parameters cell ends with ``use_profile(globals(), env="FER_PROFILE")`` (with
    the ``env=``: papermill's ``--help-notebook`` reads a line holding no ``=`` as the end of the
    parameter above it, which would spoil the last default it lists). Unset
    or empty, nothing changes (returns None). Set to a profile name (``smoke``, ``full``: the
    files in ``notebooks/params/``) or to a params file (a path from the working directory, else
    from the project), ``namespace`` gets every notebook parameter of that profile, the values
    ``fer report --params <profile>`` would inject (``profile_parameters``); returns the file.

    The rule: **FER_PROFILE replaces the defaults; papermill's values win.** papermill (``-p``,
    ``-f``, and ``fer report``, which injects every parameter) writes its values in a cell it
    puts right after the parameters cell, so they overwrite, name by name, whatever this call set:
    ``FER_PROFILE=smoke papermill 03_evaluation.ipynb out.ipynb -p eval_subset 20`` is the smoke
    profile evaluating 20 images. No guessing which values were injected is needed.

    In JupyterLab, start it with the variable (``FER_PROFILE=smoke jupyter lab``) or set it in
    the kernel (``%env FER_PROFILE=smoke``) and run the parameters cell again. An unknown
    profile name or a bad params file stops the cell with one line (``ProfileError``, a
    ``FerError``) naming the variable.
    """
    profile = os.environ.get(env, "").strip()
    if not profile:
        return None
    try:
        path, values = profile_parameters(profile)
    except FerError as exc:
        raise ProfileError(f"{env}={profile}: {exc}") from None
    namespace.update(values)
    print(f"{env}={profile}: the parameters of {display_path(path)} (papermill's -p and -f still win)")
    return path
