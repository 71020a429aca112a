"""How much each augmentation path blurs the faces a network trains on (a measurement, not a test).

    python benchmarks/augmentation_sharpness.py [--faces 1024] [--data DIR]

The shipped student (input-pipeline augmentation, ``augment_in: batches``) loses far more accuracy
to blur than its teacher (Keras augmentation layers). Both paths draw the same rotations, shifts
and zooms, but the layers resample a face once per geometric layer (rotation, then shift, then
zoom, each with bilinear interpolation), while ``augment.augment_batch`` folds them into one
OpenCV warp. Every bilinear resampling at a fractional offset averages neighbouring pixels, so
the layers' faces may be blurrier: a network trained on them would have seen blur all along.

This prints the sharpness of training faces (variance of the Laplacian, relative to the original
faces) after each path, at each strength, and after a Gaussian blur of known sigma for scale.
"""

from __future__ import annotations

import argparse

import numpy as np


def sharpness(faces: np.ndarray) -> float:
    """Mean variance of the Laplacian over faces ``(N, 48, 48)`` (higher: sharper)."""
    import cv2

    return float(np.mean([cv2.Laplacian(f.astype(np.float32), cv2.CV_32F).var() for f in faces]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=1024)
    parser.add_argument("--data", help="data set (default: data/ferplus, ../shared/data/ferplus)")
    args = parser.parse_args()

    import cv2
    import keras

    from fer_helpers.augment import augment_batch
    from fer_helpers.data import load_dataset
    from fer_helpers.model import augmentation

    x, _ = load_dataset(args.data).split("train")
    faces = x[np.random.default_rng(0).choice(len(x), args.faces, replace=False)]
    base = sharpness(faces)
    print(f"{args.faces} FER+ training faces; sharpness = variance of the Laplacian, relative to the originals")
    print(f"{'faces':52} {'sharpness':>9}")
    for sigma in (0.5, 1.0):
        blurred = np.stack([cv2.GaussianBlur(f.astype(np.float32), (5, 5), sigma) for f in faces])
        print(f"{f'Gaussian blur sigma {sigma} (for scale)':52} {sharpness(blurred) / base:9.2f}")
    for strength in ("seed", "default"):
        layers = augmentation(strength, seed=0)
        model = keras.Sequential([keras.Input((48, 48, 1)), *layers])
        by_layers = np.asarray(model(faces[..., None].astype("float32"), training=True))[..., 0]
        by_pipeline = augment_batch(faces, strength, np.random.default_rng(0))
        print(f"{f'augment {strength}: Keras layers (augment_in: model)':52} {sharpness(by_layers) / base:9.2f}")
        print(f"{f'augment {strength}: input pipeline (augment_in: batches)':52} {sharpness(by_pipeline) / base:9.2f}")


if __name__ == "__main__":
    main()
