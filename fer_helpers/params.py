"""Training parameters: their defaults, and the one place that checks them.

``fer train``, ``fer report`` (through ``pipeline.check_params``), the notebooks and
``scripts/ship_model.py`` all go through ``training_params``, so a value that is the wrong type or
out of range fails with one line naming it before anything is written. ``load_params`` reads a
params file (a profile) with the same one-line errors.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import yaml

from .errors import FerError

DEFAULTS: dict = {
    "model": "default",          # default | baseline
    "augment": "default",        # none | seed | default
    "dropout": 0.5,              # dense layer's rate, conv blocks scale with it; full.yaml: 0.3
    "labels": "distribution",    # distribution (soft FER+ votes) | majority (hard)
    "imbalance": "class_weight", # none | class_weight | sampling
    "class_weight_power": 0.3,   # weight = (n_max / n_class) ** power; 1 = fully balanced
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
}

MODELS = ("default", "baseline")  # model.BUILDERS' names (model imports Keras; this module must not)
CHOICES = {
    "model": MODELS, "augment": ("none", "seed", "default"),
    "labels": ("distribution", "majority"), "imbalance": ("none", "class_weight", "sampling"),
    "monitor": ("val_accuracy", "val_macro_f1"), "strategy": ("auto", "default", "mirrored", "one_device"),
    "precision": ("auto", "float32", "mixed_bfloat16"),
}
#: Numeric parameters: (kind, lowest, highest, lowest allowed?, highest allowed?, may be null?).
RANGES = {
    "dropout": ("number", 0, 1, True, False, False),
    "class_weight_power": ("number", 0, 10, True, True, False),
    "epochs": ("integer", 1, 100_000, True, True, False),
    "batch_size": ("integer", 1, 1_000_000, True, True, False),
    "learning_rate": ("number", 0, 10, False, True, False),
    "weight_decay": ("number", 0, 10, True, True, False),
    "warmup_epochs": ("integer", 0, 100_000, True, True, False),
    "patience": ("integer", 1, 100_000, True, True, False),
    "train_subset": ("integer", 1, 10**9, True, True, True),
    "valid_subset": ("integer", 1, 10**9, True, True, True),
    "seed": ("integer", 0, 2**32 - 1, True, True, False),
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
    if not isinstance(merged["evaluate_test"], bool):
        raise FerError(f"training.evaluate_test must be true or false, got {merged['evaluate_test']!r}")
    return merged
