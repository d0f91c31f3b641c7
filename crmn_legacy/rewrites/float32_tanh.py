"""Compile-time rewrite: float32 ``tanh`` through :class:`~crmn_legacy.ops.tanh.DoubleExpTanh` (C backend).

``crmn_float32_tanh`` (``specialize``, tags ``crmn`` and ``cxx_only``, so the
JAX and Numba modes keep PyTensor's ``tanh``) replaces every float32
``Elemwise{tanh}`` of a compiled graph by ``Elemwise{double_exp_tanh}``
before elementwise fusion; why and how accurate: :mod:`crmn_legacy.ops.tanh`.
"""

import pytensor.scalar as ps
from pytensor.graph.rewriting.basic import copy_stack_trace, node_rewriter
from pytensor.tensor.elemwise import Elemwise

from ..ops.tanh import double_exp_tanh

__all__ = ["local_float32_tanh", "REWRITES"]


@node_rewriter([Elemwise])
def local_float32_tanh(fgraph, node):
    """Elemwise{tanh}(x) -> Elemwise{double_exp_tanh}(x) for a float32 x (C backend only)."""
    op = node.op
    if type(op.scalar_op) is not ps.Tanh or op.inplace_pattern:
        return False
    if node.inputs[0].type.dtype != "float32" or node.outputs[0].type.dtype != "float32":
        return False
    out = double_exp_tanh(node.inputs[0])
    copy_stack_trace(node.outputs, out)
    return [out]


#: (database, name, rewriter, tags, position), registered by :func:`crmn_legacy.runtime.compile.register_rewrites`.
REWRITES = (("specialize", "crmn_float32_tanh", local_float32_tanh, ("crmn", "cxx_only"), None),)
