"""Compile-time rewrite: fuse an elementwise node into its only reader.

PyTensor's ``FusionOptimizer`` grows fused subgraphs from *sinks* (elementwise
nodes with no fuseable reader).  When the growth from a sink is blocked -- its
producer is also an ancestor of a non-elementwise input of the sink -- the
producer is never tried again with its other readers.  A training step is full
of that shape: the rectifier of a residual block,

.. math::

    z = \\max(s, 0), \\quad s = \\mathrm{BN}(\\ldots) + x_l,

has two readers, the next layer and the gradient mask :math:`g\\,[z > 0]`
(:class:`~crmn_legacy.ops.relu.ReluGrad`), and the mask also reads the
gradient flowing back through the next layer, which depends on :math:`z`.
The sink (the mask) cannot take :math:`z`, and the add :math:`s`, whose only
reader is the rectifier, is left unfused: one extra write and read of the
whole activation.  The backward sums of gradients (shortcut + convolution +
LSTM pooling) feeding the previous block's mask are left unfused the same way.

``crmn_single_reader_fusion`` (position 49.05, right after
``elemwise_fusion``; tags ``crmn``, ``fusion``, ``cxx_only``) merges every
single-output ``Elemwise`` node whose output has exactly one reader, itself an
``Elemwise`` with the same broadcast pattern, into that reader's ``Composite``.
This never creates a cycle (every path from the producer leaves through that
one reader) and computes each element once, as before.  Repeated until no
such pair is left.
"""

from pytensor.graph.rewriting.basic import GraphRewriter
from pytensor.scalar import Composite, get_scalar_type
from pytensor.tensor.elemwise import Elemwise

__all__ = ["SingleReaderFusion", "REWRITES"]


def _scalar_outputs(op, scalar_inputs):
    """The scalar output variables of an Elemwise ``op`` applied to ``scalar_inputs``.

    A ``Composite`` stays one (nested) scalar node, as in PyTensor's own ``FusionOptimizer``.
    """
    return op.scalar_op.make_node(*scalar_inputs).outputs


class SingleReaderFusion(GraphRewriter):
    """SingleReaderFusion() -- fuse each single-output Elemwise into its only (Elemwise) reader.

    One walk in reverse topological order: a reader is visited before its producers, so a chain
    ``p1 -> p2 -> r`` folds into one Composite in the same walk (``p2`` into ``r``, then ``p1`` into the
    result).  Replacements skip whole-graph validation: the fused node has the reader's output types,
    and no cycle can appear (every path from the producer leaves through the reader).
    """

    def __init__(self):
        super().__init__()
        self._has_c = {}

    def _fuseable(self, node):
        """An Elemwise, not in place, whose scalar Op has C code for these input dtypes (cached)."""
        if not isinstance(node.op, Elemwise) or node.op.inplace_pattern:
            return False
        key = (node.op.scalar_op, tuple(i.type.dtype for i in node.inputs))
        ok = self._has_c.get(key)
        if ok is None:
            ok = self._has_c[key] = bool(node.op.scalar_op.supports_c_code(node.inputs, node.outputs))
        return ok

    def _reader(self, fgraph, node):
        """The Elemwise reader ``node`` may be fused into, else None."""
        if len(node.outputs) != 1:
            return None
        out = node.outputs[0]
        clients = fgraph.clients[out]
        if len(clients) != 1:
            return None
        reader = clients[0][0]
        if not self._fuseable(reader) or not self._fuseable(node):
            return None
        if any(o.type.broadcastable != out.type.broadcastable for o in reader.outputs):
            return None
        return reader

    @staticmethod
    def _fused(producer, reader):
        """The Elemwise(Composite) outputs computing ``reader`` with ``producer`` inlined."""
        p_out = producer.outputs[0]
        inputs = list(dict.fromkeys([i for i in reader.inputs if i is not p_out] + list(producer.inputs)))
        scalars = {i: get_scalar_type(i.type.dtype).make_variable() for i in inputs}
        (s_p,) = _scalar_outputs(producer.op, [scalars[i] for i in producer.inputs])
        s_outs = _scalar_outputs(reader.op, [s_p if i is p_out else scalars[i] for i in reader.inputs])
        composite = Composite([scalars[i] for i in inputs], s_outs)
        return Elemwise(composite)(*inputs, return_list=True)

    def apply(self, fgraph):
        changed = True
        while changed:
            changed = False
            for node in reversed(fgraph.toposort()):
                if node not in fgraph.apply_nodes:
                    continue
                reader = self._reader(fgraph, node)
                if reader is None:
                    continue
                new = self._fused(node, reader)
                for old_out, new_out in zip(reader.outputs, new):
                    fgraph.replace(old_out, new_out, reason="crmn_single_reader_fusion", import_missing=True)
                changed = True


#: (database, name, rewriter, tags, position), registered by :func:`crmn_legacy.runtime.compile.register_rewrites`.
REWRITES = ((None, "crmn_single_reader_fusion", SingleReaderFusion(), ("crmn", "fusion", "cxx_only"), 49.05),)
