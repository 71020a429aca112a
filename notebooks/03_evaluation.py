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
# # 3. Evaluation on the test split
#
# The model is judged once on `FER2013Test` under the FER+ majority protocol (3,137 images),
# the protocol of the published FER+ results. We report:
#
# - **accuracy**, the figure the literature compares;
# - **macro F1**, the mean of the per-class F1 scores, where contempt counts as much as happiness;
# - **weighted F1**, per-class F1 weighted by class size;
# - **loss** (cross-entropy) and the **expected calibration error** (ECE): do the predicted
#   probabilities mean what they say?

# %% tags=["parameters"]
# Parameters. papermill injects the values of notebooks/params/<profile>.yaml after this cell;
# the defaults below let it run as it is, in JupyterLab or under papermill from any folder.
from typing import Optional

run_name: str = "interactive"                 # names the report folder, reports/<run_name>/
data_dir: Optional[str] = None                # FER+ data folder; None: data/ferplus, then ../shared/data/ferplus
model_dir: Optional[str] = "models/default"   # the model folder evaluated
train: bool = False                           # 02: train a new model (True) or show the one in model_dir
seed: int = 42                                # one seed for every random choice (subset, figures)
eval_subset: Optional[int] = None             # evaluate a seeded random subset of this many test images (None: all)
tta: bool = False                             # also report horizontal-flip test-time augmentation
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
from IPython.display import Image, Markdown, display

from fer_helpers import evaluation, plots

plots.set_style()
figures = Path(output_dir) / "figures"
result = evaluation.evaluate_model_dir(model_dir, data=data_dir, split="test", out=Path(output_dir) / "evaluation",
                                       tta=tta, subset=eval_subset, seed=seed)
print(evaluation.summary_text(result))

# %% [markdown]
# ## Results next to published numbers

# %% slideshow={"slide_type": "slide"}
display(Markdown(
    f"## Results: test accuracy {result['accuracy']:.1%}\n\n"
    f"**Test accuracy: {result['accuracy']:.2%}** on {result['n']:,} test images"
    + (f" (a random subset, seed {seed})" if eval_subset else "")
    + f"; macro F1 {result['macro_f1']:.3f}, weighted F1 {result['weighted_f1']:.3f}."))
fig = plots.plot_metrics_vs_references(result)
plots.save_figure(fig, figures / "metrics_vs_references.png")
fig

# %% [markdown]
# The references, all on FER+ test with 8 classes and majority labels: the seed project's CNN
# (71.8%), the mini-Xception of Arriaga et al. (about 68%, a model built for real-time use), and
# Microsoft's VGG13 from the FER+ paper (85.1%, 64 x 64 inputs, about 9 million parameters and
# GPU training). Only accuracy is published for all of them; the other figures are ours.

# %%
rows = {"ours": {k: result[k] for k in ("accuracy", "macro_f1", "weighted_f1", "loss", "ece")}}
if "tta" in result:
    rows["ours + flip TTA"] = {k: result["tta"][k] for k in ("accuracy", "macro_f1", "weighted_f1", "loss", "ece")}
rows.update({name: {"accuracy": acc} for name, acc in plots.REFERENCES})
display(pd.DataFrame(rows).T.style.format("{:.3f}", na_rep="–"))

# %% [markdown]
# ## Per class
#
# The classification report shows where the accuracy comes from. Happiness, surprise and neutral
# are large and distinctive classes; contempt and disgust are tiny (a few dozen test images),
# so their scores are both low and uncertain: one image more or less moves them by several points.

# %%
print(result["report_text"])

# %% [markdown]
# ## Confusion matrices
#
# Counts show where most mistakes are made; the row-normalised matrix (each row sums to 1, the
# diagonal is the recall of each class) shows how each class fares regardless of its size.

# %%
display(Image(filename=result["figures"]["confusion"]))

# %% [markdown] tags=["slides-only"] slideshow={"slide_type": "slide"}
# ## Confusion matrix (row-normalised: recall on the diagonal)

# %% slideshow={"slide_type": "-"}
display(Image(filename=result["figures"]["confusion_normalized"]))

# %% [markdown]
# ## Sample predictions
#
# Random right (green) and wrong (red) predictions with their confidence. Many mistakes are
# faces that people also find ambiguous.

# %%
display(Image(filename=result["figures"]["predictions"]))

# %% [markdown]
# ## Error analysis: the most confused pairs
#
# The most frequent mistakes, as counts and as a share of the true class, with faces of each. The
# usual suspects are neighbours in expression space: sadness and neutral (a low-intensity sad face
# *is* close to neutral), fear and surprise (both open the eyes and mouth), anger and disgust.
# Looking at the faces, a good part of these "errors" are images whose FER+ votes were split
# between the same two classes: label ambiguity, not only model failure.

# %%
display(pd.DataFrame(result["confused_pairs"]).style.format({"share_of_true": "{:.1%}"}))

# %% slideshow={"slide_type": "slide"}
display(Markdown("## Most confused pairs (true → predicted)"))
display(Image(filename=result["figures"]["confused_pairs"]))

# %% [markdown]
# ## Calibration
#
# A model is calibrated when, among faces predicted with 80% confidence, about 80% are right.
# The reliability diagram bins predictions by confidence and compares each bin's accuracy with
# its mean confidence; the expected calibration error (ECE) is the average gap, weighted by the
# number of predictions per bin:
#
# $$\mathrm{ECE} = \sum_{b} \frac{n_b}{N}\,\bigl|\mathrm{acc}(b) - \mathrm{conf}(b)\bigr|$$
#
# Soft-label training usually keeps a CNN close to calibrated; bars below the diagonal mean
# over-confidence.

# %% slideshow={"slide_type": "slide"}
display(Markdown(f"## Calibration: ECE = {result['ece']:.3f}"))
display(Image(filename=result["figures"]["reliability"]))

# %% [markdown]
# ## Test-time augmentation
#
# Averaging the predictions for a face and its mirror image is the one test-time augmentation
# that never changes the meaning of an expression. It doubles the cost of a prediction.

# %%
if "tta" in result:
    display(pd.DataFrame({"plain": {k: result[k] for k in ("accuracy", "macro_f1", "weighted_f1", "loss", "ece")},
                          "flip TTA": {k: result["tta"][k] for k in ("accuracy", "macro_f1", "weighted_f1", "loss", "ece")}})
            .style.format("{:.4f}"))
else:
    display(Markdown("*Not run in this profile (`tta: false`).*"))

# %% [markdown]
# ## Robustness to framing and camera
#
# The FER2013 faces were cropped one way; a face detector in use frames a face a little
# differently, and another camera exposes, focuses and compresses it differently. We score the
# same test images again under controlled versions of both, one perturbation at a time
# (`fer_helpers.robustness`):
#
# - **framing**, what a detector's box does: a looser or tighter crop (zoom from 0.85 to 1.15,
#   the border filled by repeating the edge pixels), a box off-centre by 5 or 10% of the side
#   (horizontally or vertically), and a head tilted by 7.5 or 15 degrees either way;
# - **camera**: brightness (grey levels added), gamma (another tone curve), Gaussian blur (out of
#   focus), JPEG compression, and the mirror image (a selfie camera's preview).
#
# Each row gives the accuracy at every strength and its change from the clean images in
# percentage points. The table is also written as `evaluation/robustness_test.csv`
# (`robustness_test_subsetN.csv` on a subset), the figure as `figures/robustness.png`. The test
# split serves for reporting here, never for choosing a model or a setting.

# %%
from fer_helpers import robustness
from fer_helpers.files import write_text

robust = robustness.robustness_of_model_dir(model_dir, data=data_dir, split="test", subset=eval_subset, seed=seed)
write_text(Path(output_dir) / "evaluation" / f"robustness_{evaluation.result_stem('test', eval_subset)}.csv",
           robust.to_csv(index=False))
display(robustness.summary_table(robust))

# %%
fig = plots.plot_robustness(robust, robustness.UNITS)
plots.save_figure(fig, figures / "robustness.png")
fig

# %%
clean, shifted = robust.iloc[0], robust.iloc[1:]
worst = shifted.loc[shifted["drop"].idxmin()]
worst_by = shifted.groupby("perturbation", sort=False)["drop"].min()
flip = shifted.set_index("perturbation").loc["flip", "drop"]
display(Markdown(
    f"**What the shifts cost.** On these {clean['n']:,} images the clean accuracy is "
    f"{clean['accuracy']:.1%}. "
    + (f"The largest loss is {worst['perturbation']} at {worst['strength']:g}: {worst['accuracy']:.1%} "
       f"({100 * worst['drop']:+.1f} points). " if worst["drop"] < 0 else "No perturbation lowers it. ")
    + "Within one point at every strength: "
    f"{', '.join(worst_by[worst_by > -0.01].index) or 'none'}; more than three points lower at some "
    f"strength: {', '.join(worst_by[worst_by < -0.03].index) or 'none'}. "
    f"The mirror image changes accuracy by {100 * flip:+.1f} points"
    + (", as good as none: flip test-time augmentation rests on that." if abs(flip) < 0.01 else ".")
    + (f" On a subset of {clean['n']} images one image is {100 / clean['n']:.2f} points, so differences of"
       " a point or two are noise." if eval_subset else "")))

# %% [markdown]
# The metrics, the classification report and the figures are also written to the run folder
# (`evaluation/evaluation_test.json`, `classification_report_test.txt`, `*_test.png`; a run on a
# subset of N images names them `*_test_subsetN.*`, so it never replaces the full results).
