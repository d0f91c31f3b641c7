"""conv2d(input, filters, stride=1, pad="half") -- 2D cross-correlation Ops for PyTensor.

PyTensor 3 has no CNN convolution, so this module defines one, in the style of
Theano's ``CorrMM`` family: three Ops, each of whose gradient is written with
the others, so that derivatives of any order exist.

* :class:`Conv2d` ``(x, w) -> y``: ``y[n,f,i,j] = sum_{c,a,b} w[f,c,a,b]
  xpad[n,c,i*sh+a,j*sw+b]`` (NCHW, cross-correlation, i.e. Lasagne's
  ``flip_filters=False`` and what cuDNN computes);
* :class:`Conv2dGradWeights` ``(x, gy, kshape) -> dw = d<y,gy>/dw``;
* :class:`Conv2dGradInputs` ``(w, gy, ishape) -> dx = d<y,gy>/dx``.

``kshape`` and ``ishape`` are the (kh, kw) and (H, W) that the gradient Ops
cannot deduce (with ``pad="half"`` every odd kernel gives the same output size;
with stride 2 two input sizes do).

Implementations
---------------
``perform`` is NumPy im2col + matmul (:mod:`crmn_legacy.ops.conv_numpy`).
The C code (``c/src/conv2d_template.c``, built by
:mod:`crmn_legacy.ops.c.conv_mixin`) has two implementations: im2col +
``cblas_?gemm`` of the ``scipy-openblas32`` wheel (float64, and float32 where
the other one does not apply) and, for float32 on CPUs with AVX2 + FMA, direct
("implicit GEMM") kernels (``c/src/conv2d_direct.h``), whose register tiles
are AVX-512 on CPUs that have it (``c/src/conv2d_direct512.h``; same FMAs in
the same order per element, so bit-identical to the AVX2 tiles).  The
environment variables ``CRMN_CONV_IMPL`` (``gemm``, ``direct`` wherever it
applies, or unset / ``auto``: see Choices below) and ``CRMN_CONV_ISA``
(``avx2`` keeps the AVX2 tiles) are read at every call.
A JAX dispatch lives in :mod:`crmn_legacy.ops.jax.conv`.

Choices
-------
The Ops run their C code in our compile mode (:mod:`crmn_legacy.runtime.compile`);
under PyTensor 3's default Numba linker they fall back to object mode calling
``perform`` (about 9x slower at k=1).  In C, images are shared out between
OpenMP threads, each with single-threaded OpenBLAS and its own im2col buffer
reused across calls (3-4x faster than one thread calling threaded BLAS on
these small per-image GEMMs).  ``auto`` takes the direct kernels for kernels
with more than one tap and, for the forward and grad inputs, only when the
output (resp. dx phase) is at least 8 columns wide; float64 always uses GEMM.
The direct kernels avoid im2col: forward and stride-1 grad inputs use a
register tile of 6 output channels x 2 vectors of 8 columns (AVX-512: 4
vectors of 16 columns, or of two 8-column rows for outputs at most 8 wide) over the ``C kh kw`` taps
of a zero-padded per-thread copy of the image; grad inputs at stride > 1
works on the ``sh sw`` phases of dx; grad weights accumulates
:math:`dw^\\top` per thread in tiles of 16 filters x 6 taps (AVX-512: 32 x
12), each thread over a fixed share of the images, so that dw is the same
on every call.  The
measurements behind each choice, and what was tried and dropped, are in
``docs/PERFORMANCE.md`` (``python -m crmn_legacy bench conv`` regenerates them).
"""

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply, Constant
from pytensor.link.c.op import COp
from pytensor.tensor.type import integer_dtypes

from . import conv_numpy
from .c.conv_mixin import CConvMixin
from .shape_rule import shape_rule

__all__ = ["conv2d", "Conv2d", "Conv2dGradWeights", "Conv2dGradInputs", "conv_output_shape"]

_FLOATS = ("float32", "float64")


# ----------------------------------------------------------------------------- parameters
def _as_stride(stride):
    """_as_stride(stride) -> (sh, sw), positive ints."""
    pair = (stride, stride) if np.ndim(stride) == 0 else tuple(stride)
    if len(pair) != 2:
        raise ValueError(f"conv2d: stride must be an int or a pair of ints, got {stride!r}")
    for s in pair:
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"conv2d: stride must be an int or a pair of ints, got {stride!r}")
        if s < 1:
            raise ValueError(f"conv2d: stride must be >= 1, got {stride!r}")
    return (int(pair[0]), int(pair[1]))


def _as_border_mode(pad):
    """_as_border_mode(pad) -> "half" | "full" | (ph, pw)

    ``"valid"`` is ``(0, 0)``; ``"same"`` is an alias of ``"half"`` (pad
    ``k // 2``, the size-preserving padding for odd kernels); ``"full"`` pads
    ``k - 1``; an int or a pair of non-negative ints pads explicitly.
    """
    if isinstance(pad, str):
        mode = pad.lower()
        if mode == "valid":
            return (0, 0)
        if mode in ("half", "same"):
            return "half"
        if mode == "full":
            return "full"
        raise ValueError(f"conv2d: pad must be 'valid', 'half'/'same', 'full', an int or a pair, got {pad!r}")
    pair = (pad, pad) if np.ndim(pad) == 0 else tuple(pad)
    if len(pair) != 2:
        raise ValueError(f"conv2d: pad must be an int or a pair of ints, got {pad!r}")
    for p in pair:
        if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, np.integer)):
            raise TypeError(f"conv2d: pad must be a string, an int or a pair of ints, got {pad!r}")
        if p < 0:
            raise ValueError(f"conv2d: padding must be non-negative, got {pad!r}")
    return (int(pair[0]), int(pair[1]))


def _pad_for(border_mode, kh, kw):
    """_pad_for(border_mode, kh, kw) -> (ph, pw); works on ints and symbolic scalars."""
    if border_mode == "half":
        return kh // 2, kw // 2
    if border_mode == "full":
        return kh - 1, kw - 1
    return border_mode


def conv_output_shape(input_shape, filter_shape, stride=1, pad="half"):
    """conv_output_shape(input_shape, filter_shape, stride=1, pad="half") -> tuple

    Output shape (N, F, Ho, Wo) of :func:`conv2d`; entries that are ``None``
    in the arguments are ``None`` in the result. Useful to layers'
    ``get_output_shape_for``.
    """
    sh, sw = _as_stride(stride)
    n, _, h, w = input_shape
    f, _, kh, kw = filter_shape
    return (n, f, _size(h, kh, sh, _as_border_mode(pad), 0), _size(w, kw, sw, _as_border_mode(pad), 1))


def _size(size, k, stride, border_mode, axis):
    """Output size along one axis, or None if unknown."""
    if size is None or k is None:
        return None
    p = _pad_for(border_mode, k, k)[axis] if border_mode in ("half", "full") else border_mode[axis]
    return conv_numpy.out_size(size, k, stride, p)


# ----------------------------------------------------------------------------- validation
def _as_4d(var, what, opname):
    var = pt.as_tensor_variable(var)
    if var.ndim != 4:
        raise TypeError(f"{opname}: {what} must be a 4D tensor, got ndim={var.ndim} ({var.type})")
    if var.dtype not in _FLOATS:
        raise TypeError(f"{opname}: {what} must be float32 or float64, got {var.dtype}")
    return var


def _as_hw(var, what, opname):
    var = pt.as_tensor_variable(var)
    if var.ndim != 1 or var.dtype not in integer_dtypes:
        raise TypeError(f"{opname}: {what} must be an integer vector of length 2, got {var.type}")
    if var.type.shape[0] not in (None, 2):
        raise ValueError(f"{opname}: {what} must have length 2, got {var.type.shape[0]}")
    return pt.cast(var, "int64")


def _const_hw(var):
    """(h, w) ints if ``var`` is a constant, else (None, None)."""
    if isinstance(var, Constant):
        return tuple(int(v) for v in np.asarray(var.data))
    try:
        return tuple(int(v) for v in pt.get_underlying_scalar_constant_value(var, raise_not_constant=True))
    except Exception:  # noqa: BLE001 -- not a constant: unknown statically
        return (None, None)


def _same_dtype(a, b, opname):
    if a.dtype != b.dtype:
        raise TypeError(f"{opname}: operands must have the same dtype, got {a.dtype} and {b.dtype}")


def _eq(a, b, msg):
    if a is not None and b is not None and a != b:
        raise ValueError(msg)


def _check_geometry(opname, hw, khw, stride, border_mode, out_hw=None):
    """Static checks of one convolution's geometry; unknown sizes are skipped."""
    for axis, name in ((0, "height"), (1, "width")):
        size, k = hw[axis], khw[axis]
        if k is not None and k < 1:
            raise ValueError(f"{opname}: kernel {name} must be >= 1, got {k}")
        if size is None or k is None:
            continue
        p = _pad_for(border_mode, k, k)[axis] if isinstance(border_mode, str) else border_mode[axis]
        if size + 2 * p < k:
            raise ValueError(
                f"{opname}: kernel {name} {k} is larger than the padded input {name} {size} + 2*{p}"
            )
        if out_hw is not None:
            expect = conv_numpy.out_size(size, k, stride[axis], p)
            _eq(out_hw[axis], expect, f"{opname}: output-gradient {name} {out_hw[axis]} does not match the "
                f"convolution of input {name} {size} by kernel {k} (stride {stride[axis]}, pad {p}) = {expect}")


# ----------------------------------------------------------------------------- Ops
class _BaseConv2d(CConvMixin, COp):
    """Shared parameters of the three Ops: ``stride`` (sh, sw), ``border_mode``."""

    __props__ = ("stride", "border_mode")

    def __init__(self, stride=1, border_mode="half"):
        self.stride = _as_stride(stride)
        self.border_mode = _as_border_mode(border_mode)

    def _pad(self, kh, kw):
        return _pad_for(self.border_mode, kh, kw)

    def _out(self, size, k, axis):
        return conv_numpy.out_size(size, k, self.stride[axis], self._pad(k, k)[axis])

    def _runtime_check(self, hw, khw, out_hw=None):
        """Run-time geometry check with concrete shapes (clear ValueError)."""
        _check_geometry(type(self).__name__, hw, khw, self.stride, self.border_mode, out_hw)

    def __str__(self):
        return f"{type(self).__name__}{{stride={self.stride}, pad={self.border_mode}}}"


class Conv2d(_BaseConv2d):
    """Conv2d(stride=1, border_mode="half")(x, w) -> y

    2D cross-correlation, NCHW: ``x`` (N, C, H, W), ``w`` (F, C, kh, kw),
    ``y`` (N, F, Ho, Wo), ``Ho = (H + 2 ph - kh) // sh + 1``. See
    :func:`conv2d` for the parameters.
    """

    _c_entry = "crmn_conv2d_fwd"

    def make_node(self, x, w):
        name = "Conv2d"
        x, w = _as_4d(x, "input", name), _as_4d(w, "filters", name)
        _same_dtype(x, w, name)
        n, c, h, wd = x.type.shape
        f, c2, kh, kw = w.type.shape
        _eq(c, c2, f"{name}: input has {c} channels but filters expect {c2} (filters shape (F, C, kh, kw))")
        _check_geometry(name, (h, wd), (kh, kw), self.stride, self.border_mode)
        shape = (n, f, _size(h, kh, self.stride[0], self.border_mode, 0),
                 _size(wd, kw, self.stride[1], self.border_mode, 1))
        return Apply(self, [x, w], [pt.tensor(dtype=x.dtype, shape=shape)])

    def perform(self, node, inputs, outputs):
        x, w = inputs
        kh, kw = w.shape[2:]
        if x.shape[1] != w.shape[1]:
            raise ValueError(f"Conv2d: input has {x.shape[1]} channels but filters expect {w.shape[1]}")
        self._runtime_check(x.shape[2:], (kh, kw))
        outputs[0][0] = conv_numpy.conv2d_forward(x, w, self.stride, self._pad(kh, kw))

    @shape_rule
    def infer_shape(self, node, shapes):
        (n, _, h, wd), (f, _, kh, kw) = shapes
        return [(n, f, self._out(h, kh, 0), self._out(wd, kw, 1))]

    def pullback(self, inputs, outputs, output_grads):
        x, w = inputs
        (gy,) = output_grads
        dx = Conv2dGradInputs(self.stride, self.border_mode)(w, gy, x.shape[2:])
        dw = Conv2dGradWeights(self.stride, self.border_mode)(x, gy, w.shape[2:])
        return [dx, dw]


class Conv2dGradWeights(_BaseConv2d):
    """Conv2dGradWeights(stride=1, border_mode="half")(x, gy, kshape) -> dw

    Gradient of ``<Conv2d(x, w), gy>`` w.r.t. ``w`` (F, C, kh, kw), with
    ``(kh, kw) = kshape``: ``dw[f,c,a,b] = sum_{n,i,j} gy[n,f,i,j]
    xpad[n,c,i*sh+a,j*sw+b]``.
    """

    _c_entry = "crmn_conv2d_gradw"

    def make_node(self, x, gy, kshape):
        name = "Conv2dGradWeights"
        x, gy = _as_4d(x, "input", name), _as_4d(gy, "output gradient", name)
        kshape = _as_hw(kshape, "kshape", name)
        _same_dtype(x, gy, name)
        n, c, h, wd = x.type.shape
        n2, f, ho, wo = gy.type.shape
        _eq(n, n2, f"{name}: input batch {n} != output-gradient batch {n2}")
        kh, kw = _const_hw(kshape)
        _check_geometry(name, (h, wd), (kh, kw), self.stride, self.border_mode, (ho, wo))
        return Apply(self, [x, gy, kshape], [pt.tensor(dtype=x.dtype, shape=(f, c, kh, kw))])

    def perform(self, node, inputs, outputs):
        x, gy, kshape = inputs
        kh, kw = (int(k) for k in kshape)
        if x.shape[0] != gy.shape[0]:
            raise ValueError(f"Conv2dGradWeights: input batch {x.shape[0]} != output-gradient batch {gy.shape[0]}")
        self._runtime_check(x.shape[2:], (kh, kw), gy.shape[2:])
        outputs[0][0] = conv_numpy.conv2d_grad_weights(x, gy, (kh, kw), self.stride, self._pad(kh, kw))

    @shape_rule
    def infer_shape(self, node, shapes):
        x, gy, kshape = node.inputs
        return [(shapes[1][1], shapes[0][1], kshape[0], kshape[1])]

    def connection_pattern(self, node):
        return [[True], [True], [False]]

    def pullback(self, inputs, outputs, output_grads):
        x, gy, kshape = inputs
        (gdw,) = output_grads
        dx = Conv2dGradInputs(self.stride, self.border_mode)(gdw, gy, x.shape[2:])
        dgy = Conv2d(self.stride, self.border_mode)(x, gdw)
        return [dx, dgy, DisconnectedType()()]


class Conv2dGradInputs(_BaseConv2d):
    """Conv2dGradInputs(stride=1, border_mode="half")(w, gy, ishape) -> dx

    Gradient of ``<Conv2d(x, w), gy>`` w.r.t. ``x`` (N, C, H, W), with
    ``(H, W) = ishape`` (the "transposed convolution" of ``gy`` by ``w``).
    """

    _c_entry = "crmn_conv2d_gradi"

    def make_node(self, w, gy, ishape):
        name = "Conv2dGradInputs"
        w, gy = _as_4d(w, "filters", name), _as_4d(gy, "output gradient", name)
        ishape = _as_hw(ishape, "ishape", name)
        _same_dtype(w, gy, name)
        f, c, kh, kw = w.type.shape
        n, f2, ho, wo = gy.type.shape
        _eq(f, f2, f"{name}: filters have {f} output channels but the output gradient has {f2}")
        h, wd = _const_hw(ishape)
        _check_geometry(name, (h, wd), (kh, kw), self.stride, self.border_mode, (ho, wo))
        return Apply(self, [w, gy, ishape], [pt.tensor(dtype=w.dtype, shape=(n, c, h, wd))])

    def perform(self, node, inputs, outputs):
        w, gy, ishape = inputs
        h, wd = (int(s) for s in ishape)
        if w.shape[0] != gy.shape[1]:
            raise ValueError(f"Conv2dGradInputs: filters have {w.shape[0]} output channels but the "
                             f"output gradient has {gy.shape[1]}")
        self._runtime_check((h, wd), w.shape[2:], gy.shape[2:])
        outputs[0][0] = conv_numpy.conv2d_grad_inputs(w, gy, (h, wd), self.stride, self._pad(*w.shape[2:]))

    @shape_rule
    def infer_shape(self, node, shapes):
        w, gy, ishape = node.inputs
        return [(shapes[1][0], shapes[0][1], ishape[0], ishape[1])]

    def connection_pattern(self, node):
        return [[True], [True], [False]]

    def pullback(self, inputs, outputs, output_grads):
        w, gy, ishape = inputs
        (gdx,) = output_grads
        dw = Conv2dGradWeights(self.stride, self.border_mode)(gdx, gy, w.shape[2:])
        dgy = Conv2d(self.stride, self.border_mode)(gdx, w)
        return [dw, dgy, DisconnectedType()()]


# ----------------------------------------------------------------------------- public helper
def conv2d(input, filters, stride=1, pad="half"):
    """conv2d(input, filters, stride=1, pad="half") -> TensorVariable (N, F, H', W')

    2D cross-correlation in NCHW (no filter flip, Lasagne's
    ``flip_filters=False``).

    Parameters
    ----------
    input : tensor-like, 4D (N, C, H, W)
    filters : tensor-like, 4D (F, C, kh, kw)
    stride : int or (int, int)
        Subsampling (sh, sw), each >= 1.
    pad : {"half", "same", "valid", "full"}, int or (int, int)
        Zero padding: "half"/"same" is ``k // 2`` (keeps the size for odd
        kernels at stride 1), "valid" is 0, "full" is ``k - 1``.

    Returns
    -------
    TensorVariable
        ``y[n,f,i,j] = sum_{c,a,b} filters[f,c,a,b] input_pad[n,c,i*sh+a,j*sw+b]``,
        ``H' = (H + 2 ph - kh) // sh + 1``. Both operands are cast to their
        common float dtype (``floatX`` for integer operands).

    Raises
    ------
    TypeError, ValueError
        At graph build time for a wrong rank, a non-float dtype, negative
        padding, a stride < 1, or (when static shapes are known) a channel
        mismatch or a kernel larger than the padded input.
    """
    import pytensor

    x = pt.as_tensor_variable(input)
    w = pt.as_tensor_variable(filters)
    for var, what in ((x, "input (N, C, H, W)"), (w, "filters (F, C, kh, kw)")):
        if var.ndim != 4:
            raise TypeError(f"conv2d: {what} must be 4D, got ndim={var.ndim} ({var.type})")
    dtype = pytensor.scalar.upcast(x.dtype, w.dtype)
    if dtype not in _FLOATS:
        dtype = pytensor.config.floatX if dtype in (*integer_dtypes, "bool") else dtype
    if dtype not in _FLOATS:
        raise TypeError(f"conv2d: operands must be float32 or float64, got {x.dtype} and {w.dtype}")
    x, w = pt.cast(x, dtype), pt.cast(w, dtype)
    return Conv2d(stride, pad)(x, w)
