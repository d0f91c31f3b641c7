"""matmul(a, b, trans_a=False, trans_b=False) -- a matrix product that uses both cores.

PyTensor's ``Dot22`` calls one BLAS ``gemm``, and our OpenBLAS runs
single-threaded (its own threads busy-wait and collapse on a shared 2-core
machine: :func:`crmn_legacy.configure`).  The CRMN's biggest matrix
products are the LSTM input projections ``P = X W_x`` of every stage (one
(5N x D) . (D x 4H) product per stage and two more in the gradient, ~11
GFLOP per CRMN-32 training step at batch 128), so they ran on one core while
the other idled.  :class:`Matmul` computes

.. math::  C = \\mathrm{op}_a(A)\\, \\mathrm{op}_b(B), \\qquad \\mathrm{op}(X) = X \\text{ or } X^\\top,

cutting the larger of C's two dimensions into one block per OpenMP thread,
each computed by a single-threaded ``cblas_?gemm`` (same arithmetic).  Its
gradients are :class:`Matmul` s again (``dA = G op_b(B)^T``, ``dB = op_a(A)^T
G``, with the transposes folded into the flags), so derivatives of any order
exist.  C code in ``c/src/matmul_*``, NumPy ``perform``, JAX dispatch in
:mod:`crmn_legacy.ops.jax.matmul`.
"""

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.link.c.op import COp
from pytensor.link.c.params_type import ParamsType
from pytensor.scalar import int64

from .c.templates import BLAS_HEADER, DTYPES, BlasMixin, c_call
from .shape_rule import shape_rule

__all__ = ["matmul", "Matmul"]


class Matmul(BlasMixin, COp):
    """Matmul(trans_a=False, trans_b=False)(a, b) -> op(a) . op(b) for float32/float64 matrices (module docstring)."""

    __props__ = ("trans_a", "trans_b")
    params_type = ParamsType(trans_a=int64, trans_b=int64)
    _c_sources = (BLAS_HEADER, "matmul_common.h", "matmul_template.c")

    def __init__(self, trans_a=False, trans_b=False):
        self.trans_a, self.trans_b = bool(trans_a), bool(trans_b)

    def __str__(self):
        return f"Matmul{{{'T' if self.trans_a else 'N'}{'T' if self.trans_b else 'N'}}}"

    def _op_shape(self, shape, trans):
        return tuple(reversed(shape)) if trans else tuple(shape)

    def make_node(self, a, b):
        a, b = pt.as_tensor_variable(a), pt.as_tensor_variable(b)
        for v, what in ((a, "a"), (b, "b")):
            if v.ndim != 2 or v.dtype not in DTYPES:
                raise TypeError(f"Matmul: {what} must be a float32/float64 matrix, got {v.type}")
        if a.dtype != b.dtype:
            raise TypeError(f"Matmul: a and b must have the same dtype, got {a.dtype} and {b.dtype}")
        m, k = self._op_shape(a.type.shape, self.trans_a)
        k2, n = self._op_shape(b.type.shape, self.trans_b)
        if k is not None and k2 is not None and k != k2:
            raise ValueError(f"Matmul: inner dimensions differ: op(a) is {m} x {k}, op(b) is {k2} x {n}")
        return Apply(self, [a, b], [pt.tensor(dtype=a.dtype, shape=(m, n))])

    def perform(self, node, inputs, outputs):
        a, b = inputs
        a = a.T if self.trans_a else a
        b = b.T if self.trans_b else b
        if a.shape[1] != b.shape[0]:
            raise ValueError(f"Matmul: inner dimensions differ: op(a) is {a.shape}, op(b) is {b.shape}")
        outputs[0][0] = np.asarray(a @ b, dtype=node.outputs[0].dtype)

    @shape_rule
    def infer_shape(self, node, shapes):
        m = shapes[0][1 if self.trans_a else 0]
        n = shapes[1][0 if self.trans_b else 1]
        return [(m, n)]

    def c_code(self, node, name, inputs, outputs, sub):
        p = sub["params"]
        return c_call("crmn_matmul", node, [*inputs, f"(int){p}->trans_a", f"(int){p}->trans_b", f"&{outputs[0]}"], sub)

    def pullback(self, inputs, outputs, output_grads):
        a, b = inputs
        (g,) = output_grads
        ta, tb = self.trans_a, self.trans_b
        # d op_a(A) = G op_b(B)^T ;  d op_b(B) = op_a(A)^T G ; transposes folded into the flags
        da = Matmul(tb, True)(b, g) if ta else Matmul(False, not tb)(g, b)
        db = Matmul(True, ta)(g, a) if tb else Matmul(not ta, False)(a, g)
        return [da, db]


def matmul(a, b, trans_a=False, trans_b=False):
    """matmul(a, b, trans_a=False, trans_b=False) -> TensorVariable

    ``op(a) . op(b)`` of two float matrices, ``op`` a transpose where the flag
    says so, computed on every core (:class:`Matmul`).

    Raises
    ------
    TypeError, ValueError
        At graph build time for non-matrices, mixed dtypes or (when known)
        mismatched inner dimensions.
    """
    return Matmul(trans_a, trans_b)(a, b)
