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
# # Experiments: why the model is what it is
#
# Each choice of the recipe (the first generation's; the shipped model has 1.5 times its channels,
# see Method) is measured here by changing it alone and training again. The runs come from sweep files
# (`notebooks/sweeps/<name>.yaml`), trained by `fer sweep` into `runs/<sweep>/<variant>/`; `fer runs`
# lists them. Two rules keep the comparison honest:
#
# - **choices are made on validation** (FER2013Valid, 3,191 images); each run's test figure is
#   measured once, when its training ends, and is reported, never used to choose;
# - **a difference counts only when it is larger than the noise**: the reference recipe is trained
#   with several seeds, and a change whose effect stays within two standard deviations of those runs
#   is reported as indistinguishable from chance.
#
# The ablations use a shorter budget than the shipped model (the sweep file says which), so their
# absolute accuracies are lower; what they compare is the difference each change makes under the
# same budget. Levers the study added but left off by default (an average of the weights, mixup [8],
# label smoothing) are measured the same way when their sweep has run. A second sweep,
# `seed_budgets`, redoes the seed project's own comparison of training budgets on FER+: its baseline
# network and recipe at 5, 15 and 45 epochs (the seed trained for 15, 60 and 360; 45 epochs of the
# baseline take about an hour of a 2-core CPU).
#
# A third sweep, `candidates`, holds the accuracy work at the shipped model's full 50 epochs: the
# recipe over three seeds (its noise at full length), a first block of 16 channels instead of 32
# (`narrow_stem`, cheaper to train) over three seeds and at 40 epochs, lighter augmentation, balanced
# sampling, a network with 1.5 times the channels (`wide`; three seeds, about 0.7 points above the
# recipe's), that network with blur, JPEG artefacts and erased patches in its augmentation
# (`wide_strong`, three seeds, the third shipped), robust fine-tunes of `wide`, the same network with a
# loss that shifts its logits towards the rare classes (`wide_strong_la`), and students distilled from one
# model, from each other ("born again" generations) or from several. The shipped
# model and a few others were trained on this CPU; the rest on a lent GPU with the JAX backend,
# several at once, which the machine column says. A GPU run's numbers are not bit-for-bit
# what the CPU would give for the same parameters (another backend), but its seed noise is measured
# on the same GPU.

# %% [markdown] tags=["lang-tr"]
# # Deneyler: model neden böyle
#
# Tarifin (birinci kuşağın tarifi; projeyle gelen model onun 1,5 kat kanallısıdır, bkz. Yöntem) her
# seçimi burada yalnızca o değiştirilip yeniden eğitilerek ölçülür. Çalıştırmalar tarama
# dosyalarından (`notebooks/sweeps/<ad>.yaml`) gelir ve `fer sweep` ile `runs/<tarama>/<varyant>/`
# içine eğitilir; `fer runs` onları listeler. İki kural karşılaştırmayı dürüst tutar:
#
# - **seçimler doğrulama üzerinde yapılır** (FER2013Valid, 3.191 görüntü); her çalıştırmanın test
#   sonucu eğitimi bittiğinde bir kez ölçülür ve raporlanır, seçim için asla kullanılmaz;
# - **bir fark ancak gürültüden büyükse sayılır**: referans tarif birkaç tohumla eğitilir; etkisi bu
#   çalıştırmaların iki standart sapması içinde kalan bir değişiklik şanstan ayırt edilemez diye
#   raporlanır.
#
# Ablasyonlar projeyle gelen modelden daha kısa bir bütçe kullanır (tarama dosyası belirtir); bu
# yüzden mutlak doğrulukları daha düşüktür; karşılaştırdıkları, aynı bütçede her değişikliğin
# yarattığı farktır. Çalışmanın eklediği ama varsayılan olarak kapalı tuttuğu seçenekler (ağırlık
# ortalaması, mixup [8], etiket yumuşatma) taramaları çalıştığında aynı biçimde ölçülür. İkinci bir
# tarama, `seed_budgets`, başlangıç projesinin eğitim bütçeleri karşılaştırmasını FER+ üzerinde
# yeniden yapar: onun temel ağı ve tarifiyle 5, 15 ve 45 epok eğitim (başlangıç projesi 15, 60 ve
# 360 epok eğitmişti; temel ağın 45 epoku 2 çekirdekli bir işlemcide yaklaşık bir saat sürer).
#
# Üçüncü tarama, `candidates`, doğruluk çalışmasını projeyle gelen modelin tam 50 epokunda tutar:
# tarif üç tohumla (tam uzunluktaki gürültüsü), ilk bloğu 32 yerine 16 kanallı ağ (`narrow_stem`,
# eğitimi daha ucuz) üç tohumla ve 40 epokta, daha hafif veri artırma, dengeli örnekleme, 1,5 kat
# kanallı bir ağ (`wide`; üç tohumla, tarifinkinden 0,7 puan kadar üstte), aynı ağın bulanıklık, JPEG
# bozulmaları ve silinmiş yamalarla çoğaltılmış verilerle eğitimi (`wide_strong`, üç tohum, üçüncüsü
# projeyle gelen model), `wide` modelinin dayanıklılık için ince ayarları, aynı ağın logitlerini nadir
# sınıflara doğru kaydıran bir kayıpla eğitimi (`wide_strong_la`) ve tek bir modelden, birbirinden ("yeniden doğan"
# kuşaklar) ya da birkaç modelden damıtılmış öğrenciler. Projeyle gelen model ve birkaç başkası bu
# işlemcide eğitildi; ötekiler ödünç bir GPU'da, JAX arka ucuyla, birkaçı aynı anda: makine sütunu hangisi olduğunu söyler. Bir GPU çalıştırmasının sonuçları aynı
# parametrelerle işlemcinin vereceğiyle bit bit aynı değildir (başka bir arka uç), ama tohum
# gürültüsü aynı GPU'da ölçülmüştür.

# %% tags=["parameters"]
# Parameters. papermill injects the values of notebooks/params/<profile>.yaml after this cell;
# the defaults below let it run as it is, in JupyterLab or under papermill from any folder.
from typing import Optional, Union

from fer_helpers.params import use_profile

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
# Every path absolute, whatever the working directory (papermill's, or notebooks/ in JupyterLab).
from fer_helpers.params import run_paths

data_dir, model_dir, output_dir = run_paths(run_name, data_dir, model_dir, output_dir)

# %%
# %matplotlib inline
from pathlib import Path

import pandas as pd
from IPython.display import Markdown

from fer_helpers import i18n, plots, runs
from fer_helpers.i18n import t

plots.set_style()
figures = Path(output_dir) / "figures"
sweeps = [experiments] if isinstance(experiments, str) else list(experiments or [])
folders = [runs.resolve_sweep_folder(s) for s in sweeps]
studies = {}
for folder in folders:
    table = runs.collect(folder)
    studies[folder.name] = {"folder": folder, "table": table, "record": runs.sweep_record(folder),
                            "histories": runs.histories(folder, table)}

# %% [markdown] tags=["lang-en", "appendix"]
# ## Every run of the study
#
# One row per run (`fer runs` prints the same table and writes it to `runs/<sweep>/runs.csv`): what
# the run changed, its validation and test accuracy and macro F1 (of the epoch kept, the best on
# validation), the epochs it ran, its training time and the machine it trained on (a lent GPU trains in
# minutes what this 2-core CPU trains in hours). A run that did not finish is listed as such, with its
# best validation figure so far. {@tab:runs-first} is the first sweep's; the others follow it.

# %% [markdown] tags=["lang-tr", "appendix"]
# ## Çalışmanın tüm çalıştırmaları
#
# Her çalıştırma bir satır (`fer runs` aynı tabloyu yazdırır ve `runs/<tarama>/runs.csv` dosyasına
# yazar): çalıştırmanın neyi değiştirdiği, doğrulama ve test doğruluğu ve makro F1'i (tutulan, yani
# doğrulamada en iyi epokun), çalıştığı epok sayısı, eğitim süresi ve eğitildiği makine (ödünç bir
# GPU, bu 2 çekirdekli CPU'nun saatlerce eğittiğini dakikalar içinde eğitir). Bitmemiş bir çalıştırma
# öyle listelenir, o ana kadarki en iyi doğrulama sonucuyla. {@tab:runs-first} ilk taramanınkidir;
# diğerleri onu izler.

# %% tags=["appendix"]
formats = {"val acc": ".2%", "test acc": ".2%", "val F1": ".3f", "test F1": ".3f", "minutes": ".0f"}
runs_caption = {"en": "{key} Every run of the sweep `{name}`.", "tr": "{key} `{name}` taramasının tüm çalıştırmaları."}


def epochs_run(row):
    """The epoch kept and the epochs run in one column ("41 / 50"): the table stays inside the page."""
    best, epochs = row["best_epoch"], row["epochs"]
    return "–" if pd.isna(epochs) else f"{'–' if pd.isna(best) else int(best)} / {int(epochs)}"


def runs_shown(table, lang):
    shown = table.drop(columns=["commit"]).assign(
        status=table["status"].map(lambda v: i18n.run_status(v, lang)),
        changes=table["changes"].replace("no change", t("no change", lang)),
        machine=table["machine"].map(lambda v: i18n.machine(v, lang)),
        epochs=table.apply(epochs_run, axis=1)).drop(columns=["best_epoch"])
    shown = shown.rename(columns={**runs.SHORT_NAMES, "epochs": "best / epochs"}).rename(columns=lambda c: t(c, lang))
    return shown.style.format({t(c, lang): i18n.formatter(f, lang) for c, f in formats.items()}, na_rep="–") \
        .hide(axis="index").set_table_attributes('class="fer-runs"')


for k, (name, s) in enumerate(studies.items()):
    key = "{tab:runs-first}" if k == 0 else f"{{tab:runs-{name}}}"
    i18n.display_each(lambda lang: [Markdown(runs_caption[lang].format(key=key, name=name)), runs_shown(s["table"], lang)])

# %% [markdown] tags=["lang-en", "appendix"]
# ## Learning curves, overlaid
#
# Validation accuracy after every epoch, one figure per sweep. The reference recipe is black, its
# other seeds grey and dashed: how much two runs differ by chance alone.

# %% [markdown] tags=["lang-tr", "appendix"]
# ## Üst üste öğrenme eğrileri
#
# Her epoktan sonra doğrulama doğruluğu, tarama başına bir şekil. Referans tarif siyah, diğer
# tohumları gri ve kesikli: iki çalıştırmanın yalnızca şans yüzünden ne kadar farklılaştığı.

# %% tags=["appendix"]
curves_caption = {"en": "{{fig:curves-{name}}} Validation accuracy per epoch of every run of the sweep `{name}`.",
                  "tr": "{{fig:curves-{name}}} `{name}` taramasının her çalıştırmasının epok başına doğrulama doğruluğu."}


def curves(s, name, lang):
    fig = plots.plot_runs_curves(s["histories"], reference=s["record"].get("reference"),
                                 seeds=runs.seed_group(s["table"], s["record"])[1:], language=lang)
    fig.suptitle(t("Sweep {name}", lang).format(name=name), fontweight="bold")
    return fig


for name, s in studies.items():
    i18n.display_each(lambda lang: curves(s, name, lang), save=figures / f"experiments_{name}_curves.png")
    i18n.display_each(lambda lang: Markdown(curves_caption[lang].format(name=name)))

# %% [markdown] tags=["lang-en"]
# ## What each change is worth, against seed-to-seed noise
#
# Each bar is a run's validation accuracy minus the mean of the reference recipe over its seeds,
# in percentage points. The grey band is two standard deviations of those seeds: a bar inside it is
# a difference that chance alone produces. The tables in the appendix give the same on validation
# and on test; below each figure, the recipes of the sweep, their seeds averaged.

# %% [markdown] tags=["lang-tr"]
# ## Her değişikliğin katkısı, tohumlar arası gürültüye karşı
#
# Her çubuk, bir çalıştırmanın doğrulama doğruluğundan referans tarifin tohumlar üzerindeki
# ortalamasının çıkarılmasıdır, yüzde puan olarak. Gri bant bu tohumların iki standart sapmasıdır:
# içindeki bir çubuk, şansın tek başına ürettiği bir farktır. Ekteki tablolar aynısını doğrulama ve
# test için verir; her şeklin altında taramanın tarifleri, tohumlarının ortalamasıyla.

# %% tags=["slides-only"] slideshow={"slide_type": "slide"}
worth_title = {"en": "## What each change is worth (`{name}`, validation)",
               "tr": "## Her değişikliğin katkısı (`{name}`, doğrulama)"}
# one slide holds one figure: the last sweep with seeds (the full-length candidates in the full
# profile); the report shows every sweep's, and each figure is saved
with_seeds = [name for name, s in studies.items() if runs.seed_group(s["table"], s["record"])]
for name in with_seeds:
    s = studies[name]
    noise = runs.compare_to_noise(s["table"], s["record"])
    plots.save_figure(plots.plot_ablations(noise), figures / f"experiments_{name}_ablations.png")
    if name == with_seeds[-1]:
        i18n.display_each(lambda lang: [Markdown(worth_title[lang].format(name=name)),
                                        plots.plot_ablations(noise, language=lang)])

# %% tags=["report-only", "tall-figure"]
worth_caption = {"en": "{{fig:worth-{name}}} What each change of the sweep `{name}` is worth on validation, "
                       "against two standard deviations of the reference recipe's {n} seed runs ({seeds}; grey band).",
                 "tr": "{{fig:worth-{name}}} `{name}` taramasındaki her değişikliğin doğrulamadaki katkısı, referans "
                       "tarifin {n} tohum çalıştırmasının ({seeds}) iki standart sapmasına (gri bant) karşı."}
recipes_caption = {"en": "{{tab:recipes-{name}}} The recipes of the sweep `{name}`: validation and test accuracy "
                         "averaged over their seeds, and the validation standard deviation where there are two or more.",
                   "tr": "{{tab:recipes-{name}}} `{name}` taramasının tarifleri: tohumları üzerinden ortalama doğrulama "
                         "ve test doğruluğu, iki ya da daha çok tohum varsa doğrulamadaki standart sapma."}


def recipes_shown(s, lang):
    table = runs.recipe_table(s["table"], s["record"])
    table["changes"] = table["changes"].replace({"": t("the reference recipe", lang), "no change": t("no change", lang)})
    table = table.rename(columns={"val_accuracy": "val acc", "test_accuracy": "test acc", "val_sd": "val sd (points)"})
    return table.rename(columns=lambda c: t(c, lang)).style.format(
        {t("val acc", lang): i18n.formatter(".2%", lang), t("test acc", lang): i18n.formatter(".2%", lang),
         t("val sd (points)", lang): lambda v: i18n.num(100 * v, lang, 2)}, na_rep="–").hide(axis="index")


def worth_shown(name, s, lang):
    shown = [Markdown(f"### `{name}`")]
    if runs.seed_group(s["table"], s["record"]):
        noise = runs.compare_to_noise(s["table"], s["record"])
        shown += [plots.plot_ablations(noise, language=lang),
                  Markdown(worth_caption[lang].format(name=name, n=len(noise.attrs["seeds"]),
                                                      seeds=", ".join(noise.attrs["seeds"])))]
    return shown + [Markdown(recipes_caption[lang].format(name=name)), recipes_shown(s, lang)]


for name, s in studies.items():
    i18n.display_each(lambda lang: worth_shown(name, s, lang))

# %%
seeds_text = {
    "en": "Seeds of the reference recipe: {seeds} ({n} runs). Validation: mean {val_mean}, standard deviation {val_sd} "
          "points; test: mean {test_mean}, standard deviation {test_sd} points. The verdict rule: a run is outside "
          "the noise when its difference from the seed mean is larger than {k} standard deviations of these {n} "
          "runs, on validation {val_band} points, on test {test_band} points.",
    "tr": "Referans tarifin tohumları: {seeds} ({n} çalıştırma). Doğrulama: ortalama {val_mean}, standart sapma {val_sd} "
          "puan; test: ortalama {test_mean}, standart sapma {test_sd} puan. Karar kuralı: tohum ortalamasından farkı "
          "bu {n} çalıştırmanın {k} standart sapmasından büyük olan çalıştırma gürültünün dışındadır; doğrulamada "
          "{val_band} puan, testte {test_band} puan.",
}


def noise_outputs(val, test, both, lang):
    text = seeds_text[lang].format(seeds=", ".join(val.attrs["seeds"]), n=len(val.attrs["seeds"]),
                                   k=i18n.num(val.attrs["k"], lang, None),
                                   val_band=i18n.num(100 * val.attrs["k"] * val.attrs["seed_std"], lang, 2),
                                   test_band=i18n.num(100 * test.attrs["k"] * test.attrs["seed_std"], lang, 2),
                                   val_mean=i18n.pct(val.attrs["seed_mean"], lang, 2),
                                   val_sd=i18n.num(100 * val.attrs["seed_std"], lang, 2),
                                   test_mean=i18n.pct(test.attrs["seed_mean"], lang, 2),
                                   test_sd=i18n.num(100 * test.attrs["seed_std"], lang, 2))
    table = both.rename(columns={"difference": "Δ val", "verdict": "val verdict", "difference_test": "Δ test",
                                 "verdict_test": "test verdict", **runs.SHORT_NAMES}).drop(columns=["noise"])
    for col in ("val verdict", "test verdict"):
        table[col] = table[col].map(lambda v: t(v, lang) if v in ("outside", "inside", "unknown", "seed") else v)
    table["changes"] = table["changes"].replace("no change", t("no change", lang))
    table = table.rename(columns=lambda c: t(c, lang))
    points = lambda v: ("+" if v >= 0 else "") + i18n.num(100 * v, lang, 2)  # noqa: E731
    return [Markdown(text), Markdown(noise_caption[lang].format(name=name)),
            table.style.format({t("val acc", lang): i18n.formatter(".2%", lang),
                                t("Δ val", lang): points, t("Δ test", lang): points}).hide(axis="index")]


noise_caption = {"en": "{{tab:noise-{name}}} Each run of the sweep `{name}` against the reference recipe's seed "
                       "mean, on validation and on test (Δ in percentage points).",
                 "tr": "{{tab:noise-{name}}} `{name}` taramasının her çalıştırması, referans tarifin tohum "
                       "ortalamasına karşı, doğrulamada ve testte (Δ yüzde puan olarak)."}

# %% [markdown] tags=["lang-en", "appendix"]
# ## Each run against the seed noise

# %% [markdown] tags=["lang-tr", "appendix"]
# ## Her çalıştırma tohum gürültüsüne karşı

# %% tags=["appendix"]
for name, s in studies.items():
    if not runs.seed_group(s["table"], s["record"]):
        continue
    val = runs.compare_to_noise(s["table"], s["record"], "val_accuracy")
    test = runs.compare_to_noise(s["table"], s["record"], "test_accuracy")
    both = val.merge(test[["variant", "difference", "verdict"]], on="variant", suffixes=("", "_test"))
    i18n.display_each(lambda lang: [Markdown(f"### `{name}`")] + noise_outputs(val, test, both, lang))

# %% [markdown] tags=["lang-en", "appendix"]
# ## Recall per class, run by run
#
# Recall of each class on validation, run by run: a change that raises the overall accuracy can still
# trade a rare class (contempt, disgust, fear) for the common ones.

# %% [markdown] tags=["lang-tr", "appendix"]
# ## Çalıştırma çalıştırma sınıf başına duyarlılık
#
# Çalıştırma çalıştırma her sınıfın doğrulama duyarlılığı: genel doğruluğu yükselten bir değişiklik
# yine de nadir bir sınıfı (küçümseme, iğrenme, korku) yaygın olanlara feda edebilir.

# %% tags=["appendix", "tall-figure"]
recall_caption = {"en": "{{fig:recall-{name}}} Validation recall of each class, run by run, in the sweep `{name}`.",
                  "tr": "{{fig:recall-{name}}} `{name}` taramasında çalıştırma çalıştırma her sınıfın doğrulama duyarlılığı."}
for name, s in studies.items():
    recall = runs.recall_table(s["folder"], s["table"])
    if recall.empty:
        continue
    i18n.display_each(lambda lang: plots.plot_recall_heatmap(
        recall, title=t("Validation recall per class and run ({name})", lang).format(name=name), language=lang),
        save=figures / f"experiments_{name}_recall.png")
    i18n.display_each(lambda lang: Markdown(recall_caption[lang].format(name=name)))

# %% [markdown] tags=["lang-en", "appendix"]
# ## Accuracy against training time
#
# Wall time of each run on the machine that trained it (the commit and machine are in each run's
# `run.json`): what a longer budget or a bigger network buys.

# %% [markdown] tags=["lang-tr", "appendix"]
# ## Eğitim süresine göre doğruluk
#
# Her çalıştırmanın onu eğiten makinedeki süresi (commit ve makine her çalıştırmanın `run.json`
# dosyasındadır): daha uzun bir bütçenin ya da daha büyük bir ağın ne kazandırdığı.

# %% tags=["appendix"]
time_caption = {"en": "{{fig:time-{name}}} Validation accuracy against training time of each run of the sweep `{name}`. "
                      "A run far below the others (more than three interquartile ranges under the lower quartile) "
                      "sits on the axis as a triangle, its accuracy in its label.",
                "tr": "{{fig:time-{name}}} `{name}` taramasının her çalıştırmasının eğitim süresine göre doğrulama doğruluğu. "
                      "Ötekilerin çok altında kalan bir çalıştırma (alt çeyreğin üç çeyrekler açıklığından fazla "
                      "altında) eksenin üzerinde bir üçgen olarak durur; doğruluğu etiketindedir."}


def time_figure(s, name, lang):
    fig = plots.plot_accuracy_vs_time(s["table"], language=lang)
    fig.suptitle(t("Sweep {name}", lang).format(name=name), fontweight="bold")
    return fig


for name, s in studies.items():
    if (s["table"]["status"] == "finished").sum() == 0:
        continue
    i18n.display_each(lambda lang: time_figure(s, name, lang), save=figures / f"experiments_{name}_time.png")
    i18n.display_each(lambda lang: Markdown(time_caption[lang].format(name=name)))
