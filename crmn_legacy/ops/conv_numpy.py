"""NumPy im2col implementations of the three convolution kernels.

These are the ``perform`` methods of :mod:`crmn_legacy.ops.conv` (used by the
Python linker, and by any mode that falls back to Python) and a readable
statement of what the C code in ``c/src/conv2d.h`` computes.

Notation (NCHW, cross-correlation, no filter flip): input ``x`` (N, C, H, W),
filters ``w`` (F, C, kh, kw), stride (sh, sw), padding (ph, pw),
output ``y`` (N, F, Ho, Wo) with ``Ho = (H + 2 ph - kh) // sh + 1``::

    y[n, f, i, j] = sum_{c, a, b} w[f, c, a, b] * xpad[n, c, i*sh + a, j*sw + b]
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["out_size", "im2col", "col2im", "conv2d_forward", "conv2d_grad_weights", "conv2d_grad_inputs"]


def out_size(size, k, stride, pad):
    """out_size(size, k, stride, pad) -> int: ``(size + 2 pad - k) // stride + 1``."""
    return (size + 2 * pad - k) // stride + 1


def im2col(x, kh, kw, stride, pad):
    """im2col(x, kh, kw, stride, pad) -> ndarray (N, Ho, Wo, C, kh, kw)

    The receptive-field patches of ``x`` (N, C, H, W), zero-padded by
    ``pad = (ph, pw)`` and sampled with ``stride = (sh, sw)`` (a view when
    possible: callers must not write into it).
    """
    (sh, sw), (ph, pw) = stride, pad
    n, c, h, w = x.shape
    ho, wo = out_size(h, kh, sh, ph), out_size(w, kw, sw, pw)
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))  # (N, C, Hp-kh+1, Wp-kw+1, kh, kw)
    win = win[:, :, : (ho - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw]
    return win.transpose(0, 2, 3, 1, 4, 5)


def col2im(cols, shape, stride, pad):
    """col2im(cols, shape, stride, pad) -> ndarray ``shape`` (N, C, H, W)

    Adjoint of :func:`im2col`: scatter-add patches ``cols`` (N, Ho, Wo, C,
    kh, kw) back into an image, then crop the padding.
    """
    (sh, sw), (ph, pw) = stride, pad
    n, c, h, w = shape
    _, ho, wo, _, kh, kw = cols.shape
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for a in range(kh):
        for b in range(kw):
            out[:, :, a : a + (ho - 1) * sh + 1 : sh, b : b + (wo - 1) * sw + 1 : sw] += cols[
                :, :, :, :, a, b
            ].transpose(0, 3, 1, 2)
    return out[:, :, ph : ph + h, pw : pw + w]


def conv2d_forward(x, w, stride, pad):
    """conv2d_forward(x, w, stride, pad) -> y (N, F, Ho, Wo)"""
    f, c, kh, kw = w.shape
    cols = im2col(x, kh, kw, stride, pad)
    n, ho, wo = cols.shape[:3]
    y = cols.reshape(n * ho * wo, c * kh * kw) @ w.reshape(f, -1).T
    return np.ascontiguousarray(y.reshape(n, ho, wo, f).transpose(0, 3, 1, 2))


def conv2d_grad_weights(x, gy, kshape, stride, pad):
    """conv2d_grad_weights(x, gy, kshape, stride, pad) -> dw (F, C, kh, kw)

    ``dw[f, c, a, b] = sum_{n, i, j} gy[n, f, i, j] xpad[n, c, i*sh + a, j*sw + b]``.
    """
    kh, kw = kshape
    n, c = x.shape[:2]
    f = gy.shape[1]
    cols = im2col(x, kh, kw, stride, pad)
    ho, wo = cols.shape[1:3]
    g = gy.transpose(1, 0, 2, 3).reshape(f, n * ho * wo)
    dw = g @ cols.reshape(n * ho * wo, c * kh * kw)
    return np.ascontiguousarray(dw.reshape(f, c, kh, kw))


def conv2d_grad_inputs(w, gy, ishape, stride, pad):
    """conv2d_grad_inputs(w, gy, ishape, stride, pad) -> dx (N, C, H, W), ``(H, W) = ishape``

    ``dx = d <y, gy> / dx``: the adjoint of :func:`conv2d_forward` in ``x``.
    """
    f, c, kh, kw = w.shape
    n, _, ho, wo = gy.shape
    dcols = gy.transpose(0, 2, 3, 1).reshape(n * ho * wo, f) @ w.reshape(f, -1)
    dcols = dcols.reshape(n, ho, wo, c, kh, kw)
    return np.ascontiguousarray(col2im(dcols, (n, c, ishape[0], ishape[1]), stride, pad))
