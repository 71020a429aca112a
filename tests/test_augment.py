"""The input pipeline's augmentation (augment_in: batches): the model's ranges, drawn reproducibly."""

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
