"""Every figure of the project, in one style.

Each function takes plain arrays or DataFrames and returns a ``matplotlib.figure.Figure``. Figures
are built without ``pyplot``: a helper leaves no open figure behind (no memory growth in loops, no
double display in notebooks) and never picks a backend. A notebook shows one by making it the
cell's last expression (or with ``display(fig)``); scripts write it with ``save_figure``.
"""

from __future__ import annotations

import functools
import inspect
import io
import os
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from .files import atomic_path, ensure_dir
from .i18n import class_name, class_names, num, number, number_text, pct, t, t_format
from .i18n import machine as machine_label
from .labels import EXTRA_COLUMNS, clean_votes, majority_labels

DPI = 120

#: The largest a figure prints at in the report (the print CSS of ``templates/fer_report``: at most
#: 88% of the A4 text width of 182 mm, at most 95 mm high; unscaled, a PNG at ``DPI`` shows at
#: DPI / 96 of its size in inches). ``printed_scale`` and ``smallest_printed_font`` read them.
PRINT_WIDTH_IN, PRINT_HEIGHT_IN = 0.88 * 182 / 25.4, 95 / 25.4
#: The height a figure may take in a cell tagged ``tall-figure`` (one row per run of a sweep).
PRINT_TALL_HEIGHT_IN = 190 / 25.4
#: The smallest text a printed figure should hold, in points (the report's captions are about 9 pt).
MIN_PRINTED_FONT_PT = 6.0


def printed_scale(fig: Figure, max_height_in: float = PRINT_HEIGHT_IN) -> float:
    """How much ``fig`` shrinks (or grows) from its size in inches to its size on the printed page."""
    width, height = fig.get_size_inches()
    return min(DPI / 96, PRINT_WIDTH_IN / width, max_height_in / height)


def smallest_printed_font(fig: Figure, max_height_in: float = PRINT_HEIGHT_IN) -> tuple[float, str]:
    """The smallest text of ``fig`` (titles, labels, ticks, legends, annotations) in points as it
    prints in the report, and that text: what a reader must be able to read at a third of a page."""
    fig.savefig(io.BytesIO(), format="png")  # tick labels exist once the figure is drawn
    scale = printed_scale(fig, max_height_in)
    sizes = [(text.get_fontsize() * scale, text.get_text()) for text in fig.findobj(mpl.text.Text)
             if text.get_visible() and text.get_text().strip() and text.get_figure() is not None]
    return min(sizes) if sizes else (float("inf"), "")


def _style_rc() -> dict:
    rc = {**sns.axes_style("whitegrid"), **sns.plotting_context("notebook", font_scale=0.9)}
    rc.update({"figure.dpi": 100, "savefig.dpi": DPI, "axes.titleweight": "bold",
               "axes.titlesize": 10, "image.cmap": "gray", "axes.spines.top": False,
               "axes.spines.right": False})
    return rc


def set_style() -> None:
    """Apply the project's style globally, so a notebook's own figures match the helpers'."""
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.9)
    mpl.rcParams.update(_style_rc())


def _styled(fn):
    """Draw inside the project style without changing the caller's global settings, the tick
    labels' numbers in the figure's ``language`` (``localize_ticks``)."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with mpl.rc_context(_style_rc()):
            fig = fn(*args, **kwargs)
        language = signature.bind(*args, **kwargs).arguments.get("language", "en")
        return localize_ticks(fig, language) if isinstance(fig, Figure) else fig
    return wrapper


class _LanguageFormatter(mpl.ticker.Formatter):
    """A tick formatter whose labels write their numbers the way ``language`` does (``0,5``, ``%80``
    in Turkish): matplotlib's own formatters know only the decimal point (or a system locale)."""

    def __init__(self, inner: mpl.ticker.Formatter, language: str):
        self.inner, self.language = inner, language

    def set_axis(self, axis):
        super().set_axis(axis)
        self.inner.set_axis(axis)

    def set_locs(self, locs):
        self.inner.set_locs(locs)

    def _text(self, text: str) -> str:  # mathtext reads a bare comma as punctuation (a space after it)
        return text.replace(".", "{,}") if "$" in text else number_text(text, self.language)

    def __call__(self, x, pos=None):
        return self._text(self.inner(x, pos))

    def format_ticks(self, values):
        return [self._text(label) for label in self.inner.format_ticks(values)]

    def get_offset(self):
        return self._text(self.inner.get_offset())

    def format_data_short(self, value):
        return self._text(self.inner.format_data_short(value))


def localize_ticks(fig: Figure, language: str = "en") -> Figure:
    """``fig`` with the numeric tick labels of every axis (colour bars too) in ``language``: the
    default and percent formatters wrapped by ``_LanguageFormatter``; labels a figure writes itself
    (titles, annotations, fixed ticks) use ``i18n.number`` and ``i18n.t_format`` where they are made."""
    if language == "en":
        return fig
    for ax in fig.axes:
        bar = getattr(ax, "_colorbar", None)  # a colour bar sets its axis' formatter again when drawn
        for axis in (ax.xaxis, ax.yaxis):
            inner = axis.get_major_formatter()
            if type(inner) not in (mpl.ticker.ScalarFormatter, mpl.ticker.PercentFormatter):
                continue
            if bar is not None and axis is bar.long_axis:
                bar.formatter = _LanguageFormatter(inner, language)
            else:
                axis.set_major_formatter(_LanguageFormatter(inner, language))
    return fig


def _annotations(values, fmt: str, language: str) -> dict:
    """seaborn ``heatmap`` arguments that write the cells' numbers with ``fmt`` in ``language``."""
    if language == "en":
        return {"annot": True, "fmt": fmt}
    cells = np.asarray(values, dtype=float)
    return {"annot": np.vectorize(lambda v: number(v, language, fmt))(cells), "fmt": ""}


def class_palette(classes) -> dict:
    """One colour per class, the same in every figure."""
    return dict(zip(classes, sns.color_palette("tab10", len(classes))))


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = DPI) -> Path:
    """Write ``fig`` as PNG (parent folders created) and return the path.

    Atomically: a kill mid-write leaves the previous figure, which a report may still embed.
    """
    path = Path(path)
    ensure_dir(path.parent, "figure folder")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    return path


def _faces(x) -> np.ndarray:
    x = np.asarray(x)
    return x[..., 0] if x.ndim == 4 else x


def _face_axis(ax, img, title=None, color=None):
    ax.imshow(img, cmap="gray", vmin=0, vmax=255)
    ax.set_xticks([]), ax.set_yticks([])
    ax.grid(False)
    for s in ax.spines.values():
        s.set_visible(color is not None)
        if color is not None:
            s.set_color(color), s.set_linewidth(2.5)
    if title:
        ax.set_title(title, fontsize=7.5, color=color or "black", fontweight="normal")


# --------------------------------------------------------------------------------------------
# Data exploration

@_styled
def plot_class_balance(counts_df: pd.DataFrame, language: str = "en") -> Figure:
    """Images per class and split under the majority protocol, and what the protocol drops."""
    counts_df = counts_df.assign(split=[t(s, language) if s in ("train", "valid", "test") else s
                                        for s in counts_df["split"]])
    emotions = counts_df[~counts_df["class"].isin(list(EXTRA_COLUMNS) + ["excluded by protocol"])]
    emotions = emotions.assign(**{"class": class_names(emotions["class"], language)})
    fig = Figure(figsize=(12, 4.2), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[3, 1])
    sns.barplot(data=emotions, x="class", y="majority", hue="split", ax=ax1)
    ax1.set(title=t("Images per class (FER+ majority labels)", language), xlabel="", ylabel=t("images", language))
    ax1.legend(title=t("split", language))
    ax1.tick_params(axis="x", rotation=30)
    for c in ax1.containers:
        ax1.bar_label(c, fontsize=6, padding=1)
    dropped = counts_df[counts_df["class"].isin(list(EXTRA_COLUMNS) + ["excluded by protocol"])].copy()
    dropped["images"] = np.where(dropped["class"] == "excluded by protocol", dropped["majority"],
                                 dropped["plurality"])
    dropped["what"] = dropped["class"].replace({"excluded by protocol": t("no majority / not a face", language),
                                                "unknown": t("top vote: unknown", language),
                                                "NF": t("top vote: not a face", language)})
    sns.barplot(data=dropped, x="what", y="images", hue="split", ax=ax2, legend=False)
    ax2.set(title=t("Left out by the protocol", language), xlabel="", ylabel=t("images", language))
    ax2.tick_params(axis="x", rotation=30)
    return fig


@_styled
def plot_samples_per_class(x, y, classes, per_class: int = 6, seed: int = 0, language: str = "en") -> Figure:
    """A few random faces of every class: what the labels look like in practice."""
    x, y = _faces(x), np.asarray(y)
    rng = np.random.default_rng(seed)
    fig = Figure(figsize=(1.2 * per_class + 1.2, 1.25 * len(classes)), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(classes), per_class, squeeze=False))
    for i, name in enumerate(classes):
        idx = np.flatnonzero(y == i)
        pick = rng.choice(idx, min(per_class, len(idx)), replace=False) if len(idx) else []
        for j in range(per_class):
            ax = axes[i, j]
            if j < len(pick):
                _face_axis(ax, x[pick[j]])
            else:
                ax.axis("off")
            if j == 0:
                ax.axis("on"), ax.set_xticks([]), ax.set_yticks([]), ax.grid(False)
                ax.set_ylabel(f"{class_name(name, language)}\n({len(idx)})", fontsize=8, rotation=0, ha="right", va="center")
    fig.suptitle(t("Random faces per class", language), fontweight="bold")
    return fig


@_styled
def plot_pixel_stats(x_by_split: dict, language: str = "en") -> Figure:
    """Intensity histograms and the mean face per split: are the splits alike?"""
    n = len(x_by_split)
    fig = Figure(figsize=(5 + 2.2 * n, 3.4), layout="constrained")
    gs = fig.add_gridspec(1, n + 2)
    ax = fig.add_subplot(gs[0, :2])
    for split, x in x_by_split.items():
        x = np.asarray(x)
        hist = np.bincount(x.ravel(), minlength=256) / max(x.size, 1)
        ax.plot(np.arange(256), hist, label=t_format("{split}: mean {mean:.0f}, std {std:.0f}", language,
                                                     split=t(split, language), mean=x.mean(), std=x.std()))
    ax.set(title=t("Pixel intensities", language), xlabel=t("intensity", language),
           ylabel=t("share of pixels", language), xlim=(0, 255))
    ax.legend(fontsize=7)
    for i, (split, x) in enumerate(x_by_split.items()):
        a = fig.add_subplot(gs[0, i + 2])
        _face_axis(a, _faces(x).mean(axis=0), t("mean face: {split}\n({n} images)", language).format(
            split=t(split, language), n=len(x)))
    return fig


@_styled
def plot_label_protocol(votes, classes, examples: int = 6, seed: int = 0, language: str = "en") -> Figure:
    """How far annotators agree per class, and example vote rows with the label the protocol keeps."""
    votes = np.asarray(votes, dtype=np.float32)
    cols = list(classes) + list(EXTRA_COLUMNS)
    cleaned = clean_votes(votes)
    total = np.maximum(cleaned.sum(axis=1), 1)
    share = cleaned.max(axis=1) / total
    top = cleaned.argmax(axis=1)
    maj = majority_labels(votes)
    bands = pd.cut(share, [0, 0.5, 0.7, 0.9, 1.0], include_lowest=True,
                   labels=[t(b, language) for b in ("≤50% (excluded)", "50–70%", "70–90%", "≥90%")])
    names = class_names(classes, language) + [t("{name} (always excluded)", language).format(name=class_name(c, language))
                                              for c in EXTRA_COLUMNS]
    df = pd.crosstab(pd.Categorical(np.array(names)[top], categories=names), bands, normalize="index")
    fig = Figure(figsize=(13, 4.2), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1.2, 1])
    df.plot.barh(stacked=True, ax=ax1, color=sns.color_palette("RdYlGn", 4), width=0.8)
    ax1.invert_yaxis()
    ax1.set(title=t("Share of votes for the top class (by top class)", language), xlabel=t("share of images", language),
            ylabel="")
    ax1.legend(title=t("agreement", language), fontsize=7, title_fontsize=7, loc="upper center",
               bbox_to_anchor=(0.5, -0.14), ncol=4)
    rng = np.random.default_rng(seed)
    pick = []
    for wanted, k in ((maj >= 0, examples - examples // 2), (maj < 0, examples // 2)):  # kept and excluded
        idx = np.flatnonzero(wanted & (votes.sum(axis=1) > 0))
        pick += list(rng.choice(idx, min(len(idx), k), replace=False))
    ax2.axis("off")
    if pick:
        short = [c[:5] for c in class_names(cols, language)]
        cells = [[f"{v:g}" for v in votes[i]] + [class_name(classes[maj[i]], language) if maj[i] >= 0
                                                 else t("excluded", language)] for i in pick]
        table = ax2.table(cellText=cells, colLabels=short + [t("label", language)], loc="center", cellLoc="center",
                          colWidths=[0.07] * len(short) + [0.2])
        table.auto_set_font_size(False)
        table.set_fontsize(7)
        table.scale(1, 1.4)
    ax2.set_title(t("Example votes (10 annotators) → majority label", language))
    return fig


@_styled
def plot_augmentation(model, x, n: int = 6, seed: int = 0, draws: int = 3, language: str = "en") -> Figure:
    """Real faces through the model's own ``aug_*`` layers (training mode): what training sees."""
    x = _faces(x)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(x), min(n, len(x)), replace=False)
    faces = x[idx].astype("float32")[..., None]
    augs = [l for l in model.layers if l.name.startswith("aug_")]
    rows = [(t("original", language), faces)]
    for d in range(draws if augs else 0):
        out = faces
        for layer in augs:
            out = layer(out, training=True)
        rows.append((t("augmented #{d}", language).format(d=d + 1), np.clip(np.asarray(out), 0, 255)))
    fig = Figure(figsize=(1.3 * len(idx) + 1, 1.4 * len(rows)), layout="constrained")
    axes = fig.subplots(len(rows), len(idx), squeeze=False)
    for r, (name, imgs) in enumerate(rows):
        for c in range(len(idx)):
            _face_axis(axes[r, c], imgs[c, ..., 0])
            if c == 0:
                axes[r, c].set_ylabel(name, fontsize=8)
    names = ", ".join(t(l.name.removeprefix("aug_"), language) for l in augs) \
        or t("none (model has no aug_* layers)", language)
    fig.suptitle(t("Augmentation: {names}", language).format(names=names), fontweight="bold")
    return fig


# --------------------------------------------------------------------------------------------
# Training

@_styled
def plot_history(history_df: pd.DataFrame, language: str = "en") -> Figure:
    """Accuracy and loss per epoch, train against validation (plus macro F1 and the learning rate if logged)."""
    h = history_df.copy()
    epoch = h["epoch"] if "epoch" in h else pd.Series(np.arange(1, len(h) + 1))
    panels = [("accuracy", ["accuracy", "val_accuracy", "val_macro_f1"]), ("loss", ["loss", "val_loss"])]
    if "learning_rate" in h or "lr" in h:
        panels.append(("learning rate", ["learning_rate", "lr"]))
    fig = Figure(figsize=(2.9 * len(panels), 2.7), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, cols) in zip(axes, panels):
        for col in cols:
            if col in h and h[col].notna().any():
                label = {"accuracy": "train", "loss": "train", "val_accuracy": "validation",
                         "val_loss": "validation", "val_macro_f1": "validation macro F1"}.get(col, col)
                label = t(label, language) if label != col else col
                ax.plot(epoch, h[col], marker="o" if len(h) < 30 else None, ms=3, label=label,
                        ls="--" if col == "val_macro_f1" else "-")
        ax.set(title=t(title, language), xlabel=t("epoch", language), ylabel=t(title, language))
        if title == "learning rate" and (h.get("learning_rate", h.get("lr")) > 0).all():
            ax.set_yscale("log")
        if len(ax.lines) > 1:  # one line (the learning rate) needs no legend: its axis says what it is
            ax.legend(fontsize=9)
        elif not ax.lines:
            ax.text(0.5, 0.5, t("not logged", language), ha="center", va="center", transform=ax.transAxes)
    if "val_accuracy" in h and h["val_accuracy"].notna().any():
        best = int(h["val_accuracy"].to_numpy().argmax())
        axes[0].axvline(epoch.iloc[best], color="gray", lw=0.8, ls=":")
        axes[0].annotate(t_format("best {value:.3f}", language, value=h["val_accuracy"].iloc[best]),
                         (epoch.iloc[best], h["val_accuracy"].iloc[best]),
                         fontsize=9, xytext=(4, -14), textcoords="offset points")
    return fig


# --------------------------------------------------------------------------------------------
# Evaluation

@_styled
def plot_confusion(cm, classes, normalize: bool = False, title: str | None = None, language: str = "en") -> Figure:
    """Confusion matrix; ``normalize`` divides each row by its support (recall on the diagonal)."""
    cm = np.asarray(cm, dtype=float)
    if normalize:
        cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig = Figure(figsize=(5.6, 4.8), layout="constrained")
    ax = fig.subplots()
    sns.heatmap(cm, **_annotations(cm, ".2f" if normalize else ".0f", language), cmap="Blues", square=True,
                xticklabels=class_names(classes, language), yticklabels=class_names(classes, language), ax=ax, cbar_kws={"shrink": 0.8},
                vmin=0, vmax=1 if normalize else None, annot_kws={"fontsize": 9})
    ax.set(xlabel=t("predicted", language), ylabel=t("true", language),
           title=title or t("Confusion matrix (row-normalised)" if normalize else "Confusion matrix (counts)", language))
    ax.tick_params(axis="x", rotation=45)
    ax.tick_params(axis="y", rotation=0)
    return fig


@_styled
def plot_predictions_grid(x, y_true, probs, classes, n: int = 16, seed: int = 0, language: str = "en") -> Figure:
    """Random right and wrong predictions (half each when possible), with their confidence."""
    x, y_true, probs = _faces(x), np.asarray(y_true), np.asarray(probs)
    pred = probs.argmax(axis=1)
    rng = np.random.default_rng(seed)
    right, wrong = np.flatnonzero(pred == y_true), np.flatnonzero(pred != y_true)
    n_wrong = min(len(wrong), n // 2 if len(right) >= n - n // 2 else n - len(right))
    n_right = min(len(right), n - n_wrong)
    idx = np.concatenate([rng.choice(right, n_right, replace=False),
                          rng.choice(wrong, n_wrong, replace=False)]).astype(int)
    cols = min(8, max(len(idx), 1))
    rows = max(1, -(-len(idx) // cols))
    fig = Figure(figsize=(1.45 * cols, 1.75 * rows + 0.3), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[len(idx):]:
        ax.axis("off")
    for ax, i in zip(axes, idx):
        ok = pred[i] == y_true[i]
        _face_axis(ax, x[i], t_format("true: {true}\npred: {pred} {p:.2f}", language,
                   true=class_name(classes[y_true[i]], language), pred=class_name(classes[pred[i]], language),
                   p=probs[i, pred[i]]),
                   color="tab:green" if ok else "tab:red")
    fig.suptitle(t("Predictions: {right} right (green), {wrong} wrong (red)", language).format(right=n_right, wrong=n_wrong),
                 fontweight="bold")
    return fig


@_styled
def plot_confused_pairs(x, y_true, y_pred, classes, k: int = 4, per_pair: int = 6, seed: int = 0,
                        language: str = "en") -> Figure:
    """Faces from the ``k`` most frequent (true → predicted) mistakes: are the labels or the model wrong?"""
    x, y_true, y_pred = _faces(x), np.asarray(y_true), np.asarray(y_pred)
    wrong = y_true != y_pred
    pairs = pd.Series(list(zip(y_true[wrong], y_pred[wrong])), dtype=object).value_counts().head(k)
    rng = np.random.default_rng(seed)
    rows = max(len(pairs), 1)
    fig = Figure(figsize=(1.3 * per_pair + 1.8, 1.45 * rows + 0.3), layout="constrained")
    axes = fig.subplots(rows, per_pair, squeeze=False)
    if not len(pairs):
        for ax in axes.ravel():
            ax.axis("off")
        axes[0, 0].text(0, 0.5, t("no mistakes", language), transform=axes[0, 0].transAxes)
    for r, ((true_i, pred_i), count) in enumerate(pairs.items()):
        idx = np.flatnonzero((y_true == true_i) & (y_pred == pred_i))
        pick = rng.choice(idx, min(per_pair, len(idx)), replace=False)
        for c in range(per_pair):
            if c < len(pick):
                _face_axis(axes[r, c], x[pick[c]])
            else:
                axes[r, c].axis("off")
        axes[r, 0].axis("on"), axes[r, 0].set_xticks([]), axes[r, 0].set_yticks([])
        axes[r, 0].set_ylabel(f"{class_name(classes[true_i], language)}\n→ {class_name(classes[pred_i], language)}\n({count})", rotation=0, ha="right",
                              va="center", fontsize=8)
    fig.suptitle(t("Most frequent confusions (true → predicted)", language), fontweight="bold")
    return fig


@_styled
def plot_reliability(bins_df: pd.DataFrame, ece: float, language: str = "en") -> Figure:
    """Reliability diagram: accuracy against confidence per bin; the gap to the diagonal is miscalibration."""
    b = bins_df
    width = (b["bin_upper"] - b["bin_lower"]).to_numpy()
    centers = ((b["bin_upper"] + b["bin_lower"]) / 2).to_numpy()
    fig = Figure(figsize=(5, 5.4), layout="constrained")
    ax, ax2 = fig.subplots(2, 1, height_ratios=[3, 1], sharex=True)
    filled = b["count"].to_numpy() > 0
    ax.bar(centers[filled], b["accuracy"].to_numpy()[filled], width=width[filled], edgecolor="white",
           color="tab:blue", label=t("accuracy", language))
    ax.bar(centers[filled], (b["confidence"] - b["accuracy"]).to_numpy()[filled],
           bottom=b["accuracy"].to_numpy()[filled], width=width[filled], color="tab:red", alpha=0.3,
           edgecolor="tab:red", hatch="//", label=t("gap to confidence", language))
    ax.plot([0, 1], [0, 1], ls="--", color="gray", label=t("perfect calibration", language))
    ax.set(xlim=(0, 1), ylim=(0, 1), ylabel=t("accuracy", language),
           title=t_format("Reliability diagram (ECE = {ece:.3f})", language, ece=ece))
    ax.legend(fontsize=7, loc="upper left")
    ax2.bar(centers, b["count"], width=width, color="gray", edgecolor="white")
    ax2.set(xlabel=t("confidence (top probability)", language), ylabel=t("images", language))
    return fig


@_styled
def plot_gradcam_grid(samples: list, classes=None, title: str | None = None, language: str = "en") -> Figure:
    """Face/heat-map overlays of each class (``gradcam.gradcam_samples``), two classes side by side
    per row (the true class along the left of its faces), each face titled with the predicted
    class and its probability, green when right and red when wrong."""
    if classes is None:
        classes = list(dict.fromkeys(s["true"] for s in samples))
    by_class = {c: [s for s in samples if s["true"] == c] for c in classes}
    per_class = max([len(v) for v in by_class.values()] + [1])
    groups = 2 if len(classes) > 1 else 1
    rows = -(-len(classes) // groups)
    side = 0.85  # inches per face: two classes of four faces fit the page's width at a readable size
    fig = Figure(figsize=(side * (groups * per_class + 0.3) + 0.5, (side + 0.42) * rows + 0.45), layout="constrained")
    grid = fig.add_gridspec(rows, groups * per_class + groups - 1,
                            width_ratios=([1] * per_class + [0.15]) * (groups - 1) + [1] * per_class)
    for k, c in enumerate(classes):
        r, g = divmod(k, groups)
        for j in range(per_class):
            ax = fig.add_subplot(grid[r, g * (per_class + 1) + j])
            ax.set_xticks([]), ax.set_yticks([]), ax.grid(False)
            if j < len(by_class[c]):
                s = by_class[c][j]
                ax.imshow(s["overlay"])
                ax.set_title(f"{class_name(s['pred'], language)}\n{number(s['confidence'], language, '.2f')}",
                             fontsize=9, color="tab:green" if s["pred"] == s["true"] else "tab:red",
                             fontweight="normal", linespacing=1.1)
            elif j:
                ax.axis("off")
            else:
                ax.set_frame_on(False)  # the class's name stays on its first panel
            if j == 0:
                ax.set_ylabel(class_name(c, language), fontsize=10, fontweight="bold")
    fig.suptitle(title or t("Grad-CAM per class", language), fontweight="bold")
    return fig


def plot_mean_gradcam(means: dict, classes, language: str = "en") -> Figure:
    """Grad-CAM averaged per class (``gradcam.mean_heatmaps``) over the class's mean face: the
    faces the model gets right in the top row, those it gets wrong below, each with its count."""
    from .gradcam import overlay_heatmap

    fig = Figure(figsize=(1.0 * len(classes) + 0.7, 3.1), layout="constrained")
    axes = fig.subplots(2, len(classes), squeeze=False)
    for r, correct in enumerate((True, False)):
        for j, c in enumerate(classes):
            ax = axes[r, j]
            ax.set_xticks([]), ax.set_yticks([]), ax.grid(False)
            group = means.get((c, correct))
            if group is None:
                ax.set_frame_on(False)  # not axis("off"): the row's label sits on its first panel
                continue
            ax.imshow(overlay_heatmap(np.uint8(np.clip(group["face"], 0, 255)), group["heatmap"] / max(group["heatmap"].max(), 1e-9)))
            ax.set_title(f"{class_name(c, language)}\nn = {num(group['n'], language)}", fontsize=9, fontweight="normal")
        axes[r, 0].set_ylabel(t("right" if correct else "wrong", language), fontsize=10)
    fig.suptitle(t("Grad-CAM averaged over the test faces of each class", language), fontweight="bold")
    return fig


@_styled
def plot_metrics_vs_references(table: pd.DataFrame, language: str = "en") -> Figure:
    """Our test accuracy beside published ones (``paper.references_table``), each bar labelled with
    its protocol; figures measured another way are grey and hatched, marked not comparable."""
    cols = list(table.columns)  # model, test accuracy, protocol, comparable (in the table's language)
    df = table.iloc[::-1].reset_index(drop=True)
    fig = Figure(figsize=(7.5, 0.5 * len(df) + 1.1), layout="constrained")  # compact: it prints at most 95 mm high
    ax = fig.subplots()
    for y, row in df.iterrows():
        own = row[cols[2]] == table[cols[2]].iloc[0]  # ours come first and share our protocol
        ax.barh(y, row[cols[1]], height=0.5, color="tab:orange" if own else ("tab:blue" if row[cols[3]] else "0.8"),
                hatch=None if row[cols[3]] else "//", edgecolor="white" if row[cols[3]] else "0.5")
        ax.text(row[cols[1]] + 0.006, y, pct(row[cols[1]], language), va="center", fontsize=10, fontweight="bold")
        ax.text(0.005, y - 0.42, row[cols[2]], va="center", fontsize=9, color="0.2")
    # the hatch says "not comparable" once, in the legend, rather than after every protocol
    fig.legend(handles=[mpl.patches.Patch(facecolor="0.8", hatch="//", edgecolor="0.5",
                                          label=t("other protocol: not comparable", language))],
               loc="outside lower right", fontsize=9, frameon=False)
    ax.set_yticks(range(len(df)), df[cols[0]])
    ax.set_ylim(-0.7, len(df) - 0.5)
    ax.grid(axis="y", visible=False)
    ax.set(xlim=(0, 1), xlabel=t("test accuracy", language), title=t("Accuracy against published results", language))
    ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: pct(v, language, 0)))
    return fig


@_styled
def plot_robustness(table: pd.DataFrame, units: dict | None = None, cols: int = 3, language: str = "en") -> Figure:
    """Accuracy against strength, one panel per perturbation, the clean accuracy dashed: what a
    detector's framing or a camera costs (``robustness.robustness_table``; ``units`` labels the x axes)."""
    units = units or {}
    clean = table.loc[table["perturbation"] == "clean", "accuracy"]
    shifted = table[table["perturbation"] != "clean"]
    names = list(dict.fromkeys(shifted["perturbation"]))
    rows = max(1, -(-len(names) // cols))
    fig = Figure(figsize=(3.6 * cols, 2.7 * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True).ravel()
    for ax in axes[len(names):]:
        fig.delaxes(ax)
    for ax, name in zip(axes, names):
        g = shifted[shifted["perturbation"] == name].sort_values("strength")
        ax.plot(g["strength"], g["accuracy"], marker="o", ms=4, color="tab:blue", label=t("perturbed", language))
        if len(clean):
            ax.axhline(clean.iloc[0], color="gray", ls="--", lw=1, label=t("clean", language))
        ax.set_xticks(g["strength"], [number(s, language) for s in g["strength"]])
        worst = g["drop"].min()
        ax.set(title=t_format("{name} (worst change {worst:+.1f} pt)", language, name=t(name, language), worst=100 * worst),
               xlabel=t(units.get(name, "strength"), language))
        ax.xaxis.label.set_size(8)
        ax.yaxis.set_major_formatter(mpl.ticker.PercentFormatter(1.0))
    for ax in axes[:len(names):cols]:
        ax.set_ylabel(t("accuracy", language))
    if names:
        axes[0].legend(fontsize=7, loc="lower left")
    n = int(table["n"].iloc[0]) if len(table) else 0
    fig.suptitle(t("Accuracy under framing and camera shifts ({n} images)", language).format(n=num(n, language)),
                 fontweight="bold")
    return fig


# --------------------------------------------------------------------------------------------
# Experiments (a sweep's runs side by side; ``runs.collect`` and ``runs.compare_to_noise``)

def _pct_axis(axis) -> None:
    axis.set_major_formatter(mpl.ticker.PercentFormatter(1.0))


@_styled
def plot_runs_curves(histories: dict, metric: str = "val_accuracy", reference: str | None = None,
                     seeds=(), language: str = "en") -> Figure:
    """Validation curves of every run overlaid: the reference black, its other seeds grey and
    dashed, the band between the lowest and the highest of those seed runs at each epoch shaded
    grey, each other run in its own colour, so a change whose curve stays within the band reads as
    noise. Where the axis starts above the first epochs' values, the figure says so."""
    fig = Figure(figsize=(8.0 if len(histories) > 12 else 7.5, 4.4), layout="constrained")
    ax = fig.subplots()
    others = [n for n in histories if n != reference and n not in seeds]
    colors = dict(zip(others, sns.color_palette("tab10", max(len(others), 1))))
    seed_runs = [histories[n].set_index("epoch")[metric] for n in [reference, *seeds]
                 if n in histories and histories[n] is not None and len(histories[n])]
    if len(seed_runs) >= 2:
        band = pd.concat(seed_runs, axis=1).dropna(thresh=2)
        ax.fill_between(band.index, band.min(axis=1), band.max(axis=1), color="0.72", alpha=0.6, lw=0, zorder=1.5,
                        label=t_format("range of the {n} seed runs", language, n=len(seed_runs)))
    for name, h in histories.items():
        if h is None or not len(h):
            continue
        if name == reference:
            style = {"color": "black", "lw": 2.2, "zorder": 3}
        elif name in seeds:
            style = {"color": "0.45", "lw": 1.2, "ls": "--"}
        else:
            style = {"color": colors[name], "lw": 1.1, "alpha": 0.85}
        ax.plot(h["epoch"], h[metric], label=name, **style)
    label = t(metric.replace("_", " "), language)
    ax.set(xlabel=t("epoch", language), ylabel=label, title=t("{metric} of every run", language).format(metric=label))
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    if metric.endswith("accuracy"):
        _pct_axis(ax.yaxis)
        # the first epochs' low values are cut off, never a whole run: every run's best shows
        curves = [h[metric] for h in histories.values() if h is not None and len(h)]
        bests = [c.max() for c in curves] or [1.0]
        low = max(0.0, min(max(bests) - 0.15, min(bests) - 0.03))
        ax.set_ylim(low, min(1.0, max(bests) + 0.01))
        if curves and min(c.min() for c in curves) < low:
            ax.text(0.01, 0.98, t_format("axis from {low:.0%}: first epochs below it not shown", language, low=low),
                    transform=ax.transAxes, ha="left", va="top", fontsize=8, color="0.3")
    # beside the axes, not over the curves: a sweep may hold twenty runs
    ax.legend(fontsize=8, ncol=1 if len(histories) <= 12 else 2, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              borderaxespad=0, handlelength=1.6, columnspacing=0.8)
    return fig


@_styled
def plot_recall_heatmap(recall: pd.DataFrame, title: str | None = None, language: str = "en") -> Figure:
    """Runs down, classes across: where a change helps one class and hurts another."""
    recall = recall.rename(columns=lambda c: class_name(c, language))
    fig = Figure(figsize=(0.62 * recall.shape[1] + 2.6, 0.3 * recall.shape[0] + 1.3), layout="constrained")
    ax = fig.subplots()
    sns.heatmap(recall, **_annotations(recall, ".2f", language), cmap="viridis", vmin=0, vmax=1, ax=ax,
                cbar_kws={"label": t("recall", language)}, annot_kws={"fontsize": 9})
    ax.set(title=title or t("Recall per class and run", language), xlabel="", ylabel="")
    ax.tick_params(axis="x", rotation=30)
    return fig


@_styled
def plot_accuracy_vs_time(table: pd.DataFrame, metric: str = "val_accuracy", language: str = "en") -> Figure:
    """What each run bought for its training time (finished runs, wall minutes on the machine that
    ran them: one colour per machine, and a log scale where a GPU's minutes sit beside a CPU's hours)."""
    done = table[table["status"] == "finished"]
    fig = Figure(figsize=(7.5, 4.4), layout="constrained")
    ax = fig.subplots()
    machines = done["machine"].fillna("?")  # runs.collect's column; "?" for a run.json without it
    # a run far under the rest would squeeze them into one line: it sits on the axis instead
    off = pd.Series(far_below(done[metric].to_numpy(float)), index=done.index)
    groups = list(done.groupby(machines, sort=False))
    for k, (machine, runs) in enumerate(groups):
        on = runs[~off[runs.index]]
        ax.scatter(on["wall_minutes"], on[metric], color=f"C{k}", s=28, label=machine_label(machine, language))
    bottom, top = ax.get_ylim()
    for k, (_, runs) in enumerate(groups):
        low = runs[off[runs.index]]
        if len(low):
            ax.scatter(low["wall_minutes"], np.full(len(low), bottom), color=f"C{k}", s=40, marker="v", clip_on=False)
    ax.set_ylim(bottom, top)
    y = done[metric].where(~off, bottom).to_numpy(float)
    names = [f"{name}: {pct(v, language)} \u2193" if low else name
             for name, v, low in zip(done["variant"], done[metric], off)]
    if machines.nunique() > 1:
        ax.legend(title=t("machine", language), fontsize=8)
    if len(done) and done["wall_minutes"].max() > 10 * max(done["wall_minutes"].min(), 0.1):
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(mpl.ticker.LogLocator(subs=(1, 2, 5)))
        ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: number(v, language, "g")))
        ax.xaxis.set_minor_formatter(mpl.ticker.NullFormatter())
    label = t(metric.replace("_", " "), language)
    ax.set(xlabel=t("training time (minutes)", language), ylabel=label,
           title=t("{metric} against training time", language).format(metric=label))
    _pct_axis(ax.yaxis)
    place_labels(ax, done["wall_minutes"].to_numpy(float), y, names)
    return fig


def far_below(values: np.ndarray) -> np.ndarray:
    """Which values are "far out" below the rest by Tukey's fence: more than three interquartile
    ranges under the lower quartile (none of fewer than four values)."""
    values = np.asarray(values, float)
    if len(values) < 4:
        return np.zeros(len(values), bool)
    q1, q3 = np.percentile(values, [25, 75])
    return values < q1 - 3 * (q3 - q1)


#: Where ``place_labels`` tries a label, in points from its point (x, y of the text's lower left
#: corner; ``None`` in x: the text's width to the left), nearest first.
_LABEL_OFFSETS = [(4, 3), (4, -11), (None, 3), (None, -11), (4, 12), (None, 12), (4, -20), (None, -20),
                  (-20, 14), (-20, -22), (12, 22), (12, -30), (None, 24), (None, -32), (16, 32), (16, -40),
                  (-40, 34), (-40, -42)]


def place_labels(ax, x, y, labels, fontsize: float = 8.5) -> list:
    """Label the points (``x``, ``y``) of ``ax`` where the labels overlap neither each other nor
    the points: each takes the nearest free place of ``_LABEL_OFFSETS`` (a thin line back to its
    point when it had to move away), so a crowded scatter stays readable without another package."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox

    fig = ax.figure
    if not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)
    fig.draw_without_rendering()  # the layout settles the axes' place before anything is measured
    renderer = fig.canvas.get_renderer()
    to_pixels = fig.dpi / 72
    points = ax.transData.transform(np.column_stack([x, y])) if len(labels) else np.zeros((0, 2))
    taken = [Bbox.from_bounds(px - 4, py - 4, 8, 8) for px, py in points]
    frame = ax.get_window_extent(renderer)
    placed = []
    for (px, py), (xi, yi), text in sorted(zip(points, zip(x, y), labels), key=lambda p: (p[0][0], p[0][1])):
        probe = ax.text(0, 0, text, fontsize=fontsize, transform=None)
        width, height = probe.get_window_extent(renderer).size
        probe.remove()
        best = None
        for dx, dy in _LABEL_OFFSETS:
            dx = -width / to_pixels - 4 if dx is None else dx
            box = Bbox.from_bounds(px + dx * to_pixels, py + dy * to_pixels, width, height)
            overlap = sum(max(0, min(box.x1, b.x1) - max(box.x0, b.x0)) * max(0, min(box.y1, b.y1) - max(box.y0, b.y0))
                          for b in taken)
            outside = width * height - max(0, min(box.x1, frame.x1) - max(box.x0, frame.x0)) * \
                max(0, min(box.y1, frame.y1) - max(box.y0, frame.y0))
            cost = overlap + outside
            if best is None or cost < best[0]:
                best = (cost, dx, dy, box)
            if cost == 0:
                break
        _, dx, dy, box = best
        taken.append(box)
        far = abs(dx) > 8 or dy > 14 or dy < -14
        placed.append(ax.annotate(text, (xi, yi), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                                  va="bottom", ha="left",
                                  arrowprops={"arrowstyle": "-", "color": "0.6", "lw": 0.6, "shrinkA": 0,
                                              "shrinkB": 3} if far else None))
    return placed


@_styled
def plot_ablations(noise: pd.DataFrame, metric: str = "val_accuracy", language: str = "en") -> Figure:
    """Each run's difference from the reference recipe's seed mean, in points, against the seed
    noise band (``k`` standard deviations, ``runs.compare_to_noise``): bars outside it are real."""
    df = noise.sort_values("difference")
    fig = Figure(figsize=(6.5, 0.3 * len(df) + 1.3), layout="constrained")
    ax = fig.subplots()
    palette = {"outside": "tab:orange", "inside": "tab:blue", "seed": "0.6", "unknown": "tab:blue"}
    ax.barh(df["variant"], 100 * df["difference"], color=[palette[v] for v in df["verdict"]])
    band = noise.attrs.get("seed_std", float("nan")) * noise.attrs.get("k", 2.0) * 100
    if np.isfinite(band):
        ax.axvspan(-band, band, color="0.85", zorder=0,
                   label=t_format("seed noise (±{k:g} sd)", language, k=noise.attrs.get("k", 2)))
        ax.legend(fontsize=9, loc="lower right")
    ax.axvline(0, color="black", lw=0.8)
    mean = noise.attrs.get("seed_mean", float("nan"))
    ax.set(xlabel=t("difference in {metric} from the seed mean", language).format(metric=t(metric.replace("_", " "), language))
                  + (f" ({number(mean, language, '.2%')})" if np.isfinite(mean) else "") + t(", points", language),
           title=t("What each change is worth, against seed-to-seed noise", language))
    return fig
