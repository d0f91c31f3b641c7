"""shape_rule -- one ``infer_shape`` signature for every PyTensor 3 release.

PyTensor up to 3.2 calls ``op.infer_shape(fgraph, node, input_shapes)``; from
3.3 on it calls ``op.infer_shape(node, input_shapes)`` and warns (a
``DeprecationWarning`` at class creation) about every Op whose
``infer_shape`` still names ``fgraph``.  Our Ops write the new form and wear
:func:`shape_rule`, which accepts both calls; :func:`inspect.signature` sees
the undecorated ``(self, node, input_shapes)``, so 3.3 does not warn.
"""

import functools

__all__ = ["shape_rule"]


def shape_rule(method):
    """shape_rule(method) -> ``infer_shape`` callable as ``(node, shapes)`` and as ``(fgraph, node, shapes)``.

    Parameters
    ----------
    method : callable ``(self, node, input_shapes) -> list of shape tuples``

    Returns
    -------
    callable
        Drops a leading ``fgraph`` argument (PyTensor < 3.3), then calls ``method``.
    """

    @functools.wraps(method)
    def infer_shape(self, *args):
        if len(args) not in (2, 3):
            raise TypeError(f"infer_shape takes (node, input_shapes) or (fgraph, node, input_shapes), "
                            f"got {len(args)} arguments")
        node, input_shapes = args[-2:]
        return method(self, node, input_shapes)

    return infer_shape
