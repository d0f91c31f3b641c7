"""A float32 ``tanh`` for the C backend that does not call libm's ``tanhf``.

PyTensor's scalar ``tanh`` compiles to ``tanh((npy_float32) x)``, i.e. glibc's
``tanhf``, a scalar libm call the compiler cannot vectorise (without
``-ffast-math``) and several times slower than numpy's SIMD ``tanh``.  The
LSTM's gate ``Composite`` (eqs. 2-7: three sigmoids, two tanh) spent most of
its time in it, and the backward ``Composite`` recomputes ``tanh(x)`` for
:math:`1 - \\tanh^2(x)`.

:class:`DoubleExpTanh` computes, in double precision,

.. math::

    \\tanh x = \\operatorname{sign}(x)\\,\\frac{1 - e^{-2|x|}}{1 + e^{-2|x|}},
    \\qquad |x| < 2^{-12}:\\ \\tanh x = x\\,(1 - x^2/3),

and rounds once to float32: one double ``exp`` (about 8 ns with the
division).  The double-precision intermediate makes the cancellation in
:math:`1 - e^{-2|x|}` harmless (relative error ~1e-16 / |x|, below 1e-12 on
the branch that uses it), and the series is exact to float32 precision below
:math:`2^{-12}`: the results are correctly rounded where checked, at less
than half ``tanhf``'s cost (``docs/PERFORMANCE.md``).  Signed zeros, +-inf
(+-1) and NaN behave as ``tanhf``.

The rewrite ``crmn_float32_tanh`` (:mod:`crmn_legacy.rewrites.float32_tanh`;
``specialize``, tags ``crmn`` and
``cxx_only``, so the JAX and Numba modes keep PyTensor's ``tanh``) replaces
every float32 ``Elemwise{tanh}`` of a compiled graph by
``Elemwise{DoubleExpTanh}`` before elementwise fusion.  The graph a user
builds and prints keeps ``tanh``; ``pytensor.dprint`` of a compiled function
shows ``double_exp_tanh``.  Its Python ``impl`` and gradient are
``Tanh``'s (the gradient, :math:`g\\,(1 - \\tanh^2 x)`, is built from
``tanh`` and so is rewritten too).
"""

import pytensor.scalar as ps
from pytensor.tensor.elemwise import Elemwise

__all__ = ["DoubleExpTanh", "double_exp_tanh"]

_C_SUPPORT = """
#ifndef CRMN_DOUBLE_EXP_TANH
#define CRMN_DOUBLE_EXP_TANH
#include <math.h>
/* tanh of a float32 through one double exp, rounded once (crmn_legacy/ops/tanh.py). */
static inline npy_float32 crmn_double_exp_tanh(npy_float32 x)
{
    const double a = fabs((double)x);
    double r;
    if (a < 2.44140625e-4) {          /* 2^-12: tanh a = a - a^3/3 + O(a^5) */
        r = a * (1.0 - a * a * (1.0 / 3.0));
    } else {
        const double e = exp(-2.0 * a);
        r = (1.0 - e) / (1.0 + e);
    }
    return copysignf((npy_float32)r, x);
}
#endif
"""


class DoubleExpTanh(ps.Tanh):
    """DoubleExpTanh(output_types_preference=upgrade_to_float, name="double_exp_tanh")

    ``tanh`` whose float32 C code is ``crmn_double_exp_tanh`` (see the module
    docstring); other dtypes, ``impl`` and the gradient are ``Tanh``'s.
    """

    def c_support_code(self, **kwargs):
        return _C_SUPPORT

    def c_code(self, node, name, inputs, outputs, sub):
        if node.outputs[0].type.dtype != "float32" or node.inputs[0].type.dtype != "float32":
            return super().c_code(node, name, inputs, outputs, sub)
        (x,), (z,) = inputs, outputs
        return f"{z} = crmn_double_exp_tanh({x});"

    def c_code_cache_version(self):
        return (1, *super().c_code_cache_version())


#: The scalar Op, and its Elemwise (what the rewrite puts in a compiled graph).
scalar_double_exp_tanh = DoubleExpTanh(ps.upgrade_to_float, name="double_exp_tanh")
double_exp_tanh = Elemwise(scalar_double_exp_tanh, name="double_exp_tanh")
