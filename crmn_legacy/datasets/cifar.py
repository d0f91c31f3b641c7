"""load_cifar10(root=None, verify="warn"), load_cifar100(root=None, verify="warn") -- the official "python version".

Each batch file of the official archives is a protocol-2 pickle (written by
Python 2) of a dict with ``bytes`` keys:

* ``b"data"``: uint8 array (N, 3072), each row the 1024 red, 1024 green and
  1024 blue values of a 32x32 image, each plane row-major -- so
  ``data.reshape(N, 3, 32, 32)`` is NCHW;
* CIFAR-10: ``b"labels"``, a list of N ints in 0..9 (``data_batch_1`` ..
  ``data_batch_5``, ``test_batch``; names in ``batches.meta`` ``b"label_names"``);
* CIFAR-100: ``b"fine_labels"`` (0..99) and ``b"coarse_labels"`` (0..19)
  (``train``, ``test``; names in ``meta`` ``b"fine_label_names"``,
  ``b"coarse_label_names"``).

``root`` may be a data folder holding the extracted folder
(``cifar-10-batches-py/``, ``cifar-100-python/``) or the downloaded archive
(``cifar-10-python.tar.gz``, ``cifar-100-python.tar.gz``), or that folder or
archive itself.  The extracted folder is preferred.  Pickles are read with the
restricted unpickler of :mod:`~crmn_legacy.datasets.safe_pickle`.  MD5s are
checked as :mod:`~crmn_legacy.datasets.checksums` describes (archive: its own
MD5; extracted folder: each file read).
"""

import tarfile
import zlib

import numpy as np

from .checksums import ARCHIVE_MD5, MEMBER_MD5, check_md5s, check_verify_mode, md5_bytes, md5_file
from .errors import DatasetError
from .paths import find_dataset
from .registry import Dataset, register
from .safe_pickle import load_pickle
from .splitsdict import DatasetSplits
from .validate import check_images, check_labels

__all__ = ["load_cifar10", "load_cifar100", "CIFAR10_SPEC", "CIFAR100_SPEC"]

CIFAR10_SPEC = {
    "name": "cifar10",
    "title": "CIFAR-10",
    "folder": "cifar-10-batches-py",
    "archive": "cifar-10-python.tar.gz",
    "splits": {"train": ["data_batch_%d" % i for i in range(1, 6)], "test": ["test_batch"]},
    "meta": "batches.meta",
    "labels": ("labels", 10),
    "names": "label_names",
}
CIFAR100_SPEC = {
    "name": "cifar100",
    "title": "CIFAR-100",
    "folder": "cifar-100-python",
    "archive": "cifar-100-python.tar.gz",
    "splits": {"train": ["train"], "test": ["test"]},
    "meta": "meta",
    "labels": ("fine_labels", 100),
    "coarse": ("coarse_labels", 20),
    "names": "fine_label_names",
    "coarse_names": "coarse_label_names",
}


def load_cifar10(root=None, verify="warn"):
    """load_cifar10(root=None, verify="warn") -- load CIFAR-10 from the official python-version files.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Data folder, ``cifar-10-batches-py/`` itself, or ``cifar-10-python.tar.gz``.
        Default: :func:`~crmn_legacy.datasets.paths.data_dir` ``()``.
    verify : {"warn", "strict", "off"}
        What an MD5 differing from the official one does (see
        :mod:`~crmn_legacy.datasets.checksums`).

    Returns
    -------
    DatasetSplits
        ``{"train": (X (50000, 3, 32, 32) uint8, y (50000,) int64), "test": (X (10000, ...), y)}``;
        ``.label_names`` holds the 10 class names.

    Raises
    ------
    DatasetError
        Missing, truncated or malformed file (named in the message); ``ChecksumError``
        for a differing MD5 with ``verify="strict"``.
    """
    return _load(CIFAR10_SPEC, root, verify)


def load_cifar100(root=None, verify="warn"):
    """load_cifar100(root=None, verify="warn") -- load CIFAR-100 from the official python-version files.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Data folder, ``cifar-100-python/`` itself, or ``cifar-100-python.tar.gz``.
    verify : {"warn", "strict", "off"}
        What an MD5 differing from the official one does.

    Returns
    -------
    DatasetSplits
        ``{"train": (X (50000, 3, 32, 32) uint8, y_fine (50000,) int64), "test": (...)}``;
        ``.coarse`` is ``{"train": y_coarse, "test": y_coarse}`` (20 superclasses),
        ``.label_names`` / ``.coarse_label_names`` the class names.
    """
    return _load(CIFAR100_SPEC, root, verify)


def _members(spec):
    return [spec["meta"]] + [m for files in spec["splits"].values() for m in files]


def _read_folder(path, spec, verify):
    blobs, results = {}, []
    for member in _members(spec):
        fname = path / member
        try:
            blobs[member] = fname.read_bytes()
        except FileNotFoundError:
            raise DatasetError(f"{fname}: file not found ({spec['title']} needs {', '.join(_members(spec))} "
                               f"in {path})") from None
        except OSError as exc:
            raise DatasetError(f"{fname}: cannot be read ({exc.strerror or exc})") from None
        if verify != "off":
            results.append((str(fname), md5_bytes(blobs[member]), MEMBER_MD5[spec["folder"]][member]))
    official = check_md5s(results, verify, spec["title"]) if verify != "off" else None
    return blobs, {m: str(path / m) for m in blobs}, official


def _read_archive(path, spec, verify):
    official = None
    if verify != "off":
        official = check_md5s([(str(path), md5_file(path), ARCHIVE_MD5[spec["archive"]])], verify, spec["title"])
    wanted = {f"{spec['folder']}/{m}": m for m in _members(spec)}
    blobs = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for info in tar:
                member = wanted.get(info.name.lstrip("./"))
                if member is not None and info.isfile():
                    blobs[member] = tar.extractfile(info).read()
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise DatasetError(f"{path}: corrupt or truncated .tar.gz archive ({exc})") from None
    missing = [k for k, m in wanted.items() if m not in blobs]
    if missing:
        raise DatasetError(f"{path}: archive lacks {', '.join(missing)}")
    return blobs, {m: f"{path}:{spec['folder']}/{m}" for m in blobs}, official


def _as_str_dict(obj, name):
    if not isinstance(obj, dict):
        raise DatasetError(f"{name}: expected a pickled dict, got {type(obj).__name__}")
    return {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}


def _get(d, key, name):
    try:
        return d[key]
    except KeyError:
        raise DatasetError(f"{name}: missing key {key!r} (has {sorted(map(str, d))})") from None


def _names(d, key, name):
    value = _get(d, key, name)
    if not isinstance(value, (list, tuple)):
        raise DatasetError(f"{name}: {key!r} must be a list of names")
    return [v.decode("latin1") if isinstance(v, bytes) else str(v) for v in value]


def _parse_batch(blob, name, spec):
    d = _as_str_dict(load_pickle(blob, name), name)
    X = check_images(_get(d, "data", name), name, (3072,), what="'data'")
    key, k = spec["labels"]
    y = check_labels(_get(d, key, name), name, X.shape[0], k, what=repr(key))
    yc = None
    if "coarse" in spec:
        ckey, ck = spec["coarse"]
        yc = check_labels(_get(d, ckey, name), name, X.shape[0], ck, what=repr(ckey))
    return X, y, yc


def _load(spec, root, verify):
    check_verify_mode(verify)
    path = find_dataset(root, [spec["folder"], spec["archive"]], spec["title"])
    if path.is_dir():
        blobs, names, official = _read_folder(path, spec, verify)
    else:
        blobs, names, official = _read_archive(path, spec, verify)

    meta_name = names[spec["meta"]]
    meta = _as_str_dict(load_pickle(blobs.pop(spec["meta"]), meta_name), meta_name)
    label_names = _names(meta, spec["names"], meta_name)
    coarse_names = _names(meta, spec["coarse_names"], meta_name) if "coarse" in spec else None

    splits, coarse = {}, {}
    for split, members in spec["splits"].items():
        parts = []
        for m in members:
            parts.append(_parse_batch(blobs.pop(m), names[m], spec))
        X = np.concatenate([p[0] for p in parts]).reshape(-1, 3, 32, 32)
        y = np.concatenate([p[1] for p in parts])
        splits[split] = (X, y)
        if "coarse" in spec:
            coarse[split] = np.concatenate([p[2] for p in parts])
    return DatasetSplits(splits, spec["name"], spec["labels"][1], label_names=label_names,
                         coarse=coarse or None, coarse_label_names=coarse_names, source=path, official=official)


_URL = "https://www.cs.toronto.edu/~kriz/"
register(Dataset("cifar10", "CIFAR-10", load_cifar10, (CIFAR10_SPEC["folder"], CIFAR10_SPEC["archive"]),
                 (_URL + CIFAR10_SPEC["archive"],), preprocessing="mean"))
register(Dataset("cifar100", "CIFAR-100", load_cifar100, (CIFAR100_SPEC["folder"], CIFAR100_SPEC["archive"]),
                 (_URL + CIFAR100_SPEC["archive"],), preprocessing="mean"))
