# ---
# jupyter:
#   jupytext:
#     formats: py:percent
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

# %%
# Every path absolute, whatever the working directory (papermill's, or notebooks/ in JupyterLab):
# None is reports/<run_name> and its model/ in the project; a relative path is the working
# directory's, else the project's.
from fer_helpers.params import run_paths

data_dir, model_dir, output_dir = run_paths(run_name, data_dir, model_dir, output_dir)

# %%
# %matplotlib inline
from pathlib import Path

from fer_helpers import data, gradcam, i18n, model, plots

plots.set_style()
figures = Path(output_dir) / "figures"
net, classes = model.load_model_dir(model_dir)
x_test, y_test = data.load_dataset(data_dir).split("test")

# %% [markdown] tags=["lang-en"]
# ## Grad-CAM per class
#
# Four random test faces of each class, with the map for the class the model predicted (title in
# green when right, red when wrong).

# %% [markdown] tags=["lang-tr"]
# ## Sınıf başına Grad-CAM
#
# Her sınıftan dört rastgele test yüzü ve modelin tahmin ettiği sınıfın haritası (doğruysa başlık
# yeşil, yanlışsa kırmızı).

# %% [markdown] tags=["slides-only", "lang-en"] slideshow={"slide_type": "slide"}
# ## Grad-CAM: the evidence sits mostly on the mouth

# %% [markdown] tags=["slides-only", "lang-tr"] slideshow={"slide_type": "slide"}
# ## Grad-CAM: kanıt çoğunlukla ağızda

# %% slideshow={"slide_type": "-"}
samples = gradcam.gradcam_samples(net, x_test, y_test, classes, per_class=4, seed=seed)
i18n.display_each(lambda lang: plots.plot_gradcam_grid(samples, classes, language=lang),
                  save=figures / "gradcam_per_class.png")

# %% [markdown] tags=["lang-en"]
# **What the maps show.** For the shipped model (`models/default`, full profile) the evidence sits
# mostly on the **lower-central face**: the smile for happiness, the nose, mouth and upper lip for
# anger, the nose and mouth region for neutral and sadness. Disgust and surprise are the
# exceptions: their maps sit higher, on the nose and the band of the eyes (for surprise, rather than
# on the open mouth). Eyes and brows, which the Facial Action Coding System ties to fear and anger,
# carry less weight than one would expect; at 48 x 48 pixels the mouth is the largest, most
# contrasted cue. The rare classes are where the maps go
# astray: contempt and fear maps wander to the forehead, a cheek or a hand in front of the face, and
# these are also the classes the model most often gets wrong. Maps on hair, background or image
# borders would be a warning sign of a shortcut learned from how the photos were taken. A model
# trained for a few epochs on a subset (the smoke profile) has not learned these regions yet.
#
# Grad-CAM is coarse (one value per 8 x 8 pixel patch here) and shows correlation, not cause: it
# tells where the evidence was, not why the model weighed it as it did.

# %% [markdown] tags=["lang-tr"]
# **Haritalar ne gösteriyor.** Projeyle gelen modelde (`models/default`, tam profil) kanıt
# çoğunlukla **yüzün alt-orta kısmındadır**: mutlulukta gülümseme, öfkede burun, ağız ve üst
# dudak, nötr ve üzüntüde burun ve ağız bölgesi. İğrenme ve şaşkınlık istisnadır: haritaları daha
# yukarıda, burunda ve gözlerin şeridindedir (şaşkınlıkta açık ağızdan çok). Yüz Hareketi
# Kodlama Sistemi'nin korku ve öfkeyle ilişkilendirdiği gözler ve kaşlar beklenenden az ağırlık
# taşır; 48 x 48 pikselde ağız en büyük ve en kontrastlı ipucudur. Haritaların yoldan çıktığı yer nadir sınıflardır: küçümseme ve korku haritaları alına,
# bir yanağa ya da yüzün önündeki bir ele kayar; bunlar modelin en sık yanıldığı sınıflardır. Saça,
# arka plana ya da görüntü kenarlarına düşen haritalar, fotoğrafların çekiliş biçiminden öğrenilmiş
# bir kestirmenin uyarı işareti olurdu. Bir alt kümede birkaç epok eğitilmiş bir model (smoke
# profili) bu bölgeleri henüz öğrenmemiştir.
#
# Grad-CAM kabadır (burada 8 x 8 piksellik yama başına bir değer) ve nedensellik değil ilişki
# gösterir: kanıtın nerede olduğunu söyler, modelin onu neden öyle tarttığını değil.
