"""Validation splits: 10% of CIFAR train, 5,000 of SVHN train + extra; seeded; test untouched."""

import numpy as np
import pytest

from crmn_legacy.datasets.splits import make_splits, split_validation, validation_indices
from crmn_legacy.datasets.splitsdict import DatasetSplits


def _ids(n, start=0):
    """Images whose first pixel is their id (mod 256) and labels = id: contents are traceable."""
    X = np.zeros((n, 3, 32, 32), np.uint8)
    ids = np.arange(start, start + n)
    X[:, 0, 0, 0] = ids % 256
    X[:, 0, 0, 1] = ids // 256
    return X, ids.astype(np.int64)


def _decode(X):
    return X[:, 0, 0, 0].astype(np.int64) + 256 * X[:, 0, 0, 1].astype(np.int64)


def test_indices_are_a_seeded_partition():
    tr, va = validation_indices(1000, 100, seed=5)
    assert len(va) == 100 and len(tr) == 900
    assert np.array_equal(np.sort(np.concatenate([tr, va])), np.arange(1000))
    assert np.array_equal(va, validation_indices(1000, 100, seed=5)[1])
    assert not np.array_equal(va, validation_indices(1000, 100, seed=6)[1])
    with pytest.raises(ValueError):
        validation_indices(10, 11)


def test_stratified():
    labels = np.repeat(np.arange(10), [50, 150, 100, 100, 100, 100, 100, 100, 100, 100])
    _, va = validation_indices(len(labels), 100, seed=0, labels=labels)
    counts = np.bincount(labels[va], minlength=10)
    assert counts.sum() == 100
    assert np.all(np.abs(counts - np.bincount(labels) / 10) <= 1)


def test_cifar_split_contents():
    X, y = _ids(500)
    d = DatasetSplits({"train": (X, y % 10), "test": _ids(50, 10000)}, "cifar10", 10)
    s = make_splits(d, seed=1)
    assert set(s) == {"train", "valid", "test"} and len(s["valid"][1]) == 50 and len(s["train"][1]) == 450
    got_tr, got_va = _decode(s["train"][0]), _decode(s["valid"][0])
    assert np.array_equal(np.sort(np.concatenate([got_tr, got_va])), np.arange(500))
    assert np.array_equal(got_va, s.valid_idx) and np.array_equal(s["valid"][1], s.valid_idx % 10)
    assert s["test"] is d["test"]  # the test split is never touched
    full = make_splits(d, validation=False)
    assert set(full) == {"train", "test"} and full["train"][0] is X and full.valid_idx is None
    direct = split_validation(X, y, fraction=0.1, seed=1)
    assert np.array_equal(direct["valid_idx"], s.valid_idx)


def test_cifar100_coarse_follows():
    X, y = _ids(100)
    d = DatasetSplits({"train": (X, y), "test": _ids(10, 900)}, "cifar100", 100,
                      coarse={"train": y // 5, "test": np.arange(10) // 5})
    s = make_splits(d, seed=0)
    np.testing.assert_array_equal(s.coarse["valid"], s["valid"][1] // 5)
    np.testing.assert_array_equal(s.coarse["train"], s["train"][1] // 5)


def test_svhn_5000_from_train_and_extra():
    tr, ex = _ids(3000), _ids(4000, 3000)
    d = DatasetSplits({"train": tr, "test": _ids(10, 60000), "extra": ex}, "svhn", 10)
    s = make_splits(d, seed=2)
    assert len(s["valid"][1]) == 5000 and len(s["train"][1]) == 2000
    got_va, got_tr = _decode(s["valid"][0]), _decode(s["train"][0])
    np.testing.assert_array_equal(np.sort(got_va), s.valid_idx)
    np.testing.assert_array_equal(s["valid"][1], got_va)
    np.testing.assert_array_equal(s["train"][1], got_tr)
    assert np.array_equal(np.sort(np.concatenate([got_tr, got_va])), np.arange(7000))
    assert (got_va < 3000).any() and (got_va >= 3000).any()  # drawn from both
    full = make_splits(d, validation=False)
    assert len(full["train"][1]) == 7000 and "valid" not in full
