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
# # Your photos and videos
#
# The model of the study, on your own pictures. Give this notebook a photo, a folder of photos, a
# video or a list of them (the `photos` parameter below; in JupyterLab also the upload button), and
# it shows each photo with its faces boxed and labelled, then for each face the 48 x 48 crop the
# model classified, its Grad-CAM (where the evidence for the label sat) and its eight
# probabilities; a table of every face, written to a CSV file; and for a video, the expressions of
# each tracked face over time.
#
# It takes the path `fer predict` takes: the same face detector (BlazeFace by default, which finds
# the eyes and levels them; `accurate` adds RetinaFace as a second detector and misses fewer faces
# for about three times the time; `haar` is OpenCV's cascade), the same crop, framed as FER2013 framed its
# faces, and the same engine for the probabilities (ONNX Runtime when the model folder holds a
# current export). Grad-CAM needs gradients, so the maps come from the Keras model of the same
# folder. Left as it is, the notebook runs on sample photos that need no download.

# %% [markdown] tags=["lang-tr"]
# # Sizin fotoğraflarınız ve videolarınız
#
# Çalışmanın modeli, sizin resimlerinizde. Bu not defterine bir fotoğraf, bir fotoğraf klasörü,
# bir video ya da bunların bir listesini verin (aşağıdaki `photos` parametresi; JupyterLab'de
# ayrıca yükleme düğmesi): her fotoğrafı yüzleri kutulanmış ve etiketlenmiş olarak gösterir, sonra
# her yüz için modelin sınıflandırdığı 48 x 48 kırpıntıyı, Grad-CAM haritasını (etiketin kanıtının
# nerede olduğunu) ve sekiz olasılığını; her yüzün bir tablosunu, bir CSV dosyasına yazılmış
# olarak; bir video için de izlenen her yüzün ifadelerini zaman içinde.
#
# `fer predict` ile aynı yolu izler: aynı yüz bulucu (varsayılan BlazeFace gözleri bulur ve
# hizalar; `accurate` ikinci bir bulucu olarak RetinaFace'i ekler, yaklaşık üç kat sürede daha az
# yüz kaçırır; `haar` OpenCV'nin kaskadıdır), FER2013'ün yüzlerini kadrajladığı gibi kadrajlanmış aynı
# kırpıntı ve olasılıklar için aynı motor (model klasöründe güncel bir dışa aktarım varsa ONNX
# Runtime). Grad-CAM gradyan ister; haritalar bu yüzden aynı klasörün Keras modelinden gelir.
# Olduğu gibi bırakılırsa not defteri indirme gerektirmeyen örnek fotoğraflarda çalışır.

# %% tags=["parameters"]
# Parameters. papermill injects its values after this cell (-p photos my_photos/); `fer report`
# runs this notebook only when its params name photos (the smoke profile's are the samples).
from typing import Optional, Union

from fer_helpers.params import use_profile

run_name: str = "interactive"                # names the output folder, reports/<run_name>/your_photos/
photos: Union[str, list, None] = "samples"   # a photo, a video, a folder of them, or a list; "samples": generated ones
model_dir: Optional[str] = "models/default"  # the model folder (fer predict's default: the shipped model)
detector: str = "blazeface"                  # face detector, as fer predict --detector: blazeface | accurate | haar
every: int = 1                               # videos: analyse every N-th frame (fer predict --every)
max_shown: Optional[int] = 20                # photos drawn with their faces (None: all); the table holds every face
output_dir: Optional[str] = None             # None: reports/<run_name>; the results go to <output_dir>/your_photos

# FER_PROFILE=smoke (or full, or a params file) replaces the defaults above with that profile's
# values; papermill's -p and -f values, injected after this cell, still win.
use_profile(globals(), env="FER_PROFILE")

# %%
# Every path absolute, whatever the working directory (papermill's, or notebooks/ in JupyterLab):
# a relative path is the working directory's, else the project's.
from pathlib import Path

from fer_helpers.params import run_paths

_, model_dir, output_dir = run_paths(run_name, None, model_dir, output_dir)
results = Path(output_dir) / "your_photos"

# %% [markdown] tags=["lang-en"]
# ## Choosing the pictures
#
# In JupyterLab, the button below uploads photos or videos from your computer into
# `your_photos/uploads/` of the output folder; then run the cells below it again (*Run > Run
# Selected Cell and All Below*). Uploaded files take the place of the samples, or join the
# `photos` you named. Run headless (papermill, `fer report`), the button does nothing.

# %% [markdown] tags=["lang-tr"]
# ## Resimleri seçmek
#
# JupyterLab'de aşağıdaki düğme bilgisayarınızdaki fotoğrafları ya da videoları çıktı klasörünün
# `your_photos/uploads/` klasörüne yükler; ardından altındaki hücreleri yeniden çalıştırın (*Run >
# Run Selected Cell and All Below*). Yüklenen dosyalar örneklerin yerini alır ya da verdiğiniz
# `photos` listesine eklenir. Arayüzsüz çalıştırıldığında (papermill, `fer report`) düğme hiçbir
# şey yapmaz.

# %%
# %matplotlib inline
import os

from IPython.display import FileLink, Markdown, display

from fer_helpers import i18n, photo_plots, plots, video, your_photos

plots.set_style()
uploads = your_photos.Uploads(results / "uploads")
uploads

# %% [markdown] tags=["lang-en"]
# ## The faces found
#
# A missing path or a file that is no photo stops here with one line naming it; in a folder, an
# unreadable file is skipped and named, as `fer predict` does.

# %% [markdown] tags=["lang-tr"]
# ## Bulunan yüzler
#
# Olmayan bir yol ya da fotoğraf olmayan bir dosya burada, onu adlandıran tek bir satırla durur;
# bir klasördeki okunamayan bir dosya ise `fer predict`'te olduğu gibi atlanır ve adı verilir.

# %%
inputs = your_photos.resolve_inputs(photos, results / "samples", uploads.paths)
engine_model, keras_model, classes, note = your_photos.load_models(model_dir)
records, skipped = your_photos.analyse_inputs(inputs, engine_model, classes, detector, every)
your_photos.add_gradcam(records, keras_model)
counts = your_photos.summary(records, skipped)

found_text = {
    "en": "**Photos: {photos}, faces in them: {faces}. Videos: {videos}, faces tracked in them: {tracks}.** "
          "Detector `{detector}`, probabilities from {engine}.",
    "tr": "**Fotoğraf: {photos}, içlerindeki yüz: {faces}. Video: {videos}, içlerinde izlenen yüz: {tracks}.** "
          "Yüz bulucu `{detector}`, olasılıklar {engine} ile.",
}
extra_text = {
    "en": {"no_face": "No face found in: {names}.", "skipped": "Skipped: {line}", "note": "Note: {note}"},
    "tr": {"no_face": "Yüz bulunamayanlar: {names}.", "skipped": "Atlandı: {line}", "note": "Not: {note}"},
}


def found(lang):
    engine = "Keras" if keras_model is engine_model else "ONNX Runtime"
    lines = [found_text[lang].format(detector=detector, engine=engine,
                                     **{k: i18n.num(counts[k], lang) for k in ("photos", "faces", "videos", "tracks")})]
    if counts["no_face"]:
        lines.append(extra_text[lang]["no_face"].format(names=", ".join(counts["no_face"])))
    lines += [extra_text[lang]["skipped"].format(line=line) for line in counts["skipped"]]
    lines += [extra_text[lang]["note"].format(note=note)] if note else []
    return Markdown("\n\n".join(lines))


i18n.display_each(found)

# %% [markdown] tags=["lang-en"]
# ## Each photo
#
# Each face is boxed in the colour of its label, numbered, with the eyes its crop was levelled
# from. Below the photo, one row per face: the crop as the model sees it (gray, 48 x 48, framed as
# FER2013's faces), its Grad-CAM for the label shown (red: the regions that raised that label's
# score the most) and its probabilities.

# %% [markdown] tags=["lang-tr"]
# ## Her fotoğraf
#
# Her yüz etiketinin renginde bir kutuyla, numarasıyla ve kırpıntısının hizalandığı gözlerle
# gösterilir. Fotoğrafın altında her yüz için bir satır: modelin gördüğü kırpıntı (gri, 48 x 48,
# FER2013'ün yüzleri gibi kadrajlanmış), gösterilen etiket için Grad-CAM haritası (kırmızı: o
# etiketin puanını en çok yükselten bölgeler) ve olasılıkları.

# %%
figures = results / "figures"
shown = [record for record in records if record["kind"] == "photo"][:max_shown]
for i, record in enumerate(shown, start=1):
    i18n.display_each(lambda lang: photo_plots.plot_photo_faces(record, classes, language=lang),
                      save=figures / f"{i:02d}_{Path(record['path']).stem}.png")

# %% [markdown] tags=["lang-en"]
# ## Every face in one table
#
# One row per face: its file, its box (`x`, `y`, `width`, `height` in pixels), its label and
# confidence and the probability of each class; for a video also the frame, its time in seconds
# and the face's track. The same table is written as CSV (the link below downloads it).

# %% [markdown] tags=["lang-tr"]
# ## Tüm yüzler tek tabloda
#
# Her yüz için bir satır: dosyası, kutusu (piksel olarak `x`, `y`, `width`, `height`), etiketi ve
# güveni ve her sınıfın olasılığı; bir video için ayrıca kare, saniye olarak zamanı ve yüzün izi.
# Aynı tablo CSV olarak yazılır (aşağıdaki bağlantı onu indirir).

# %%
table = your_photos.faces_table(records, classes)
csv_path = your_photos.write_table(table, results / "faces.csv")
display(table, FileLink(os.path.relpath(csv_path)))

# %% [markdown] tags=["lang-en"]
# ## Videos: each face over time
#
# A video is read frame by frame (every `every`-th frame); each face keeps one track number while
# it stays in view, and its panel shows each class's probability over time, as `fer predict
# --timeline` draws it.

# %% [markdown] tags=["lang-tr"]
# ## Videolar: zaman içinde her yüz
#
# Bir video kare kare okunur (her `every`. kare); her yüz görünür kaldığı sürece tek bir iz
# numarası taşır ve paneli her sınıfın olasılığını zaman içinde gösterir, `fer predict
# --timeline`'ın çizdiği gibi.

# %%
for record in (r for r in records if r["kind"] == "video"):
    print(video.video_table(record))
    timeline = video.timeline_figure(record, classes)
    plots.save_figure(timeline, figures / f"{Path(record['path']).stem}_timeline.png")
    display(timeline)

# %% [markdown] tags=["lang-en"]
# ## What to make of it
#
# The model learned from FER2013's faces: small, gray, mostly frontal and posed or caught in
# strong expressions. On everyday photos its labels are most trustworthy for clear, frontal faces
# and for the frequent classes (happiness, neutral, surprise); a low top probability or two classes
# close together mean the face is ambiguous to it, not that it is wrong. Faces seen side-on, in part
# or tilted far are often not found at all. Grad-CAM shows where the evidence sat, not why the
# model weighed it as it did. The same analysis without figures, for many files, is `fer predict`
# (with `--json`, or `--timeline` for videos).

# %% [markdown] tags=["lang-tr"]
# ## Bundan ne çıkar
#
# Model FER2013'ün yüzlerinden öğrendi: küçük, gri, çoğunlukla önden ve poz verilmiş ya da güçlü
# bir ifade anında yakalanmış. Gündelik fotoğraflarda etiketlerine en çok net, önden yüzlerde ve sık
# sınıflarda (mutluluk, nötr, şaşkınlık) güvenilebilir; düşük bir en yüksek olasılık ya da birbirine
# yakın iki sınıf, yüzün model için belirsiz olduğunu söyler, yanlış olduğunu değil. Yandan, kısmen
# ya da çok eğik görülen yüzler çoğu zaman hiç bulunmaz. Grad-CAM kanıtın nerede olduğunu gösterir,
# modelin onu neden öyle tarttığını değil. Aynı çözümleme şekilsiz, çok sayıda dosya için `fer
# predict`'tir (`--json` ile, videolar için `--timeline` ile).
