"""Where FER2013's 48x48 square lies around a detected face, measured (the constants of ``faces.py``).

    python benchmarks/framing_calibration.py [--faces 300] [--seed 3] [--figure PATH] [--json PATH]

FER+ *validation* faces are upscaled to 96-192 pixels and placed, upright, at known squares in
photos 2.5-4 times larger with textured backgrounds (``scenes.py``); both detectors run on them.
For every face found, the known square is expressed

* with a detector's box ("box"): its side and its centre's offset from the box's centre, in box sides;
* with BlazeFace's eyes ("eyes"), in the frame where the eyes are level: its side and its centre's
  offset from the midpoint of the eyes (down and right), in units of the eye distance;
* both: placed from the eyes as above, in box sides ("eyes+box"), or in units of the geometric
  mean of box side and eye distance ("eyes+mean", what ``faces.py`` uses: the eye distance shrinks
  when a head turns aside, the box when it leans, and the mean errs less than either).

Printed: the median of each ratio (the constant ``faces.py`` uses), its spread (interquartile
range, 5th-95th percentiles), how many faces were found, the current constants, and how well the
fitted square matches the true one (median and 10th-percentile IoU, fitted on one half of the
faces and scored on the other). The median is used because a few faces get wrong landmarks
(hands over the face, profiles). Also the tilt of the eyes in FER2013's crops, which an aligned
crop removes. ``--figure`` saves the distributions and a few examples (the report shows it).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import scenes  # noqa: E402
from fer_helpers import faces as F  # noqa: E402
from fer_helpers.detection import detect_faces  # noqa: E402

#: Ways to frame a detection, each three ratios (side, centre down, centre right):
#: "eyes": from the eyes, in eye distances; "box": from the box, in box sides; "eyes+box": turned
#: and placed from the eyes (offsets from their midpoint, in the eyes' frame), sized by the box;
#: "eyes+mean": the same in units of the geometric mean of box side and eye distance (the eye
#: distance shrinks when a head turns aside, the box when it leans: the mean errs less than either).
FRAMINGS = {"eyes": ("eye_side", "eye_down", "eye_right"), "box": ("box_side", "box_down", "box_right"),
            "eyes+box": ("box_side", "mid_down", "mid_right"), "eyes+mean": ("mean_side", "mean_down", "mean_right")}
DETECTOR_FRAMINGS = {"blazeface": ("eyes+mean", "eyes+box", "eyes", "box"), "haar": ("box",)}
#: The constants of faces.py that hold each detector's chosen framing (the first of its list).
CONSTANTS = {"blazeface": ("ALIGNED_FRAME_SIDE", "ALIGNED_FRAME_DOWN", "ALIGNED_FRAME_RIGHT"),
             "haar": ("BOX_FRAME_SIDE", "BOX_FRAME_DOWN", "BOX_FRAME_RIGHT")}


def measure(n_faces: int, seed: int, data=None, detectors=("blazeface", "haar")) -> dict:
    """Per detector, one dict per face found: the ratios, the true square and the detection."""
    from fer_helpers.data import load_dataset

    x, _ = load_dataset(data).split("valid", labels="majority")
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(x), min(n_faces, len(x)), replace=False)
    out: dict[str, list] = {d: [] for d in detectors}
    for index in picks:
        side = float(rng.uniform(96, 192))
        w, h = (int(side * rng.uniform(2.5, 4.0)) for _ in range(2))
        canvas = scenes.background(rng, w, h)
        cx, cy = rng.uniform(side, w - side), rng.uniform(side, h - side)
        placed = scenes.paste_face(canvas, x[index], cx, cy, side, 0.0, int(index))
        photo = np.clip(canvas, 0, 255).astype(np.uint8)
        for det in detectors:
            found = detect_faces(photo, det)
            pairs, _ = scenes.match([f.box for f in found], [placed])
            if 0 not in pairs:
                continue
            face = found[pairs[0]]
            bx, by, bw, bh = face.box
            size = (bw + bh) / 2
            bcx, bcy = bx + (bw - 1) / 2, by + (bh - 1) / 2
            rec = {"index": int(index), "square": (placed.cx, placed.cy, side), "box": face.box,
                   "box_side": side / size, "box_down": (placed.cy - bcy) / size,
                   "box_right": (placed.cx - bcx) / size}
            if face.has_eyes:
                (rx, ry), (lx, ly) = face.right_eye, face.left_eye
                dist = math.hypot(lx - rx, ly - ry)
                ux, uy = (lx - rx) / dist, (ly - ry) / dist
                ox, oy = placed.cx - (rx + lx) / 2, placed.cy - (ry + ly) / 2
                down, right = ox * -uy + oy * ux, ox * ux + oy * uy
                mean = math.sqrt(dist * size)
                rec.update(eyes=(face.right_eye, face.left_eye), eye_side=side / dist, eye_down=down / dist,
                           eye_right=right / dist, mid_down=down / size, mid_right=right / size,
                           mean_side=side / mean, mean_down=down / mean, mean_right=right / mean,
                           tilt=math.degrees(math.atan2(ly - ry, lx - rx)))
            out[det].append(rec)
    out["placed"] = len(picks)
    return out


def _iou_rotated(pred: tuple, true: tuple) -> float:
    """IoU of a square (cx, cy, side, angle) with an upright one (cx, cy, side), by rasterising."""
    import cv2

    pcx, pcy, ps, pa = pred
    tcx, tcy, ts = true
    ox, oy = tcx - 2 * ts, tcy - 2 * ts
    scale = 200 / (4 * ts)
    a = np.zeros((200, 200), np.uint8)
    b = np.zeros_like(a)
    box = cv2.boxPoints((((pcx - ox) * scale, (pcy - oy) * scale), (ps * scale, ps * scale), pa))
    cv2.fillPoly(a, [np.round(box).astype(np.int32)], 1)
    t0, t1 = int(round((2 * ts - ts / 2) * scale)), int(round((2 * ts + ts / 2) * scale))
    b[t0:t1, t0:t1] = 1
    return float((a & b).sum() / max(1, (a | b).sum()))


def _frame(rec: dict, framing: str, k: tuple) -> tuple:
    """The square ``(cx, cy, side, 0)`` that the ratios ``k`` (side, down, right) of a framing
    predict for this detection, as ``faces.face_frame`` computes it; upright, as FER2013's is."""
    side, down, right = k
    bx, by, bw, bh = rec["box"]
    size = (bw + bh) / 2
    if framing == "box":
        return bx + (bw - 1) / 2 + right * size, by + (bh - 1) / 2 + down * size, side * size, 0.0
    (rx, ry), (lx, ly) = rec["eyes"]
    dist = math.hypot(lx - rx, ly - ry)
    unit = {"eyes": dist, "eyes+box": size, "eyes+mean": math.sqrt(dist * size)}[framing]
    ux, uy = (lx - rx) / dist, (ly - ry) / dist
    cx = (rx + lx) / 2 + unit * (right * ux - down * uy)
    cy = (ry + ly) / 2 + unit * (right * uy + down * ux)
    return cx, cy, side * unit, 0.0


def fit(measured: dict) -> dict:
    """Per detector and framing: medians and spreads of the ratios, and the held-out IoU of the
    fitted squares (constants from even-numbered faces score odd-numbered ones, and back)."""
    result = {"placed": measured["placed"], "detectors": {}}
    for det, framings in DETECTOR_FRAMINGS.items():
        recs = measured.get(det, [])
        if not recs:
            continue
        entry = {"found": len(recs), "framings": {}}
        for framing in framings:
            names = FRAMINGS[framing]
            ratios = {}
            for name in names:
                v = np.array([r[name] for r in recs])
                q = np.percentile(v, [5, 25, 50, 75, 95])
                ratios[name] = {"median": float(q[2]), "iqr": [float(q[1]), float(q[3])],
                                "p5_p95": [float(q[0]), float(q[4])], "std": float(v.std())}
            ious = []
            for part in (0, 1):
                train = [r for i, r in enumerate(recs) if i % 2 == part]
                k = tuple(float(np.median([r[n] for r in train])) for n in names)
                ious += [_iou_rotated(_frame(r, framing, k), r["square"]) for i, r in enumerate(recs) if i % 2 != part]
            entry["framings"][framing] = {"ratios": ratios, "held_out_iou": {
                "median": float(np.median(ious)), "p10": float(np.percentile(ious, 10))}}
        if det == "blazeface":
            tilt = np.abs([r["tilt"] for r in recs])
            entry["fer_eye_tilt_deg"] = {"median": float(np.median(tilt)), "p90": float(np.percentile(tilt, 90))}
        result["detectors"][det] = entry
    return result


def format_result(result: dict) -> str:
    lines = [f"{result['placed']} FER+ validation faces placed"]
    for det, entry in result["detectors"].items():
        lines.append(f"\n{det}: found {entry['found']} ({100 * entry['found'] / result['placed']:.1f}%)")
        for n, (framing, fr) in enumerate(entry["framings"].items()):
            iou = fr["held_out_iou"]
            lines.append(f"  framing {framing!r}{' (faces.py)' if n == 0 else ''}: held-out IoU with FER2013's "
                         f"square, median {iou['median']:.3f}, 10th percentile {iou['p10']:.3f}")
            lines.append(f"    {'ratio':<11}{'median':>8}{'IQR':>16}{'5-95%':>17}{'std':>7}"
                         + ("   constant now" if n == 0 else ""))
            for i, (name, r) in enumerate(fr["ratios"].items()):
                now = f"   {CONSTANTS[det][i]} = {getattr(F, CONSTANTS[det][i]):g}" if n == 0 else ""
                lines.append(f"    {name:<11}{r['median']:>8.3f}{'%.3f-%.3f' % tuple(r['iqr']):>16}"
                             f"{'%.3f-%.3f' % tuple(r['p5_p95']):>17}{r['std']:>7.3f}{now}")
        if "fer_eye_tilt_deg" in entry:
            t = entry["fer_eye_tilt_deg"]
            lines.append(f"  eye tilt in FER2013's crops: median {t['median']:.1f} deg, "
                         f"90th percentile {t['p90']:.1f} deg")
    return "\n".join(lines)


def figure(measured: dict, result: dict, data=None, language: str = "en"):
    """Histograms of the ratios with their medians, and examples: detection, eyes, the fitted
    square (aligned) and FER2013's true square; labels in ``language`` (``i18n``), as the report
    shows it in each."""
    import matplotlib.pyplot as plt
    import matplotlib.patches as patches

    from fer_helpers.data import load_dataset
    from fer_helpers.i18n import t, t_format
    from fer_helpers.plots import localize_ticks

    names = [("blazeface", "mean_side", "side / mean(box, eye distance)"),
             ("blazeface", "mean_down", "centre below eyes / mean"),
             ("blazeface", "eye_side", "side / eye distance"), ("haar", "box_side", "side / Haar box")]
    fig = plt.figure(figsize=(12, 6.2), layout="constrained")
    grid = fig.add_gridspec(2, 4)
    for i, (det, name, title) in enumerate(names):
        ax = fig.add_subplot(grid[0, i])
        if det not in result["detectors"]:
            ax.set_axis_off()
            continue
        v = np.array([r[name] for r in measured[det]])
        framing = next(f for f in DETECTOR_FRAMINGS[det] if name in FRAMINGS[f])
        med = result["detectors"][det]["framings"][framing]["ratios"][name]["median"]
        lo, hi = np.percentile(v, [1, 99])
        ax.hist(np.clip(v, lo, hi), bins=40, color="#4c72b0")
        ax.axvline(med, color="#c44e52", lw=2)
        ax.set_title(t_format("{title}\nmedian {median:.3f}", language, title=t(title, language), median=med),
                     fontsize=9)
        ax.set_yticks([])
    x, _ = load_dataset(data).split("valid", labels="majority")
    chosen = DETECTOR_FRAMINGS["blazeface"][0]
    k = tuple(result["detectors"]["blazeface"]["framings"][chosen]["ratios"][n]["median"] for n in FRAMINGS[chosen])
    for i, rec in enumerate(measured["blazeface"][:4]):
        ax = fig.add_subplot(grid[1, i])
        cx, cy, side = rec["square"]
        half = side * 0.9
        # redraw the face as it was placed: only the neighbourhood of the square matters here
        img = np.kron(x[rec["index"]], np.ones((1, 1)))
        ax.imshow(img, cmap="gray", extent=(cx - side / 2, cx + side / 2, cy + side / 2, cy - side / 2))
        ax.add_patch(patches.Rectangle((cx - side / 2, cy - side / 2), side, side, fill=False, ec="#55a868", lw=2,
                                       label=t("FER2013 square", language)))
        bx, by, bw, bh = rec["box"]
        ax.add_patch(patches.Rectangle((bx, by), bw, bh, fill=False, ec="#8172b2", lw=1, ls="--",
                                       label=t("BlazeFace box", language)))
        (rx, ry), (lx, ly) = rec["eyes"]
        ax.plot([rx, lx], [ry, ly], "o", color="#dd8452", ms=4, label=t("eyes", language))
        fx, fy, fs, _ = _frame(rec, chosen, k)
        angle = math.degrees(math.atan2(ly - ry, lx - rx))
        import cv2

        pts = cv2.boxPoints(((fx, fy), (fs, fs), angle))
        ax.add_patch(patches.Polygon(pts, closed=True, fill=False, ec="#c44e52", lw=1.5, label=t("aligned crop", language)))
        ax.set_xlim(cx - half, cx + half)
        ax.set_ylim(cy + half, cy - half)
        ax.set_xticks([])
        ax.set_yticks([])
        if i == 0:
            ax.legend(fontsize=7, loc="lower left")
    fig.suptitle(t("FER2013's framing measured: where the 48x48 square lies around a detected face", language),
                 fontsize=11)
    return localize_ticks(fig, language)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=300, help="validation faces to place (default 300)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--data", help="FER+ data folder (default: data/ferplus, ../shared/data/ferplus)")
    parser.add_argument("--figure", help="save the figure here (PNG, SVG or PDF), and in Turkish beside it "
                        "(framing.png -> framing.tr.png)")
    parser.add_argument("--json", help="save the fitted figures here")
    args = parser.parse_args(argv)

    from fer_helpers.files import atomic_path, write_json
    from fer_helpers.i18n import LANGUAGES, language_path

    measured = measure(args.faces, args.seed, args.data)
    result = fit(measured)
    print(f"command: python benchmarks/framing_calibration.py --faces {args.faces} --seed {args.seed}")
    print(format_result(result))
    if args.json:
        write_json(args.json, result)
    if args.figure:
        for language in LANGUAGES:
            path = language_path(args.figure, language)
            fig = figure(measured, result, args.data, language)
            with atomic_path(path) as tmp:
                fig.savefig(tmp, dpi=120)
            print(f"figure: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
