"""CIFAR-10/100 loaders on tiny files in the official formats (folder and .tar.gz)."""

import warnings

import numpy as np
import pytest

from crmn_legacy.datasets import checksums, load_cifar10, load_cifar100, load_dataset
from crmn_legacy.datasets.checksums import md5_bytes, md5_file
from crmn_legacy.datasets.errors import ChecksumError, ChecksumWarning, DatasetError
from official_formats import (
    CIFAR10_TRAIN, cifar10_files, cifar100_files, image_data, pickle_bytes, write_folder, write_tarball,
)

C10, C100 = "cifar-10-batches-py", "cifar-100-python"


@pytest.fixture
def c10(tmp_path):
    files = cifar10_files()
    write_folder(tmp_path, C10, files)
    return tmp_path, files


def _expected_images(n, offset):
    return image_data(n, offset).reshape(n, 3, 32, 32)


def test_cifar10_folder_contents(c10):
    root, _ = c10
    d = load_cifar10(root, verify="off")
    X, y = d["train"]
    assert X.shape == (20, 3, 32, 32) and X.dtype == np.uint8 and y.dtype == np.int64
    np.testing.assert_array_equal(X, _expected_images(20, 0))
    # NCHW: channel c of pixel (r, w) of image i is (7 i + 50 c + 3 r + w) mod 256, R plane first
    assert X[5, 2, 3, 4] == (7 * 5 + 50 * 2 + 3 * 3 + 4) % 256
    np.testing.assert_array_equal(y, np.arange(20) % 10)
    Xt, yt = d["test"]
    np.testing.assert_array_equal(Xt, _expected_images(3, 1000))
    np.testing.assert_array_equal(yt, [9, 8, 7])
    assert d.label_names == [f"class{k}" for k in range(10)] and d.num_classes == 10
    assert d.official is None and set(d) == {"train", "test"}


def test_python3_protocol2_files_load(tmp_path):
    write_folder(tmp_path, C10, cifar10_files(py2=False))
    np.testing.assert_array_equal(load_cifar10(tmp_path, verify="off")["train"][0], _expected_images(20, 0))


def test_root_forms_and_symlink_and_env(c10, tmp_path_factory, monkeypatch):
    root, files = c10
    ref = load_cifar10(root, verify="off")["train"][0]
    np.testing.assert_array_equal(load_cifar10(root / C10, verify="off")["train"][0], ref)
    linked = tmp_path_factory.mktemp("repo_data")
    (linked / C10).symlink_to(root / C10)  # ln -s ../shared/data/cifar-10-batches-py data/
    np.testing.assert_array_equal(load_cifar10(linked, verify="off")["train"][0], ref)
    monkeypatch.setenv("CRMN_DATA_DIR", str(linked))
    np.testing.assert_array_equal(load_dataset("CIFAR-10", verify="off")["train"][0], ref)


def test_tarball_equals_folder(c10, tmp_path_factory):
    root, files = c10
    tdir = tmp_path_factory.mktemp("tgz")
    tgz = write_tarball(tdir, "cifar-10-python.tar.gz", C10, files)
    a, b = load_cifar10(root, verify="off"), load_cifar10(tgz, verify="off")
    for split in ("train", "test"):
        for u, v in zip(a[split], b[split]):
            np.testing.assert_array_equal(u, v)
    assert load_cifar10(tdir, verify="off").source == str(tgz)


def test_md5_mismatch_warn_strict_off(c10):
    root, _ = c10
    with pytest.warns(ChecksumWarning, match="not the official files") as rec:
        d = load_cifar10(root)  # default verify="warn" still loads
    assert d.official is False and len(rec) == 1 and "data_batch_3" in str(rec[0].message)
    with pytest.raises(ChecksumError, match=r"data_batch_1: MD5 [0-9a-f]{32}, official c99cafc1"):
        load_cifar10(root, verify="strict")
    with pytest.raises(ValueError, match="verify must be one of"):
        load_cifar10(root, verify="yes")


def test_md5_match_folder_and_archive(c10, monkeypatch, tmp_path_factory):
    root, files = c10
    for name, blob in files.items():
        monkeypatch.setitem(checksums.MEMBER_MD5[C10], name, md5_bytes(blob))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_cifar10(root, verify="strict").official is True
    tgz = write_tarball(tmp_path_factory.mktemp("t"), "cifar-10-python.tar.gz", C10, files)
    monkeypatch.setitem(checksums.ARCHIVE_MD5, "cifar-10-python.tar.gz", md5_file(tgz))
    assert load_cifar10(tgz, verify="strict").official is True


def test_cifar100_fine_and_coarse(tmp_path):
    files = cifar100_files()
    write_folder(tmp_path, C100, files)
    d = load_cifar100(tmp_path, verify="off")
    X, y = d["train"]
    assert X.shape == (6, 3, 32, 32) and d.num_classes == 100
    np.testing.assert_array_equal(y, [(17 * j) % 100 for j in range(6)])
    np.testing.assert_array_equal(d.coarse["train"], [(3 * j) % 20 for j in range(6)])
    np.testing.assert_array_equal(d.coarse["test"], [(500 + 3 * j) % 20 for j in range(4)])
    np.testing.assert_array_equal(d["test"][0], _expected_images(4, 500))
    assert d.label_names[99] == "fine99" and d.coarse_label_names[0] == "coarse0"
    tgz = write_tarball(tmp_path, "cifar-100-python.tar.gz", C100, files)
    np.testing.assert_array_equal(load_cifar100(tgz, verify="off")["train"][1], y)


# ---- bad inputs: every message names the file and the problem ----

def _batch(overrides):
    d = {b"batch_label": b"b", b"labels": [0, 1, 2, 3], b"data": image_data(4)}
    d.update(overrides)
    return pickle_bytes({k: v for k, v in d.items() if v is not None})


@pytest.mark.parametrize("blob, message", [
    (lambda good: good[:len(good) // 3], "truncated pickle"),
    (lambda good: b"\x00garbage" * 10, "corrupt pickle"),
    (lambda good: _batch({b"data": image_data(4).astype(np.float32)}), "'data' must have dtype uint8, got float32"),
    (lambda good: _batch({b"data": image_data(4)[:, :3000]}), r"'data' must have shape \(N, 3072\), got \(4, 3000\)"),
    (lambda good: _batch({b"labels": [0, 1, 2, 10]}), r"'labels' out of range: 1 value\(s\) outside 0..9"),
    (lambda good: _batch({b"labels": [0, -1, 2, 3]}), "out of range"),
    (lambda good: _batch({b"labels": [0, 1, 2]}), "expected 4 'labels'"),
    (lambda good: _batch({b"labels": None}), "missing key 'labels'"),
    (lambda good: pickle_bytes([1, 2, 3]), "expected a pickled dict, got list"),
])
def test_bad_batch_file(c10, blob, message):
    root, files = c10
    bad = root / C10 / "data_batch_3"
    bad.write_bytes(blob(files["data_batch_3"]))
    with pytest.raises(DatasetError, match=message) as info:
        load_cifar10(root, verify="off")
    assert str(bad) in str(info.value)


def test_missing_member_and_missing_dataset(c10, tmp_path_factory):
    root, _ = c10
    (root / C10 / "test_batch").unlink()
    with pytest.raises(DatasetError, match=r"test_batch: file not found"):
        load_cifar10(root, verify="off")
    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(DatasetError, match=r"CIFAR-100: not found; looked for .*cifar-100-python,"):
        load_cifar100(empty)


def test_bad_archives(tmp_path):
    files = cifar10_files()
    tgz = write_tarball(tmp_path, "cifar-10-python.tar.gz", C10, files)
    data = tgz.read_bytes()
    tgz.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match=f"{tgz}: corrupt or truncated .tar.gz"):
        load_cifar10(tgz, verify="off")
    partial = {k: v for k, v in files.items() if k != CIFAR10_TRAIN[4]}
    write_tarball(tmp_path, "cifar-10-python.tar.gz", C10, partial)
    with pytest.raises(DatasetError, match="archive lacks cifar-10-batches-py/data_batch_5"):
        load_cifar10(tgz, verify="off")


def test_malicious_batch_is_refused(c10):
    import os

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    root, _ = c10
    import pickle
    (root / C10 / "data_batch_2").write_bytes(pickle.dumps({b"data": Evil()}, protocol=2))
    with pytest.raises(DatasetError, match="data_batch_2: refused to unpickle.*posix.system|data_batch_2: refused"):
        load_cifar10(root, verify="off")
