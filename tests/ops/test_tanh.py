"""crmn_legacy.ops.tanh: float32 tanh through one double exp, put in compiled C graphs by a rewrite."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import verify_grad

import crmn_legacy  # noqa: F401
from crmn_legacy.runtime.compile import function, get_mode
from crmn_legacy.ops.tanh import DoubleExpTanh, double_exp_tanh


def _scalar_ops(fn):
    """Class names of every scalar Op in the compiled graph, looking inside Composites."""
    names = []
    for node in fn.maker.fgraph.apply_nodes:
        scalar = getattr(node.op, "scalar_op", None)
        if scalar is None:
            continue
        inner = getattr(scalar, "fgraph", None)
        nodes = inner.apply_nodes if inner is not None else []
        names += [type(n.op).__name__ for n in nodes] or [type(scalar).__name__]
    return names


def _reference(x):
    """tanh in double, rounded once to float32: the correctly rounded float32 result."""
    return np.tanh(x.astype(np.float64)).astype(np.float32)


def test_correctly_rounded_on_a_wide_range():
    x = pt.vector("x")
    f = function([x], double_exp_tanh(x), cache=False)
    rng = np.random.default_rng(0)
    # magnitudes 1e-12 .. 20, both signs, both branches (|x| < 2^-12 and above) and the float32 saturation
    v = (rng.uniform(-1, 1, 400_000) * 10.0 ** rng.uniform(-12, 1.3, 400_000)).astype(np.float32)
    got = f(v)
    np.testing.assert_array_equal(got, _reference(v))


def test_special_values():
    x = pt.vector("x")
    f = function([x], double_exp_tanh(x), cache=False)
    v = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-38, 2.44140625e-4, 9.5, -30.0], np.float32)
    got = f(v)
    # correctly rounded (numpy's float32 tanh gives 1 - 2^-24 at 9.5, 1 ulp off); NaN matches NaN
    np.testing.assert_array_equal(got, _reference(v))
    assert np.signbit(got[1]) and not np.signbit(got[0]), "signed zeros are kept"


def test_rewrite_replaces_float32_tanh_in_c_graphs_and_fuses():
    x = pt.matrix("x")
    y = pt.tanh(x) * pt.sigmoid(x)
    f = function([x], [y, pytensor.grad(y.sum(), x)], cache=False)
    ops = _scalar_ops(f)
    assert "DoubleExpTanh" in ops and "Tanh" not in ops, ops
    v = np.random.default_rng(1).standard_normal((7, 5)).astype(np.float32)
    out, g = f(v)
    np.testing.assert_allclose(out, np.tanh(v) / (1 + np.exp(-v)), rtol=1e-6)
    t, s = np.tanh(v.astype(np.float64)), 1 / (1 + np.exp(-v.astype(np.float64)))
    np.testing.assert_allclose(g, (1 - t**2) * s + t * s * (1 - s), rtol=1e-5, atol=1e-7)


def test_rewrite_leaves_float64_and_other_backends_alone():
    x64 = pt.dmatrix("x")
    f64 = function([x64], pt.tanh(x64), cache=False)
    assert "DoubleExpTanh" not in _scalar_ops(f64)
    x = pt.matrix("x")
    literal = function([x], pt.tanh(x), mode=get_mode(None).excluding("crmn_float32_tanh"), cache=False)
    assert "DoubleExpTanh" not in _scalar_ops(literal)
    py = pytensor.function([x], pt.tanh(x), mode=pytensor.compile.mode.Mode(linker="py", optimizer="fast_run"))
    assert "DoubleExpTanh" not in _scalar_ops(py), "the cxx_only tag keeps it out of non-C linkers"


def test_gradient_and_python_impl():
    verify_grad(lambda a: double_exp_tanh(a), [np.random.default_rng(2).standard_normal((3, 4))],
                rng=np.random.default_rng(3), mode=get_mode(None))
    x = pt.vector("x")
    py = pytensor.function([x], double_exp_tanh(x), mode=pytensor.compile.mode.Mode(linker="py", optimizer=None))
    v = np.linspace(-4, 4, 17).astype(np.float32)
    np.testing.assert_allclose(py(v), np.tanh(v), rtol=1e-6)


def test_float64_c_code_is_tanh():
    x = pt.dvector("x")
    f = function([x], double_exp_tanh(x), cache=False)
    v = np.linspace(-5, 5, 101)
    np.testing.assert_allclose(f(v), np.tanh(v), rtol=1e-15, atol=0)
    assert isinstance(double_exp_tanh.scalar_op, DoubleExpTanh)


@pytest.mark.parametrize("cell", ["tanh", "sigmoid"])
def test_lstm_step_graph_uses_it(cell):
    from crmn_legacy import layers as L

    ins = [L.InputLayer((None, d), name=f"x{j}") for j, d in enumerate((6, 4))]
    layer = L.LSTMLayer(ins, num_units=5, cell_nonlinearity=cell)
    f = function([i.input_var for i in ins], L.get_output(layer), cache=False)
    n = _scalar_ops(f).count("DoubleExpTanh")
    assert n >= (2 if cell == "tanh" else 1), _scalar_ops(f)
