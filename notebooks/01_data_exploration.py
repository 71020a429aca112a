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
# # Introduction
#
# Reading a facial expression from a photo is easy for people and hard to pin down for a program:
# the same smile changes with the light, the pose, the age and the face, and people themselves
# disagree on what many faces show. This study trains a convolutional neural network (CNN) that
# learns the task **end to end from raw pixels**: it gets 48 x 48 grayscale faces and returns a
# probability for each of eight expressions, with no hand-made features, landmarks or
# preprocessing outside the model.
#
# **FER2013 and FER+.** The faces come from FER2013, about 35,000 crops collected by image
# searches for a 2013 Kaggle challenge [1], whose single label per image is noisy (roughly one in
# ten is wrong). FER+ [2] had every image relabelled by ten annotators, added *contempt* as an
# eighth class and marked *unknown* faces and *not a face*. We use the FER+ votes and the three
# original splits, and measure every accuracy under the FER+ majority protocol (3,137 test faces),
# so that our figures compare with the FER+ literature; results on the original FER2013 labels
# (7 classes) are a different task and are marked as such.
#
# **The report.** The data (this chapter), the method (the CNN and its training), the results on
# the test split against published references, a look at what the model attends to, the faces in
# the wild it meets in use, the experiments behind each choice (when the run includes them), its
# limitations and ethics, and a conclusion. An appendix gives everything needed to reproduce it.
# The report is generated from notebooks that compute every number it quotes.

# %% [markdown] tags=["lang-tr"]
# # Giriş
#
# Bir fotoğraftaki yüz ifadesini okumak insanlar için kolaydır, bir program için ise tarif etmesi
# zordur: aynı gülümseme ışıkla, pozla, yaşla ve yüzle değişir; insanlar da birçok yüzün ne
# gösterdiği konusunda anlaşamaz. Bu çalışma, görevi **ham piksellerden uçtan uca** öğrenen bir
# evrişimli sinir ağı (CNN) eğitir: ağ 48 x 48 gri tonlamalı yüzler alır ve sekiz ifadenin her biri
# için bir olasılık döndürür; elle tasarlanmış öznitelik, yüz noktası ya da model dışında bir ön
# işleme yoktur.
#
# **FER2013 ve FER+.** Yüzler, 2013'teki bir Kaggle yarışması için görsel aramalarıyla toplanmış
# yaklaşık 35.000 kırpıntıdan oluşan FER2013'ten gelir [1]; her görüntünün tek etiketi gürültülüdür
# (kabaca onda biri yanlıştır). FER+ [2] her görüntüyü on etiketleyiciye yeniden etiketletmiş,
# sekizinci sınıf olarak *küçümseme*yi eklemiş, *bilinmeyen* yüzleri ve *yüz olmayanları*
# işaretlemiştir. FER+ oylarını ve üç özgün bölümü kullanıyor, her doğruluğu FER+ çoğunluk
# protokolüyle (3.137 test yüzü) ölçüyoruz; böylece sonuçlarımız FER+ literatürüyle
# karşılaştırılabilir. Özgün FER2013 etiketleriyle (7 sınıf) alınan sonuçlar başka bir görevdir ve
# öyle işaretlenir.
#
# **Rapor.** Veri (bu bölüm), yöntem (CNN ve eğitimi), test bölümündeki sonuçlar ve yayımlanmış
# sonuçlarla karşılaştırma, modelin nereye baktığı, kullanımda karşılaştığı gerçek fotoğraflardaki
# yüzler, her seçimin ardındaki deneyler (çalıştırma içeriyorsa), sınırlılıklar ve etik, ve bir
# sonuç. Ek, her şeyi yeniden üretmek için gerekenleri verir. Rapor, aktardığı her sayıyı hesaplayan
# not defterlerinden üretilir.

# %% tags=["parameters"]
# Parameters. papermill injects the values of notebooks/params/<profile>.yaml after this cell;
# the defaults below let it run as it is, in JupyterLab or under papermill from any folder.
from typing import Optional

from fer_helpers.params import use_profile

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

import pandas as pd
from IPython.display import Markdown

from fer_helpers import data, i18n, model, plots
from fer_helpers.i18n import t

plots.set_style()
figures = Path(output_dir) / "figures"
ds = data.load_dataset(data_dir)

# %% [markdown] tags=["lang-en"]
# # Data
#
# This chapter looks at the data before any model does: how the FER+ votes become labels, how many
# faces each class has, what they look like, whether the splits are alike and whether some faces
# appear twice. `FER2013Train` is used to learn, `FER2013Valid` to choose (epochs, settings) and
# `FER2013Test`, touched once, to report.
#
# ## The FER+ label protocol
#
# Every image carries ten votes over the eight emotions plus *unknown* and *not a face* (NF). The
# protocol of the FER+ paper [2], which every published FER+ figure uses, turns them into a label:
#
# 1. **single votes are dropped**: one annotator out of ten is treated as noise;
# 2. an image gets the emotion that holds **more than half** of the remaining votes (the *majority*);
# 3. images whose majority is **unknown** or **not a face**, and images **without a majority**, are
#    excluded.
#
# The test split keeps **3,137** images under this protocol. Training can use the votes more fully:
# the default model learns from the *vote distribution* (soft labels, the paper's "probability"
# scheme), so a face that five annotators call neutral and four call sad teaches exactly that
# ambiguity. Evaluation always uses the majority label.

# %% [markdown] tags=["lang-tr"]
# # Veri
#
# Bu bölüm veriye, henüz hiçbir model bakmadan bakar: FER+ oyları nasıl etikete dönüşür, her
# sınıfta kaç yüz var, neye benziyorlar, bölümler birbirine benziyor mu ve bazı yüzler iki kez
# geçiyor mu. `FER2013Train` öğrenmek, `FER2013Valid` seçmek (epok sayısı, ayarlar) ve yalnızca bir
# kez dokunulan `FER2013Test` raporlamak için kullanılır.
#
# ## FER+ etiket protokolü
#
# Her görüntünün sekiz duygu ile *bilinmiyor* ve *yüz değil* (NF) üzerine on oyu vardır. Yayımlanmış
# her FER+ sonucunun kullandığı FER+ makalesinin protokolü [2] bu oyları etikete dönüştürür:
#
# 1. **tek oylar atılır**: on etiketleyiciden birinin oyu gürültü sayılır;
# 2. görüntü, kalan oyların **yarısından fazlasını** alan duyguyla etiketlenir (*çoğunluk*);
# 3. çoğunluğu **bilinmiyor** ya da **yüz değil** olan görüntüler ve **çoğunluğu olmayan**
#    görüntüler dışarıda bırakılır.
#
# Bu protokolle test bölümünde **3.137** görüntü kalır. Eğitim oyları daha tam kullanabilir:
# varsayılan model *oy dağılımından* öğrenir (yumuşak etiketler, makalenin "olasılık" şeması);
# beş etiketleyicinin nötr, dördünün üzgün dediği bir yüz modele tam da bu belirsizliği öğretir.
# Değerlendirme her zaman çoğunluk etiketini kullanır.

# %% [markdown] tags=["lang-en", "caption"]
# {tab:protocol} Images per split, and how many the FER+ majority protocol keeps.

# %% [markdown] tags=["lang-tr", "caption"]
# {tab:protocol} Bölüm başına görüntüler ve FER+ çoğunluk protokolünün tuttukları.

# %%
kept = {s: len(ds.split(s, labels="majority")[1]) for s in ds.splits}
total = {s: len(ds.votes(s)) for s in ds.splits}
i18n.display_each(lambda lang: pd.DataFrame(
    {t(s, lang): {t("images", lang): total[s], t("kept by the protocol", lang): kept[s],
                  t("excluded", lang): total[s] - kept[s]} for s in ds.splits}))

# %% [markdown] tags=["slides-only", "lang-en"] slideshow={"slide_type": "slide"}
# ## FER+: ten votes per face, one label by majority
#
# Single votes dropped; the label is the emotion with **more than half** of the rest; unknown,
# not-a-face and no-majority faces are excluded (3,137 test faces are kept).

# %% [markdown] tags=["slides-only", "lang-tr"] slideshow={"slide_type": "slide"}
# ## FER+: yüz başına on oy, çoğunlukla tek etiket
#
# Tek oylar atılır; etiket, kalanların **yarısından fazlasını** alan duygudur; bilinmeyen, yüz
# olmayan ve çoğunluğu olmayan yüzler dışarıda kalır (3.137 test yüzü kalır).

# %% slideshow={"slide_type": "-"}
i18n.display_each(lambda lang: plots.plot_label_protocol(ds.votes("train"), ds.classes, seed=seed, language=lang),
                  save=figures / "label_protocol.png")

# %% [markdown] tags=["lang-en", "caption"]
# {fig:votes} The annotators' votes: how often each class wins a majority, and how clear it is.

# %% [markdown] tags=["lang-tr", "caption"]
# {fig:votes} Etiketleyicilerin oyları: her sınıf ne sıklıkla çoğunluğu alıyor ve ne kadar açık.

# %% [markdown] tags=["lang-en"]
# Agreement differs a lot between classes: happiness and surprise are usually near-unanimous,
# while contempt, disgust and fear rarely reach a clear majority. Where people disagree, no model
# can be "right" on every image.
#
# ## Class balance
#
# FER+ is strongly imbalanced. Neutral and happiness make up more than half of the images;
# contempt and disgust have little more than a hundred training images each. Accuracy alone
# therefore flatters a model that ignores the rare classes, which is why the evaluation also
# reports **macro F1** (every class counts equally) and why training weights the rare classes up
# ({@fig:balance}; the counts are in {@tab:balance} in the appendix).

# %% [markdown] tags=["lang-tr"]
# Uzlaşma sınıftan sınıfa çok değişir: mutluluk ve şaşkınlıkta oylar genellikle neredeyse
# oybirliğidir; küçümseme, iğrenme ve korku ise nadiren açık bir çoğunluğa ulaşır. İnsanların
# anlaşamadığı yerde hiçbir model her görüntüde "haklı" olamaz.
#
# ## Sınıf dengesi
#
# FER+ güçlü biçimde dengesizdir. Nötr ve mutluluk görüntülerin yarısından fazlasıdır; küçümseme ve
# iğrenmenin her birinde 100'ün biraz üzerinde eğitim görüntüsü vardır. Bu yüzden doğruluk tek
# başına nadir sınıfları görmezden gelen bir modeli olduğundan iyi gösterir; değerlendirme bu
# nedenle **makro F1**'i de (her sınıf eşit sayılır) verir ve eğitim nadir sınıflara daha çok
# ağırlık verir ({@fig:balance}; sayılar ekteki {@tab:balance} içinde).

# %% [markdown] tags=["lang-en", "caption", "appendix"]
# ## Images per class
#
# {tab:balance} Images per class and split under the FER+ majority protocol.

# %% [markdown] tags=["lang-tr", "caption", "appendix"]
# ## Sınıf başına görüntüler
#
# {tab:balance} FER+ çoğunluk protokolüne göre sınıf ve bölüm başına görüntüler.

# %% tags=["appendix"]
counts = ds.counts()
table = counts.pivot_table(index="class", columns="split", values="majority", aggfunc="sum", sort=False)
table = table.loc[ds.classes + ["excluded by protocol"], ds.splits]
i18n.display_each(lambda lang: table.rename(index=lambda c: t(c, lang) if c == "excluded by protocol"
                                            else i18n.class_name(c, lang),
                                            columns=lambda s: t(s, lang)).rename_axis(t("class", lang))
                  .rename_axis(t("split", lang), axis=1))

# %% [markdown] tags=["slides-only", "lang-en"] slideshow={"slide_type": "slide"}
# ## 48 x 48 faces, strongly imbalanced classes

# %% [markdown] tags=["slides-only", "lang-tr"] slideshow={"slide_type": "slide"}
# ## 48 x 48 yüzler, güçlü biçimde dengesiz sınıflar

# %% slideshow={"slide_type": "-"}
i18n.display_each(lambda lang: plots.plot_class_balance(counts, language=lang), save=figures / "class_balance.png")

# %% [markdown] tags=["lang-en", "caption"]
# {fig:balance} Images per class in each split (majority labels).

# %% [markdown] tags=["lang-tr", "caption"]
# {fig:balance} Her bölümde sınıf başına görüntü (çoğunluk etiketleri).

# %% [markdown] tags=["lang-en"]
# ## What the faces look like
#
# Random training faces per class ({@fig:samples}; in brackets: the class size under the majority protocol). The
# crops are centred and roughly aligned, but pose, lighting, age, occlusion (hands, glasses,
# watermarks) and image quality vary widely; a few are drawings that slipped past the annotators.

# %% [markdown] tags=["lang-tr"]
# ## Yüzler neye benziyor
#
# Sınıf başına rastgele eğitim yüzleri ({@fig:samples}; parantez içinde: çoğunluk protokolüne göre sınıf
# büyüklüğü). Kırpıntılar ortalanmış ve kabaca hizalanmıştır; ama poz, ışık, yaş, örtülme (el,
# gözlük, filigran) ve görüntü kalitesi çok değişir; birkaçı etiketleyicilerin gözünden kaçmış
# çizimlerdir.

# %%
x_train, y_train = ds.split("train")
i18n.display_each(lambda lang: plots.plot_samples_per_class(x_train, y_train, ds.classes, per_class=8, seed=seed,
                                                            language=lang),
                  save=figures / "samples_per_class.png")

# %% [markdown] tags=["lang-en", "caption"]
# {fig:samples} Eight random training faces of each class.

# %% [markdown] tags=["lang-tr", "caption"]
# {fig:samples} Her sınıftan sekiz rastgele eğitim yüzü.

# %% [markdown] tags=["lang-en", "appendix"]
# ## Pixel statistics
#
# If the splits came from different distributions (brighter, more contrast), a test score would
# measure that shift rather than the model. The intensity histograms and the mean faces of the
# three splits are practically the same, as expected for a random split of one collection.

# %% [markdown] tags=["lang-tr", "appendix"]
# ## Piksel istatistikleri
#
# Bölümler farklı dağılımlardan gelseydi (daha parlak, daha kontrastlı), test puanı modeli değil bu
# farkı ölçerdi. Üç bölümün yoğunluk histogramları ve ortalama yüzleri, tek bir koleksiyonun
# rastgele bölünmesinden beklendiği gibi, neredeyse aynıdır.

# %% tags=["appendix"]
i18n.display_each(lambda lang: plots.plot_pixel_stats({s: ds.split(s, labels="votes")[0] for s in ds.splits},
                                                       language=lang),
                  save=figures / "pixel_stats.png")

# %% [markdown] tags=["lang-en", "caption", "appendix"]
# {fig:pixels} Pixel intensities and mean faces of the three splits.

# %% [markdown] tags=["lang-tr", "caption", "appendix"]
# {fig:pixels} Üç bölümün piksel yoğunlukları ve ortalama yüzleri.

# %% [markdown] tags=["lang-en"]
# ## Duplicates across splits
#
# FER2013 was scraped from the web, and the same picture sometimes appears more than once.
# Duplicates *across* splits leak test faces into training and inflate the test score a little. We
# count exact duplicates by hashing the pixels, keep the published splits (so that our figures
# compare with the literature) and state the overlap instead.

# %% [markdown] tags=["lang-tr"]
# ## Bölümler arası kopyalar
#
# FER2013 webden toplanmıştır ve aynı resim bazen birden fazla kez geçer. Bölümler *arası* kopyalar
# test yüzlerini eğitime sızdırır ve test puanını biraz şişirir. Birebir kopyaları pikselleri
# özetleyerek sayıyor, yayımlanmış bölümleri koruyor (sonuçlarımız literatürle karşılaştırılabilsin
# diye) ve örtüşmeyi açıkça belirtiyoruz.

# %%
dup = ds.duplicates()
copies = {s: ds.copies_in(s) for s in ("valid", "test")}  # faces kept by the protocol with a copy in training
duplicates_text = {
    "en": "**{groups}** groups of identical images ({images} images); **{across}** groups span more than one split. "
          "Of the faces the protocol keeps, **{test}** of the {n_test} test faces ({test_share}) and **{valid}** of the "
          "{n_valid} validation faces ({valid_share}) have an exact copy in the training set. The Results chapter "
          "gives the test accuracy without them too.",
    "tr": "**{groups}** özdeş görüntü grubu ({images} görüntü); **{across}** grup birden fazla bölüme yayılıyor. "
          "Protokolün tuttuğu yüzlerden {n_test} test yüzünün **{test}** tanesinin ({test_share}) ve {n_valid} "
          "doğrulama yüzünün **{valid}** tanesinin ({valid_share}) eğitim kümesinde birebir kopyası var. Sonuçlar "
          "bölümü test doğruluğunu onlarsız da verir.",
}
i18n.display_each(lambda lang: Markdown(duplicates_text[lang].format(
    groups=i18n.num(dup["groups"], lang), images=i18n.num(dup["images_in_groups"], lang),
    across=i18n.num(dup["across_splits"], lang),
    **{f"{key}{suffix}": value for s, key in (("test", "test"), ("valid", "valid")) for suffix, value in (
        ("", i18n.num(int(copies[s].sum()), lang)), ("_share", i18n.pct(copies[s].mean(), lang, 1)))},
    n_test=i18n.num(len(copies["test"]), lang), n_valid=i18n.num(len(copies["valid"]), lang))))

# %% [markdown] tags=["lang-en"]
# ## Augmentation
#
# With 28,000 training faces a CNN memorises quickly. Augmentation shows it a slightly different
# face every epoch: mirror images, small rotations, shifts and zooms, brightness and contrast
# changes, all of which keep the expression's meaning. They are applied only while training (by
# the input pipeline for the shipped model), so the saved model needs no preprocessing code.
# {@fig:augmentation} shows real training faces and three random draws of the default augmentation.
# The pixel statistics of the three splits, in the appendix ({@fig:pixels}), are practically the
# same, as expected for a random split of one collection.

# %% [markdown] tags=["lang-tr"]
# ## Veri çoğaltma
#
# 28.000 eğitim yüzüyle bir CNN hızla ezberler. Veri çoğaltma ona her epokta biraz farklı bir yüz
# gösterir: ayna görüntüsü, küçük döndürme, kaydırma ve yakınlaştırma, parlaklık ve kontrast
# değişimi; hepsi ifadenin anlamını korur. Yalnızca eğitimde uygulanırlar (projeyle gelen modelde
# girdi hattı uygular); kaydedilen model ön işleme kodu gerektirmez. {@fig:augmentation} gerçek
# eğitim yüzlerini ve varsayılan çoğaltmanın üç rastgele çekilişini gösterir. Üç bölümün piksel
# istatistikleri, ekte ({@fig:pixels}), tek bir koleksiyonun rastgele bölünmesinden beklendiği
# gibi, neredeyse aynıdır.

# %% [markdown] tags=["slides-only", "lang-en"] slideshow={"slide_type": "slide"}
# ## Augmentation: a slightly different face every epoch

# %% [markdown] tags=["slides-only", "lang-tr"] slideshow={"slide_type": "slide"}
# ## Veri çoğaltma: her epokta biraz farklı bir yüz

# %% slideshow={"slide_type": "-"}
aug_model = model.build(training.get("model", "default"), augment=training.get("augment", "default"), seed=seed)
i18n.display_each(lambda lang: plots.plot_augmentation(aug_model, x_train, n=8, seed=seed, language=lang),
                  save=figures / "augmentation.png")

# %% [markdown] tags=["lang-en", "caption"]
# {fig:augmentation} Real training faces (top row) and three random draws of the default augmentation.

# %% [markdown] tags=["lang-tr", "caption"]
# {fig:augmentation} Gerçek eğitim yüzleri (üst satır) ve varsayılan çoğaltmanın üç rastgele çekilişi.

# %% [markdown] tags=["lang-en"]
# **In short**: a small, noisy, imbalanced data set of tiny faces. The FER+ votes fix much of the
# label noise and define which images count; the imbalance asks for class weights and macro F1; the
# cross-split duplicates are reported, not removed, and the test figures are also given without them.

# %% [markdown] tags=["lang-tr"]
# **Özetle**: küçük yüzlerden oluşan küçük, gürültülü ve dengesiz bir veri seti. FER+ oyları etiket
# gürültüsünün çoğunu giderir ve hangi görüntülerin sayılacağını belirler; dengesizlik sınıf
# ağırlıkları ve makro F1 gerektirir; bölümler arası kopyalar silinmez, raporlanır ve test sonuçları
# onlarsız da verilir.
