"""The faces in a user's own photos and videos, for ``notebooks/07_your_photos``.

The notebook is ``fer predict`` with pictures, so it takes the same path: the same inputs (files,
folders, videos: ``faces.expand_inputs``), the same detector and FER-framed crops
(``faces.find_faces``), the same engine for the probabilities (``engine.load_model``, ONNX Runtime
when the folder has a current export) and the same video analysis (``video.analyse_video``). What
it adds is what a table of numbers cannot show: each face's Grad-CAM, which needs the Keras model
(``gradcam.face_heatmaps``), a table of every face as a DataFrame and CSV, and an upload button
for JupyterLab. The figures are drawn by ``photo_plots``.

    paths = resolve_inputs("samples", folder / "samples")     # or a folder, files, a video
    engine_model, keras_model, classes, note = load_models("models/default")
    records, skipped = analyse_inputs(paths, engine_model, classes)
    add_gradcam(records, keras_model)
    write_table(faces_table(records, classes), folder / "faces.csv")

Records keep no photo's pixels (only each face's 48x48 crop), so a folder of hundreds of large
photos fits in memory; a figure reads its photo again.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .detection import DEFAULT_DETECTOR, check_detector
from .errors import FerError
from .params import PHOTO_SAMPLES as SAMPLES  # the ``photos`` value that means the generated samples
#: The sample video: frames, frames per second and size (a few seconds of work to analyse).
SAMPLE_FRAMES, SAMPLE_FPS, SAMPLE_SIZE = 12, 6, (360, 180)


class PhotoError(FerError):
    """A bad input to the notebook (a missing path, a file that is no photo): in a kernel, IPython
    shows ``_render_traceback_``'s one line instead of a wall of traceback."""

    def _render_traceback_(self) -> list[str]:
        return [f"PhotoError: {self}"]


# --------------------------------------------------------------------------------------------
# Inputs

def sample_images() -> dict[str, np.ndarray]:
    """RGB sample photos that need no download: scikit-image's bundled astronaut (one face),
    cameraman (one face, turned partly away) and cat (no face: a photo without one is a result,
    not an error), and the astronaut beside the cameraman (two faces in one photo).

    Without scikit-image (a development dependency) the samples are generated gradients, which
    hold no face: the notebook still runs through, with nothing to box."""
    try:
        from skimage import data
    except ImportError:
        ramp = np.linspace(0, 255, 256, dtype=np.float32)
        gradient = np.stack(np.broadcast_arrays(ramp[None, :], ramp[:, None], 255 - ramp[None, :]), -1)
        return {"gradient": gradient.astype(np.uint8)}
    import cv2

    astronaut = data.astronaut()
    camera = cv2.cvtColor(data.camera(), cv2.COLOR_GRAY2RGB)
    pair = np.concatenate([astronaut, cv2.resize(camera, astronaut.shape[1::-1], interpolation=cv2.INTER_AREA)], 1)
    return {"astronaut": astronaut, "cameraman": camera, "cat": data.chelsea(), "two_faces": pair}


def write_sample_video(path: str | os.PathLike, face: np.ndarray, frames: int = SAMPLE_FRAMES,
                       fps: int = SAMPLE_FPS, size: tuple[int, int] = SAMPLE_SIZE) -> Path:
    """A short .mp4 of ``face`` (RGB) and its mirror image drifting side by side across a gray
    background: two faces to track over ``frames`` frames, made in a moment with OpenCV."""
    import cv2

    from .files import atomic_path

    width, height = size
    side = height * 2 // 3
    face = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
    top, step = (height - side) // 2, max(1, (width // 2 - side) // max(1, frames))
    path = Path(path)
    with atomic_path(path) as tmp:  # the temporary name keeps .mp4: OpenCV picks the container by it
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
        if not writer.isOpened():
            raise FerError(f"{path}: OpenCV cannot write an .mp4 video here")
        for i in range(frames):
            canvas = np.full((height, width, 3), 200, np.uint8)
            x = 4 + step * i
            canvas[top:top + side, x:x + side] = face
            canvas[top:top + side, width // 2 + x:width // 2 + x + side] = face[:, ::-1]
            writer.write(cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
        writer.release()
    return path


def write_samples(folder: str | os.PathLike) -> list[Path]:
    """The sample photos (``sample_images``) as PNGs in ``folder`` and a short video of the first
    one's face (``write_sample_video``); returns their paths. Written again each time: they are
    made in a second and a reader may have deleted one."""
    from PIL import Image

    from .files import atomic_path, ensure_dir

    folder = ensure_dir(folder, "samples folder")
    paths = []
    images = sample_images()
    for name, image in images.items():
        path = folder / f"{name}.png"
        with atomic_path(path) as tmp:
            Image.fromarray(image).save(tmp, format="PNG")
        paths.append(path)
    first = next(iter(images.values()))
    h = min(first.shape[:2])
    head = first[10:250, 105:345] if "astronaut" in images else first[:h, :h]  # the astronaut's head, large
    paths.append(write_sample_video(folder / "two_faces.mp4", head))
    return paths


def resolve_inputs(photos, samples_folder: str | os.PathLike | None = None, uploaded=()) -> list[Path]:
    """The files the notebook analyses: ``photos`` is a path (a photo, a video or a folder of
    them, searched recursively as ``fer predict`` does) or a list of paths; ``"samples"`` or None
    writes the sample photos and video into ``samples_folder`` and takes those. Files
    ``uploaded`` in JupyterLab (``Uploads.paths``) join the inputs, and replace the samples: who
    uploads wants their own pictures, not the demonstration's.

    A missing path or a folder holding no photo is a ``PhotoError`` line naming it (and how many
    more failed), before anything is analysed."""
    from .faces import expand_inputs

    uploaded = [Path(p) for p in uploaded]
    if uploaded and (photos is None or photos == SAMPLES):
        return uploaded
    if photos is None or photos == SAMPLES:
        if samples_folder is None:
            raise PhotoError("photos is 'samples' but no folder was given to write them into")
        return write_samples(samples_folder)
    items = [photos] if isinstance(photos, (str, os.PathLike)) else photos
    if not isinstance(items, (list, tuple)) or not all(isinstance(p, (str, os.PathLike)) for p in items):
        raise PhotoError(f"photos must be a path or a list of paths, got {photos!r}")
    items = [os.path.expanduser(p) for p in items if str(p).strip()]
    if not items:
        raise PhotoError("no photos given: set photos to a photo, a video, a folder, or a list of them")
    files, errors = expand_inputs(items)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise PhotoError(f"photos: {errors[0][1]}{more}")
    return files + uploaded


# --------------------------------------------------------------------------------------------
# Models and analysis

def load_models(model_dir: str | os.PathLike | None = None):
    """``(engine_model, keras_model, classes, note)`` of a model folder: the model ``fer predict``
    runs for the probabilities (``engine.choose_engine``'s ``auto``: ONNX Runtime when the folder
    has a current export, else Keras, with ``note`` saying so) and the Keras model for Grad-CAM,
    which needs gradients (the same object when the engine is Keras: loaded once)."""
    from .engine import choose_engine, load_model
    from .model import load_model_dir

    try:
        engine, note = choose_engine(model_dir, "auto")
        model, classes = load_model(model_dir, engine)
        keras_model = model if engine == "keras" else load_model_dir(model_dir)[0]
    except FerError as exc:
        raise PhotoError(str(exc)) from None
    return model, keras_model, list(classes), note


def analyse_photo(path: str | os.PathLike, model, classes, detector: str = DEFAULT_DETECTOR) -> dict:
    """``{"path", "kind": "photo", "size": [w, h], "faces"}``, each face as ``fer predict
    --json`` reports it (box, label, confidence, probabilities, eyes) plus its 48x48 ``crop``.

    ``FerError`` when the file is not a photo (``faces.load_image``)."""
    from .engine import probabilities
    from .faces import _results, find_faces, load_image

    image = load_image(path)
    found, crops = find_faces(image, detector)
    probs = probabilities(model, np.stack(crops)) if crops else np.zeros((0, len(classes)))
    faces = _results(found, probs, list(classes))
    for face, crop in zip(faces, crops):
        face["crop"] = np.asarray(crop, dtype=np.uint8)
    return {"path": str(path), "kind": "photo", "size": [int(image.shape[1]), int(image.shape[0])], "faces": faces}


def analyse_inputs(paths, model, classes, detector: str = DEFAULT_DETECTOR, every: int = 1,
                   smooth: float = 0.0) -> tuple[list[dict], list[str]]:
    """``(records, skipped)``: a record per photo (``analyse_photo``) and per video
    (``video.analyse_video``, ``"kind": "video"``), and one line per file that could not be read.

    A bad detector, ``every`` or ``smooth`` is a ``PhotoError`` before any file is read; so is a
    run where no file could be read (the first file's line): one unreadable photo in a folder of
    many is skipped, as ``fer predict`` skips it."""
    from .video import analyse_video, check_options, is_video

    try:
        check_detector(detector)
        check_options(every, smooth)
    except FerError as exc:
        raise PhotoError(str(exc)) from None
    records, skipped = [], []
    for path in paths:
        try:
            if is_video(path):
                rec = analyse_video(path, model, classes, detector, every, smooth)
                rec["kind"] = "video"
            else:
                rec = analyse_photo(path, model, classes, detector)
        except FerError as exc:
            skipped.append(str(exc))
            continue
        records.append(rec)
    if skipped and not records:
        more = f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else ""
        raise PhotoError(f"{skipped[0]}{more}")
    return records, skipped


def add_gradcam(records: list[dict], keras_model, alpha: float = 0.4) -> int:
    """Give every face of the photos in ``records`` its Grad-CAM ``heatmap`` (48x48 in [0, 1]) and
    ``overlay`` (48x48x3 RGB) for the class it is labelled with (the engine's top class, so the map
    explains the label shown beside it), all faces in one batch; returns how many faces."""
    from .gradcam import face_heatmaps, overlay_heatmap

    faces = [f for rec in records if rec.get("kind") == "photo" for f in rec["faces"]]
    if not faces:
        return 0
    order = [list(f["probabilities"]).index(f["label"]) for f in faces]
    maps = face_heatmaps(keras_model, np.stack([f["crop"] for f in faces]), order)
    for face, heat in zip(faces, maps):
        face["heatmap"] = heat
        face["overlay"] = overlay_heatmap(face["crop"], heat, alpha)
    return len(faces)


# --------------------------------------------------------------------------------------------
# The table

#: The table's columns before one column per class.
TABLE_COLUMNS = ["file", "kind", "frame", "time", "track", "face", "x", "y", "width", "height", "label",
                 "confidence"]


def _names(paths) -> dict[str, str]:
    """Each path as the table shows it: relative to the folder all inputs share (so a table from
    a folder of photos names them as the folder does and holds no machine's folder layout)."""
    paths = [str(p) for p in paths]
    if not paths:
        return {}
    parents = [os.path.dirname(os.path.abspath(p)) for p in paths]
    common = os.path.commonpath(parents)
    return {p: os.path.relpath(os.path.abspath(p), common) for p in paths}


def faces_table(records: list[dict], classes) -> "pd.DataFrame":  # noqa: F821
    """One row per face: a photo's faces, and a video's faces in every analysed frame (with its
    frame index, time and track); columns ``TABLE_COLUMNS`` then one probability per class.
    Photos without a face have no row (the notebook names them)."""
    import pandas as pd

    names = _names(r["path"] for r in records)
    rows = []
    for rec in records:
        frames = rec["frames"] if rec["kind"] == "video" else [{"index": None, "time": None, "faces": rec["faces"]}]
        for frame in frames:
            for k, f in enumerate(frame["faces"], start=1):
                x, y, w, h = f["box"]
                rows.append({"file": names[rec["path"]], "kind": rec["kind"], "frame": frame["index"],
                             "time": frame["time"], "track": f.get("track"), "face": k, "x": x, "y": y,
                             "width": w, "height": h, "label": f["label"], "confidence": round(f["confidence"], 4),
                             **{c: round(f["probabilities"][c], 4) for c in classes}})
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS + list(classes))
    return table.astype({"frame": "Int64", "track": "Int64"})


def write_table(table, path: str | os.PathLike) -> Path:
    """``table`` as CSV at ``path`` (atomically: a reader never gets half a file); its folder is
    made. A folder that cannot be written is a ``PhotoError`` line."""
    from .files import ensure_dir, write_text

    try:
        ensure_dir(Path(path).parent, "results folder")
        return write_text(path, table.to_csv(index=False))
    except FerError as exc:
        raise PhotoError(str(exc)) from None
    except OSError as exc:
        raise PhotoError(f"{path}: cannot write the table ({exc.strerror or exc})") from None


def summary(records: list[dict], skipped: list[str]) -> dict:
    """Counts for the notebook's prose: photos, videos, faces in photos, tracks in videos, photos
    without a face (their names) and files skipped."""
    from .video import track_summary

    photos = [r for r in records if r["kind"] == "photo"]
    videos = [r for r in records if r["kind"] == "video"]
    names = _names(r["path"] for r in records)
    return {"photos": len(photos), "videos": len(videos), "faces": sum(len(r["faces"]) for r in photos),
            "tracks": sum(len(track_summary(r)) for r in videos),
            "no_face": [names[r["path"]] for r in photos if not r["faces"]], "skipped": list(skipped)}


# --------------------------------------------------------------------------------------------
# Uploads in JupyterLab

class Uploads:
    """An upload button for JupyterLab (ipywidgets' ``FileUpload``): each file chosen is saved
    into ``folder`` (under a free name, never replacing a file) and listed in ``paths``, which
    the notebook adds to its inputs when its cells run again.

    Shown as the cell's result. Without ipywidgets, or where no browser shows the button (papermill),
    nothing is uploaded and ``paths`` stays empty: the cell does no harm headless."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.paths: list[Path] = []
        try:
            import ipywidgets
        except ImportError:
            self.widget = None
            return
        from .data import IMAGE_EXTENSIONS
        from .video import VIDEO_EXTENSIONS

        self.widget = ipywidgets.FileUpload(accept=",".join(sorted(IMAGE_EXTENSIONS | VIDEO_EXTENSIONS)),
                                            multiple=True, description="photos, videos")
        self.widget.observe(lambda change: self.save(change["new"]), names="value")

    def save(self, files) -> list[Path]:
        """Write uploaded ``files`` (``FileUpload.value``: dicts with ``name`` and ``content``) into
        the folder; returns the new paths. A name is reduced to its last part: an upload cannot
        write outside the folder."""
        from .files import ensure_dir, write_new

        folder = ensure_dir(self.folder, "upload folder")
        new = []
        for item in files or ():
            name = Path(str(item["name"])).name or "upload"
            content = bytes(item["content"])
            new.append(write_new(folder / name, lambda tmp, data=content: Path(tmp).write_bytes(data)))
        self.paths += new
        return new

    def _ipython_display_(self) -> None:
        from IPython.display import Markdown, display

        if self.widget is None:
            display(Markdown("*No upload button: ipywidgets is not installed. Copy photos into a folder "
                             "and set `photos` to it.*"))
        else:
            display(self.widget)
