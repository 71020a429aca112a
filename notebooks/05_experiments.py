# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. Experiments: why the model is what it is
#
# Each choice of the shipped recipe is measured here by changing it alone and training again.
# The runs come from sweep files (`notebooks/sweeps/<name>.yaml`), trained by `fer sweep` into
# `runs/<sweep>/<variant>/`; `fer runs` lists them. Two rules keep the comparison honest:
#
# - **choices are made on validation** (FER2013Valid, 3,191 images); each run's test figure is
#   measured once, when its training ends, and is reported, never used to choose;
# - **a difference counts only when it is larger than the noise**: the reference recipe is
#   trained with several seeds, and a change whose effect stays within two standard deviations of
#   those runs is reported as indistinguishable from chance.
#
# The ablations use a shorter budget than the shipped model (the sweep file says which); their
# absolute accuracies are therefore lower than the shipped model's, and what they compare is the
# difference each change makes under the same budget.

# %% tags=["parameters"]
# Parameters. papermill injects the values of notebooks/params/<profile>.yaml after this cell;
# the defaults below let it run as it is, in JupyterLab or under papermill from any folder.
from typing import Optional, Union

run_name: str = "interactive"                 # names the report folder, reports/<run_name>/
data_dir: Optional[str] = None                # FER+ data folder; None: data/ferplus, then ../shared/data/ferplus
model_dir: Optional[str] = "models/default"   # the shipped model (not used here)
train: bool = False                           # 02: train a new model (True) or show the one in model_dir
seed: int = 42                                # one seed for every random choice
eval_subset: Optional[int] = None             # images per split evaluated in 03 (None: all of them)
tta: bool = False                             # 03: also report horizontal-flip test-time augmentation
output_dir: Optional[str] = None              # where figures and metrics go; None: reports/<run_name>
training: dict = {"model": "default", "augment": "default"}  # 02: fer_helpers.training.fit parameters
experiments: Union[str, list, None] = "runs/ablations"  # sweep folder(s) shown here; None: no experiments chapter

# %%
# Every path absolute, whatever the working directory (papermill's, or notebooks/ in JupyterLab).
from fer_helpers.params import run_paths

data_dir, model_dir, output_dir = run_paths(run_name, data_dir, model_dir, output_dir)

# %%
# %matplotlib inline
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

from fer_helpers import plots, runs

plots.set_style()
figures = Path(output_dir) / "figures"
sweeps = [experiments] if isinstance(experiments, str) else list(experiments or [])
folders = [runs.resolve_sweep_folder(s) for s in sweeps]
studies = {}
for folder in folders:
    table = runs.collect(folder)
    studies[folder.name] = {"folder": folder, "table": table, "record": runs.sweep_record(folder),
                            "histories": runs.histories(folder, table)}
print(", ".join(f"{name}: {(s['table']['status'] == 'finished').sum()} of {len(s['table'])} runs finished"
                for name, s in studies.items()) or "no sweep given")

# %% [markdown]
# ## The runs
#
# One row per run (`fer runs` prints the same table and writes it to `runs/<sweep>/runs.csv`):
# what the run changed, its validation and test accuracy and macro F1 (of the epoch kept, the
# best on validation), the epochs it ran and its training time. A run that did not finish is
# listed as such, with its best validation figure so far.

# %%
for name, s in studies.items():
    description = s["record"].get("description") or ""
    display(Markdown(f"### Sweep `{name}`" + (f": {description}" if description else "")))
    display(s["table"].drop(columns=["commit"]).style.format(
        {"val_accuracy": "{:.2%}", "test_accuracy": "{:.2%}", "val_macro_f1": "{:.3f}",
         "test_macro_f1": "{:.3f}", "wall_minutes": "{:.0f}", "best_epoch": "{:.0f}", "epochs": "{:.0f}"},
        na_rep="–").hide(axis="index"))

# %% [markdown]
# ## Learning curves, overlaid
#
# Validation accuracy after every epoch. The reference recipe is black, its other seeds grey and
# dashed: the grey band is how much two runs differ by chance alone.

# %%
for name, s in studies.items():
    reference = s["record"].get("reference")
    seeds = runs.seed_group(s["table"], s["record"])[1:]
    fig = plots.plot_runs_curves(s["histories"], reference=reference, seeds=seeds)
    fig.suptitle(f"Sweep {name}", fontweight="bold")
    plots.save_figure(fig, figures / f"experiments_{name}_curves.png")
    display(fig)

# %% [markdown]
# ## What each change is worth, against seed-to-seed noise
#
# Each bar is a run's validation accuracy minus the mean of the reference recipe over its seeds.
# The grey band is two standard deviations of those seeds: a bar inside it is a difference that
# chance alone produces. The table gives the same on validation and on test.

# %% slideshow={"slide_type": "slide"}
for name, s in studies.items():
    if not runs.seed_group(s["table"], s["record"]):
        continue
    display(Markdown(f"## What each change is worth (`{name}`, validation)"))
    noise = runs.compare_to_noise(s["table"], s["record"])
    fig = plots.plot_ablations(noise)
    plots.save_figure(fig, figures / f"experiments_{name}_ablations.png")
    display(fig)

# %%
for name, s in studies.items():
    if not runs.seed_group(s["table"], s["record"]):
        continue
    val = runs.compare_to_noise(s["table"], s["record"], "val_accuracy")
    test = runs.compare_to_noise(s["table"], s["record"], "test_accuracy")
    both = val.merge(test[["variant", "difference", "verdict"]], on="variant", suffixes=("", "_test"))
    seeds_text = ", ".join(val.attrs["seeds"])
    display(Markdown(
        f"Seeds of the reference recipe: {seeds_text}. Validation: mean {val.attrs['seed_mean']:.2%}, "
        f"standard deviation {100 * val.attrs['seed_std']:.2f} points; test: mean {test.attrs['seed_mean']:.2%}, "
        f"standard deviation {100 * test.attrs['seed_std']:.2f} points."))
    display(both.rename(columns={"difference": "Δ validation", "verdict": "validation verdict",
                                 "difference_test": "Δ test", "verdict_test": "test verdict"})
            .drop(columns=["noise"]).style.format(
                {"val_accuracy": "{:.2%}", "Δ validation": "{:+.2%}", "Δ test": "{:+.2%}"}).hide(axis="index"))

# %% [markdown]
# ## Per class
#
# Recall of each class on validation, run by run: a change that raises the overall accuracy can
# still trade a rare class (contempt, disgust, fear) for the common ones.

# %%
for name, s in studies.items():
    recall = runs.recall_table(s["folder"], s["table"])
    if recall.empty:
        continue
    fig = plots.plot_recall_heatmap(recall, title=f"Validation recall per class and run ({name})")
    plots.save_figure(fig, figures / f"experiments_{name}_recall.png")
    display(fig)

# %% [markdown]
# ## Accuracy against training time
#
# Wall time of each run on the machine that trained it (the commit and machine are in each run's
# `run.json`): what a longer budget or a bigger network buys.

# %% slideshow={"slide_type": "slide"}
display(Markdown("## Accuracy against training time"))
for name, s in studies.items():
    if (s["table"]["status"] == "finished").sum() == 0:
        continue
    fig = plots.plot_accuracy_vs_time(s["table"])
    fig.suptitle(f"Sweep {name}", fontweight="bold")
    plots.save_figure(fig, figures / f"experiments_{name}_time.png")
    display(fig)
