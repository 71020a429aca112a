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
# # 4. What the model looks at
#
# Grad-CAM (Selvaraju et al., 2017) asks which regions of the last convolutional feature maps
# raise the score of a class. It weights each feature map by the average gradient of the class
# score with respect to it, sums them and keeps the positive part:
#
# $$L^c = \mathrm{ReLU}\Bigl(\sum_k \alpha_k^c A^k\Bigr), \qquad
#   \alpha_k^c = \frac{1}{Z}\sum_{i,j} \frac{\partial y^c}{\partial A^k_{ij}}$$
#
# The map has the resolution of the last convolution (6 x 6 here) and is upsampled onto the
# 48 x 48 face. Red means "this region pushed the prediction towards the predicted class".

# %% tags=["parameters"]
# Parameters. papermill injects the values of notebooks/params/<profile>.yaml after this cell;
# the defaults below let it run as it is, in JupyterLab or under papermill from any folder.
from typing import Optional

run_name: str = "interactive"                 # names the report folder, reports/<run_name>/
data_dir: Optional[str] = None                # FER+ data folder; None: data/ferplus, then ../shared/data/ferplus
model_dir: Optional[str] = "models/default"   # the model folder explained
train: bool = False                           # 02: train a new model (True) or show the one in model_dir
seed: int = 42                                # one seed for every random choice (which faces are shown)
eval_subset: Optional[int] = None             # images per split evaluated in 03 (None: all of them)
tta: bool = False                             # 03: also report horizontal-flip test-time augmentation
output_dir: Optional[str] = None              # where figures and metrics go; None: reports/<run_name>
training: dict = {"model": "default", "augment": "default"}  # 02: fer_helpers.training.fit parameters
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

from fer_helpers import data, gradcam, model, pipeline, plots, reproducibility

plots.set_style()
figures = Path(output_dir) / "figures"
net, classes = model.load_model_dir(model_dir)
x_test, y_test = data.load_dataset(data_dir).split("test")

# %% [markdown]
# ## Grad-CAM per class
#
# Four random test faces of each class, with the map for the class the model predicted (title
# in green when right, red when wrong).

# %% [markdown] tags=["slides-only"] slideshow={"slide_type": "slide"}
# ## Grad-CAM: where the evidence is

# %% slideshow={"slide_type": "-"}
samples = gradcam.gradcam_samples(net, x_test, y_test, classes, per_class=4, seed=seed)
fig = plots.plot_gradcam_grid(samples, classes)
plots.save_figure(fig, figures / "gradcam_per_class.png")
fig

# %% [markdown]
# **What the maps show.** For the shipped model (`models/default`, full profile) the evidence sits
# mostly on the **lower-central face**: the smile for happiness, the mouth and upper lip for
# anger and disgust, the nose and mouth region for neutral and sadness. Surprise is the exception:
# its maps sit on the band of the eyes and the nose rather than on the open mouth. Elsewhere, eyes
# and brows, which the Facial Action Coding System ties to fear and anger, carry less weight than
# one would expect; at 48 x 48 pixels the mouth is the largest, most contrasted cue. The rare
# classes are where the maps go astray: contempt and fear maps wander to the forehead, a cheek or
# a hand in front of the face, and these are also the classes the model most often gets wrong.
# Maps on hair, background or image borders would be a warning sign of a shortcut learned from
# how the photos were taken. A model trained for a few epochs on a subset
# (the smoke profile) has not learned these regions yet, and its maps are correspondingly blurry.
#
# Grad-CAM is coarse (one value per 8 x 8 pixel patch here) and shows correlation, not cause: it
# tells where the evidence was, not why the model weighed it as it did.

# %% [markdown]
# ## Reproducibility
#
# Everything needed to reproduce these results: the parameters of this run, the seed, the
# software versions and the git commit of the model's training and of this report, and the wall
# times. The whole report is rebuilt by one command, `fer report --params <profile>.yaml`.

# %%
run = json.loads((Path(model_dir) / "run.json").read_text())
now = reproducibility.run_info(seed=seed)
display(Markdown(f"- **model folder**: `{data.display_path(model_dir)}`, trained with seed {run['seed']} at git commit "
                 f"`{run['git_commit']}`, finished {run['finished']}, {run['wall_seconds'] / 60:.1f} min of "
                 f"training on {run['machine']['cpu_count']} CPU cores ({run['machine']['platform']})\n"
                 f"- **this report**: git commit `{now['git_commit']}`, Keras backend `{now['keras_backend']}`, "
                 f"run `{run_name}`, seed {seed}"))

# %% [markdown]
# Parameters of this run (papermill injected them into every notebook):

# %%
shown = {k: v and data.display_path(v) for k, v in {"data_dir": data_dir, "model_dir": model_dir}.items()}
print(yaml.safe_dump({"run_name": run_name, **shown, "train": train,
                      "seed": seed, "eval_subset": eval_subset, "tta": tta, "training": training},
                     sort_keys=False))

# %% [markdown]
# Software versions, when the model was trained and now:

# %%
display(pd.DataFrame({"training": run["versions"], "this report": now["versions"]}).fillna("–"))

# %% [markdown]
# Wall times of this report's steps so far (seconds; this notebook and the rendering come after):

# %%
display(pd.Series(pipeline.read_timings(output_dir), name="seconds", dtype=float).to_frame())

# %% [markdown] tags=["slides-only"] slideshow={"slide_type": "slide"}
# ## Takeaways
#
# - FER+ votes give cleaner labels than FER2013's; the protocol decides which images count
# - a small VGG-style CNN with soft labels, class weights and augmentation trains on a CPU
# - rare classes (contempt, disgust, fear) remain the weak spot: read macro F1, not only accuracy
# - Grad-CAM puts most of the evidence on the mouth; rare classes get scattered maps
# - one command rebuilds everything: `fer report --params notebooks/params/full.yaml`
