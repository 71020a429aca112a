"""Training and inference speed of a model folder on this machine (a benchmark, not a test).

    python benchmarks/throughput.py models/default [--batch 128] [--steps 40] [--precision auto]

Prints training images/s (one optimiser step per batch, augmentation on, in the precision
``fer train`` would use: ``auto`` is bfloat16 where the hardware has it) and, to show where a
step's time goes, the same without the augmentation layers, those layers alone, and the same
augmentation done by the input pipeline instead (``augment_in: batches``); inference images/s at
batch 256, single-face latency (median and p95 of ``model(x, training=False)``), and the latency
of a whole photo (face detection + classification, ``faces.predict_faces``) on scikit-image's
astronaut photo (512x512, one face).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def fit_speed(model, x, y, batch: int) -> float:
    """Training images/s of one epoch of ``model.fit`` over ``x``, after a warm-up."""
    import keras

    model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss="categorical_crossentropy")
    # warm-up: the first steps of a run are several times slower (tracing, oneDNN kernel choice)
    model.fit(x[: batch * 10], y[: batch * 10], batch_size=batch, verbose=0)
    t = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    return len(x) / (time.perf_counter() - t)


def pipeline_fit_speed(model, x, y, batch: int) -> float:
    """Training images/s when the input pipeline augments (``augment_in: batches``, OpenCV on the
    CPU in the training thread) and ``model`` has no augmentation layers."""
    import keras

    from fer_helpers.training import Batches

    faces = x[..., 0].astype("uint8")
    model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss="categorical_crossentropy")
    model.fit(Batches(faces[: batch * 10], y[: batch * 10], batch, 0, augment="default"), verbose=0)
    t = time.perf_counter()
    model.fit(Batches(faces, y, batch, 0, augment="default"), epochs=1, verbose=0, shuffle=False)
    return len(x) / (time.perf_counter() - t)


def augmentation_ms(model, batch: np.ndarray, repeats: int = 20) -> float:
    """Milliseconds the model's ``aug_*`` layers take on one batch in training mode (compiled)."""
    import tensorflow as tf

    augs = [layer for layer in model.layers if layer.name.startswith("aug_")]

    @tf.function
    def run(b):
        for layer in augs:
            b = layer(b, training=True)
        return b

    b = tf.constant(batch)
    for _ in range(3):
        run(b)
    t = time.perf_counter()
    for _ in range(repeats):
        run(b)
    return 1000 * (time.perf_counter() - t) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", nargs="?", default="models/default")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--precision", default="auto", choices=["auto", "float32", "mixed_bfloat16"])
    args = parser.parse_args()

    import keras

    from fer_helpers.model import build, load_model_dir
    from fer_helpers.training import precision_policy, resolve_precision

    model, classes = load_model_dir(args.model_dir)
    precision = resolve_precision(args.precision)
    with precision_policy(precision):
        trainee = build(model.name, num_classes=len(classes))  # the same network, as fer train builds it
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (args.batch * args.steps, 48, 48, 1)).astype("float32")
    y = np.eye(len(classes), dtype="float32")[rng.integers(0, len(classes), len(x))]

    train_ips = fit_speed(trainee, x, y, args.batch)
    # where a training step's time goes: the same network without its augmentation layers, and
    # those layers alone on one batch
    with precision_policy(precision):
        bare = build(model.name, num_classes=len(classes), augment="none")
    bare_ips = fit_speed(bare, x, y, args.batch)
    augment_ms = augmentation_ms(trainee, x[: args.batch])
    with precision_policy(precision):
        piped = build(model.name, num_classes=len(classes), augment="none")
    pipeline_ips = pipeline_fit_speed(piped, x, y, args.batch)

    model.predict(x[:256], batch_size=256, verbose=0)
    t = time.perf_counter()
    model.predict(x, batch_size=256, verbose=0)
    infer_ips = len(x) / (time.perf_counter() - t)

    one = x[:1]
    model(one, training=False)
    lat = []
    for _ in range(100):
        t = time.perf_counter()
        model(one, training=False)
        lat.append((time.perf_counter() - t) * 1000)
    from skimage import data as skdata

    from fer_helpers.faces import predict_faces

    photo = skdata.astronaut()
    predict_faces(photo, model, classes)
    photo_ms = []
    for _ in range(20):
        t = time.perf_counter()
        found = predict_faces(photo, model, classes)
        photo_ms.append((time.perf_counter() - t) * 1000)

    print(f"model: {args.model_dir} ({model.count_params():,} parameters, backend {keras.backend.backend()})")
    print(f"training:  {train_ips:8.0f} images/s (batch {args.batch}, {precision}) -> "
          f"{28385 / train_ips / 60:.1f} min per FER+ epoch")
    print(f"           {bare_ips:8.0f} images/s without the augmentation layers, which take "
          f"{augment_ms:.1f} ms of a batch's {1000 * args.batch / train_ips:.0f} ms on their own")
    print(f"           {pipeline_ips:8.0f} images/s with the same augmentation done by the input pipeline "
          f"(augment_in: batches, OpenCV)")
    print(f"inference: {infer_ips:8.0f} images/s (batch 256)")
    print(f"latency:   {np.median(lat):8.2f} ms median, {np.percentile(lat, 95):.2f} ms p95 (one image)")
    print(f"photo:     {np.median(photo_ms):8.1f} ms median for detection + classification "
          f"({photo.shape[1]}x{photo.shape[0]} px, {len(found)} face)")


if __name__ == "__main__":
    main()
