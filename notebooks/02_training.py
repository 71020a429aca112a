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
# # 2. The model and its training
#
# The model is a plain VGG-style CNN sized for a CPU: four blocks of two 3 x 3
# convolutions (batch normalisation, ReLU), each block followed by max pooling and dropout, then
# one dense layer and an 8-way softmax. The shape follows Microsoft's FER+ baseline (VGG13, 85.1%
# test accuracy at 64 x 64 pixels) at a quarter of its width, so that it trains in about an hour
# and a half on two CPU cores. Augmentation and the rescaling of pixels are the first layers:
# the model takes raw 0-255 faces and returns probabilities, nothing else is needed to use it.
#
# How it learns (the `training` section of the params file):
#
# - **soft labels**: the target is the FER+ vote distribution, not a single class;
# - **class weights** $w_c = (n_{\max} / n_c)^{p}$ with $p = 0.3$: rare classes count more,
#   without trading much accuracy on the common ones ($p = 1$ would balance them fully);
# - **dropout** 0.3 before the dense layer and 0.06 to 0.18 after the convolution blocks, chosen on
#   validation over the usual 0.5 (86.8% against 87.2%: the augmentation already regularises);
# - **AdamW** with a short warm-up and a cosine decay of the learning rate over 50 epochs, weight decay;
# - **bfloat16** arithmetic where the processor has it (1.5x faster on this project's CPU); the
#   saved model computes in float32, so it runs anywhere;
# - the epoch with the best validation accuracy is kept (early stopping on FER2013Valid).

# %% tags=["parameters"]
# Parameters. papermill injects the values of notebooks/params/<profile>.yaml after this cell;
# the defaults below let it run as it is, in JupyterLab or under papermill from any folder.
from typing import Optional

run_name: str = "interactive"                 # names the report folder, reports/<run_name>/
data_dir: Optional[str] = None                # FER+ data folder; None: data/ferplus, then ../shared/data/ferplus
model_dir: Optional[str] = "models/default"   # the model folder reported on (trained into if train)
train: bool = False                           # True: train a new model into model_dir; False: show model_dir
resume: bool = False                          # with train: continue the interrupted run in model_dir (fer sweep sets it)
seed: int = 42                                # one seed for every random choice (samples, training, figures)
eval_subset: Optional[int] = None             # images per split evaluated in 03 (None: all of them)
tta: bool = False                             # 03: also report horizontal-flip test-time augmentation
output_dir: Optional[str] = None              # where figures and metrics go; None: reports/<run_name>
training: dict = {"model": "default", "augment": "default"}  # fer_helpers.training.fit parameters
experiments: Optional[list] = None           # 05: sweep folder(s) shown in the Experiments chapter

# %%
# Every path absolute, whatever the working directory (papermill's, or notebooks/ in JupyterLab):
# None is reports/<run_name> and its model/ in the project; a relative path is the working
# directory's, else the project's.
from fer_helpers.params import run_paths

data_dir, model_dir, output_dir = run_paths(run_name, data_dir, model_dir, output_dir)

# %%
# %matplotlib inline
import json
from pathlib import Path

import pandas as pd
import yaml
from IPython.display import Markdown, display

from fer_helpers import data, model, plots
from fer_helpers.training import fit

plots.set_style()
figures = Path(output_dir) / "figures"
model_path = Path(model_dir)

# %% [markdown]
# ## Training
#
# With `train: true` the next cell trains a fresh model into the model folder (the smoke profile
# does this on a small subset in a minute; the full profile takes about an hour and a half on a
# 2-core CPU). With `train: false` it reports on the model already in the folder: the project
# ships its best one in `models/default`, trained with `notebooks/params/full.yaml`.
# One line per epoch: validation accuracy and macro F1, the best epoch so far, the time left.

# %%
if train:
    fit({"training": training, "seed": seed}, data_dir=data_dir, out_dir=model_path, resume=resume, verbose=2)
else:
    print(f"train is false: reporting on the model in {data.display_path(model_path)}")

# %% [markdown]
# ## The model

# %%
net, classes = model.load_model_dir(model_path)
run = json.loads((model_path / "run.json").read_text())
trained_with = yaml.safe_load((model_path / "params.yaml").read_text())["training"]

# %% [markdown] tags=["report-only"]
# The trained network, layer by layer (the `aug_*` layers are active only during training):

# %% tags=["report-only"]
net.summary(line_length=100)

# %% slideshow={"slide_type": "slide"}
display(Markdown(
    f"## The model: `{net.name}` CNN, {net.count_params():,} parameters\n\n"
    f"- input: raw 48 x 48 grayscale pixels (0-255); output: 8 probabilities ({', '.join(classes)})\n"
    f"- trained on {run['train_images']:,} images for {run['epochs_run']} epochs "
    f"(best on validation: epoch {run['best_epoch']}) in {run['wall_seconds'] / 60:.1f} min "
    f"on {run['machine']['cpu_count']} CPU cores\n"
    f"- labels: {trained_with['labels']}, imbalance: {trained_with['imbalance']}, "
    f"augmentation: {trained_with['augment']}, seed {run['seed']}"))

# %% [markdown]
# The parameters the model was trained with (its `params.yaml`):

# %%
display(pd.Series(trained_with, name="value").astype(str).to_frame())

# %% [markdown]
# ## Learning curves
#
# Training accuracy is measured on augmented faces with dropout active, so it sits below the
# validation accuracy for most of the run; what matters is that the validation curves rise and
# then flatten. A validation loss that climbs while accuracy still improves is the model growing
# over-confident, which the calibration section of the evaluation picks up. The dotted line marks
# the epoch that was kept.

# %% [markdown] tags=["slides-only"] slideshow={"slide_type": "slide"}
# ## Learning curves

# %% slideshow={"slide_type": "-"}
history = pd.read_csv(model_path / "history.csv")
fig = plots.plot_history(history)
plots.save_figure(fig, figures / "history.png")
fig

# %%
display(history.round(4).set_index("epoch"))

# %% [markdown]
# ## The model card
#
# Every model folder carries a short model card: what the model is for, how it was measured, and
# what it must not be used for.

# %%
display(Markdown((model_path / "MODEL_CARD.md").read_text().replace("# Model card", "### Model card", 1)))
