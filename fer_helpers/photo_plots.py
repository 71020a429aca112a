"""The figures of ``notebooks/07_your_photos``: a photo with its faces boxed, and per face what the
model saw (the 48x48 crop), where it looked (Grad-CAM) and what it answered (the probabilities).

Like ``plots`` (whose style, colours and number formats these share), each function takes a
record of ``your_photos`` and returns a ``matplotlib.figure.Figure``, built without pyplot, in the
figure's ``language``. A video's timeline is ``video.timeline_figure``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .i18n import class_name, number, t_format
from .plots import _face_axis, _styled, class_palette

#: Inches: the figure's width, the photo's largest height, one face row's height.
WIDTH_IN, PHOTO_IN, FACE_ROW_IN = 8.0, 4.2, 1.45


def _draw_photo(ax, image: np.ndarray, faces: list[dict], classes, language: str) -> None:
    """The photo with each face's box in its label's colour, its number and label above it and
    the eyes the crop was levelled from."""
    palette = class_palette(classes)
    ax.imshow(image)
    ax.set_xticks([]), ax.set_yticks([]), ax.grid(False)
    h, w = image.shape[:2]
    for k, f in enumerate(faces, start=1):
        x, y, bw, bh = f["box"]
        color = palette.get(f["label"], "tab:blue")
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), bw, bh, fill=False, edgecolor=color, linewidth=2))
        for eye in (f.get("eyes") or {}).values():
            ax.plot(*eye, "o", color=color, markersize=3)
        above = y - 0.01 * h > 0.06 * h
        ax.text(x, y - 0.01 * h if above else y + bh + 0.01 * h,
                f"{k}: {class_name(f['label'], language)} {number(f['confidence'], language, '.2f')}",
                color="white", fontsize=8, va="bottom" if above else "top",
                bbox={"facecolor": color, "edgecolor": "none", "pad": 1.5})
    ax.set_xlim(-0.5, w - 0.5), ax.set_ylim(h - 0.5, -0.5)


def _draw_bars(ax, face: dict, classes, language: str) -> None:
    """The face's probabilities as horizontal bars in the classes' order, its label's bar in colour."""
    palette = class_palette(classes)
    probs = [face["probabilities"][c] for c in classes]
    colors = [palette[c] if c == face["label"] else "0.75" for c in classes]
    ax.barh(range(len(classes)), probs, color=colors)
    ax.set_yticks(range(len(classes)), [class_name(c, language) for c in classes], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="y", visible=False)
    for i, p in enumerate(probs):
        if p >= 0.005:
            ax.text(min(p + 0.02, 0.86), i, number(p, language, ".2f"), va="center", fontsize=6.5)


@_styled
def plot_photo_faces(record: dict, classes, image: np.ndarray | None = None, language: str = "en") -> Figure:
    """A photo of ``your_photos.analyse_photo`` with its faces boxed and numbered, then one row
    per face: the 48x48 crop the model classified, its Grad-CAM for the label (when
    ``your_photos.add_gradcam`` gave it one) and its probabilities as bars.

    ``image``: the photo's RGB pixels; default read again from ``record["path"]`` (records keep no
    photo, so that a folder of large photos fits in memory)."""
    if image is None:
        from .faces import load_image

        image = load_image(record["path"])
    faces = record["faces"]
    h, w = image.shape[:2]
    photo_h = min(PHOTO_IN, WIDTH_IN * h / w + 0.3)
    fig = Figure(figsize=(WIDTH_IN, photo_h + FACE_ROW_IN * len(faces) + 0.2), layout="constrained")
    grid = fig.add_gridspec(1 + len(faces), 3, height_ratios=[photo_h] + [FACE_ROW_IN] * len(faces),
                            width_ratios=[1, 1, 3.2])
    ax = fig.add_subplot(grid[0, :])
    _draw_photo(ax, image, faces, classes, language)
    title = Path(record["path"]).name
    count = (t_format("{n} faces", language, n=len(faces)) if len(faces) != 1
             else t_format("1 face", language)) if faces else t_format("no face found", language)
    ax.set_title(f"{title}: {count}", fontsize=10)
    for k, f in enumerate(faces, start=1):
        _face_axis(fig.add_subplot(grid[k, 0]), f["crop"],
                   t_format("face {k}: as the model sees it", language, k=k))
        cam = fig.add_subplot(grid[k, 1])
        if "overlay" in f:
            _face_axis(cam, f["overlay"], "Grad-CAM")
        else:
            cam.axis("off")
        _draw_bars(fig.add_subplot(grid[k, 2]), f, classes, language)
    return fig
