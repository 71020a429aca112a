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
# # Limitations and ethics
#
# **What the model is for.** Research and teaching on facial expression recognition: classifying
# the *apparent* expression of already-detected, roughly frontal faces. Its model card
# (`models/default/MODEL_CARD.md`, reproduced in the appendix) says what it must not be used for:
# **inferring the emotions, intent or mental state of real people**, or any decision about them
# (hiring, policing, health, education). An expression is not an emotion: people smile when they are
# not happy and look neutral when they are not calm, and the annotators of FER+ disagree on many
# faces themselves.
#
# **What limits it.** FER2013 was scraped from web image searches: mostly frontal, young adult and
# light-skinned faces with posed, often exaggerated expressions; how the model fares on other ages,
# skin tones, poses, lighting or spontaneous expressions was not measured and is likely worse.
# Contempt and disgust have about 120 training images each, so their recall is low and unstable. At
# 48 x 48 pixels subtle cues are lost. About one test face in thirteen has an exact copy in the
# training set (Data), which flatters every FER2013-based figure a little, ours included; Results
# gives our accuracy without those faces too. Every run
# was trained once per setting (the experiments measure seed noise where they can), and the
# accuracy of a detected face in a real photo is lower than on FER2013's own crops (see *Faces in
# photos, and speed*).

# %% [markdown] tags=["lang-tr"]
# # Sınırlılıklar ve etik
#
# **Model ne için.** Yüz ifadesi tanıma üzerine araştırma ve öğretim: önceden bulunmuş, kabaca
# önden çekilmiş yüzlerin *görünen* ifadesini sınıflandırmak. Model kartı
# (`models/default/MODEL_CARD.md`, ekte Türkçesiyle) neye kullanılmaması gerektiğini söyler:
# **gerçek kişilerin duygularını, niyetini ya da ruh halini çıkarmak** ya da onlar hakkında herhangi
# bir karar (işe alım, kolluk, sağlık, eğitim). İfade duygu değildir: insanlar mutlu değilken
# gülümser, sakin değilken nötr görünür; FER+ etiketleyicileri de birçok yüzde kendi aralarında
# anlaşamaz.
#
# **Onu ne sınırlıyor.** FER2013 web görsel aramalarıyla toplanmıştır: çoğunlukla önden çekilmiş,
# genç yetişkin ve açık tenli yüzler, pozlanmış ve çoğu zaman abartılı ifadeler; modelin başka
# yaşlarda, ten renklerinde, pozlarda, ışıkta ya da kendiliğinden ifadelerde nasıl çalıştığı
# ölçülmedi ve muhtemelen daha kötüdür. Küçümseme ve iğrenmenin her birinde yaklaşık 120 eğitim
# görüntüsü vardır; duyarlılıkları düşük ve kararsızdır. 48 x 48 pikselde ince ipuçları kaybolur.
# Her on üç test yüzünden biri kadarının eğitim kümesinde birebir kopyası vardır (Veri); bu, bizimki
# dahil FER2013'e dayalı her sonucu biraz şişirir; Sonuçlar doğruluğumuzu bu yüzler olmadan da verir. Her ayar bir kez eğitildi (deneyler tohum
# gürültüsünü ölçebildikleri yerde ölçer) ve gerçek bir fotoğrafta bulunan bir yüzdeki doğruluk
# FER2013'ün kendi kırpıntılarındakinden düşüktür (bkz. *Fotoğraflardaki yüzler ve hız*).

# %% tags=["parameters"]
# Parameters. papermill injects the values of notebooks/params/<profile>.yaml after this cell;
# the defaults below let it run as it is, in JupyterLab or under papermill from any folder.
from typing import Optional

from fer_helpers.params import use_profile

run_name: str = "interactive"                 # names the report folder, reports/<run_name>/
data_dir: Optional[str] = None                # FER+ data folder; None: data/ferplus, then ../shared/data/ferplus
model_dir: Optional[str] = "models/default"   # the model folder reported on
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
import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from IPython.display import Markdown

from fer_helpers import data, i18n, model, paper, pipeline, reproducibility
from fer_helpers.i18n import t
from fer_helpers.metrics import proportion_interval

figures = Path(output_dir) / "figures"
h = paper.headline(output_dir, model_dir, eval_subset)

# %% [markdown] tags=["lang-en", "abstract"]
# # Abstract

# %% [markdown] tags=["lang-tr", "abstract"]
# # Özet

# %% tags=["abstract"]
abstract_text = {
    "en": "We train a VGG-style convolutional network of {params} million parameters end to end on raw 48 x 48 grayscale "
          "faces of FER2013 [1], with the eight-class FER+ labels [2] as soft targets and class weights for the rare "
          "expressions{distilled}. On the FER+ test split under the standard majority protocol ({n} faces) it reaches "
          "**{acc} accuracy** (95% interval {lo}-{hi}; macro F1 {f1}{tta}), against {ref} for Microsoft's VGG13 [2] on the same protocol, "
          "after {minutes} minutes of training on {cores} CPU cores{teacher_time}. Common expressions are recognised well "
          "(recall {best}), the rare ones much less ({worst}). Grad-CAM [6] maps averaged over the test set "
          "put the evidence at the centre of the face, over the eyes and the mouth alike, not on one feature; {shift} Published figures measured on other splits or class sets are reported with their "
          "protocol and marked as not comparable. The whole report, in English and Turkish, is rebuilt from its "
          "notebooks by one command.",
    "tr": "FER2013'ün [1] ham 48 x 48 gri tonlamalı yüzleri üzerinde, sekiz sınıflı FER+ etiketleri [2] yumuşak "
          "hedef ve nadir ifadeler için sınıf ağırlıklarıyla{distilled}, {params} milyon parametreli VGG tarzı bir evrişimli ağı "
          "uçtan uca eğitiyoruz. Standart çoğunluk protokolüyle FER+ test bölümünde ({n} yüz) **{acc} doğruluğa** "
          "ulaşıyor (%95 aralığı {lo}-{hi}; makro F1 {f1}{tta}); aynı protokolde Microsoft VGG13 [2] {ref} elde ediyor. Eğitim {cores} "
          "işlemci çekirdeğinde {minutes} dakika sürdü{teacher_time}. Yaygın ifadeler iyi tanınıyor (duyarlılık {best}), "
          "nadir olanlar çok daha az ({worst}). Test kümesi üzerinden ortalanan Grad-CAM [6] "
          "haritaları kanıtı tek bir özelliğe değil, yüzün ortasına, gözlere ve ağza birlikte yerleştiriyor; {shift} Başka "
          "bölümlerde ya da sınıf kümelerinde ölçülmüş yayımlanmış sonuçlar protokolleriyle verilip "
          "karşılaştırılamaz diye işaretleniyor. İngilizce ve Türkçe raporun tamamı not defterlerinden tek "
          "komutla yeniden üretiliyor.",
}
shift_text = {
    "en": "under controlled camera changes, {name} {strength} costs the most ({drop} points), framing changes little.",
    "tr": "denetimli kamera değişimlerinde en pahalısı {strength} şiddetinde {name} ({drop} puan), kadraj "
          "değişimleri az etkiliyor.",
}
tta_text = {"en": "; {acc} with flip test-time augmentation", "tr": "; ayna test zamanı çoğaltmayla {acc}"}
# a distilled model [9, 10]: what it learnt from, and its teachers' training time (found by hash, paper.teacher_runs)
distilled_text = {"en": ", and as a second generation distilled from the probabilities of a first network of the "
                        "same size [9, 10]",
                  "tr": " ve aynı boyutta ilk bir ağın olasılıklarından damıtılan ikinci bir kuşak olarak [9, 10]"}
teacher_time_text = {"en": " (plus {minutes} minutes for the first generation)",
                     "tr": " (ilk kuşak için ayrıca {minutes} dakika)"}


def recalls(pairs, lang):
    return ", ".join(f"{i18n.class_name(c, lang)} {i18n.num(r, lang, 2)}" for c, r in pairs)


def teacher_time(lang):
    found = [r["wall_seconds"] / 60 for r in h["teachers"] or [] if r]
    return teacher_time_text[lang].format(minutes=i18n.num(sum(found), lang)) if found else ""


def abstract(lang):
    shift = ""
    if h["worst_shift"]:
        name, strength, drop = h["worst_shift"]
        shift = shift_text[lang].format(name=t(name, lang), strength=i18n.num(strength, lang, None), drop=i18n.num(100 * drop, lang, 1))
    lo, hi = proportion_interval(round(h["accuracy"] * h["n"]), h["n"])
    return Markdown(abstract_text[lang].format(
        lo=i18n.pct(lo, lang), hi=i18n.pct(hi, lang), params=i18n.num(h["parameters"] / 1e6, lang, 2), n=i18n.num(h["n"], lang), acc=i18n.pct(h["accuracy"], lang),
        f1=i18n.num(h["macro_f1"], lang, 3), ref=i18n.pct(h["reference"].accuracy, lang),
        tta=tta_text[lang].format(acc=i18n.pct(h["tta_accuracy"], lang)) if h["tta_accuracy"] else "",
        minutes=i18n.num(h["train_minutes"], lang), cores=h["cores"],
        distilled=distilled_text[lang] if h["teachers"] else "", teacher_time=teacher_time(lang),
        best=recalls(h["recall"][::-1][:3], lang), worst=recalls(h["recall"][:3], lang), shift=shift))


i18n.display_each(abstract)

# %% [markdown] tags=["lang-en"]
# # Conclusion

# %% [markdown] tags=["lang-tr"]
# # Sonuç

# %%
conclusion_text = {
    "en": "A small CNN, trained on a CPU from raw pixels, reads the expressions of FER+ faces with {acc} accuracy on "
          "the standard protocol ({comparison} VGG13's {ref} with {share} of its parameters at 48 x 48 instead of "
          "64 x 64 pixels). Three choices carry most of it: the FER+ vote distribution as the training target, "
          "augmentation while training, and a validation set that picks every setting while the test split is "
          "measured once. What it does not solve is the rare expressions: {worst} remain the weak spot, and macro F1 "
          "({f1}) says so where accuracy does not. {augmented}The next steps follow from the measurements: more and more "
          "varied faces of the rare classes, {augment_step}and an evaluation on faces that are not web-scraped, posed "
          "and mostly young. Used within its limits, for research and teaching on the "
          "apparent expression of a face, it is a reproducible baseline; it is not a reader of emotions.",
    "tr": "Ham piksellerden bir işlemcide eğitilen küçük bir CNN, FER+ yüzlerinin ifadelerini standart protokolde "
          "{acc} doğrulukla okuyor (VGG13'ün {ref} sonucunun {comparison_tr}; parametrelerinin {share_tr} kadarıyla ve 64 x 64 "
          "yerine 48 x 48 pikselde). Bunun çoğunu üç seçim taşıyor: eğitim hedefi olarak FER+ oy dağılımı, eğitim "
          "sırasında veri çoğaltma ve her ayarı seçen bir doğrulama kümesiyle yalnızca bir kez ölçülen test bölümü. "
          "Çözmediği şey nadir ifadeler: {worst} zayıf nokta olarak kalıyor ve doğruluğun söylemediğini makro F1 "
          "({f1}) söylüyor. {augmented}Sonraki adımlar ölçümlerden çıkıyor: nadir sınıflardan daha çok ve daha çeşitli "
          "yüz, {augment_step}ve webden toplanmamış, pozlanmamış, çoğunlukla genç olmayan yüzlerde bir değerlendirme. "
          "Sınırları içinde, bir yüzün görünen ifadesi üzerine araştırma ve öğretim "
          "için kullanıldığında yeniden üretilebilir bir temel model; duygu okuyan bir araç değil.",
}

# a model trained with blur and JPEG artefacts (augment: strong or camera) has that next step behind it
augmentation_text = {
    "en": {"done": "Blur and compression in its augmentation already keep it steady under a camera's changes. ",
           "step": "blur and compression in the augmentation, "},
    "tr": {"done": "Veri çoğaltmasındaki bulanıklık ve sıkıştırma onu kamera değişimlerine karşı zaten dengeli "
                   "tutuyor. ",
           "step": "veri çoğaltmaya bulanıklık ve sıkıştırma, "},
}


VGG13_PARAMETERS = 8.8e6  # Barsoum et al. [2], at 64 x 64 inputs


def conclusion(lang):
    above = h["accuracy"] >= h["reference"].accuracy
    share = (h["parameters"] or 0) / VGG13_PARAMETERS
    robust = h["augment"] in ("strong", "camera")
    return Markdown(conclusion_text[lang].format(
        share=i18n.pct(share, lang, 0), share_tr=i18n.pct(share, lang, 0),
        acc=i18n.pct(h["accuracy"], lang), ref=i18n.pct(h["reference"].accuracy, lang),
        comparison="above" if above else "below", comparison_tr="üzerinde" if above else "altında",
        worst=", ".join(i18n.class_name(c, lang) for c, _ in h["recall"][:3]), f1=i18n.num(h["macro_f1"], lang, 3),
        augmented=augmentation_text[lang]["done"] if robust else "",
        augment_step="" if robust else augmentation_text[lang]["step"]))


i18n.display_each(conclusion)

# %% [markdown] tags=["slides-only", "lang-en"] slideshow={"slide_type": "slide"}
# ## Limitations and robustness

# %% [markdown] tags=["slides-only", "lang-tr"] slideshow={"slide_type": "slide"}
# ## Sınırlılıklar ve dayanıklılık

# %% tags=["slides-only"] slideshow={"slide_type": "-"}
# the limitations chapter in four lines, each figure read from this run's records
from fer_helpers.evaluation import result_stem

stem = result_stem("test", eval_subset)
evaluation = json.loads((Path(output_dir) / "evaluation" / f"evaluation_{stem}.json").read_text())
ds = data.load_dataset(data_dir)
all_copies = ds.copies_in("test")
copies = data.seeded_subset(all_copies, all_copies, eval_subset, seed)[0]
train_faces = ds.counts().query("split == 'train'").set_index("class")["majority"]
robustness_csv = Path(output_dir) / "evaluation" / f"robustness_{stem}.csv"
shifts = pd.read_csv(robustness_csv) if robustness_csv.is_file() else pd.DataFrame(columns=["perturbation", "drop"])
framing_drop = shifts.loc[shifts["perturbation"].isin(["scale", "shift_x", "shift_y", "rotation"]), "drop"].min()
limits_lines = {
    "en": {"shift": "- **camera, not framing**: {name} {strength} costs {drop} points; framing shifts at most {framing} points",
           "copies": "- **test faces seen in training**: {copies} of {n} ({share}) have an exact copy there",
           "rare": "- **rare classes, few faces**: {classes}",
           "rare_one": "{name} {train} training faces, test recall {recall} ({k} of {support}; 95% {lo}-{hi})",
           "data": "- **web-scraped, posed, mostly young and light-skinned faces**: other faces were not measured"},
    "tr": {"shift": "- **kadraj değil kamera**: {strength} şiddetinde {name} {drop} puan kaybettirir; kadraj kaymaları en çok {framing} puan",
           "copies": "- **eğitimde görülmüş test yüzleri**: {n} yüzün {copies} tanesinin ({share}) orada birebir kopyası var",
           "rare": "- **nadir sınıflar, az yüz**: {classes}",
           "rare_one": "{name} {train} eğitim yüzü, test duyarlılığı {recall} ({support} yüzde {k}; %95 {lo}-{hi})",
           "data": "- **webden toplanmış, pozlanmış, çoğunlukla genç ve açık tenli yüzler**: başka yüzler ölçülmedi"},
}


def limitations_slide(lang):
    words = limits_lines[lang]
    lines = []
    if h["worst_shift"]:
        name, strength, drop = h["worst_shift"]
        lines.append(words["shift"].format(name=t(name, lang), strength=i18n.num(strength, lang, None),
                                           drop=i18n.num(-100 * drop, lang, 1),
                                           framing=i18n.num(-100 * framing_drop, lang, 1)))
    lines.append(words["copies"].format(copies=i18n.num(int(copies.sum()), lang), n=i18n.num(len(copies), lang),
                                        share=i18n.pct(copies.mean(), lang, 1)))
    rare = []
    for name, recall in h["recall"][:2]:
        support = int(evaluation["per_class"][name]["support"])
        k = round(recall * support)
        lo, hi = proportion_interval(k, support)
        rare.append(words["rare_one"].format(name=i18n.class_name(name, lang), train=i18n.num(int(train_faces[name]), lang),
                                             recall=i18n.num(recall, lang, 2), k=k, support=support,
                                             lo=i18n.num(lo, lang, 2), hi=i18n.num(hi, lang, 2)))
    lines.append(words["rare"].format(classes="; ".join(rare)))
    lines.append(words["data"])
    return Markdown("\n".join(lines))


i18n.display_each(limitations_slide)

# %% [markdown] tags=["slides-only", "lang-en"] slideshow={"slide_type": "slide"}
# ## Takeaways
#
# - FER+ votes give cleaner labels than FER2013's; the protocol decides which faces count
# - a small VGG-style CNN with soft labels, class weights and augmentation trains on a CPU
# - rare classes (contempt, disgust, fear) remain the weak spot: read macro F1, not only accuracy
# - Grad-CAM, averaged per class: the evidence sits at the centre of the face, not on one feature
# - not for inferring emotions of real people: an expression is not an emotion

# %% [markdown] tags=["slides-only", "lang-tr"] slideshow={"slide_type": "slide"}
# ## Çıkarımlar
#
# - FER+ oyları FER2013'ünkinden temiz etiketler verir; hangi yüzlerin sayılacağını protokol belirler
# - yumuşak etiketler, sınıf ağırlıkları ve veri çoğaltmayla küçük bir VGG tarzı CNN işlemcide eğitilir
# - nadir sınıflar (küçümseme, iğrenme, korku) zayıf nokta: yalnızca doğruluğa değil makro F1'e bakın
# - sınıf başına ortalama Grad-CAM: kanıt tek bir özellikte değil, yüzün ortasında
# - gerçek kişilerin duygularını çıkarmak için değil: ifade duygu değildir

# %% [markdown] tags=["lang-en"]
# # References

# %% [markdown] tags=["lang-tr"]
# # Kaynaklar

# %%
Markdown(paper.references_markdown())

# %% [markdown] tags=["lang-en", "appendix"]
# ## Reproducibility
#
# Everything needed to reproduce these results: the parameters of this run, the software versions
# and git commits, the wall times, the full layer listing and the model card. The whole report is
# rebuilt by one command, `fer report --params <profile>.yaml` (`-p language tr` for Turkish).

# %% [markdown] tags=["lang-tr", "appendix"]
# ## Yeniden üretilebilirlik
#
# Bu sonuçları yeniden üretmek için gereken her şey: bu çalıştırmanın parametreleri, yazılım
# sürümleri ve git commit'leri, süreler, katman katman tam liste ve model kartı. Raporun tamamı tek
# komutla yeniden üretilir: `fer report --params <profil>.yaml` (Türkçe için `-p language tr`).

# %% tags=["appendix"]
run = json.loads((Path(model_dir) / "run.json").read_text())
now = reproducibility.run_info(seed=seed)
provenance = {
    "en": "- **model folder**: `{model}`, trained with seed {seed} at git commit `{commit}`, finished {finished}, "
          "{minutes} min of training on {cores} CPU cores\n- **this report**: git commit `{now_commit}`, Keras backend "
          "`{backend}`, run `{run_name}`, seed {report_seed}",
    "tr": "- **model klasörü**: `{model}`, tohum {seed} ile git commit `{commit}` üzerinde eğitildi, bitiş {finished}, "
          "{cores} işlemci çekirdeğinde {minutes} dakika eğitim\n- **bu rapor**: git commit `{now_commit}`, Keras arka ucu "
          "`{backend}`, çalıştırma `{run_name}`, tohum {report_seed}",
}
i18n.display_each(lambda lang: Markdown(provenance[lang].format(
    model=paper.report_path(model_dir, output_dir), seed=run["seed"], commit=run["git_commit"], finished=run["finished"],
    minutes=i18n.num(run["wall_seconds"] / 60, lang, 1), cores=run["machine"]["cpu_count"],
    now_commit=now["git_commit"], backend=now["keras_backend"], run_name=run_name, report_seed=seed)))

# %% [markdown] tags=["lang-en", "appendix"]
# ### Parameters of this run
#
# papermill injected them into every notebook; paths are shown relative to the project.

# %% [markdown] tags=["lang-tr", "appendix"]
# ### Bu çalıştırmanın parametreleri
#
# papermill bunları her not defterine yerleştirdi; yollar projeye göre gösterilir.

# %% tags=["appendix"]
shown = {k: v and paper.report_path(v, output_dir) for k, v in {"data_dir": data_dir, "model_dir": model_dir}.items()}
print(yaml.safe_dump({"run_name": run_name, **shown, "train": train, "seed": seed, "eval_subset": eval_subset,
                      "tta": tta, "training": training, "language": language}, sort_keys=False, allow_unicode=True))

# %% [markdown] tags=["lang-en", "appendix"]
# ### Software versions, when the model was trained and now

# %% [markdown] tags=["lang-tr", "appendix"]
# ### Yazılım sürümleri, modelin eğitildiği sırada ve şimdi

# %% tags=["appendix"]
versions_columns = {"en": ("training", "this report"), "tr": ("eğitim", "bu rapor")}
i18n.display_each(lambda lang: pd.DataFrame(dict(zip(versions_columns[lang], (run["versions"], now["versions"]))))
                  .fillna("–"))

# %% [markdown] tags=["lang-en", "appendix"]
# ### Wall times of this report's steps (seconds; this notebook and the rendering come after)

# %% [markdown] tags=["lang-tr", "appendix"]
# ### Bu raporun adımlarının süreleri (saniye; bu not defteri ve çıktı üretimi sonra gelir)

# %% tags=["appendix"]
timings = pd.Series(pipeline.read_timings(output_dir), dtype=float)
i18n.display_each(lambda lang: timings.rename(t("seconds", lang)).to_frame())

# %% [markdown] tags=["lang-en", "appendix"]
# ### The network, layer by layer

# %% [markdown] tags=["lang-tr", "appendix"]
# ### Katman katman ağ

# %% tags=["appendix"]
net, classes = model.load_model_dir(model_dir)
trainable = sum(int(np.prod(w.shape)) for w in net.trainable_weights)
i18n.display_each(lambda lang: [
    paper.model_layers(net, lang).style.format({t("parameters", lang): i18n.formatter(",d", lang)}).hide(axis="index"),
    Markdown(i18n.t_format("{total} parameters, {trainable} of them trained; the rest are the batch normalisation "
                           "statistics", lang, total=i18n.num(net.count_params(), lang), trainable=i18n.num(trainable, lang)))])

# %% [markdown] tags=["lang-en", "appendix"]
# ### The model card (`MODEL_CARD.md` of the model folder)

# %% [markdown] tags=["lang-tr", "appendix"]
# ### Model kartı (model klasörünün `MODEL_CARD.md` dosyası, aynı kayıtlardan Türkçe)

# %% tags=["appendix"]
from fer_helpers import calibration, training


def model_card(lang):
    """The model folder's card: the file itself in English; in Turkish the same card written from the same records."""
    if lang == "en":
        return Markdown((Path(model_dir) / "MODEL_CARD.md").read_text().replace("# Model card", "### Model card", 1))
    trained = {**yaml.safe_load((Path(model_dir) / "params.yaml").read_text())["training"], "seed": run["seed"]}
    card = training.model_card(Path(model_dir).name, trained, json.loads((Path(model_dir) / "metrics.json").read_text()),
                               run, lang)
    record = calibration.read_calibration(model_dir)
    card += calibration.card_line(record, lang) if record else ""
    return Markdown(card.replace("# Model kartı", "### Model kartı", 1))


i18n.display_each(model_card)
