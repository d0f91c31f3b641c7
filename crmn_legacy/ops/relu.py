"""relu(x) -- the rectifier as one scalar Op whose gradient reads its output.

``pt.maximum(x, 0)`` is differentiated as :math:`g \\cdot [\\max(x, 0) = x]`:
the backward pass needs both the input and the output.  In a residual block,
:math:`x_{l+1} = \\max(F(x_l) + x_l, 0)`, that keeps the sum
:math:`F(x_l) + x_l` alive until the backward pass, so PyTensor cannot fuse
the add into the rectifier: the training step writes the sum, reads it again
for the max, and reads both again for the gradient.

:class:`Relu` computes :math:`z = \\max(x, 0)` and differentiates it as

.. math::

    \\frac{\\partial L}{\\partial x} = g \\cdot [z > 0],

which needs only :math:`z` (PyTensor's ``Elemwise`` gradient maps a scalar
Op's outputs onto the forward outputs).  The sum then has one reader and
fuses: ``Composite{relu(i0 + i1)}`` forward, ``Composite{relu_grad(i0, i1 +
i2)}`` backward (:class:`ReluGrad`, :math:`(z, g) \\mapsto g\\,[z > 0]`).  At 0 the derivative is 0, the convention of the fused
``BatchNormTrain(relu=True)`` (``dy [y > 0]``); ``maximum``'s gradient gives 1
there.  A NaN input gives NaN.

:func:`crmn_legacy.nonlinearities.rectify` returns this Op, so printed graphs
say ``relu``.  Backends: C (``c_code``), Python (``impl``), JAX
(:mod:`crmn_legacy.ops.jax.relu`, ``jnp.maximum``); the Numba linker falls
back to ``impl`` in object mode, as for our other Ops.
"""

import numpy as np
import pytensor.scalar as ps
from pytensor import config
from pytensor.tensor.elemwise import Elemwise

__all__ = ["Relu", "ReluGrad", "relu", "relu_grad", "scalar_relu", "scalar_relu_grad"]

# Branch-free selects: a ReLU mask is true on about half the elements, in no order, and a data-dependent
# branch ("z > 0 ? g : 0", and gcc compiles "g * (float)(z > 0)" to one as well) mispredicts on half of
# them; the bit mask below costs the same whatever the signs (docs/PERFORMANCE.md).
_C_SUPPORT = """
#ifndef CRMN_RELU_SELECT
#define CRMN_RELU_SELECT
#include <stdint.h>
#include <string.h>
/* keep ? v : 0, without a branch: crmn_keep_f32 / crmn_keep_f64 */
#define CRMN_KEEP_DEF(NAME, T, U)                                                                   \
    static inline T NAME(int keep, T v)                                                             \
    {                                                                                               \
        U u;                                                                                        \
        memcpy(&u, &v, sizeof u);                                                                   \
        u &= (U)0 - (U)(keep != 0);                                                                 \
        memcpy(&v, &u, sizeof u);                                                                   \
        return v;                                                                                   \
    }
CRMN_KEEP_DEF(crmn_keep_f32, npy_float32, uint32_t)
CRMN_KEEP_DEF(crmn_keep_f64, npy_float64, uint64_t)
#endif
"""
_KEEP = {"float32": "crmn_keep_f32", "float64": "crmn_keep_f64"}


class Relu(ps.UnaryScalarOp):
    """Relu(output_types_preference=same_out, name="relu"): z = max(x, 0), dz/dx = [z > 0]."""

    nfunc_spec = None

    def impl(self, x):
        return np.maximum(x, np.zeros((), dtype=np.asarray(x).dtype))

    def pullback(self, inputs, outputs, gout):
        (x,), (z,), (gz,) = inputs, outputs, gout
        if z.type in ps.discrete_types:  # an integer relu: no gradient, as for PyTensor's integer Ops
            return [x.zeros_like(dtype=config.floatX)]
        return [scalar_relu_grad(z, gz)]

    def c_support_code(self, **kwargs):
        return _C_SUPPORT

    def c_code(self, node, name, inputs, outputs, sub):
        (x,), (z,) = inputs, outputs
        keep = _KEEP.get(node.outputs[0].type.dtype)
        if keep is None:  # integers
            return f"{z} = {x} < 0 ? 0 : {x};"
        return f"{z} = {keep}(!({x} < 0), {x});"  # a NaN compares false and passes through

    def c_code_cache_version(self):
        return (3,)


class ReluGrad(ps.BinaryScalarOp):
    """ReluGrad(output_types_preference=upgrade_to_float, name="relu_grad"): (z, g) -> g [z > 0].

    One scalar Op rather than ``switch(z > 0, g, 0)``: elementwise fusion would
    otherwise move the mask ``z > 0`` into the forward pass, which then writes
    a boolean tensor that a separate, unfused ``Switch`` reads.
    """

    nfunc_spec = None

    def impl(self, z, g):
        return np.where(np.asarray(z) > 0, g, np.zeros((), dtype=np.asarray(g).dtype))

    def pullback(self, inputs, outputs, gout):
        (z, g), (gg,) = inputs, gout
        # d/dg is the same mask; d/dz is 0 wherever it is defined
        return [z.zeros_like(dtype=config.floatX) if z.type in ps.discrete_types else z.zeros_like(),
                scalar_relu_grad(z, gg)]

    def c_support_code(self, **kwargs):
        return _C_SUPPORT

    def c_code(self, node, name, inputs, outputs, sub):
        (z, g), (out,) = inputs, outputs
        keep = _KEEP.get(node.outputs[0].type.dtype)
        if keep is None or node.inputs[1].type.dtype != node.outputs[0].type.dtype:
            return f"{out} = {z} > 0 ? {g} : 0;"
        return f"{out} = {keep}({z} > 0, {g});"

    def c_code_cache_version(self):
        return (4,)


#: The scalar Ops and their Elemwise: ``relu(x)`` and ``relu_grad(z, g)`` on tensors.
scalar_relu = Relu(ps.same_out, name="relu")
scalar_relu_grad = ReluGrad(ps.upgrade_to_float, name="relu_grad")
relu = Elemwise(scalar_relu, name="relu")
relu_grad = Elemwise(scalar_relu_grad, name="relu_grad")
