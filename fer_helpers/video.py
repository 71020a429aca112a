"""Expressions in videos: frames streamed from a file, faces tracked across frames, timelines.

A video can be hours long, so nothing here holds more than one frame at a time: ``frames`` reads
with ``cv2.VideoCapture`` and yields each frame as it is decoded, and ``analyse_video`` keeps only
the per-frame results (a few numbers per face). Faces are found as in photos, but a whole-frame
search only every ``SEARCH_EVERY`` frames: in between, each face is looked for again near where it
was, which is the last step of a search anyway (``detection.follow_faces``); crops and the engine
are the photo path's (``faces.crop_face``, ``engine.probabilities``). A person keeps one track
id from frame to frame (``Tracker``: a greedy IoU match, enough for the slow motion of faces in
ordinary footage), which is what makes a timeline per person possible and lets ``smooth`` damp
the frame-to-frame flicker of the model.
"""

from __future__ import annotations

import csv
import io
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import FerError

#: BlazeFace searches a whole frame once every this many analysed frames (and whenever a face is
#: lost); in between, each face of the frame before is looked for once near where it was
#: (``detection.follow_faces``). A face coming into view is found within this many frames, and a
#: 640x480 video runs several times faster than a search of every frame (``benchmarks/engine.py``).
SEARCH_EVERY = 10

#: Suffixes taken for videos (anything else goes to the photo path); OpenCV's FFmpeg reads them all.
VIDEO_EXTENSIONS = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}


@dataclass(frozen=True)
class Camera:
    """A camera by OpenCV's device number (``fer predict --camera N``), analysed like a video
    until it stops or the user presses Ctrl-C; ``str`` gives its name in records and file names."""

    index: int

    def __str__(self) -> str:
        return f"camera-{self.index}"


def is_video(path) -> bool:
    """Whether ``path`` is taken for a video: a ``Camera``, or a file by its suffix, as photos are,
    so nothing is opened twice."""
    return isinstance(path, Camera) or Path(path).suffix.lower() in VIDEO_EXTENSIONS


def open_camera(camera: Camera):
    """An opened ``cv2.VideoCapture`` on ``camera``; ``FerError`` when there is no such camera."""
    import cv2

    from .quiet import native_stderr_silenced

    with native_stderr_silenced():  # OpenCV's V4L2 backend explains a missing device on fd 2
        cap = cv2.VideoCapture(camera.index)
    if not cap.isOpened():
        cap.release()
        raise FerError(f"{camera}: no camera {camera.index} on this machine, or it cannot be opened")
    return cap


def open_video(path: str | os.PathLike):
    """An opened ``cv2.VideoCapture``; ``FerError`` naming the file when OpenCV cannot open it.

    FFmpeg's own complaints about a broken file go straight to file descriptor 2; they are
    hidden so the user sees our one line, not a page of decoder noise.
    """
    import cv2

    from .quiet import native_stderr_silenced

    path = Path(path)
    if not path.is_file():
        raise FerError(f"{path}: no such file")
    with native_stderr_silenced():
        cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise FerError(f"{path}: not a video OpenCV can read (empty, truncated or an unknown format)")
    return cap


def video_info(cap) -> tuple[float, list[int], int]:
    """``(fps, [width, height], frame_count)`` as the container states them (0 when it does not)."""
    import cv2

    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    size = [int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))]
    return fps, size, max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0))


def frames(path_or_cap, every: int = 1, live: bool = False, seen: dict | None = None):
    """``(index, time_s, rgb_frame)`` for every ``every``-th frame, decoded one at a time.

    Skipped frames are only ``grab``bed (not converted), which is most of the saving of ``every``.
    The time comes from the frame index and the stated fps (container timestamps are missing or
    wrong too often to trust); from the clock for a ``live`` camera, whose frames come when they
    come. ``seen["frames"]`` is kept at the number of frames read so far, skipped ones included.
    """
    import time

    import cv2

    if every < 1:
        raise FerError(f"--every must be at least 1, got {every}")
    own = isinstance(path_or_cap, (str, os.PathLike))
    cap = open_video(path_or_cap) if own else path_or_cap
    fps = video_info(cap)[0] or 0.0
    index, start = 0, time.monotonic()
    try:
        while True:
            if index % every:
                if not cap.grab():
                    break
            else:
                ok, bgr = cap.read()
                if not ok or bgr is None:
                    break
                seconds = time.monotonic() - start if live else (index / fps if fps > 0 else 0.0)
                yield index, seconds, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            index += 1
            if seen is not None:
                seen["frames"] = index
    finally:
        if own:
            cap.release()
    if index == 0:
        raise FerError(f"{path_or_cap}: no frame could be decoded" if own else "no frame could be decoded")


def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


class Tracker:
    """Track ids for faces across frames: each new box takes the free track it overlaps most
    (IoU >= ``min_iou``, greedily, best pairs first), or a new id.

    A track survives ``max_missed`` analysed frames without a face (a blink of the detector, a
    hand before the face) before its id is retired; ids are never reused, so a person who leaves
    and comes back is a new track rather than someone else's old one.
    """

    def __init__(self, min_iou: float = 0.3, max_missed: int = 10):
        self.min_iou, self.max_missed = min_iou, max_missed
        self.tracks: dict[int, list] = {}  # id -> [box, frames missed]
        self._next = 1

    def update(self, boxes) -> list[int]:
        """The track id of each box (in order), the tracks moved to these boxes."""
        boxes = [tuple(float(v) for v in b) for b in boxes]
        pairs = sorted(((_iou(t[0], b), tid, i) for tid, t in self.tracks.items() for i, b in enumerate(boxes)),
                       reverse=True)
        ids: list[int | None] = [None] * len(boxes)
        used = set()
        for iou, tid, i in pairs:
            if iou < self.min_iou:
                break
            if tid in used or ids[i] is not None:
                continue
            ids[i] = tid
            used.add(tid)
        for tid in list(self.tracks):
            if tid not in used:
                self.tracks[tid][1] += 1
                if self.tracks[tid][1] > self.max_missed:
                    del self.tracks[tid]
        for i, b in enumerate(boxes):
            if ids[i] is None:
                ids[i] = self._next
                self._next += 1
            self.tracks[ids[i]] = [b, 0]
        return ids


def _progress(total: int, label: str):
    """A tqdm bar (frames, with time left) on an interactive stderr; nothing in logs and pipes."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total or None, desc=label, unit="frame", leave=False)


def check_options(every: int, smooth: float) -> None:
    """``FerError`` for an ``every`` below 1 or a ``smooth`` outside [0, 1) (1 would freeze a track)."""
    if not isinstance(every, int) or every < 1:
        raise FerError(f"--every must be a whole number of at least 1, got {every}")
    if not 0.0 <= smooth < 1.0:
        raise FerError(f"--smooth must be in [0, 1), got {smooth}")


def _analyse(path, model, classes, detector, every, smooth, annotate_to=None, search_every=SEARCH_EVERY) -> dict:
    import cv2

    from .detection import detect_faces, follow_faces
    from .engine import probabilities
    from .faces import _results, annotate, crop_face

    check_options(every, smooth)
    live = isinstance(path, Camera)
    cap = open_camera(path) if live else open_video(path)
    fps, size, count = video_info(cap)
    writer = None
    if annotate_to is not None:
        out_fps = (fps or 25.0) / every
        writer = cv2.VideoWriter(str(annotate_to), cv2.VideoWriter_fourcc(*"mp4v"), out_fps, tuple(size))
        if not writer.isOpened():
            cap.release()
            raise FerError(f"{annotate_to}: cannot write an annotated video there")
    tracker, smoothed, records, seen = Tracker(), {}, [], {"frames": 0}
    found, since_search = [], search_every  # the faces of the frame before; analysed frames since a search
    bar = _progress(0 if live else count, str(path) if live else Path(path).name)
    try:
        for index, time, rgb in frames(cap, every, live, seen):
            previous = found
            found = follow_faces(rgb, previous) if detector == "blazeface" and previous \
                and since_search < search_every else None
            if found is None or len(found) < len(previous):  # time to look again, or a face was lost
                found, since_search = detect_faces(rgb, detector), 0
            since_search += 1
            crops = [crop_face(rgb, f) for f in found]
            probs = probabilities(model, np.stack(crops)) if crops else np.zeros((0, len(classes)))
            ids = tracker.update([f.box for f in found])
            smoothed = {t: p for t, p in smoothed.items() if t in tracker.tracks}
            if smooth > 0:
                for k, t in enumerate(ids):
                    if t in smoothed:
                        probs[k] = smooth * smoothed[t] + (1 - smooth) * probs[k]
                    smoothed[t] = probs[k].copy()
            faces = _results(found, probs, classes)
            for f, t in zip(faces, ids):
                f["track"] = int(t)
            records.append({"index": index, "time": round(time, 4), "faces": faces})
            if writer is not None:
                writer.write(cv2.cvtColor(annotate(rgb, faces, classes), cv2.COLOR_RGB2BGR))
            if bar is not None:
                bar.update(every)
                if live:  # what the camera sees now, as it sees it
                    bar.set_postfix_str(", ".join(f"{f['track']}: {f['label']}" for f in faces), refresh=False)
    except FerError as exc:
        raise FerError(f"{path}: {exc}" if str(path) not in str(exc) else str(exc)) from None
    except KeyboardInterrupt:
        if not live:  # Ctrl-C is how a camera is stopped: what it saw so far is the result
            raise
    finally:
        cap.release()
        if writer is not None:
            writer.release()
        if bar is not None:
            bar.close()
    record = {"path": str(path), "fps": round(fps, 4), "size": size, "every": every, "frames": records}
    if not live and 0 < seen["frames"] < count:  # a file cut short: its header promised more
        record["warning"] = (f"{path}: the video ended after {seen['frames']} of the {count} frames its header "
                             f"states (truncated or damaged); the results cover those {seen['frames']}")
    return record


#: What marks a video ``fer predict --annotate`` wrote: a ``free`` box (which players skip)
#: appended to the MP4, so a later run given the folder does not analyse its own output.
ANNOTATED_MARK = b"fer predict: annotated copy"
_MARK_BOX = (8 + len(ANNOTATED_MARK)).to_bytes(4, "big") + b"free" + ANNOTATED_MARK


def mark_annotated(path: str | os.PathLike) -> None:
    """Append ``ANNOTATED_MARK`` to an MP4 ``fer predict`` wrote."""
    with open(path, "ab") as f:
        f.write(_MARK_BOX)


def is_annotated_video(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an MP4 that ``fer predict --annotate`` wrote (``mark_annotated``)."""
    try:
        with open(path, "rb") as f:
            f.seek(-len(_MARK_BOX), os.SEEK_END)
            return f.read() == _MARK_BOX
    except OSError:
        return False


def analyse_video(path, model, classes, detector: str = "blazeface", every: int = 1, smooth: float = 0.0,
                  annotate_dir=None, search_every: int = SEARCH_EVERY) -> dict:
    """``{"path", "fps", "size", "every", "frames": [{"index", "time", "faces": [{"track", "box",
    "label", "confidence", "probabilities"}]}]}`` for one video file, streamed.

    ``every`` analyses every N-th frame; ``smooth`` (0 = off, towards 1 = slower) blends each
    track's probabilities with its previous ones (exponentially), and its label and confidence
    follow the blend. With ``annotate_dir``, the frames analysed, boxes and labels drawn, are
    written to a new ``<stem>.mp4`` there (a free name, never replacing a file; ``"annotated"``),
    marked as ours (``mark_annotated``). ``search_every`` is ``SEARCH_EVERY``'s value for this call
    (1: search every frame). A file that ends before the frame count its header states (cut
    short) gives what was read and ``"warning"``, one line saying so.
    """
    if annotate_dir is None:
        return _analyse(path, model, classes, detector, every, smooth, search_every=search_every)
    from .files import write_new

    out: dict = {}
    stem = str(path) if isinstance(path, Camera) else Path(path).stem
    def write(tmp):
        out.update(_analyse(path, model, classes, detector, every, smooth, tmp, search_every))
        mark_annotated(tmp)

    name = write_new(Path(annotate_dir) / f"{stem}.mp4", write)
    out["annotated"] = str(name)
    return out


# --------------------------------------------------------------------------------------------
# Summaries and timelines

def track_summary(record: dict) -> dict[int, tuple[int, str]]:
    """Per track: ``(frames seen, its most frequent label)``."""
    labels: dict[int, Counter] = {}
    for fr in record["frames"]:
        for f in fr["faces"]:
            labels.setdefault(f["track"], Counter())[f["label"]] += 1
    return {t: (sum(c.values()), c.most_common(1)[0][0]) for t, c in sorted(labels.items())}


def video_table(record: dict) -> str:
    """The short text ``fer predict`` prints for a video: one line per track."""
    w, h = record["size"]
    tracks = track_summary(record)
    head = (f"{record['path']} ({w}x{h}, {record['fps']:.1f} fps, {len(record['frames'])} frames analysed): "
            f"{len(tracks)} track{'s' if len(tracks) != 1 else ''}")
    if not tracks:
        return head + ", no face found"
    lines = [head, f"  {'track':<7}{'frames':>7}  most frequent"]
    lines += [f"  {t:<7}{n:>7}  {label}" for t, (n, label) in tracks.items()]
    return "\n".join(lines)


def timeline_csv(record: dict, classes) -> str:
    """One row per analysed frame and track: index, time, track, label, confidence, one column per class."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["index", "time", "track", "label", "confidence", *classes])
    for fr in record["frames"]:
        for f in sorted(fr["faces"], key=lambda f: f["track"]):
            w.writerow([fr["index"], f"{fr['time']:.4f}", f["track"], f["label"], f"{f['confidence']:.4f}",
                        *(f"{f['probabilities'][c]:.4f}" for c in classes)])
    return buf.getvalue()


def timeline_figure(record: dict, classes):
    """A matplotlib ``Figure`` (no pyplot: no GUI, no global state): one panel per track, each
    class's probability over time."""
    from matplotlib.figure import Figure

    from .faces import _COLORS

    tracks = list(track_summary(record))
    fig = Figure(figsize=(8, 1.8 + 1.6 * max(1, len(tracks))), layout="constrained")
    axes = fig.subplots(max(1, len(tracks)), 1, squeeze=False)[:, 0]
    for ax, t in zip(axes, tracks):
        pts = [(fr["time"], f["probabilities"]) for fr in record["frames"] for f in fr["faces"] if f["track"] == t]
        times = [p[0] for p in pts]
        for k, c in enumerate(classes):
            color = tuple(v / 255 for v in _COLORS[k % len(_COLORS)])
            ax.plot(times, [p[1][c] for p in pts], color=color, label=c, lw=1.2)
        ax.set_ylim(-0.03, 1.03)  # a class at 0 or 1 stays visible
        ax.set_ylabel(f"track {t}")
    if not tracks:
        axes[0].text(0.5, 0.5, "no face found", ha="center", va="center", transform=axes[0].transAxes)
    axes[-1].set_xlabel("time (s)")
    if tracks:
        axes[0].legend(loc="upper right", ncol=4, fontsize=7)
    fig.suptitle(Path(record["path"]).name)
    return fig


def write_timeline(record: dict, classes, out_dir) -> list[Path]:
    """``<stem>.csv`` and ``<stem>.png`` in ``out_dir``, written atomically under one free name
    (``<stem>-2.csv`` and ``<stem>-2.png`` when either is taken: the two halves of one result keep
    one name; never replacing a file); returns the names used."""
    from .files import write_new_together

    stem = Path(record["path"]).stem
    text = timeline_csv(record, classes)
    fig = timeline_figure(record, classes)
    return write_new_together([(Path(out_dir) / f"{stem}.csv", lambda tmp: Path(tmp).write_text(text, encoding="utf-8")),
                               (Path(out_dir) / f"{stem}.png", lambda tmp: fig.savefig(tmp, format="png", dpi=100))])
