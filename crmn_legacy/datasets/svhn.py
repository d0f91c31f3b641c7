"""load_svhn(root=None, verify="warn", extra=True) -- SVHN cropped digits from the official ``*_32x32.mat`` files.

The official files (http://ufldl.stanford.edu/housenumbers/, "Format 2") are
MATLAB v5 ``.mat`` files holding ``X``, uint8 of shape (32, 32, 3, N) (row,
column, channel, image), and ``y``, shape (N, 1), labels 1..10 where **10 means
digit 0**.  They are read with ``scipy.io.loadmat`` and returned as NCHW uint8
(N, 3, 32, 32) with int64 labels 0..9 (``y == 10`` mapped to 0).

``root`` is the data folder holding ``train_32x32.mat``, ``test_32x32.mat``,
``extra_32x32.mat`` (directly, or in a ``svhn/`` sub-folder).  Memory: the
extra split is 531,131 images, 1.6 GB as uint8, and loading it peaks at about
twice that.
"""

import numpy as np
import scipy.io

from .checksums import ARCHIVE_MD5, check_md5s, check_verify_mode, md5_file
from .errors import DatasetError
from .paths import data_dir
from .registry import Dataset, register
from .splitsdict import DatasetSplits
from .validate import check_images, check_labels

__all__ = ["load_svhn", "SVHN_FILES", "read_svhn_mat"]

SVHN_FILES = {"train": "train_32x32.mat", "test": "test_32x32.mat", "extra": "extra_32x32.mat"}


def _svhn_folder(root):
    base = data_dir(root)
    if base.is_file() and base.name in SVHN_FILES.values():
        base = base.parent
    for cand in (base, base / "svhn"):
        if (cand / SVHN_FILES["train"]).exists() or (cand / SVHN_FILES["test"]).exists():
            return cand
    return base


def read_svhn_mat(path):
    """read_svhn_mat(path) -- read one official SVHN ``.mat`` file into ``(X uint8 (N, 3, 32, 32), y int64 (N,))``.

    Raises
    ------
    DatasetError
        Missing, truncated or corrupt file, missing ``X``/``y``, wrong shape or
        dtype, labels outside 1..10.
    """
    try:
        mat = scipy.io.loadmat(path, variable_names=("X", "y"))
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except NotImplementedError as exc:  # MATLAB v7.3 (HDF5)
        raise DatasetError(f"{path}: unsupported .mat version ({exc}); the official SVHN files are MATLAB v5") \
            from None
    except Exception as exc:  # scipy raises many types (MatReadError, ValueError, TypeError, zlib.error, ...)
        raise DatasetError(f"{path}: corrupt or truncated .mat file ({type(exc).__name__}: {exc})") from None
    for key in ("X", "y"):
        if key not in mat:
            present = sorted(k for k in mat if not k.startswith("__"))
            raise DatasetError(f"{path}: missing variable {key!r} (has {present})")
    X = mat["X"]
    if not isinstance(X, np.ndarray) or X.ndim != 4 or X.shape[:3] != (32, 32, 3):
        raise DatasetError(f"{path}: 'X' must have shape (32, 32, 3, N), got {getattr(X, 'shape', type(X))}")
    X = check_images(np.ascontiguousarray(X.transpose(3, 2, 0, 1)), path, (3, 32, 32), what="'X'")
    y = check_labels(mat["y"], path, X.shape[0], 11, what="'y'")
    if np.any(y == 0):
        raise DatasetError(f"{path}: 'y' out of range: label 0 found, official labels are 1..10 (10 = digit 0)")
    y[y == 10] = 0
    return X, y


def load_svhn(root=None, verify="warn", extra=True):
    """load_svhn(root=None, verify="warn", extra=True) -- load SVHN train, test (and extra) splits.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Folder holding the ``*_32x32.mat`` files (or a ``svhn/`` sub-folder with
        them).  Default: :func:`~crmn_legacy.datasets.paths.data_dir` ``()``.
    verify : {"warn", "strict", "off"}
        What an MD5 differing from the official one does.
    extra : bool
        Also load ``extra_32x32.mat`` (the paper trains on train + extra).

    Returns
    -------
    DatasetSplits
        ``{"train": (X, y), "test": (X, y), "extra": (X, y)}`` with X uint8
        (N, 3, 32, 32), y int64 digits 0..9.
    """
    check_verify_mode(verify)
    folder = _svhn_folder(root)
    wanted = ["train", "test"] + (["extra"] if extra else [])
    missing = [folder / SVHN_FILES[s] for s in wanted if not (folder / SVHN_FILES[s]).exists()]
    if missing:
        hint = " (or pass extra=False to load train and test only)" if any("extra" in p.name for p in missing) else ""
        raise DatasetError(
            f"SVHN: file not found: {', '.join(map(str, missing))}{hint}. Download them with "
            f"`python -m crmn_legacy fetch svhn --data-dir {folder}` or from http://ufldl.stanford.edu/housenumbers/."
        )
    official = None
    if verify != "off":
        results = [(str(folder / SVHN_FILES[s]), md5_file(folder / SVHN_FILES[s]), ARCHIVE_MD5[SVHN_FILES[s]])
                   for s in wanted]
        official = check_md5s(results, verify, "SVHN")
    splits = {s: read_svhn_mat(folder / SVHN_FILES[s]) for s in wanted}
    return DatasetSplits(splits, "svhn", 10, label_names=[str(d) for d in range(10)], source=folder,
                         official=official)


_URL = "http://ufldl.stanford.edu/housenumbers/"
register(Dataset("svhn", "SVHN", load_svhn,
                 tuple(f"{d}{SVHN_FILES[s]}" for s in ("train", "test") for d in ("", "svhn/")),
                 tuple(_URL + SVHN_FILES[s] for s in ("train", "test", "extra")), preprocessing="gcn"))
