"""SVHN loader on tiny MATLAB v5 files written with scipy.io.savemat."""

import numpy as np
import pytest
import scipy.io

from crmn_legacy.datasets import checksums, load_dataset, load_svhn
from crmn_legacy.datasets.checksums import md5_file
from crmn_legacy.datasets.errors import ChecksumError, ChecksumWarning, DatasetError
from official_formats import svhn_arrays, write_svhn


@pytest.fixture
def svhn(tmp_path):
    return tmp_path, write_svhn(tmp_path)


def test_layout_and_labels(svhn):
    root, written = svhn
    d = load_svhn(root, verify="off")
    assert set(d) == {"train", "test", "extra"} and d.num_classes == 10
    for split, (Xm, ym) in written.items():
        X, y = d[split]
        assert X.shape == (Xm.shape[3], 3, 32, 32) and X.dtype == np.uint8 and y.dtype == np.int64
        assert X.flags.c_contiguous
        # X[n, c, r, w] == mat X[r, w, c, n]
        np.testing.assert_array_equal(X, Xm.transpose(3, 2, 0, 1))
        np.testing.assert_array_equal(y, np.where(ym[:, 0] == 10, 0, ym[:, 0]))
    assert 0 in d["train"][1] and 10 not in d["train"][1]


def test_extra_optional_and_subfolder(tmp_path):
    sub = tmp_path / "svhn"
    sub.mkdir()
    write_svhn(sub, sizes=(("train", 3), ("test", 2)))
    with pytest.raises(DatasetError, match=r"extra_32x32.mat.*extra=False"):
        load_svhn(tmp_path, verify="off")
    d = load_dataset("svhn", tmp_path, verify="off", extra=False)
    assert set(d) == {"train", "test"} and len(d["train"][1]) == 3


def test_md5(svhn, monkeypatch):
    root, _ = svhn
    with pytest.warns(ChecksumWarning, match="SVHN: not the official files"):
        assert load_svhn(root).official is False
    with pytest.raises(ChecksumError, match="train_32x32.mat: MD5 .* official e26dedcc"):
        load_svhn(root, verify="strict")
    for name in ("train_32x32.mat", "test_32x32.mat", "extra_32x32.mat"):
        monkeypatch.setitem(checksums.ARCHIVE_MD5, name, md5_file(root / name))
    assert load_svhn(root, verify="strict").official is True


def _write(path, **arrays):
    scipy.io.savemat(path, arrays, format="5")


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(p.read_bytes()[:300]), "corrupt or truncated .mat"),
    (lambda p: p.write_bytes(b"not a mat file" * 20), "corrupt or truncated .mat"),
    (lambda p: _write(p, X=svhn_arrays(2)[0]), "missing variable 'y'"),
    (lambda p: _write(p, X=np.zeros((32, 32, 2, 2), np.uint8), y=np.ones((2, 1), np.uint8)),
     r"'X' must have shape \(32, 32, 3, N\)"),
    (lambda p: _write(p, X=np.zeros((32, 32, 3, 2), np.float32), y=np.ones((2, 1), np.uint8)),
     "'X' must have dtype uint8, got float32"),
    (lambda p: _write(p, X=svhn_arrays(2)[0], y=np.array([[1], [11]], np.uint8)), "'y' out of range"),
    (lambda p: _write(p, X=svhn_arrays(2)[0], y=np.array([[1], [0]], np.uint8)), "label 0 found"),
    (lambda p: _write(p, X=svhn_arrays(2)[0], y=np.ones((3, 1), np.uint8)), "expected 2 'y'"),
])
def test_bad_files(svhn, make, message):
    root, _ = svhn
    bad = root / "test_32x32.mat"
    make(bad)
    with pytest.raises(DatasetError, match=message) as info:
        load_svhn(root, verify="off")
    assert str(bad) in str(info.value)


def test_missing(tmp_path):
    with pytest.raises(DatasetError, match=r"SVHN: file not found: .*train_32x32.mat.*fetch svhn"):
        load_svhn(tmp_path)
