"""crmn_legacy.rewrites.fusion: an elementwise node with one elementwise reader is fused into it."""

import numpy as np
import pytensor
import pytensor.tensor as pt

import crmn_legacy  # noqa: F401
from crmn_legacy.runtime.compile import function, get_mode
from crmn_legacy.ops.relu import relu


def _elemwise(fn):
    return [n for n in fn.maker.fgraph.toposort() if type(n.op).__name__ == "Elemwise"]


def _residual_step(mode):
    """z = relu(a + b) read by a matmul whose gradient comes back to z's mask: the shape PyTensor's
    FusionOptimizer leaves unfused (the mask, a sink, cannot take z; the add is never tried again)."""
    a, b, w = pt.matrix("a"), pt.matrix("b"), pt.matrix("w")
    z = relu(a + b)
    loss = (pt.dot(z, w) ** 2).sum()
    return [a, b, w], function([a, b, w], [z, *pytensor.grad(loss, [a, b])], mode=mode, cache=False)


def test_add_is_fused_into_the_rectifier_and_results_are_unchanged():
    (a, b, w), fused = _residual_step(None)
    _, plain = _residual_step(get_mode(None).excluding("crmn_single_reader_fusion"))
    plain_nodes = _elemwise(plain)
    assert any(type(n.op.scalar_op).__name__ == "Add" for n in plain_nodes), "PyTensor alone leaves the add"
    fused_nodes = _elemwise(fused)
    assert len(fused_nodes) == len(plain_nodes) - 1
    forward = [n for n in fused_nodes if a in n.inputs]
    assert len(forward) == 1 and set(forward[0].inputs) == {a, b}
    rng = np.random.default_rng(0)
    vals = [rng.standard_normal(s).astype("float32") for s in ((4, 5), (4, 5), (5, 3))]
    for x, y in zip(fused(*vals), plain(*vals)):
        np.testing.assert_array_equal(x, y)


def test_composite_producer_nests_in_the_reader():
    """Applied directly to a graph: a producer that is already a Composite nests in the reader's Composite,
    a producer with two readers is left alone, and the values are unchanged."""
    import pytensor.scalar as ps
    from pytensor.graph.fg import FunctionGraph
    from pytensor.tensor.elemwise import Elemwise

    from crmn_legacy.rewrites.fusion import SingleReaderFusion

    a, b, c = pt.matrix("a"), pt.matrix("b"), pt.matrix("c")
    i0, i1 = ps.float32("i0"), ps.float32("i1")
    producer = Elemwise(ps.Composite([i0, i1], [ps.exp(i0) * i1]))(a, b)  # one reader: the rectifier
    z = relu(producer + c)  # the add has one reader too
    shared_input = pt.exp(c)  # two readers: left alone
    outs = [z, shared_input * 2.0, shared_input + 1.0]
    fg = FunctionGraph([a, b, c], outs, clone=True)
    SingleReaderFusion().apply(fg)
    nodes = [n for n in fg.toposort() if isinstance(n.op, Elemwise)]
    z_node = fg.outputs[0].owner
    assert set(z_node.inputs) == set(fg.inputs), "exp(a) * b and the add are inside the rectifier's Composite"
    assert any(isinstance(n.op.scalar_op, ps.Exp) for n in nodes), "exp(c) keeps its own node"
    f = pytensor.function(fg.inputs, fg.outputs, mode="CVM")
    rng = np.random.default_rng(1)
    vals = [rng.standard_normal((3, 4)).astype("float32") for _ in range(3)]
    got = f(*vals)
    np.testing.assert_allclose(got[0], np.maximum(np.exp(vals[0]) * vals[1] + vals[2], 0), rtol=1e-6)
    np.testing.assert_allclose(got[1], np.exp(vals[2]) * 2, rtol=1e-6)


def test_not_applied_outside_c_backends():
    (a, b, w), f = _residual_step(pytensor.compile.mode.Mode(linker="py", optimizer="fast_run"))
    assert any(type(n.op.scalar_op).__name__ == "Add" for n in _elemwise(f))
