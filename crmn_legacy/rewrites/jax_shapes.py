"""Compile-time rewrite for the JAX backend: concrete shape inputs of the gradient Ops.

The gradient Ops' ``kshape`` / ``ishape`` inputs must be concrete when the JAX
function is traced (:mod:`crmn_legacy.ops.jax.conv`).
``crmn_conv_shape_as_tuple`` turns the ``MakeVector`` of ``Shape_i`` that
:meth:`Conv2d.pullback <crmn_legacy.ops.conv.Conv2d.pullback>` builds into a
``JAXShapeTuple``, a tuple of Python ints inside ``jax.jit``, as PyTensor does
for random variables' ``size``.  Importing this module needs JAX.
"""

from pytensor.graph.rewriting.basic import in2out, node_rewriter
from pytensor.link.jax.dispatch.shape import JAXShapeTuple
from pytensor.tensor.basic import MakeVector

from ..ops.conv import Conv2dGradInputs, Conv2dGradWeights
from ..ops.pool import MeanPoolGrad

__all__ = ["SHAPE_INPUTS", "shape_input_as_tuple", "REWRITES"]


#: Op class -> position of its concrete-shape input (``kshape``, ``ishape``).
SHAPE_INPUTS = {Conv2dGradWeights: 2, Conv2dGradInputs: 2, MeanPoolGrad: 1}


@node_rewriter(list(SHAPE_INPUTS))
def shape_input_as_tuple(fgraph, node):
    """Replace the ``MakeVector`` shape input of a node in :data:`SHAPE_INPUTS` by a ``JAXShapeTuple``."""
    pos = SHAPE_INPUTS.get(type(node.op))
    if pos is None:
        return None
    owner = node.inputs[pos].owner
    if owner is None or not isinstance(owner.op, MakeVector):
        return None
    inputs = list(node.inputs)
    inputs[pos] = JAXShapeTuple()(*owner.inputs)
    return node.op.make_node(*inputs).outputs


#: (database, name, rewriter, tags, position), registered by :func:`crmn_legacy.runtime.compile.register_rewrites`;
#: tag ``crmn_jax``: only ``crmn_legacy.runtime.compile.get_mode("JAX")`` includes it.
REWRITES = ((None, "crmn_conv_shape_as_tuple", in2out(shape_input_as_tuple), ("crmn_jax",), 100),)
