"""The input pipeline's augmentation (augment_in: batches): the model's ranges, drawn reproducibly."""

import cv2
import numpy as np
import pytest

from fer_helpers.augment import augment_batch
from fer_helpers.errors import FerError
from fer_helpers.training import Batches


def blobs(n: int) -> np.ndarray:
    """Faces that are one bright disc at the centre: where it ends up measures shift and zoom."""
    yy, xx = np.mgrid[:48, :48]
    disc = ((yy - 23.5) ** 2 + (xx - 23.5) ** 2 < 8 ** 2) * 200 + 20
    return np.repeat(disc[None].astype(np.uint8), n, axis=0)


def centroids(faces: np.ndarray) -> np.ndarray:
    w = faces - faces.min(axis=(1, 2), keepdims=True)
    yy, xx = np.mgrid[:48, :48]
    return np.stack([(w * yy).sum((1, 2)) / w.sum((1, 2)), (w * xx).sum((1, 2)) / w.sum((1, 2))], axis=1)


def test_the_same_generator_draws_the_same_faces_and_none_changes_nothing():
    faces = blobs(16)
    a = augment_batch(faces, "strong", np.random.default_rng(7))
    b = augment_batch(faces, "strong", np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, augment_batch(faces, "strong", np.random.default_rng(8)))
    assert a.dtype == np.float32 and a.shape == faces.shape and 0 <= a.min() and a.max() <= 255
    np.testing.assert_array_equal(augment_batch(faces, "none", np.random.default_rng(7)), faces)


def test_shift_and_zoom_come_with_default_not_with_the_seeds_augmentation():
    faces = blobs(200)
    moved = np.abs(centroids(augment_batch(faces, "default", np.random.default_rng(0))) - 23.5).max(axis=1)
    kept = np.abs(centroids(augment_batch(faces, "seed", np.random.default_rng(0))) - 23.5).max(axis=1)
    assert kept.max() < 0.6               # a disc at the centre stays there under flip and rotation
    assert 2.5 < moved.max() <= 5.5       # shifted by up to a tenth of 48 pixels
    sizes = (augment_batch(faces, "default", np.random.default_rng(1)) > 110).sum(axis=(1, 2))
    assert sizes.min() < 0.9 * sizes.mean() < sizes.max() * 0.95  # zoomed in and out


def test_an_unknown_strength_is_one_clear_error():
    with pytest.raises(FerError, match="augmentation must be"):
        augment_batch(blobs(1), "heavy", np.random.default_rng(0))


def test_batches_augment_each_batch_by_seed_epoch_and_index():
    x, y = blobs(40), np.eye(2, dtype=np.float32)[[0, 1] * 20]
    a, b = Batches(x, y, 10, seed=3, augment="default"), Batches(x, y, 10, seed=3, augment="default")
    a.set_epoch(2), b.set_epoch(2)
    np.testing.assert_array_equal(a[1][0], b[1][0])   # a resumed run redraws the same batch
    b.set_epoch(3)
    assert not np.array_equal(a[1][0], b[1][0])
    plain = Batches(x, y, 10, seed=3)
    plain.set_epoch(2)
    np.testing.assert_array_equal(plain[1][0][..., 0], x[:10])  # augment="none" (the default) leaves faces alone


def test_camera_blurs_some_faces_adds_noise_to_others_and_is_the_pipelines_alone():
    """``camera``: some faces lose sharpness (blur, fewer pixels), some gain grain (noise); drawn
    from the generator alone; refused where Keras layers would have to do it."""
    from fer_helpers.params import training_params

    rng = np.random.default_rng(5)
    faces = np.tile(((np.indices((48, 48)).sum(axis=0) % 8) * 30).astype(np.uint8), (64, 1, 1))  # a sharp pattern
    faces = np.ascontiguousarray(faces)
    a = augment_batch(faces, "camera", np.random.default_rng(3))
    np.testing.assert_array_equal(a, augment_batch(faces, "camera", np.random.default_rng(3)))
    plain = augment_batch(faces, "default", np.random.default_rng(3))
    sharp = lambda x: np.array([cv2.Laplacian(f, cv2.CV_32F).var() for f in x])  # noqa: E731
    assert (sharp(a) < 0.5 * np.median(sharp(plain))).mean() > 0.3  # blurred or from fewer pixels
    flat = np.full((64, 48, 48), 128, np.uint8)  # no structure: any texture left is noise
    grain = augment_batch(flat, "camera", rng).std(axis=(1, 2))
    assert 0.15 < (grain > 1.5).mean() < 0.5  # on about 30% of the faces
    with pytest.raises(FerError, match="camera is done by the input pipeline"):
        training_params({"augment": "camera"})
    assert training_params({"augment": "camera", "augment_in": "batches"})["augment"] == "camera"
