"""crmn_legacy.ops.relu: max(x, 0) whose gradient reads only its output, so a residual sum fuses into it."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import verify_grad

import crmn_legacy  # noqa: F401
from crmn_legacy import nonlinearities
from crmn_legacy.runtime.compile import function, get_mode
from crmn_legacy.ops.relu import Relu, relu

PY_MODE = pytensor.compile.mode.Mode(linker="py", optimizer="fast_run")


def _values(shape, seed=0):
    v = np.random.default_rng(seed).standard_normal(shape).astype("float32")
    v.flat[:3] = [0.0, -0.0, 2.5]
    return v


@pytest.mark.parametrize("mode", [None, PY_MODE], ids=["c", "python"])
def test_values_and_gradient_match_numpy(mode):
    x, g = pt.matrix("x"), pt.matrix("g")
    z = relu(x)
    f = function([x, g], [z, pytensor.grad((z * g).sum(), x)], mode=mode, cache=False)
    xv, gv = _values((6, 7)), _values((6, 7), seed=1)
    out, dx = f(xv, gv)
    np.testing.assert_array_equal(out, np.maximum(xv, 0))
    np.testing.assert_array_equal(dx, np.where(xv > 0, gv, 0))  # derivative 0 at x = 0
    assert out.dtype == np.float32 and dx.dtype == np.float32


def test_nan_passes_through_and_float64():
    x = pt.dvector("x")
    f = function([x], relu(x), cache=False)
    out = f(np.array([np.nan, -1.0, 3.0]))
    assert np.isnan(out[0]) and out[1] == 0 and out[2] == 3.0


def test_verify_grad():
    rng = np.random.default_rng(2)
    v = rng.standard_normal((4, 5))
    v[np.abs(v) < 0.05] = 0.5  # keep away from the kink for finite differences
    verify_grad(lambda a: relu(a), [v], rng=np.random.default_rng(3), mode=get_mode(None))


def test_rectify_is_this_op():
    x = pt.matrix("x")
    assert isinstance(nonlinearities.rectify(x).owner.op.scalar_op, Relu)
    assert nonlinearities.get("rectify") is nonlinearities.rectify


def _elemwise_nodes(fn):
    return [n for n in fn.maker.fgraph.apply_nodes if type(n.op).__name__ == "Elemwise"]


def test_residual_sum_fuses_into_the_rectifier():
    """z = relu(a + b) feeding a matmul, loss = sum((z W)^2): the forward writes only z, and the backward
    reads only z and the incoming gradient.  With maximum(., 0) the forward also writes the sum a + b and
    the backward reads it (eq(max(s, 0), s))."""
    a, b, w = pt.matrix("a"), pt.matrix("b"), pt.matrix("w")
    va, vb, vw = _values((5, 6)), _values((5, 6), 1), _values((6, 4), 2)
    traffic = {}
    for name, phi in (("relu", relu), ("maximum", lambda t: pt.maximum(t, 0))):
        z = phi(a + b)
        loss = (pt.dot(z, w) ** 2).sum()
        f = function([a, b, w], [z, *pytensor.grad(loss, [a, b])], cache=False)
        nodes = [n for n in _elemwise_nodes(f) if n.outputs[0].ndim == 2]
        traffic[name] = sum(len(n.inputs) + len(n.outputs) for n in nodes)
        if name == "relu":
            z_v, da, db = f(va, vb, vw)
            np.testing.assert_array_equal(z_v, np.maximum(va + vb, 0))
            dz = 2 * (z_v @ vw) @ vw.T
            np.testing.assert_allclose(da, np.where(va + vb > 0, dz, 0), rtol=1e-5, atol=1e-5)
            np.testing.assert_array_equal(db, da)
            forward = [n for n in nodes if a in n.inputs]
            assert len(forward) == 1 and len(forward[0].outputs) == 1, "one pass writes relu(a + b) only"
            assert all(a not in n.inputs and b not in n.inputs for n in nodes if n is not forward[0])
    assert traffic["relu"] < traffic["maximum"], traffic


def test_jax_mode_matches_c():
    pytest.importorskip("jax")
    x, g = pt.matrix("x"), pt.matrix("g")
    z = relu(x * 2.0)
    outs = [z, pytensor.grad((z * g).sum(), x)]
    xv, gv = _values((5, 4)), _values((5, 4), 1)
    got = function([x, g], outs, mode="JAX", cache=False)(xv, gv)
    ref = function([x, g], outs, cache=False)(xv, gv)
    for a, e in zip(got, ref):
        np.testing.assert_allclose(np.asarray(a), e, rtol=1e-6)
