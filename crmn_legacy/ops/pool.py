"""mean_pool(x, p=2) -- non-overlapping p x p mean pooling Ops for PyTensor.

The CRMN feeds the LSTM every residual-block output 2x2 mean-pooled
(paper section 3.2).  In graph form (reshape to (N, C, H/p, p, W/p, p) and
``mean``) the pooling and, worse, its gradient (an ``Alloc`` broadcast, a
division, a reshape) run as single-threaded generic loops; these two Ops do
it in one OpenMP pass each:

* :class:`MeanPool` ``(x) -> y``:
  :math:`y_{n,c,i,j} = \\frac{1}{p^2}\\sum_{a,b<p} x_{n,c,pi+a,pj+b}`
  (rows and columns that do not fill a window are ignored, Lasagne's
  ``ignore_border=True``);
* :class:`MeanPoolGrad` ``(gy, ishape) -> dx``:
  :math:`dx_{n,c,r,s} = \\frac{1}{p^2} gy_{n,c,\\lfloor r/p\\rfloor,\\lfloor s/p\\rfloor}`
  (0 in the ignored border), the adjoint of :class:`MeanPool`.

Each is the other's gradient, so derivatives of any order exist.  C code in
``c/src/pool_*.{h,c}``, NumPy ``perform``, JAX dispatch in
:mod:`crmn_legacy.ops.jax.pool`.
"""

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply
from pytensor.link.c.op import COp
from pytensor.link.c.params_type import ParamsType
from pytensor.scalar import int64
from pytensor.tensor.type import integer_dtypes

from .c.templates import DTYPES, OpenMPMixin, c_call
from .shape_rule import shape_rule

__all__ = ["mean_pool", "MeanPool", "MeanPoolGrad", "mean_pool_reference", "mean_pool_grad_reference"]


def mean_pool_reference(x, p):
    """mean_pool_reference(x, p) -> ndarray: NumPy mean pooling (the tests' and ``perform``'s reference)."""
    n, c, h, w = x.shape
    ho, wo = h // p, w // p
    v = x[:, :, : ho * p, : wo * p].reshape(n, c, ho, p, wo, p)
    return v.mean(axis=(3, 5), dtype=np.float64).astype(x.dtype)


def mean_pool_grad_reference(gy, hw, p):
    """mean_pool_grad_reference(gy, hw, p) -> ndarray: NumPy adjoint of :func:`mean_pool_reference`."""
    n, c, ho, wo = gy.shape
    dx = np.zeros((n, c) + tuple(int(s) for s in hw), dtype=gy.dtype)
    up = np.repeat(np.repeat(gy, p, axis=2), p, axis=3) / gy.dtype.type(p * p)
    dx[:, :, : ho * p, : wo * p] = up
    return dx


def _check_p(p, opname):
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, np.integer)) or p < 1:
        raise ValueError(f"{opname}: pool size must be a positive int, got {p!r}")
    return int(p)


def _as_4d_float(v, what, opname):
    v = pt.as_tensor_variable(v)
    if v.ndim != 4 or v.dtype not in DTYPES:
        raise TypeError(f"{opname}: {what} must be a 4-D float32/float64 tensor (N, C, H, W), got {v.type}")
    return v


class _MeanPoolC(OpenMPMixin, COp):
    __props__ = ("p",)
    params_type = ParamsType(p=int64)
    _c_sources = ("pool_common.h", "pool_template.c")

    def __init__(self, p=2):
        self.p = _check_p(p, type(self).__name__)

    def __str__(self):
        return f"{type(self).__name__}{{p={self.p}}}"


class MeanPool(_MeanPoolC):
    """MeanPool(p=2)(x) -> y: p x p mean pooling of a (N, C, H, W) tensor, stride p (module docstring)."""

    def make_node(self, x):
        x = _as_4d_float(x, "input", "MeanPool")
        h, w = x.type.shape[2:]
        for s in (h, w):
            if s is not None and s < self.p:
                raise ValueError(f"MeanPool: input of spatial shape {x.type.shape[2:]} is smaller than the "
                                 f"{self.p}x{self.p} pool")
        out = tuple(None if s is None else s // self.p for s in (h, w))
        return Apply(self, [x], [pt.tensor(dtype=x.dtype, shape=x.type.shape[:2] + out)])

    def perform(self, node, inputs, outputs):
        (x,) = inputs
        if x.shape[2] < self.p or x.shape[3] < self.p:
            raise ValueError(f"MeanPool: input of spatial shape {x.shape[2:]} is smaller than the "
                             f"{self.p}x{self.p} pool")
        outputs[0][0] = mean_pool_reference(x, self.p)

    @shape_rule
    def infer_shape(self, node, shapes):
        n, c, h, w = shapes[0]
        return [(n, c, h // self.p, w // self.p)]

    def c_code(self, node, name, inputs, outputs, sub):
        return c_call("crmn_meanpool_fwd", node, [inputs[0], f"(int){sub['params']}->p", f"&{outputs[0]}"], sub)

    def pullback(self, inputs, outputs, output_grads):
        (x,) = inputs
        return [MeanPoolGrad(self.p)(output_grads[0], x.shape[2:])]


class MeanPoolGrad(_MeanPoolC):
    """MeanPoolGrad(p=2)(gy, ishape) -> dx: the gradient (adjoint) of :class:`MeanPool` for an input of spatial shape ``ishape``."""

    def make_node(self, gy, ishape):
        gy = _as_4d_float(gy, "output gradient", "MeanPoolGrad")
        ishape = pt.as_tensor_variable(ishape)
        if ishape.ndim != 1 or ishape.dtype not in integer_dtypes:
            raise TypeError(f"MeanPoolGrad: ishape must be an integer vector (H, W), got {ishape.type}")
        ishape = pt.cast(ishape, "int64")
        hw = tuple(int(v) if v is not None else None for v in _constant_pair(ishape))
        return Apply(self, [gy, ishape], [pt.tensor(dtype=gy.dtype, shape=gy.type.shape[:2] + hw)])

    def perform(self, node, inputs, outputs):
        gy, hw = inputs
        if hw[0] // self.p != gy.shape[2] or hw[1] // self.p != gy.shape[3]:
            raise ValueError(f"MeanPoolGrad: output gradient of spatial shape {gy.shape[2:]} does not come from a "
                             f"{self.p}x{self.p} pooling of a {tuple(hw)} input")
        outputs[0][0] = mean_pool_grad_reference(gy, hw, self.p)

    @shape_rule
    def infer_shape(self, node, shapes):
        n, c = shapes[0][:2]
        ishape = node.inputs[1]
        return [(n, c, ishape[0], ishape[1])]

    def connection_pattern(self, node):
        return [[True], [False]]

    def c_code(self, node, name, inputs, outputs, sub):
        return c_call("crmn_meanpool_grad", node, [*inputs, f"(int){sub['params']}->p", f"&{outputs[0]}"], sub)

    def pullback(self, inputs, outputs, output_grads):
        return [MeanPool(self.p)(output_grads[0]), DisconnectedType()()]


def _constant_pair(v):
    """(H, W) as ints where ``v`` is a constant vector, else (None, None)."""
    try:
        from pytensor.tensor.basic import get_underlying_scalar_constant_value

        return tuple(int(get_underlying_scalar_constant_value(v[i])) for i in range(2))
    except Exception:  # not a constant: sizes known only at run time
        return (None, None)


def mean_pool(x, p=2):
    """mean_pool(x, p=2) -> TensorVariable

    Non-overlapping ``p x p`` mean pooling of ``x`` (N, C, H, W) with stride
    ``p``; borders that do not fill a window are ignored.

    Raises
    ------
    TypeError, ValueError
        At graph build time for a non-float or non-4-D input, a bad ``p``, or
        (when known) an input smaller than the pool.
    """
    return MeanPool(p)(x)
