"""The paper's preprocessing functions."""

import numpy as np
import pytest

from crmn_legacy.datasets.preprocessing import (
    RandomCrop, Standardize, compute_mean_pixel, global_contrast_normalize, pad_and_random_crop,
    paper_preprocessing, subtract_mean, to_unit_range,
)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, size=(50, 3, 32, 32), dtype=np.uint8)


def test_to_unit_range(images):
    x = to_unit_range(images)
    assert x.dtype == np.float32 and x.shape == images.shape
    assert to_unit_range(np.array([0, 255], np.uint8)).tolist() == [0.0, 1.0]
    np.testing.assert_array_equal(x, images.astype(np.float32) / np.float32(255))
    with pytest.raises(TypeError, match="uint8"):
        to_unit_range(x)


def test_mean_pixel_modes(images):
    ref = images.astype(np.float64) / 255
    m = compute_mean_pixel(images)  # default: per channel
    assert m.shape == (3, 1, 1) and m.dtype == np.float32
    np.testing.assert_allclose(m[:, 0, 0], [ref[:, c].mean() for c in range(3)], rtol=1e-6)
    np.testing.assert_allclose(compute_mean_pixel(images, "image"), ref.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(compute_mean_pixel(images, "global"), ref.mean().reshape(1, 1, 1), rtol=1e-6)
    np.testing.assert_allclose(compute_mean_pixel(to_unit_range(images)), m, rtol=1e-6)  # float input: as is
    with pytest.raises(ValueError, match="mode must be one of"):
        compute_mean_pixel(images, "median")


def test_subtract_mean_and_standardize(images):
    m = compute_mean_pixel(images[:40])  # training part only
    out = subtract_mean(to_unit_range(images), m)
    np.testing.assert_allclose(out[:40].mean(axis=(0, 2, 3)), 0, atol=1e-6)
    s = Standardize(mean=m)
    np.testing.assert_array_equal(s(images), out)
    back = Standardize.from_dict(s.to_dict())
    np.testing.assert_array_equal(back(images), out)
    assert Standardize.from_dict(Standardize().to_dict()).mean is None


def test_gcn(images):
    x = global_contrast_normalize(to_unit_range(images))
    flat = x.reshape(50, -1).astype(np.float64)
    np.testing.assert_allclose(flat.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(flat.std(axis=1, ddof=1), 1, rtol=1e-4)
    np.testing.assert_allclose(global_contrast_normalize(images[:3], scale=55.0),
                               55 * global_contrast_normalize(images[:3]), rtol=1e-5)
    const = global_contrast_normalize(np.full((2, 3, 4, 4), 0.7, np.float32))
    assert np.all(const == 0) and np.all(np.isfinite(const))
    # use_std=False divides by the L2 norm of the centred image
    y = global_contrast_normalize(images[:2], use_std=False).reshape(2, -1)
    np.testing.assert_allclose(np.linalg.norm(y, axis=1), 1, rtol=1e-5)
    s = paper_preprocessing("svhn", images)
    assert s.gcn and s.mean is None
    np.testing.assert_allclose(s(images), x, rtol=1e-6)


def _find_offset(padded, crop):
    h, w = crop.shape[-2:]
    for oy in range(padded.shape[-2] - h + 1):
        for ox in range(padded.shape[-1] - w + 1):
            win = padded[..., oy:oy + h, ox:ox + w]
            if np.array_equal(win, crop):
                return oy, ox, False
            if np.array_equal(win[..., ::-1], crop):
                return oy, ox, True
    return None


def test_pad_and_random_crop_is_a_crop_of_the_zero_padded_image(images):
    x = to_unit_range(images) + 1  # > 0 everywhere, so padded zeros are recognisable
    out = pad_and_random_crop(x, np.random.default_rng(3))
    assert out.shape == x.shape and out.dtype == np.float32
    padded = np.pad(x, ((0, 0), (0, 0), (4, 4), (4, 4)))
    offsets = set()
    for i in range(len(x)):
        found = _find_offset(padded[i], out[i])
        assert found is not None and found[2] is False  # no flips by default
        offsets.add(found[:2])
    assert len(offsets) > 20 and all(0 <= o <= 8 for off in offsets for o in off)
    np.testing.assert_array_equal(pad_and_random_crop(x, np.random.default_rng(3)), out)  # rng decides all


def test_flip_option(images):
    x = to_unit_range(images) + 1
    out = RandomCrop(flip=True)(x, np.random.default_rng(1))
    padded = np.pad(x, ((0, 0), (0, 0), (4, 4), (4, 4)))
    flips = [_find_offset(padded[i], out[i])[2] for i in range(len(x))]
    assert 10 < sum(flips) < 40
    assert RandomCrop().flip is False


def test_paper_preprocessing_cifar(images):
    s = paper_preprocessing("CIFAR-100", images, mean_mode="image")
    assert s.mean.shape == (3, 32, 32) and not s.gcn
    with pytest.raises(ValueError, match="unknown dataset"):
        paper_preprocessing("mnist", images)
