"""The real (JPEG-rebuilt) CIFAR-10 copy in ../shared/data: loads, reported as not the official files."""

import numpy as np
import pytest

from crmn_legacy.datasets import MinibatchIterator, RandomCrop, load_cifar10, make_splits, paper_preprocessing
from crmn_legacy.datasets.errors import ChecksumError, ChecksumWarning
from crmn_legacy.datasets.iterator import time_epoch

pytestmark = pytest.mark.needs_data


@pytest.fixture(scope="module")
def cifar10(data_root):
    with pytest.warns(ChecksumWarning, match="CIFAR-10: not the official files") as rec:
        data = load_cifar10(data_root)
    return data, str(rec[0].message)


def test_loads_with_known_values(cifar10):
    data, warning = cifar10
    assert data.official is False and "data_batch_1" in warning and "test_batch" in warning
    (X, y), (Xt, yt) = data["train"], data["test"]
    assert X.shape == (50000, 3, 32, 32) and Xt.shape == (10000, 3, 32, 32) and X.dtype == np.uint8
    assert y.tolist()[:10] == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3] and yt.tolist()[:10] == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    assert np.all(np.bincount(y) == 5000) and np.all(np.bincount(yt) == 1000)
    assert X[0].reshape(-1)[:3].tolist() == [59, 43, 50] and X[0].reshape(-1)[-3:].tolist() == [140, 84, 72]
    assert Xt[0].reshape(-1)[:5].tolist() == [158, 159, 165, 166, 160]
    assert data.label_names[0] == "airplane"


def test_strict_refuses(data_root):
    with pytest.raises(ChecksumError, match="not the official files"):
        load_cifar10(data_root, verify="strict")


def test_paper_pipeline_on_real_data(cifar10):
    data, _ = cifar10
    s = make_splits(data, seed=0)
    assert len(s["train"][1]) == 45000 and len(s["valid"][1]) == 5000
    prep = paper_preprocessing("cifar10", s["train"][0])
    np.testing.assert_allclose(prep.mean.ravel(), [0.4913, 0.4821, 0.4465], atol=2e-3)
    it = MinibatchIterator(*s["train"], 128, transform=prep, augment=RandomCrop())
    t = time_epoch(it)
    print(f"\nCIFAR-10 45,000 images, batch 128, mean + pad/crop: {t['seconds']:.2f} s/epoch, "
          f"{t['per_batch_ms']:.2f} ms/batch")
    assert t["batches"] == 352  # 45,000 // 128 + 1 (the speed is reported above, not asserted: data/README.md)
