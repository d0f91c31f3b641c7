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
``elemwise_fusion``; tags ``fast_run``, ``fusion``, ``cxx_only``) merges every
single-output ``Elemwise`` node whose output has exactly one reader, itself an
``Elemwise`` with the same broadcast pattern, into that reader's ``Composite``.
This never creates a cycle (every path from the producer leaves through that
one reader) and computes each element once, as before.  Repeated until no
such pair is left.
"""

from pytensor.compile import optdb
from pytensor.graph.basic import Apply
from pytensor.graph.rewriting.basic import GraphRewriter
from pytensor.scalar import Composite, get_scalar_type
from pytensor.tensor.elemwise import Elemwise

__all__ = ["SingleReaderFusion"]


def _scalar_outputs(op, scalar_inputs):
    """The scalar output variables of an Elemwise ``op`` applied to ``scalar_inputs``.

    A ``Composite`` stays one (nested) scalar node, as in PyTensor's own ``FusionOptimizer``.
    """
    return op.scalar_op.make_node(*scalar_inputs).outputs


def _fuseable(node):
    return (isinstance(node.op, Elemwise) and not node.op.inplace_pattern
            and node.op.scalar_op.supports_c_code(node.inputs, node.outputs))


class SingleReaderFusion(GraphRewriter):
    """SingleReaderFusion() -- fuse each single-output Elemwise into its only (Elemwise) reader."""

    def add_requirements(self, fgraph):
        from pytensor.graph.features import ReplaceValidate

        fgraph.attach_feature(ReplaceValidate())

    @staticmethod
    def _pair(fgraph, node):
        """(producer, reader) when ``node`` may be fused into its only reader, else None."""
        if len(node.outputs) != 1 or not _fuseable(node):
            return None
        out = node.outputs[0]
        clients = fgraph.clients[out]
        if len(clients) != 1:
            return None
        reader = clients[0][0]
        if not isinstance(reader, Apply) or not _fuseable(reader):
            return None
        if any(o.type.broadcastable != out.type.broadcastable for o in reader.outputs):
            return None
        return node, reader

    @staticmethod
    def _fused(producer, reader):
        """The Elemwise(Composite) outputs computing ``reader`` with ``producer`` inlined."""
        p_out = producer.outputs[0]
        inputs = list(dict.fromkeys([i for i in reader.inputs if i is not p_out] + list(producer.inputs)))
        scalars = {i: get_scalar_type(i.type.dtype).make_variable() for i in inputs}
        (s_p,) = _scalar_outputs(producer.op, [scalars[i] for i in producer.inputs])
        s_outs = _scalar_outputs(reader.op, [s_p if i is p_out else scalars[i] for i in reader.inputs])
        composite = Composite([scalars[i] for i in inputs], s_outs)
        outs = Elemwise(composite)(*inputs, return_list=True)
        return outs

    def apply(self, fgraph):
        changed = True
        while changed:
            changed = False
            for node in fgraph.toposort():
                if node not in fgraph.apply_nodes:
                    continue
                pair = self._pair(fgraph, node)
                if pair is None:
                    continue
                producer, reader = pair
                new = self._fused(producer, reader)
                fgraph.replace_all_validate(list(zip(reader.outputs, new)), reason="crmn_single_reader_fusion")
                changed = True


optdb.register("crmn_single_reader_fusion", SingleReaderFusion(), "fast_run", "fusion", "cxx_only", position=49.05)
