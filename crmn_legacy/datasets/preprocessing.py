"""The paper's preprocessing (section 4): [0, 1] pixels, training-set mean pixel, GCN for SVHN, pad-and-crop.

CIFAR-10/100 (section 4.2): "convert each pixel to the range [0,1] and
subtract all images by the mean pixel value of the training set"::

    x' = x / 255 - m,    m = mean_pixel(X_train)

SVHN: pixels to [0, 1], then Global Contrast Normalization (GCN) as in
Goodfellow et al. (2013) / pylearn2 ``global_contrast_normalize``.

Augmentation (all three datasets): zero-pad 4 pixels on each side, then take a
random 32x32 crop; horizontal flips are an option, off by default (the paper
uses none).  It is applied after normalisation, so padded pixels are 0 in the
normalised space (i.e. the mean pixel for CIFAR), as in the Lasagne CIFAR-10
ResNet recipe the paper follows.

Everything is vectorised numpy on a whole batch, float32.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "MEAN_MODES", "to_unit_range", "compute_mean_pixel", "subtract_mean", "global_contrast_normalize",
    "pad_and_random_crop", "RandomCrop", "Standardize", "paper_preprocessing",
]

MEAN_MODES = ("per_channel", "image", "global")


def to_unit_range(X):
    """to_unit_range(X) -- uint8 pixels 0..255 to float32 in [0, 1]: ``x / 255``.

    Parameters
    ----------
    X : numpy.ndarray of uint8

    Returns
    -------
    numpy.ndarray of float32, same shape
    """
    X = np.asarray(X)
    if X.dtype != np.uint8:
        raise TypeError(f"to_unit_range expects uint8 pixels, got {X.dtype}")
    return np.divide(X, np.float32(255), dtype=np.float32)


def compute_mean_pixel(X_train, mode="per_channel"):
    """compute_mean_pixel(X_train, mode="per_channel") -- the training split's mean pixel, on the [0, 1] scale.

    Compute it on the images the network trains on (the training part of the
    train/validation split; never on validation or test images) and store it
    with the model: the returned array is what the trainer saves.

    Parameters
    ----------
    X_train : numpy.ndarray, (N, C, H, W)
        uint8 images (divided by 255), or float images already in [0, 1].
    mode : {"per_channel", "image", "global"}
        ``"per_channel"`` (default): one mean per colour channel,
        :math:`m_c = \\frac{1}{NHW} \\sum_{n,h,w} x_{nchw}` -- the usual reading
        of the paper's "mean pixel value" and of its reference [29];
        ``"image"``: the mean image :math:`m_{chw} = \\frac{1}{N}\\sum_n x_{nchw}`
        (the Lasagne CIFAR-10 recipe); ``"global"``: one scalar over everything.

    Returns
    -------
    numpy.ndarray of float32
        Shape (C, 1, 1), (C, H, W) or (1, 1, 1): broadcastable against a batch.
    """
    if mode not in MEAN_MODES:
        raise ValueError(f"mode must be one of {MEAN_MODES}, got {mode!r}")
    X = np.asarray(X_train)
    if X.ndim != 4 or X.shape[0] == 0:
        raise ValueError(f"X_train must be a non-empty (N, C, H, W) array, got shape {X.shape}")
    axes = {"per_channel": (0, 2, 3), "image": (0,), "global": (0, 1, 2, 3)}[mode]
    mean = X.mean(axis=axes, dtype=np.float64, keepdims=True)[0]
    if X.dtype == np.uint8:
        mean = mean / 255.0
    return mean.astype(np.float32)


def subtract_mean(X, mean):
    """subtract_mean(X, mean) -- ``X - mean`` in float32 (``mean`` from :func:`compute_mean_pixel`)."""
    return np.subtract(X, np.asarray(mean, dtype=np.float32), dtype=np.float32)


def global_contrast_normalize(X, scale=1.0, sqrt_bias=0.0, min_divisor=1e-8, use_std=True):
    """global_contrast_normalize(X, scale=1.0, sqrt_bias=0.0, min_divisor=1e-8, use_std=True) -- per-image GCN.

    For each image :math:`x` (all :math:`D = C H W` values together), as
    pylearn2's ``global_contrast_normalize`` used by Goodfellow et al. (2013):

    .. math::

        \\bar x = \\frac{1}{D}\\sum_i x_i, \\qquad
        \\sigma = \\sqrt{\\lambda + \\frac{1}{D-1}\\sum_i (x_i - \\bar x)^2}
        \\;\\;(\\text{or } \\sqrt{\\lambda + \\sum_i (x_i-\\bar x)^2} \\text{ if not use\\_std}),

        x'_i = s \\, \\frac{x_i - \\bar x}{\\sigma}, \\quad
        \\text{with } \\sigma \\text{ replaced by 1 when } \\sigma < \\epsilon,

    :math:`s` = ``scale``, :math:`\\lambda` = ``sqrt_bias``, :math:`\\epsilon` =
    ``min_divisor`` (a constant image thus becomes all zeros instead of NaN).
    The defaults give zero mean and unit (sample) standard deviation per image.

    Parameters
    ----------
    X : numpy.ndarray, (N, ...)
        Images (uint8 or float); each is normalised independently.

    Returns
    -------
    numpy.ndarray of float32, same shape
    """
    X = np.asarray(X)
    flat = X.reshape(X.shape[0], -1).astype(np.float32, copy=True)
    flat -= flat.mean(axis=1, keepdims=True)
    if use_std:
        ddof = 1 if flat.shape[1] > 1 else 0
        norm = np.sqrt(sqrt_bias + flat.var(axis=1, ddof=ddof))
    else:
        norm = np.sqrt(sqrt_bias + np.square(flat).sum(axis=1))
    norm = norm / scale
    norm[norm < min_divisor] = 1.0
    flat /= norm[:, None].astype(np.float32)
    return flat.reshape(X.shape)


def pad_and_random_crop(X, rng, pad=4, flip=False):
    """pad_and_random_crop(X, rng, pad=4, flip=False) -- zero-pad ``pad`` on each side, take a random crop per image.

    Each image gets its own offsets :math:`(o_y, o_x)` drawn uniformly from
    ``0 .. 2 pad`` (so ``(pad, pad)`` is the un-shifted image); the crop has the
    input's size (32x32 for 32x32 images).  With ``flip=True`` each image is
    also mirrored left-right with probability 1/2.

    Parameters
    ----------
    X : numpy.ndarray, (N, C, H, W)
        A batch (normally already normalised, float32).
    rng : numpy.random.Generator
        Source of the offsets (and flips); draws ``oy``, ``ox`` (N each), then the
        flips (N) when ``flip``.
    pad : int
        Zero margin on each side.
    flip : bool
        Random horizontal flips (off in the paper).

    Returns
    -------
    numpy.ndarray, (N, C, H, W), same dtype
    """
    X = np.asarray(X)
    n, c, h, w = X.shape
    oy = rng.integers(0, 2 * pad + 1, size=n)
    ox = rng.integers(0, 2 * pad + 1, size=n)
    padded = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=X.dtype)
    padded[:, :, pad:pad + h, pad:pad + w] = X
    windows = sliding_window_view(padded, (h, w), axis=(2, 3))  # (n, c, 2p+1, 2p+1, h, w), a view
    out = windows[np.arange(n), :, oy, ox]  # (n, c, h, w): advanced indices split by a slice go first
    if flip:
        mirror = rng.random(n) < 0.5
        out[mirror] = out[mirror, :, :, ::-1]
    return out


class RandomCrop:
    """RandomCrop(pad=4, flip=False) -- the paper's augmentation as a callable ``augment(X, rng)``.

    Calls :func:`pad_and_random_crop`; pass it as ``augment`` to
    :class:`~crmn_legacy.datasets.iterator.MinibatchIterator`.
    """

    def __init__(self, pad=4, flip=False):
        self.pad = int(pad)
        self.flip = bool(flip)

    def __call__(self, X, rng):
        return pad_and_random_crop(X, rng, pad=self.pad, flip=self.flip)

    def __repr__(self):
        return f"RandomCrop(pad={self.pad}, flip={self.flip})"


class Standardize:
    """Standardize(mean=None, gcn=False, gcn_scale=1.0, gcn_sqrt_bias=0.0, gcn_min_divisor=1e-8)

    A uint8 batch to network input.

    ``__call__(X)`` returns float32 ``to_unit_range(X)``, then GCN if ``gcn``,
    then minus ``mean`` if given.  :meth:`to_dict` / :meth:`from_dict` give plain
    data (numpy arrays, floats, bools) for the trainer to store with the model.

    Parameters
    ----------
    mean : numpy.ndarray or None
        From :func:`compute_mean_pixel` (CIFAR); None for SVHN.
    gcn : bool
        Apply :func:`global_contrast_normalize` (SVHN).
    """

    def __init__(self, mean=None, gcn=False, gcn_scale=1.0, gcn_sqrt_bias=0.0, gcn_min_divisor=1e-8):
        self.mean = None if mean is None or np.size(mean) == 0 else np.asarray(mean, dtype=np.float32)
        self.gcn = bool(gcn)
        self.gcn_scale = float(gcn_scale)
        self.gcn_sqrt_bias = float(gcn_sqrt_bias)
        self.gcn_min_divisor = float(gcn_min_divisor)

    def __call__(self, X):
        out = to_unit_range(X)
        if self.gcn:
            out = global_contrast_normalize(out, self.gcn_scale, self.gcn_sqrt_bias, self.gcn_min_divisor)
        if self.mean is not None:
            out -= self.mean
        return out

    def to_dict(self):
        """to_dict() -- ``{"mean": array (empty when none), "gcn": bool, "gcn_scale": float, ...}``."""
        return {
            "mean": np.zeros(0, np.float32) if self.mean is None else self.mean.copy(),
            "gcn": self.gcn, "gcn_scale": self.gcn_scale, "gcn_sqrt_bias": self.gcn_sqrt_bias,
            "gcn_min_divisor": self.gcn_min_divisor,
        }

    @classmethod
    def from_dict(cls, d):
        """from_dict(d) -- rebuild from :meth:`to_dict` output (e.g. read back from HDF5)."""
        return cls(mean=d.get("mean"), gcn=bool(d.get("gcn", False)), gcn_scale=d.get("gcn_scale", 1.0),
                   gcn_sqrt_bias=d.get("gcn_sqrt_bias", 0.0), gcn_min_divisor=d.get("gcn_min_divisor", 1e-8))

    def __repr__(self):
        mean = None if self.mean is None else self.mean.shape
        return f"Standardize(mean shape={mean}, gcn={self.gcn})"


def paper_preprocessing(dataset, X_train, mean_mode="per_channel"):
    """paper_preprocessing(dataset, X_train, mean_mode="per_channel") -- the paper's :class:`Standardize` for a dataset.

    Parameters
    ----------
    dataset : str
        A registered dataset; its ``preprocessing`` (:mod:`~crmn_legacy.datasets.registry`) picks the recipe.
    X_train : numpy.ndarray uint8 (N, 3, 32, 32)
        The images trained on (after removing the validation subset); used for
        the CIFAR mean pixel only.
    mean_mode : str
        See :func:`compute_mean_pixel`.

    Returns
    -------
    Standardize
        CIFAR: ``Standardize(mean=compute_mean_pixel(X_train, mean_mode))``;
        SVHN: ``Standardize(gcn=True)`` (no mean subtraction: GCN centres each image).
    """
    from .registry import get

    if get(dataset).preprocessing == "gcn":
        return Standardize(gcn=True)
    return Standardize(mean=compute_mean_pixel(X_train, mean_mode))
