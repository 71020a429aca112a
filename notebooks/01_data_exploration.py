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
# # 1. The data
#
# FER2013 is a set of about 35,000 grayscale face crops, 48 x 48 pixels, gathered by Google image
# searches for emotion words and published for a 2013 Kaggle challenge. Its original labels are
# noisy: a single annotator per image, and roughly one label in ten is wrong. **FER+** (Barsoum
# et al., ICMI 2016) had every image relabelled by ten crowd workers, adding *contempt* as an
# eighth class plus *unknown* and *not a face* (NF). This study uses the FER+ votes with the three
# original splits: `FER2013Train` to learn, `FER2013Valid` to choose (epochs, settings) and
# `FER2013Test`, touched once, to report.
#
# This notebook looks at the data before any model does: how many faces each class has, what they
# look like, whether the splits are alike, whether some faces appear twice, and how the FER+ votes
# become labels.

# %% tags=["parameters"]
# Parameters. papermill injects the values of notebooks/params/<profile>.yaml after this cell;
# the defaults below let it run as it is, in JupyterLab or under papermill from any folder.
from typing import Optional

run_name: str = "interactive"                 # names the report folder, reports/<run_name>/
data_dir: Optional[str] = None                # FER+ data folder; None: data/ferplus, then ../shared/data/ferplus
model_dir: Optional[str] = "models/default"   # the model folder reported on (02 trains into it if train)
train: bool = False                           # 02: train a new model (True) or show the one in model_dir
seed: int = 42                                # one seed for every random choice (samples, training, figures)
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
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

from fer_helpers import data, labels, model, plots

plots.set_style()
figures = Path(output_dir) / "figures"
ds = data.load_dataset(data_dir)
print(ds)

# %% [markdown]
# ## The FER+ label protocol
#
# Every image carries ten votes over the eight emotions plus *unknown* and *NF*. The votes become
# a label by the protocol of the FER+ paper, which every published FER+ number uses:
#
# 1. **single votes are dropped**: one annotator out of ten is treated as noise;
# 2. an image is labelled with the emotion that holds **more than half** of the remaining votes
#    (the *majority*);
# 3. images whose majority is **unknown** or **not a face**, and images **without a majority**, are
#    excluded.
#
# Under this protocol the test split keeps **3,137** images, the number every FER+ result is
# measured on (the table below counts every split). Training can use the
# votes more fully: the default model learns from the *vote distribution* (soft labels, the
# paper's "probability" scheme), so an image that five annotators call neutral and four call sad
# teaches the model exactly that ambiguity. Evaluation always uses the majority label.

# %%
kept = {s: len(ds.split(s, labels="majority")[1]) for s in ds.splits}
total = {s: len(ds.votes(s)) for s in ds.splits}
display(pd.DataFrame({"images": total, "kept by the protocol": kept,
                      "excluded": {s: total[s] - kept[s] for s in ds.splits}}).T)

# %% [markdown] tags=["slides-only"] slideshow={"slide_type": "slide"}
# ## The FER+ label protocol
#
# - ten votes per face over 8 emotions + *unknown* + *not a face*
# - single votes dropped; label = emotion with **more than half** of the rest
# - unknown / not-a-face / no majority: **excluded** (3,137 test images are kept)

# %% slideshow={"slide_type": "-"}
fig = plots.plot_label_protocol(ds.votes("train"), ds.classes, seed=seed)
plots.save_figure(fig, figures / "label_protocol.png")
fig

# %% [markdown]
# Agreement differs a lot between classes: happiness and surprise are usually near-unanimous,
# while contempt, disgust and fear rarely reach a clear majority. The left-hand bars are what a
# model is up against: where people disagree, no model can be "right" on every image.

# %% [markdown]
# ## Class balance
#
# FER+ is strongly imbalanced. Neutral and happiness make up more than half of the images;
# contempt and disgust have little more than a hundred training images each. Accuracy alone
# therefore flatters a model that ignores the rare classes, which is why the evaluation also
# reports **macro F1** (every class counts equally) and why training weights the rare classes up
# (`imbalance: class_weight`).

# %%
counts = ds.counts()
display(counts.pivot_table(index="class", columns="split", values="majority", aggfunc="sum", sort=False)
        .loc[ds.classes + ["excluded by protocol"], ds.splits])

# %% [markdown] tags=["slides-only"] slideshow={"slide_type": "slide"}
# ## The data: FER2013 faces with FER+ labels
#
# 48 x 48 grayscale faces; train / valid / test as published. Neutral and happiness dominate;
# contempt and disgust are rare, so macro F1 is reported next to accuracy.

# %% slideshow={"slide_type": "-"}
fig = plots.plot_class_balance(counts)
plots.save_figure(fig, figures / "class_balance.png")
fig

# %% [markdown]
# ## What the faces look like
#
# Random training faces per class (the number in brackets is the class size under the majority
# protocol). The crops are centred and roughly aligned, but pose, lighting, age, occlusion
# (hands, glasses, watermarks) and image quality vary widely; a few are drawings or not faces at
# all that slipped past the annotators.

# %% [markdown] tags=["slides-only"] slideshow={"slide_type": "slide"}
# ## Faces per class

# %% slideshow={"slide_type": "-"}
x_train, y_train = ds.split("train")
fig = plots.plot_samples_per_class(x_train, y_train, ds.classes, per_class=8, seed=seed)
plots.save_figure(fig, figures / "samples_per_class.png")
fig

# %% [markdown]
# ## Pixel statistics
#
# If the splits came from different distributions (brighter, more contrast), a test score would
# measure that shift rather than the model. The intensity histograms and the mean faces of the
# three splits are practically the same, as expected for a random split of one collection.
# Models get raw 0-255 pixels; the rescaling to [0, 1] is the first layer after augmentation.

# %%
fig = plots.plot_pixel_stats({s: ds.split(s, labels="votes")[0] for s in ds.splits})
plots.save_figure(fig, figures / "pixel_stats.png")
fig

# %% [markdown]
# ## Duplicates across splits
#
# FER2013 was scraped from the web, and the same picture sometimes appears more than once.
# Exact duplicates (identical pixels) *within* a split only weight a face twice; duplicates
# *across* splits leak test faces into training and inflate the test score a little. We count
# them by hashing the pixels; we keep the published splits (so our numbers compare with the
# literature) and state the overlap instead.

# %%
dup = ds.duplicates()
display(Markdown(f"**{dup['groups']:,}** groups of identical images ({dup['images_in_groups']:,} images); "
                 f"**{dup['across_splits']:,}** groups span more than one split."))
display(pd.DataFrame({"groups of identical images": dup["split_pairs"]}).rename_axis("splits"))

# %% [markdown]
# ## Augmentation
#
# With 28,000 training faces a CNN memorises quickly. Augmentation shows it a slightly different
# face every epoch: mirror images, small rotations, shifts and zooms, brightness and contrast
# changes. All of them keep the expression's meaning (a mirrored smile is still a smile). They are
# layers of the model, active only while training, so the saved model needs no preprocessing
# code. Below, real training faces (top row) and three random draws of the default augmentation.

# %% [markdown] tags=["slides-only"] slideshow={"slide_type": "slide"}
# ## Augmentation: what training sees

# %% slideshow={"slide_type": "-"}
aug_model = model.build(training.get("model", "default"), augment=training.get("augment", "default"), seed=seed)
fig = plots.plot_augmentation(aug_model, x_train, n=8, seed=seed)
plots.save_figure(fig, figures / "augmentation.png")
fig

# %% [markdown]
# **In short**: a small, noisy, imbalanced data set of tiny faces. The FER+ votes fix much of the
# label noise and define which images count; the imbalance asks for class weights and macro F1;
# the cross-split duplicates are few and reported, not removed.
