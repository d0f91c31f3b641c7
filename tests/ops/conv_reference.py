"""Plain NumPy reference convolution (loops over kernel taps, no im2col).

Independent of :mod:`crmn_legacy.ops.conv_numpy`: the forward is a sum over
kernel taps of strided slices, and both gradients are written directly from
the definition ``y[n,f,i,j] = sum_{c,a,b} w[f,c,a,b] xpad[n,c,i*sh+a,j*sw+b]``.
"""

import numpy as np


def resolve_pad(pad, kh, kw):
    """resolve_pad(pad, kh, kw) -> (ph, pw)"""
    if pad in ("half", "same"):
        return kh // 2, kw // 2
    if pad == "valid":
        return 0, 0
    if pad == "full":
        return kh - 1, kw - 1
    return (pad, pad) if np.ndim(pad) == 0 else tuple(pad)


def _geometry(xshape, wshape, stride, pad):
    sh, sw = (stride, stride) if np.ndim(stride) == 0 else stride
    ph, pw = resolve_pad(pad, wshape[2], wshape[3])
    ho = (xshape[2] + 2 * ph - wshape[2]) // sh + 1
    wo = (xshape[3] + 2 * pw - wshape[3]) // sw + 1
    return sh, sw, ph, pw, ho, wo


def ref_conv2d(x, w, stride=1, pad="half"):
    """ref_conv2d(x, w, stride=1, pad="half") -> y (float64)"""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    sh, sw, ph, pw, ho, wo = _geometry(x.shape, w.shape, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y = np.zeros((x.shape[0], w.shape[0], ho, wo))
    for a in range(w.shape[2]):
        for b in range(w.shape[3]):
            patch = xp[:, :, a : a + sh * (ho - 1) + 1 : sh, b : b + sw * (wo - 1) + 1 : sw]
            y += np.einsum("nchw,fc->nfhw", patch, w[:, :, a, b])
    return y


def ref_grad_weights(x, gy, kshape, stride=1, pad="half"):
    """ref_grad_weights(x, gy, kshape, stride=1, pad="half") -> dw (float64)"""
    x, gy = np.asarray(x, np.float64), np.asarray(gy, np.float64)
    kh, kw = kshape
    wshape = (gy.shape[1], x.shape[1], kh, kw)
    sh, sw, ph, pw, ho, wo = _geometry(x.shape, wshape, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dw = np.zeros(wshape)
    for a in range(kh):
        for b in range(kw):
            patch = xp[:, :, a : a + sh * (ho - 1) + 1 : sh, b : b + sw * (wo - 1) + 1 : sw]
            dw[:, :, a, b] = np.einsum("nchw,nfhw->fc", patch, gy)
    return dw


def ref_grad_inputs(w, gy, ishape, stride=1, pad="half"):
    """ref_grad_inputs(w, gy, ishape, stride=1, pad="half") -> dx (float64)"""
    w, gy = np.asarray(w, np.float64), np.asarray(gy, np.float64)
    xshape = (gy.shape[0], w.shape[1], *ishape)
    sh, sw, ph, pw, ho, wo = _geometry(xshape, w.shape, stride, pad)
    dxp = np.zeros((xshape[0], xshape[1], ishape[0] + 2 * ph, ishape[1] + 2 * pw))
    for a in range(w.shape[2]):
        for b in range(w.shape[3]):
            dxp[:, :, a : a + sh * (ho - 1) + 1 : sh, b : b + sw * (wo - 1) + 1 : sw] += np.einsum(
                "nfhw,fc->nchw", gy, w[:, :, a, b]
            )
    return dxp[:, :, ph : ph + ishape[0], pw : pw + ishape[1]]
