"""The paper's validation splits: 10% of the CIFAR training set; 5,000 SVHN images from train + extra.

Section 4: "the architecture and its hyper-parameters were chosen based on a
10% subset of the training set, used as a validation set ... The learning
schedule so obtained is then used on another run with all the training data
included" (``validation=False`` here).  SVHN: "a random sub-set of a total of
5000 images from the training and extra sets".

The test split is passed through unchanged and is never looked at when drawing
the subsets, so it cannot take part in model selection.  Subsets are drawn with
``numpy.random.default_rng(seed)``: the same seed gives the same split on any
machine.
"""

import numpy as np

from .splitsdict import DatasetSplits

__all__ = ["validation_indices", "split_validation", "svhn_validation_split", "make_splits"]


def validation_indices(n, n_valid, seed=0, labels=None):
    """validation_indices(n, n_valid, seed=0, labels=None) -- draw ``n_valid`` of ``range(n)`` for validation.

    Parameters
    ----------
    n : int
        Number of training examples.
    n_valid : int
        Size of the validation subset, ``0 <= n_valid <= n``.
    seed : int
        Seed of ``numpy.random.default_rng``.
    labels : numpy.ndarray, optional
        When given, the draw is stratified: each class gets ``n_valid * n_c / n``
        examples up to rounding (within one of it), the total is exactly
        ``n_valid``.

    Returns
    -------
    train_idx, valid_idx : numpy.ndarray of int64
        Disjoint, sorted, together ``range(n)``.
    """
    if not 0 <= n_valid <= n:
        raise ValueError(f"n_valid must lie in 0..{n}, got {n_valid}")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    if labels is None:
        chosen = perm[:n_valid]
    else:
        labels = np.asarray(labels)
        if labels.shape != (n,):
            raise ValueError(f"labels must have shape ({n},), got {labels.shape}")
        grouped = perm[np.argsort(labels[perm], kind="stable")]  # by class, random within each class
        positions = ((np.arange(n_valid) + 0.5) * n / max(n_valid, 1)).astype(np.int64)  # systematic sample
        chosen = grouped[positions]
    mask = np.zeros(n, dtype=bool)
    mask[chosen] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def split_validation(X, y, fraction=0.1, seed=0, stratify=False):
    """split_validation(X, y, fraction=0.1, seed=0, stratify=False) -- hold out ``round(fraction * N)`` examples.

    Returns
    -------
    dict
        ``{"train": (X, y), "valid": (X, y), "train_idx": ..., "valid_idx": ...}``
        (index arrays into the given ``X``).
    """
    n = len(y)
    n_valid = int(round(fraction * n))
    tr, va = validation_indices(n, n_valid, seed, labels=y if stratify else None)
    return {"train": (X[tr], y[tr]), "valid": (X[va], y[va]), "train_idx": tr, "valid_idx": va}


def svhn_validation_split(data, n_valid=5000, seed=0, stratify=False):
    """svhn_validation_split(data, n_valid=5000, seed=0, stratify=False) -- 5,000 of train+extra.

    Parameters
    ----------
    data : dict
        ``load_svhn`` output with "train" and "extra".

    Returns
    -------
    dict
        ``{"train": (X, y), "valid": (X, y), "train_idx": ..., "valid_idx": ...}``;
        indices count train images first, then extra (``len(train) + j`` is extra
        image ``j``).
    """
    (Xt, yt), (Xe, ye) = data["train"], data["extra"]
    nt, n = len(yt), len(yt) + len(ye)
    labels = np.concatenate([yt, ye]) if stratify else None
    tr, va = validation_indices(n, n_valid, seed, labels=labels)
    keep = np.ones(n, dtype=bool)
    keep[va] = False
    X = np.empty((len(tr),) + Xt.shape[1:], dtype=Xt.dtype)
    k = int(keep[:nt].sum())
    np.compress(keep[:nt], Xt, axis=0, out=X[:k])  # no 1.6 GB temporary for extra
    np.compress(keep[nt:], Xe, axis=0, out=X[k:])
    y = np.concatenate([yt[keep[:nt]], ye[keep[nt:]]])
    va_t, va_e = va[va < nt], va[va >= nt] - nt
    Xv = np.concatenate([Xt[va_t], Xe[va_e]])
    yv = np.concatenate([yt[va_t], ye[va_e]])
    return {"train": (X, y), "valid": (Xv, yv), "train_idx": tr, "valid_idx": va}


def make_splits(data, validation=True, seed=0, stratify=False, fraction=0.1, svhn_valid=5000):
    """make_splits(data, validation=True, seed=0, stratify=False, fraction=0.1, svhn_valid=5000) -- the paper's splits.

    Parameters
    ----------
    data : DatasetSplits
        A loader's output.
    validation : bool
        True: hold out a validation subset (model and schedule selection).
        False: the final run, training on all training data (SVHN: train + extra).
    seed, stratify : see :func:`validation_indices`.
    fraction : float
        CIFAR validation fraction (paper: 10%).
    svhn_valid : int
        SVHN validation size (paper: 5,000).

    Returns
    -------
    DatasetSplits
        "train", "valid" (only when ``validation``) and "test" (untouched).
        ``.valid_idx`` holds the validation indices into the original training
        images (SVHN: train then extra), ``None`` when not ``validation``;
        ``.coarse`` is carried along for CIFAR-100.
    """
    name = getattr(data, "name", None)
    is_svhn = "extra" in data
    coarse = getattr(data, "coarse", None)
    out, out_coarse, valid_idx = {}, None, None
    if is_svhn:
        if validation:
            parts = svhn_validation_split(data, svhn_valid, seed, stratify)
            out["train"], out["valid"], valid_idx = parts["train"], parts["valid"], parts["valid_idx"]
        else:
            out["train"] = (np.concatenate([data["train"][0], data["extra"][0]]),
                            np.concatenate([data["train"][1], data["extra"][1]]))
    elif validation:
        parts = split_validation(*data["train"], fraction=fraction, seed=seed, stratify=stratify)
        out["train"], out["valid"], valid_idx = parts["train"], parts["valid"], parts["valid_idx"]
        if coarse is not None:
            out_coarse = {"train": coarse["train"][parts["train_idx"]], "valid": coarse["train"][valid_idx],
                          "test": coarse["test"]}
    else:
        out["train"] = data["train"]
        out_coarse = coarse
    out["test"] = data["test"]
    result = DatasetSplits(out, name, getattr(data, "num_classes", None),
                           label_names=getattr(data, "label_names", None), coarse=out_coarse,
                           coarse_label_names=getattr(data, "coarse_label_names", None),
                           source=getattr(data, "source", None), official=getattr(data, "official", None))
    result.valid_idx = valid_idx
    return result
