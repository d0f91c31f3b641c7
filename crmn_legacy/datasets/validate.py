"""check_images(X, ...), check_labels(y, ...) -- shape, dtype and range checks with errors naming the file."""

import numpy as np

from .errors import DatasetError

__all__ = ["check_images", "check_labels"]


def check_images(X, name, shape_tail, what="images"):
    """check_images(X, name, shape_tail, what="images") -- require a uint8 ndarray of shape ``(N,) + shape_tail``.

    Parameters
    ----------
    X : object
        The candidate array.
    name : str
        File (and key) named in the error.
    shape_tail : tuple of int
        Required trailing shape, e.g. ``(3072,)``.

    Returns
    -------
    numpy.ndarray
    """
    if not isinstance(X, np.ndarray):
        raise DatasetError(f"{name}: {what} must be a numpy array, got {type(X).__name__}")
    if X.dtype != np.uint8:
        raise DatasetError(f"{name}: {what} must have dtype uint8, got {X.dtype}")
    if X.ndim != 1 + len(shape_tail) or tuple(X.shape[1:]) != tuple(shape_tail):
        want = "(N, " + ", ".join(map(str, shape_tail)) + ")"
        raise DatasetError(f"{name}: {what} must have shape {want}, got {X.shape}")
    return X


def check_labels(y, name, n, num_classes, what="labels"):
    """check_labels(y, name, n, num_classes, what="labels") -- int64 (n,) labels in ``[0, num_classes)``.

    Parameters
    ----------
    y : sequence of int or numpy.ndarray
        Candidate labels.
    name : str
        File (and key) named in the error.
    n : int
        Required number of labels (the number of images).
    num_classes : int
        Labels must lie in ``0 .. num_classes - 1``.

    Returns
    -------
    numpy.ndarray of int64, shape (n,)
    """
    try:
        arr = np.asarray(y)
    except (TypeError, ValueError) as exc:
        raise DatasetError(f"{name}: {what} are not an integer array ({exc})") from None
    if arr.dtype.kind not in "iu" and not (arr.dtype.kind == "f" and arr.size and np.all(arr == np.round(arr))):
        raise DatasetError(f"{name}: {what} must be integers, got dtype {arr.dtype}")
    arr = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.ndim != 1 or arr.shape[0] != n:
        raise DatasetError(f"{name}: expected {n} {what} (one per image), got shape {arr.shape}")
    arr = arr.astype(np.int64)
    if n and (arr.min() < 0 or arr.max() >= num_classes):
        bad = arr[(arr < 0) | (arr >= num_classes)]
        raise DatasetError(
            f"{name}: {what} out of range: {bad.size} value(s) outside 0..{num_classes - 1} "
            f"(e.g. {int(bad[0])})"
        )
    return arr
