"""Tests of crmn_legacy.ops.matmul: Matmul against NumPy for every transpose flag, C (threaded,
blocks split by rows or by columns) against perform, verify_grad, second derivatives, errors, JAX."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import Mode
from pytensor.gradient import verify_grad

import crmn_legacy  # noqa: F401
from crmn_legacy.runtime.compile import function, get_mode
from crmn_legacy.ops.matmul import Matmul, matmul

RNG = np.random.default_rng(17)
MODE = get_mode()
FLAGS = [(False, False), (False, True), (True, False), (True, True)]


def _operands(m, k, n, ta, tb, dtype):
    a = RNG.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = RNG.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    return a, b


@pytest.mark.parametrize("ta, tb", FLAGS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("m, k, n", [(300, 70, 90), (40, 129, 700), (1, 5, 3), (200, 0, 64)])
def test_values_and_gradients_match_numpy(m, k, n, ta, tb, dtype):
    """Big shapes take the threaded path (rows split when m >= n, columns otherwise)."""
    a, b = pt.matrix("a", dtype=dtype), pt.matrix("b", dtype=dtype)
    c = matmul(a, b, ta, tb)
    g = pt.matrix("g", dtype=dtype)
    ga, gb = pytensor.grad((c * g).sum(), [a, b])
    f = function([a, b, g], [c, ga, gb])
    av, bv = _operands(m, k, n, ta, tb, dtype)
    gv = RNG.standard_normal((m, n)).astype(dtype)
    cv, gav, gbv = f(av, bv, gv)
    A, B = (av.T if ta else av).astype("float64"), (bv.T if tb else bv).astype("float64")
    tol = dict(rtol=2e-4, atol=2e-4 * max(1, k) ** 0.5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)
    assert cv.dtype == dtype and cv.shape == (m, n)
    np.testing.assert_allclose(cv, A @ B, **tol)
    dA, dB = gv @ B.T, A.T @ gv
    np.testing.assert_allclose(gav, dA.T if ta else dA, **tol)
    np.testing.assert_allclose(gbv, dB.T if tb else dB, **tol)
    # the product and both gradients are our Matmul (transposes folded into its flags), no other node
    assert [type(nd.op) for nd in f.maker.fgraph.toposort()] == [Matmul] * 3


def test_c_equals_perform_and_non_contiguous_inputs():
    a, b = pt.matrix("a"), pt.matrix("b")
    outs = [matmul(a, b), matmul(a, b, True, True)]
    av = RNG.standard_normal((120, 150)).astype("float32")[:, ::2][:, :60]  # strided: 120 x 60
    bv = RNG.standard_normal((60, 120)).astype("float32")
    f_c, f_py = function([a, b], outs), function([a, b], outs, mode=Mode(linker="py", optimizer="fast_run"))
    for got, ref in zip(f_c(av, bv), f_py(av, bv)):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("ta, tb", FLAGS)
def test_verify_grad_first_and_second_order(ta, tb):
    a, b = _operands(4, 3, 5, ta, tb, "float64")
    verify_grad(lambda a, b: Matmul(ta, tb)(a, b), [a, b], rng=RNG, mode=MODE)

    def grad_of_energy(a, b):  # the gradient Ops' own gradients
        return pytensor.grad((pt.tanh(Matmul(ta, tb)(a, b)) ** 2).sum(), a)

    verify_grad(grad_of_energy, [a, b], rng=RNG, mode=MODE)


def test_infer_shape_and_static_shapes():
    a, b = pt.tensor("a", shape=(None, 7)), pt.tensor("b", shape=(5, 7))
    c = matmul(a, b, trans_b=True)
    assert c.type.shape == (None, 5)
    f = function([a, b], c.shape)
    assert tuple(f(np.zeros((3, 7), "float32"), np.zeros((5, 7), "float32"))) == (3, 5)
    assert not any(isinstance(n.op, Matmul) for n in f.maker.fgraph.toposort())


def test_errors():
    with pytest.raises(TypeError, match="matrix"):
        matmul(pt.vector("v"), pt.matrix("m"))
    with pytest.raises(TypeError, match="same dtype"):
        matmul(pt.matrix("a", dtype="float32"), pt.matrix("b", dtype="float64"))
    with pytest.raises(ValueError, match="inner dimensions"):
        matmul(pt.tensor("a", shape=(2, 3)), pt.tensor("b", shape=(4, 5)))
    a, b = pt.matrix("a"), pt.matrix("b")
    f = function([a, b], matmul(a, b))
    with pytest.raises(ValueError, match="inner dimensions"):
        f(np.zeros((2, 3), "float32"), np.zeros((4, 5), "float32"))
    assert str(Matmul(True, False)) == "Matmul{TN}"


@pytest.mark.jax
def test_jax_matches_c():
    a, b = pt.matrix("a"), pt.matrix("b")
    c = matmul(a, b, False, True)
    ga, gb = pytensor.grad((pt.tanh(c) ** 2).sum(), [a, b])
    av, bv = _operands(6, 4, 5, False, True, "float32")
    for x, y in zip(function([a, b], [c, ga, gb])(av, bv), function([a, b], [c, ga, gb], mode="JAX")(av, bv)):
        np.testing.assert_allclose(np.asarray(y), x, rtol=1e-4, atol=1e-5)
