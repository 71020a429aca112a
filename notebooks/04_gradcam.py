# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] tags=["lang-en"]
# # What the model looks at
#
# Grad-CAM [6] asks which regions of the last convolutional feature maps raise the score of a class.
# It weights each feature map by the average gradient of the class score with respect to it, sums
# them and keeps the positive part:
#
# $$L^c = \mathrm{ReLU}\Bigl(\sum_k \alpha_k^c A^k\Bigr), \qquad
#   \alpha_k^c = \frac{1}{Z}\sum_{i,j} \frac{\partial y^c}{\partial A^k_{ij}}$$
#
# The map has the resolution of the last convolution (6 x 6 here) and is upsampled onto the
# 48 x 48 face. Red means "this region pushed the prediction towards the predicted class".

# %% [markdown] tags=["lang-tr"]
# # Model nereye bakıyor
#
# Grad-CAM [6], son evrişim öznitelik haritalarının hangi bölgelerinin bir sınıfın puanını
# yükselttiğini sorar. Her öznitelik haritasını sınıf puanının ona göre ortalama gradyanıyla
# ağırlıklandırır, toplar ve pozitif kısmı tutar:
#
# $$L^c = \mathrm{ReLU}\Bigl(\sum_k \alpha_k^c A^k\Bigr), \qquad
#   \alpha_k^c = \frac{1}{Z}\sum_{i,j} \frac{\partial y^c}{\partial A^k_{ij}}$$
#
# Harita son evrişimin çözünürlüğündedir (burada 6 x 6) ve 48 x 48 yüzün üzerine büyütülür. Kırmızı,
# "bu bölge tahmini tahmin edilen sınıfa doğru itti" demektir.

# %% tags=["parameters"]
# Parameters. papermill injects the values of notebooks/params/<profile>.yaml after this cell;
# the defaults below let it run as it is, in JupyterLab or under papermill from any folder.
from typing import Optional

from fer_helpers.params import use_profile

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
language: str = "en"                          # report language, en | tr (the notebook shows both; the report keeps one)
title: str = ""                               # title block: the report's title (empty: the default title)
author: str = ""                              # title block: author(s)
course: str = ""                              # title block: course
instructor: str = ""                          # title block: instructor
date: str = ""                                # title block: date as written

# FER_PROFILE=smoke (or full, or a params file) replaces the defaults above with that profile's
# values; papermill's -p and -f values, injected after this cell, still win.
use_profile(globals(), env="FER_PROFILE")

# %%
# Every path absolute, whatever the working directory (papermill's, or notebooks/ in JupyterLab):
# None is reports/<run_name> and its model/ in the project; a relative path is the working
# directory's, else the project's.
from fer_helpers.params import run_paths

data_dir, model_dir, output_dir = run_paths(run_name, data_dir, model_dir, output_dir)

# %%
# %matplotlib inline
from pathlib import Path

from IPython.display import Markdown

from fer_helpers import data, gradcam, i18n, model, plots

plots.set_style()
figures = Path(output_dir) / "figures"
net, classes = model.load_model_dir(model_dir)
x_test, y_test = data.load_dataset(data_dir).split("test")

# %% [markdown] tags=["lang-en"]
# ## Grad-CAM averaged over the test set
#
# One face's map says little about a class, so each class's maps are averaged over all its test
# faces, apart for the faces the model gets right and those it gets wrong, and drawn over the
# class's mean face ({@fig:gradcam-mean}). Four example faces per class follow
# ({@fig:gradcam}).

# %% [markdown] tags=["lang-tr"]
# ## Test kümesi üzerinden ortalama Grad-CAM
#
# Tek bir yüzün haritası bir sınıf hakkında az şey söyler; bu yüzden her sınıfın haritaları, modelin
# doğru ve yanlış bildiği yüzler ayrı ayrı, sınıfın tüm test yüzleri üzerinden ortalanır ve sınıfın
# ortalama yüzünün üzerine çizilir ({@fig:gradcam-mean}). Ardından sınıf başına dört örnek yüz
# gelir ({@fig:gradcam}).

# %% [markdown] tags=["slides-only", "lang-en"] slideshow={"slide_type": "slide"}
# ## Grad-CAM averaged per class: where the evidence sits

# %% [markdown] tags=["slides-only", "lang-tr"] slideshow={"slide_type": "slide"}
# ## Sınıf başına ortalama Grad-CAM: kanıt nerede

# %% slideshow={"slide_type": "-"}
x_maps, y_maps = data.seeded_subset(x_test, y_test, eval_subset, seed)
means = gradcam.mean_heatmaps(net, x_maps, y_maps, classes)
i18n.display_each(lambda lang: plots.plot_mean_gradcam(means, classes, language=lang),
                  save=figures / "gradcam_mean.png")

# %% [markdown] tags=["lang-en", "caption"]
# {fig:gradcam-mean} Grad-CAM averaged over the test faces of each class, over the class's mean face:
# faces the model gets right (top) and wrong (bottom), with their numbers.

# %% [markdown] tags=["lang-tr", "caption"]
# {fig:gradcam-mean} Her sınıfın test yüzleri üzerinden ortalama Grad-CAM, sınıfın ortalama yüzü
# üzerinde: modelin doğru (üstte) ve yanlış (altta) bildiği yüzler, sayılarıyla.

# %%
def weight_share(groups, rows):
    """The share of the maps' weight in ``rows`` of the face, over ``groups`` weighted by their faces."""
    total = sum(g["heatmap"].sum() * g["n"] for g in groups)
    return sum(g["heatmap"][rows].sum() * g["n"] for g in groups) / total if total else float("nan")


right = [g for (c, ok), g in means.items() if ok]
wrong = [g for (c, ok), g in means.items() if not ok]
half = x_test.shape[1] // 2
upper_right, upper_wrong = weight_share(right, slice(0, half)), weight_share(wrong, slice(0, half))
peaks = [int(g["heatmap"].argmax() // g["heatmap"].shape[1]) for g in right]
edge = x_test.shape[1] // 8  # the outer eighth of the image on every side: hair, background, the border
inner = (slice(edge, -edge), slice(edge, -edge))
border_right = 1 - sum(g["heatmap"][inner].sum() * g["n"] for g in right) / sum(g["heatmap"].sum() * g["n"] for g in right)
border_area = 1 - (1 - 2 / 8) ** 2
maps_text = {
    "en": "**What the maps show.** Averaged over {n} test faces, the maps of the faces the model gets right "
          "peak {rows} of 48 (the centre of the face, around the nose) and spread over "
          "the eyes and the mouth alike: {upper_right} of their weight lies in the upper half of the face, "
          "{upper_wrong} for the faces it gets wrong. No class rests on one feature alone. The outer eighth of "
          "the image on every side (hair, background, the border, where a shortcut learned from how the photos "
          "were taken would show) holds {border} of the weight, for {area} of the area. Single faces vary more ({{@fig:gradcam}}): a map may sit on a smile or a brow. "
          "The averages of the rare classes rest on few faces (the numbers in {{@fig:gradcam-mean}}).",
    "tr": "**Haritalar ne gösteriyor.** {n} test yüzü üzerinden ortalandığında, modelin doğru bildiği "
          "yüzlerin haritaları 48 satırın {rows_tr} (yüzün ortası, burun çevresi) en "
          "yüksek değerini alır ve gözlere ve ağza birlikte yayılır: ağırlıklarının {upper_right} kadarı yüzün üst "
          "yarısındadır, yanlış bildiği yüzlerde {upper_wrong}. Hiçbir sınıf tek bir özelliğe dayanmaz. Görüntünün "
          "her kenarındaki sekizde birlik şerit (fotoğrafların çekiliş biçiminden öğrenilmiş bir kestirmenin "
          "görüneceği saç, arka plan ve kenar) alanın {area} kadarıyken ağırlığın {border} kadarını taşır. Tek tek yüzler daha çok değişir ({{@fig:gradcam}}): bir harita bir gülümsemeye "
          "ya da bir kaşa oturabilir. Nadir sınıfların ortalamaları az sayıda yüze dayanır ({{@fig:gradcam-mean}} "
          "içindeki sayılar).",
}
i18n.display_each(lambda lang: Markdown(maps_text[lang].format(
    n=i18n.num(len(y_maps), lang),
    rows=f"at row {min(peaks)}" if min(peaks) == max(peaks) else f"between rows {min(peaks)} and {max(peaks)}",
    rows_tr=f"{min(peaks)}. satırında" if min(peaks) == max(peaks) else f"{min(peaks)}. ile {max(peaks)}. satırları arasında",
    upper_right=i18n.pct(upper_right, lang, 0), upper_wrong=i18n.pct(upper_wrong, lang, 0),
    border=i18n.pct(border_right, lang, 0), area=i18n.pct(border_area, lang, 0))))

# %% [markdown] tags=["lang-en"]
# Grad-CAM is coarse (one value per 8 x 8 pixel patch here) and shows correlation, not cause: it
# tells where the evidence was, not why the model weighed it as it did. A model trained for a few
# epochs on a subset (the smoke profile) has not learned these regions yet.

# %% [markdown] tags=["lang-tr"]
# Grad-CAM kabadır (burada 8 x 8 piksellik yama başına bir değer) ve nedensellik değil ilişki
# gösterir: kanıtın nerede olduğunu söyler, modelin onu neden öyle tarttığını değil. Bir alt kümede
# birkaç epok eğitilmiş bir model (smoke profili) bu bölgeleri henüz öğrenmemiştir.

# %%
samples = gradcam.gradcam_samples(net, x_test, y_test, classes, per_class=4, seed=seed)
i18n.display_each(lambda lang: plots.plot_gradcam_grid(samples, classes, language=lang),
                  save=figures / "gradcam_per_class.png")

# %% [markdown] tags=["lang-en", "caption"]
# {fig:gradcam} Grad-CAM maps of four random test faces per class, for the class the model predicted
# (title in green when right, red when wrong).

# %% [markdown] tags=["lang-tr", "caption"]
# {fig:gradcam} Sınıf başına dört rastgele test yüzünün, modelin tahmin ettiği sınıf için Grad-CAM
# haritaları (doğruysa başlık yeşil, yanlışsa kırmızı).
