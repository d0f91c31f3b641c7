"""Compile-time rewrite: add a per-channel bias in place.

Graphs are built with ``AddChannelBias(inplace=False)``
(:mod:`crmn_legacy.ops.channel`); ``crmn_inplace_channel_bias`` (position
50.2, tags ``crmn``, ``inplace``) switches to ``inplace=True`` wherever
PyTensor's destroy handler accepts it, i.e. where ``x`` is not needed
elsewhere, as for a convolution's fresh output: one memory pass instead of a
read, a write and an allocation.
"""

from pytensor.graph.rewriting.basic import WalkingGraphRewriter, copy_stack_trace, node_rewriter

from ..ops.channel import AddChannelBias

__all__ = ["local_inplace_channel_bias", "REWRITES"]


@node_rewriter([AddChannelBias], inplace=True)
def local_inplace_channel_bias(fgraph, node):
    """AddChannelBias(x, b) -> AddChannelBias(inplace=True)(x, b) where the destroy handler allows it."""
    if node.op.inplace:
        return False
    new = AddChannelBias(inplace=True)(*node.inputs)
    copy_stack_trace(node.outputs, new)
    return [new]


#: (database, name, rewriter, tags, position), registered by :func:`crmn_legacy.runtime.compile.register_rewrites`.
REWRITES = ((None, "crmn_inplace_channel_bias",
             WalkingGraphRewriter(local_inplace_channel_bias, failure_callback=WalkingGraphRewriter.warn_inplace),
             ("crmn", "inplace"), 50.2),)
