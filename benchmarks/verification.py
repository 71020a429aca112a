"""Where the photo path loses faces, and whether any check we ship could keep them (a measurement
for the closing note and the README, not a test).

    python benchmarks/verification.py [--photos 300] [--seeds 11,12] [--data PATH]

The photo path's goal is 98% of the faces found with under 1 false face in 50 photos; the default
search finds about 94%. This follows every candidate of the search (at a low threshold, 0.3) on
FER+ *validation* faces placed in ``photo_path.py``'s photos, and records what each check says of
it: the search's score, the two looks' scores (``BlazeFace.look_near``), the face mesh's
probability (``FacePresence``) on the search's box and on the final one, and three more opinions
no default check uses (a look at the mirrored photo, the face mesh on the mirrored face, and
BlazeFace's full-range model). Two tables:

1. Where each face is lost, with the default thresholds: no candidate, the search's score, the
   first or second look, the face mesh. For two pyramids: the default (windows shrinking from the
   photo's size, so the smallest is 128-213 pixels, depending on the photo) and one anchored at
   exactly 128 pixels, with the search's processor time per photo.
2. The best any combination of those eight opinions can do: a logistic regression fitted on one
   seed's photos and measured on the other's (each way), at several thresholds, against the
   default chain on the same photos.
3. Whether BlazeFace sees the lost faces at all: one look (the short-range model on one window,
   as ``look_near`` makes it) centred on each face's true square, at several shares of the
   window's side, for the faces the search lost and for a sample of those it kept. If it finds
   most lost faces there, they are lost to the search's framing, not to what BlazeFace sees.
4. What more searching buys: the same photos searched mirrored too (faces found in either), and
   with windows anchored at 128 pixels and stepping by 0.7, with recall, false faces and the whole
   detector's processor time.
5. The ceiling of any search: every face looked at once on its true square (as in 3), and from
   each framing that finds it, the chain's own checks (the two looks, then the face mesh). A face
   that passes from some framing is one a perfect search would keep; one that passes from none
   is lost to the checks whatever the search does. With the default detector's recall beside it.
6. Whether the face mesh would pass more faces shown another view: the default detector's faces
   without the face mesh, each shown to it at 1.2-2.2 times its box, levelled by the eyes or left
   upright, and accepted by one view or by any of several, with recall and false faces per photo.
About 20 minutes on 2 cores (``--tables 5`` or ``--tables 6``: 2 minutes each).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import photo_path  # noqa: E402
import scenes  # noqa: E402
from fer_helpers import detection as D  # noqa: E402

#: The search's threshold while collecting: low, so that the table sees what a looser search would add.
COLLECT_SCORE = 0.3
STAGES = ("no candidate", "search", "first look", "second look", "face mesh", "kept")
#: Their columns' headers, short enough for the table to fit a report's page.
STAGE_HEADERS = ("no cand", "search", "look 1", "look 2", "mesh", "kept")
#: What the combination may use: the search's candidates scoring this or more.
COMBINE_SCORE = 0.4
#: Table 6's views of the face mesh: (scale of the box, levelled by the eyes); the first is the default.
MESH_VIEWS = ((D.FACE_PRESENCE_SCALE, True), (D.FACE_PRESENCE_SCALE, False), (1.2, True), (1.2, False),
              (1.8, True), (1.8, False), (2.2, True), (2.2, False))
#: Table 5's rows, in the order a face passes them, and their labels.
CEILING_COLUMNS = ("default", "seen at 0.5", "seen at any", "+ two looks", "+ face mesh", "either")
CEILING_ROWS = ("found by the default detector", "seen by one look at fill 0.5",
                "seen by one look at one of fills 0.3-0.7", "then kept by the two looks",
                "then kept by the face mesh too (a perfect search)", "kept by a perfect search or by the default")


def anchored_sides(w: int, h: int, min_window: int | None, ratio: float = D.BLAZE_WINDOW_RATIO) -> list[int]:
    """``detection.window_sides`` with the pyramid built up from exactly ``min_window``."""
    top = min(w, h) if max(w, h) > 1.2 * min(w, h) else min(w, h) * ratio
    sides, side = [], float(min_window)
    while side <= top * 1.05:
        sides.append(int(round(side)))
        side /= ratio
    return [max(w, h)] + sides[::-1]


@contextlib.contextmanager
def pyramid(anchored: bool):
    original = D.window_sides
    D.window_sides = anchored_sides if anchored else original
    try:
        yield
    finally:
        D.window_sides = original


def _face(row: np.ndarray) -> D.Face:
    x0, y0, x1, y1 = row[:4]
    p = row[4:].reshape(6, 2)
    return D.Face(box=(int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))), score=0.0,
                  right_eye=(float(p[0, 0]), float(p[0, 1])), left_eye=(float(p[1, 0]), float(p[1, 1])))


def _mirrored(row: np.ndarray, width: int) -> np.ndarray:
    """A candidate row (box, six keypoints) in the mirrored photo: x flipped, left and right swapped."""
    out = row.copy()
    out[0::2] = width - row[0::2]
    out[[0, 2]] = out[[2, 0]]
    points = out[4:].reshape(6, 2)
    points[[0, 1, 4, 5]] = points[[1, 0, 5, 4]]
    return out


def _full_range(full: D.BlazeFace, rgb: np.ndarray, row: np.ndarray, fill: float = 0.3) -> float:
    """The full-range model's best score for a face near ``row``'s, in a window the face fills ``fill`` of."""
    cx, cy = (row[0] + row[2]) / 2, (row[1] + row[3]) / 2
    patch, x0, y0 = D.square_window(rgb, cx, cy, int(round(max(row[2] - row[0], row[3] - row[1]) / fill)))
    rows, scores = full._run(np.ascontiguousarray(patch), 0.05)
    centres = (rows[:, :2] + rows[:, 2:4]) / 2 + (x0, y0)
    near = (np.abs(centres[:, 0] - cx) < (row[2] - row[0]) / 2) & (np.abs(centres[:, 1] - cy) < (row[3] - row[1]) / 2)
    return float(scores[near].max()) if near.any() else 0.0


def candidates(photos, anchored: bool) -> tuple[list[list[dict]], float]:
    """Every search candidate of every photo with what each check says of it, and the search's
    processor milliseconds per photo."""
    search = D.BlazeFace("short", min_window=D.BLAZE_MIN_WINDOW, num_threads=D._threads(),
                         min_score=COLLECT_SCORE, verify_score=0.05)
    full = D.BlazeFace("full", num_threads=D._threads())
    mesh = D.FacePresence(num_threads=D._threads())
    out, cpu = [], 0.0
    for img, _ in photos:
        rgb = D.as_rgb(img)
        mirrored = np.ascontiguousarray(rgb[:, ::-1])
        start = time.process_time()
        with pyramid(anchored):
            boxes, scores, points = search.detect(rgb)
        cpu += time.process_time() - start
        found = []
        for box, score, keypoints in zip(boxes, scores, points):
            row = np.concatenate([box, keypoints.ravel()]).astype(np.float32)
            c = dict(search=float(score), look1=0.0, look2=0.0, final=row, mesh_search=mesh.probability(rgb, _face(row)))
            again, s = search._look_once(rgb, row[None])
            if len(again):
                c.update(look1=float(s[0]), final=again[0])
                again, s = search._look_once(rgb, again[0][None])
                if len(again):
                    c.update(look2=float(s[0]), final=again[0])
            c["mesh"] = mesh.probability(rgb, _face(c["final"])) if c["look2"] else c["mesh_search"]
            if score >= COMBINE_SCORE:
                flipped = _mirrored(c["final"], rgb.shape[1])
                _, s = search._look_once(mirrored, flipped[None])
                c["look_mirrored"] = float(s[0]) if len(s) else 0.0
                c["mesh_mirrored"] = mesh.probability(mirrored, _face(flipped))
                c["full_range"] = _full_range(full, rgb, c["final"])
            found.append(c)
        out.append(found)
    return out, 1000 * cpu / len(photos)


def default_chain(c: dict) -> bool:
    return (c["search"] >= D.BLAZE_MIN_SCORE and c["look1"] >= D.BLAZE_VERIFY_SCORE
            and c["look2"] >= D.BLAZE_VERIFY_SCORE and c["mesh"] >= D.FACE_PRESENCE_MIN)


def measure(photos, found, keep) -> tuple[float, float]:
    """Recall (%) and false faces per photo when the candidates for which ``keep`` holds are kept
    (merged as the detector merges them, small ones dropped as ``blazeface_faces`` drops them)."""
    hits = false = 0
    for (img, placed), cands in zip(photos, found):
        kept = [c for c in cands if keep(c)]
        rows = np.asarray([c["final"] for c in kept], np.float32).reshape(-1, 16)
        rows, _ = D._weighted_nms(rows, np.asarray([c["look2"] or c["search"] for c in kept], np.float32),
                                  D.BLAZE_NMS_IOU)
        h, w = img.shape[:2]
        smallest = max(D.MIN_FACE_PIXELS, D.MIN_FACE_FRACTION * min(h, w))
        clipped = np.clip(rows[:, :4], 0, [w, h, w, h])
        boxes = [(x0, y0, x1 - x0, y1 - y0) for x0, y0, x1, y1 in clipped if max(x1 - x0, y1 - y0) >= smallest]
        pairs, extra = scenes.match(boxes, placed)
        hits, false = hits + len(pairs), false + len(extra)
    return 100 * hits / sum(len(p) for _, p in photos), false / len(photos)


def losses(photos, found) -> dict[str, int]:
    """Faces per stage at which the default chain loses them (``kept``: not lost), each face
    taking the candidate (its final box on it) that passes the most checks in a row."""
    count = dict.fromkeys(STAGES, 0)
    for (_, placed), cands in zip(photos, found):
        for face in placed:
            mine = [c for c in cands if scenes.match([_box(c["final"])], [face])[0]]
            count[STAGES[1 + max(_depth(c) for c in mine)] if mine else "no candidate"] += 1
    return count


def _depth(c: dict) -> int:
    """How many of the chain's four checks a candidate passes in a row."""
    checks = (c["search"] >= D.BLAZE_MIN_SCORE, c["look1"] >= D.BLAZE_VERIFY_SCORE,
              c["look2"] >= D.BLAZE_VERIFY_SCORE, c["mesh"] >= D.FACE_PRESENCE_MIN)
    return next((k for k, ok in enumerate(checks) if not ok), 4)


def _box(row) -> tuple[float, float, float, float]:
    return float(row[0]), float(row[1]), float(row[2] - row[0]), float(row[3] - row[1])


def true_place_looks(photos, found, fills=(0.3, 0.4, 0.5, 0.6, 0.7), kept_sample=5) -> dict[str, list]:
    """Faces lost before the checks ("no candidate" or "search") and every ``kept_sample``-th kept
    face, each with whether one look centred on its true square finds it, per share ``fills`` of
    the window that square takes."""
    look = D.BlazeFace("short", num_threads=D._threads())
    groups: dict[str, list] = {"lost by the search": [], "kept (sample)": []}
    k = 0
    for (img, placed), cands in zip(photos, found):
        rgb = D.as_rgb(img)
        for face in placed:
            mine = [c for c in cands if scenes.match([_box(c["final"])], [face])[0]]
            depth = max(_depth(c) for c in mine) if mine else -1
            if depth == 4:
                k += 1
                if k % kept_sample:
                    continue
                group = "kept (sample)"
            elif depth <= 0:
                group = "lost by the search"
            else:
                continue
            groups[group].append([_found_in_window(look, rgb, face, face.side / fill) for fill in fills])
    return groups


def _found_in_window(look: D.BlazeFace, rgb: np.ndarray, face, window: float) -> bool:
    return _look_at(look, rgb, face, window) is not None


def _look_at(look: D.BlazeFace, rgb: np.ndarray, face, window: float) -> np.ndarray | None:
    """The best-scoring row (box and keypoints) that one look in a ``window``-pixel square centred
    on ``face`` finds on it at the default score, or ``None``."""
    patch, x0, y0 = D.square_window(rgb, face.cx, face.cy, window)
    rows, scores = look._run(np.ascontiguousarray(patch), D.BLAZE_MIN_SCORE)
    rows[:, 0::2] += x0
    rows[:, 1::2] += y0
    mine = [k for k in np.argsort(-scores) if scenes.match([_box(rows[k])], [face])[0]]
    return rows[mine[0]] if mine else None


def ceiling(photos, fills=(0.3, 0.4, 0.5, 0.6, 0.7)) -> dict[str, float]:
    """Shares (%) of the faces of ``photos``: found by the default detector; seen by one look at
    their true square at fill 0.5 and at any of ``fills``; and, from one of those looks, still
    found by the chain's two looks (``look_near``) and then also passed by the face mesh; the last
    is what a perfect search would keep, also counted together with the default's own finds. Beside
    them, what the face mesh is for: the default detector's recall (%) and false faces per photo
    without it (``no mesh``, ``no mesh, false``)."""
    look = D.BlazeFace("short", num_threads=D._threads())
    detector, mesh = D._blazeface(), D._face_presence()
    counts = collections.Counter()
    for img, placed in photos:
        gray = D.as_gray(img)
        rgb = D.as_rgb(gray)
        # the default detector is its search and looks, then the face mesh: one search serves both
        unchecked = sorted(D.blazeface_faces(detector, gray), key=lambda f: (f.box[0], f.box[1]))
        checked = [f for f in unchecked if mesh.probability(rgb, f) >= D.FACE_PRESENCE_MIN]
        found, _ = scenes.match([f.box for f in checked], placed)
        pairs, extra = scenes.match([f.box for f in unchecked], placed)
        counts.update({"no mesh": len(pairs), "no mesh, false": len(extra)})
        for i, face in enumerate(placed):
            looks = {fill: _look_at(look, rgb, face, face.side / fill) for fill in fills}
            after_looks = [r for row in looks.values() if row is not None
                           for r in detector.look_near(rgb, row[None])[0] if scenes.match([_box(r)], [face])[0]]
            kept = any(mesh.probability(rgb, _face(r)) >= D.FACE_PRESENCE_MIN for r in after_looks)
            counts.update({"default": i in found, "seen at 0.5": looks.get(0.5) is not None,
                           "seen at any": any(r is not None for r in looks.values()),
                           "+ two looks": bool(after_looks), "+ face mesh": kept, "either": kept or i in found})
    n = sum(len(p) for _, p in photos)
    return {**{k: 100 * counts[k] / n for k in CEILING_COLUMNS},
            "no mesh": 100 * counts["no mesh"] / n, "no mesh, false": counts["no mesh, false"] / len(photos)}


def mesh_views(photos, views=MESH_VIEWS) -> tuple[np.ndarray, np.ndarray, int]:
    """Each face the default detector finds without the face mesh: whether it is a placed face, and
    the face mesh's probability in each of ``views`` (scale, levelled); and the number of faces."""
    detector, mesh = D._blazeface(), D._face_presence()
    real, probabilities = [], []
    for img, placed in photos:
        gray = D.as_gray(img)
        rgb = D.as_rgb(gray)
        faces = D.blazeface_faces(detector, gray)
        pairs, _ = scenes.match([f.box for f in faces], placed)
        for k, face in enumerate(faces):
            real.append(k in pairs.values())
            probabilities.append([mesh.probability(rgb, face, scale, levelled) for scale, levelled in views])
    return np.asarray(real, bool), np.asarray(probabilities, float).reshape(-1, len(views)), \
        sum(len(p) for _, p in photos)


def searched(photos, anchored: bool, ratio: float, mirrored: bool) -> tuple[float, float, float]:
    """Recall (%), false faces per photo and processor ms per photo of ``detect_faces`` with the
    given pyramid, and with the faces of the mirrored photo added when ``mirrored``."""
    det = D._blazeface()
    hits = false = 0
    start = time.process_time()
    try:
        det.ratio = ratio
        with pyramid(anchored):
            for img, placed in photos:
                gray = D.as_gray(img)
                boxes = [f.box for f in D.detect_faces(gray)]
                if mirrored:
                    w = gray.shape[1]
                    for x, y, bw, bh in (f.box for f in D.detect_faces(np.ascontiguousarray(gray[:, ::-1]))):
                        box = (w - x - bw, y, bw, bh)
                        if not any(scenes.iou(box, b) > D.BLAZE_NMS_IOU for b in boxes):
                            boxes.append(box)
                pairs, extra = scenes.match(boxes, placed)
                hits, false = hits + len(pairs), false + len(extra)
    finally:
        det.ratio = D.BLAZE_WINDOW_RATIO
    ms = 1000 * (time.process_time() - start) / len(photos)
    return 100 * hits / sum(len(p) for _, p in photos), false / len(photos), ms


def _features(c: dict) -> list[float]:
    from scipy.special import logit as _logit

    def logit(p: float) -> float:  # the face mesh says 0 or 1 exactly at times
        return float(_logit(np.clip(p, 1e-4, 1 - 1e-4)))

    return [c["search"], c["look1"], c["look2"], logit(c["mesh_search"]), logit(c["mesh"]),
            c["look_mirrored"], logit(c["mesh_mirrored"]), c["full_range"]]


def table_1(by_seed: dict, show: bool) -> dict:
    """Every seed's candidates for both pyramids (what tables 2 and 3 read), printing table 1 when ``show``."""
    seeds, photos = list(by_seed), [p for found in by_seed.values() for p in found]
    if show:
        print("1. Where the default chain loses faces (faces per stage)\n")
        print(f"{'pyramid':<30}" + "".join(f"{s:>8}" for s in STAGE_HEADERS) + f"{'recall %':>9}{'false/photo':>12}"
              f"{'search ms':>10}")
    collected = {}
    for name, anchored in (("default (smallest 128-213 px)", False), ("anchored at 128 px", True)):
        runs = {s: candidates(by_seed[s], anchored) for s in seeds}
        collected[anchored] = {s: found for s, (found, _) in runs.items()}
        found = [c for s in seeds for c in collected[anchored][s]]
        count = losses(photos, found)
        recall, false = measure(photos, found, default_chain)
        ms = np.mean([ms for _, ms in runs.values()])
        if show:
            print(f"{name:<30}" + "".join(f"{count[s]:>8}" for s in STAGES)
                  + f"{recall:>9.1f}{false:>12.3f}{ms:>10.0f}", flush=True)
    if show:
        print("search ms: the search's processor time per photo (time.process_time), without the checks\n")
    return collected


def table_2(by_seed: dict, collected: dict) -> None:
    from sklearn.linear_model import LogisticRegression

    seeds = list(by_seed)
    print("2. Eight opinions combined (logistic regression; fitted on one seed, measured on the other)\n")
    print(f"{'pyramid':<22}{'measured on':>12}{'threshold':>11}{'recall %':>10}{'false/photo':>13}")
    for name, anchored in (("default", False), ("anchored at 128 px", True)):
        for fit_seed, test_seed in (seeds, seeds[::-1]):
            train = [(c, placed) for (_, placed), cands in zip(by_seed[fit_seed], collected[anchored][fit_seed])
                     for c in cands if c["search"] >= COMBINE_SCORE]
            model = LogisticRegression(max_iter=1000).fit(
                np.asarray([_features(c) for c, _ in train]),
                [bool(scenes.match([_box(c["final"])], placed)[0]) for c, placed in train])
            test_photos, test_found = by_seed[test_seed], collected[anchored][test_seed]
            recall, false = measure(test_photos, test_found, default_chain)
            print(f"{name:<22}{test_seed:>12}{'default':>11}{recall:>10.1f}{false:>13.3f}")
            for threshold in (0.3, 0.5, 0.7, 0.9):
                keep = lambda c, t=threshold: c["search"] >= COMBINE_SCORE and \
                    model.predict_proba([_features(c)])[0, 1] >= t  # noqa: E731
                recall, false = measure(test_photos, test_found, keep)
                print(f"{'':<22}{test_seed:>12}{threshold:>11}{recall:>10.1f}{false:>13.3f}", flush=True)
    print()


def table_3(by_seed: dict, collected: dict, fills=(0.3, 0.4, 0.5, 0.6, 0.7)) -> None:
    photos = [p for found in by_seed.values() for p in found]
    print("3. One look at each face's true square (default pyramid's faces; % found at score 0.5)\n")
    print(f"{'faces':<24}{'n':>6}" + "".join(f"{'fill ' + str(f):>11}" for f in fills))
    found = [c for s in by_seed for c in collected[False][s]]
    for group, rows in true_place_looks(photos, found, fills).items():
        share = 100 * np.asarray(rows, float).mean(axis=0) if rows else [np.nan] * len(fills)
        print(f"{group:<24}{len(rows):>6}" + "".join(f"{v:>11.1f}" for v in share), flush=True)
    print("fill: the square's side as a share of the window's; the look's window is centred on the square\n")


def table_4(photos) -> None:
    print("4. More searching (the whole detector, checks included)\n")
    print(f"{'search':<44}{'recall %':>10}{'false/photo':>13}{'CPU ms':>9}")
    for name, anchored, ratio, mirrored in (("default", False, D.BLAZE_WINDOW_RATIO, False),
                                            ("default + mirrored photo", False, D.BLAZE_WINDOW_RATIO, True),
                                            ("anchored at 128 px, ratio 0.7", True, 0.7, False),
                                            ("anchored at 128 px, ratio 0.7 + mirrored", True, 0.7, True)):
        recall, false, ms = searched(photos, anchored, ratio, mirrored)
        print(f"{name:<44}{recall:>10.1f}{false:>13.3f}{ms:>9.0f}", flush=True)
    print("CPU ms: processor time per photo of detection (time.process_time), the mirrored search included\n")


def table_5(photos) -> None:
    print("5. The ceiling of any search: each face looked at on its true square, then the chain's checks\n")
    shares = ceiling(photos)
    print(f"{'faces':<50}{'share %':>8}")
    for key, label in zip(CEILING_COLUMNS, CEILING_ROWS):
        print(f"{label:<50}{shares[key]:>8.1f}")
    print("a perfect search: one whose windows frame every face as one of these looks does")
    print(f"without the face mesh, the default detector: recall {shares['no mesh']:.1f}%,"
          f" {shares['no mesh, false']:.3f} false faces per photo\n")


def table_6(photos) -> None:
    print("6. The face mesh shown other views (the default detector's faces without it)\n")
    real, p, n = mesh_views(photos)
    print(f"{'views':<44}{'recall %':>10}{'false/photo':>13}")

    def row(name: str, ok: np.ndarray) -> None:
        print(f"{name:<44}{100 * (ok & real).sum() / n:>10.1f}{(ok & ~real).sum() / len(photos):>13.3f}")

    row("no face mesh", np.ones(len(real), bool))
    for k, (scale, levelled) in enumerate(MESH_VIEWS):
        row(f"{scale}x the box, {'levelled' if levelled else 'upright'}" + (" (default)" if k == 0 else ""),
            p[:, k] >= D.FACE_PRESENCE_MIN)
    row(f"either {D.FACE_PRESENCE_SCALE}x view", p[:, :2].max(axis=1) >= D.FACE_PRESENCE_MIN)
    row("any levelled view", p[:, 0::2].max(axis=1) >= D.FACE_PRESENCE_MIN)
    row("any view", p.max(axis=1) >= D.FACE_PRESENCE_MIN)
    print(f"a view accepts a face at the face mesh's threshold, {D.FACE_PRESENCE_MIN}\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=300, help="photos per seed (default 300)")
    parser.add_argument("--seeds", default="11,12", help="two photo seeds, comma-separated (default 11,12)")
    parser.add_argument("--data", help="FER+ data folder (default: data/ferplus, ../shared/data/ferplus)")
    parser.add_argument("--tables", default="1,2,3,4,5,6",
                        help="the tables to print, comma-separated (default all; 2 and 3 need 1's search, made either way)")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    tables = {int(t) for t in args.tables.split(",")}
    by_seed = {s: photo_path.make_photos(args.photos, s, args.data, "valid")[0] for s in seeds}
    photos = [p for s in seeds for p in by_seed[s]]
    shown = "" if args.tables == parser.get_default("tables") else f" --tables {args.tables}"
    print(f"command: python benchmarks/verification.py --photos {args.photos} --seeds {args.seeds}{shown}")
    print(f"{len(photos)} photos, {sum(len(p) for _, p in photos)} FER+ validation faces\n")
    collected = table_1(by_seed, show=1 in tables) if tables & {1, 2, 3} else {}
    if 2 in tables:
        table_2(by_seed, collected)
    if 3 in tables:
        table_3(by_seed, collected)
    if 4 in tables:
        table_4(photos)
    if 5 in tables:
        table_5(photos)
    if 6 in tables:
        table_6(photos)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
