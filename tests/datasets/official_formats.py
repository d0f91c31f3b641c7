"""Writers of tiny dataset files in exactly the official formats (test helper, no test here).

* CIFAR batches: a dict with ``bytes`` keys pickled at protocol 2.  ``py2=True``
  emits what the official Python-2 files contain (``str`` as SHORT_BINSTRING /
  BINSTRING, so keys, the dtype code and the raw array bytes all read back as
  ``bytes``; ``GLOBAL numpy.core.multiarray _reconstruct``); ``py2=False`` is
  Python 3's own ``pickle.dump(..., protocol=2)`` (``bytes`` via ``_codecs.encode``).
* SVHN: MATLAB v5 ``.mat`` via ``scipy.io.savemat`` with ``X`` (32, 32, 3, N)
  uint8 and ``y`` (N, 1) with labels 1..10 (10 = digit 0).
"""

import io
import pickle
import struct
import tarfile

import numpy as np
import scipy.io

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # numpy < 2
    from numpy.core.multiarray import _reconstruct


class Py2Pickler(pickle._Pickler):
    """Pure-Python pickler emitting Python-2 style strings and numpy globals."""

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_py2_str(self, obj):
        data = obj.encode("latin1") if isinstance(obj, str) else bytes(obj)
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[bytes] = _save_py2_str
    dispatch[str] = _save_py2_str

    def save_global(self, obj, name=None):
        if obj is _reconstruct:
            self.write(pickle.GLOBAL + b"numpy.core.multiarray\n_reconstruct\n")
            self.memoize(obj)
            return
        super().save_global(obj, name)


def pickle_bytes(obj, py2=True):
    """Protocol-2 pickle of ``obj`` (Python-2 style when ``py2``)."""
    buf = io.BytesIO()
    if py2:
        Py2Pickler(buf, protocol=2).dump(obj)
    else:
        pickle.dump(obj, buf, protocol=2)
    return buf.getvalue()


def image_data(n, offset=0):
    """(n, 3072) uint8 rows whose values encode (image, channel, row, col) recognisably."""
    i = np.arange(n)[:, None, None, None] + offset
    c = np.arange(3)[None, :, None, None]
    r = np.arange(32)[None, None, :, None]
    w = np.arange(32)[None, None, None, :]
    return ((i * 7 + c * 50 + r * 3 + w) % 256).astype(np.uint8).reshape(n, 3072)


CIFAR10_TRAIN = ["data_batch_%d" % k for k in range(1, 6)]


def cifar10_files(per_batch=4, n_test=3, py2=True):
    """{member name: pickle bytes} of a tiny CIFAR-10 folder."""
    files = {"batches.meta": pickle_bytes(
        {b"num_cases_per_batch": per_batch, b"label_names": [f"class{k}".encode() for k in range(10)],
         b"num_vis": 3072}, py2)}
    for k, member in enumerate(CIFAR10_TRAIN):
        files[member] = pickle_bytes({
            b"batch_label": f"training batch {k + 1} of 5".encode(),
            b"labels": [(k * per_batch + j) % 10 for j in range(per_batch)],
            b"data": image_data(per_batch, offset=k * per_batch),
            b"filenames": [f"img_{k}_{j}.png".encode() for j in range(per_batch)],
        }, py2)
    files["test_batch"] = pickle_bytes({
        b"batch_label": b"testing batch 1 of 1", b"labels": [9 - j for j in range(n_test)],
        b"data": image_data(n_test, offset=1000), b"filenames": [b"t%d.png" % j for j in range(n_test)],
    }, py2)
    return files


def cifar100_files(n_train=6, n_test=4, py2=True):
    """{member name: pickle bytes} of a tiny CIFAR-100 folder."""
    def batch(n, offset, label):
        return pickle_bytes({
            b"filenames": [b"f%d.png" % j for j in range(n)], b"batch_label": label,
            b"fine_labels": [(offset + 17 * j) % 100 for j in range(n)],
            b"coarse_labels": [(offset + 3 * j) % 20 for j in range(n)],
            b"data": image_data(n, offset=offset),
        }, py2)
    return {
        "meta": pickle_bytes({b"fine_label_names": [b"fine%d" % k for k in range(100)],
                              b"coarse_label_names": [b"coarse%d" % k for k in range(20)]}, py2),
        "train": batch(n_train, 0, b"training batch 1 of 1"),
        "test": batch(n_test, 500, b"testing batch 1 of 1"),
    }


def write_folder(root, folder, files):
    """Write ``files`` into ``root/folder``; return the folder path."""
    path = root / folder
    path.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (path / name).write_bytes(data)
    return path


def write_tarball(root, archive, folder, files):
    """Write a ``.tar.gz`` with ``folder/<member>`` entries, like the official archives."""
    path = root / archive
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(folder)
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
        tar.addfile(info)
        for name, data in files.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def svhn_arrays(n, seed=0):
    """(X (32, 32, 3, n) uint8, y (n, 1) uint8 in 1..10) as in the official .mat files."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, size=(32, 32, 3, n), dtype=np.uint8)
    y = (np.arange(n) % 10 + 1).astype(np.uint8).reshape(n, 1)
    return X, y


def write_svhn(root, sizes=(("train", 12), ("test", 7), ("extra", 9))):
    """Write tiny ``<split>_32x32.mat`` files; return {split: (X, y)} as written."""
    written = {}
    for k, (split, n) in enumerate(sizes):
        X, y = svhn_arrays(n, seed=k)
        scipy.io.savemat(root / f"{split}_32x32.mat", {"X": X, "y": y}, format="5")
        written[split] = (X, y)
    return written
