"""LSTMLayer / GRULayer over depth: NumPy step-by-step eqs. 2-7, scan == unrolled, verify_grad."""

import numpy as np
import pytensor
import pytest
from pytensor.gradient import verify_grad
from pytensor.graph.replace import graph_replace

import crmn_legacy  # noqa: F401
from crmn_legacy import layers as L
from crmn_legacy.runtime.compile import function, get_mode
from crmn_legacy.layers.recurrent import FORGET_GATE_BIAS

MODE = get_mode("FAST_COMPILE")
SIZES = [12, 12, 6, 6, 3, 3]  # three "stages" of shrinking pooled block outputs
N, H = 2, 5
RNG = np.random.default_rng(11)
XS = [RNG.normal(size=(N, d)).astype("float32") for d in SIZES]


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def np_lstm(xs, p, outgate=sigmoid):
    """Eqs. 2-7 of the paper, one step per block, inputs zero-padded to D."""
    D = p["W_xi"].shape[0]
    h = np.tile(p["h0"], (xs[0].shape[0], 1))
    c = np.tile(p["c0"], (xs[0].shape[0], 1))
    hs = []
    for x in xs:
        x = np.concatenate([x, np.zeros((x.shape[0], D - x.shape[1]))], axis=1)
        i = sigmoid(x @ p["W_xi"] + h @ p["W_hi"] + p["w_ci"] * c + p["b_i"])          # (2)
        f = sigmoid(x @ p["W_xf"] + h @ p["W_hf"] + p["w_cf"] * c + p["b_f"])          # (3)
        s = np.tanh(x @ p["W_xc"] + h @ p["W_hc"] + p["b_c"])                          # (6)
        c = f * c + i * s                                                                # (5)
        o = outgate(x @ p["W_xo"] + h @ p["W_ho"] + p["w_co"] * c + p["b_o"])          # (4), new c_l
        h = o * np.tanh(c)                                                               # (7)
        hs.append(h)
    return np.stack(hs, axis=1)


def np_gru(xs, p):
    D = p["W_xr"].shape[0]
    h = np.tile(p["h0"], (xs[0].shape[0], 1))
    hs = []
    for x in xs:
        x = np.concatenate([x, np.zeros((x.shape[0], D - x.shape[1]))], axis=1)
        r = sigmoid(x @ p["W_xr"] + h @ p["W_hr"] + p["b_r"])
        u = sigmoid(x @ p["W_xu"] + h @ p["W_hu"] + p["b_u"])
        s = np.tanh(x @ p["W_xc"] + r * (h @ p["W_hc"]) + p["b_c"])
        h = (1 - u) * h + u * s
        hs.append(h)
    return np.stack(hs, axis=1)


def _params(layer):
    return {p.name.split(".")[-1]: p.get_value().astype(np.float64) for p in L.get_all_params(layer)}


def _randomise(layer, seed):
    rng = np.random.default_rng(seed)
    for p in L.get_all_params(layer):
        v = p.get_value()
        p.set_value((v + 0.3 * rng.normal(size=v.shape)).astype(v.dtype))


@pytest.fixture(scope="module")
def lstm_outputs():
    """One compiled function: unrolled (sliced), unrolled (padded), scan; all steps and final."""
    ins = [L.InputLayer((None, d), name=f"x{j}") for j, d in enumerate(SIZES)]
    ref = L.LSTMLayer(ins, num_units=H, only_return_final=False, name="memory")
    _randomise(ref, 0)
    variants = {
        "unrolled": ref,
        "padded": L.LSTMLayer(ins, num_units=H, only_return_final=False, slice_weights=False),
        "scan": L.LSTMLayer(ins, num_units=H, only_return_final=False, unroll_scan=False),
        "scan_final": L.LSTMLayer(ins, num_units=H, unroll_scan=False),
        "tanh_out": L.LSTMLayer(ins, num_units=H, only_return_final=False, outgate_nonlinearity="tanh"),
    }
    values = L.get_all_param_values(ref)
    for layer in variants.values():
        L.set_all_param_values(layer, values)
    names = list(variants)
    outs = L.get_output([variants[k] for k in names])
    fn = function([l.input_var for l in ins], outs, mode=MODE)
    return ref, dict(zip(names, fn(*XS))), names


def test_lstm_matches_numpy_eqs_2_to_7(lstm_outputs):
    ref, out, _ = lstm_outputs
    expected = np_lstm(XS, _params(ref))
    assert out["unrolled"].shape == (N, len(SIZES), H)
    np.testing.assert_allclose(out["unrolled"], expected, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(out["tanh_out"], np_lstm(XS, _params(ref), outgate=np.tanh), rtol=2e-5, atol=2e-6)


def test_scan_equals_unrolled_and_padding_equals_slicing(lstm_outputs):
    _, out, _ = lstm_outputs
    np.testing.assert_allclose(out["padded"], out["unrolled"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["scan"], out["unrolled"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["scan_final"], out["unrolled"][:, -1], rtol=1e-5, atol=1e-6)


def test_lstm_parameters_and_defaults():
    ins = [L.InputLayer((None, d)) for d in SIZES]
    lstm = L.LSTMLayer(ins, name="memory")
    D, H100 = max(SIZES), 100
    names = [p.name for p in L.get_all_params(lstm)]
    assert names == ["memory.W_xi", "memory.W_xf", "memory.W_xo", "memory.W_xc", "memory.W_hi", "memory.W_hf",
                     "memory.W_ho", "memory.W_hc", "memory.w_ci", "memory.w_cf", "memory.w_co", "memory.b_i",
                     "memory.b_f", "memory.b_o", "memory.b_c", "memory.h0", "memory.c0"]
    assert L.count_params(lstm) == 4 * D * H100 + 4 * H100 * H100 + 4 * H100 + 3 * H100 + 2 * H100
    assert L.count_params(lstm, regularizable=True) == 4 * D * H100 + 4 * H100 * H100 + 3 * H100
    assert lstm.output_shape == (None, 100)
    np.testing.assert_array_equal(lstm.b_f.get_value(), FORGET_GATE_BIAS)
    assert FORGET_GATE_BIAS < 0 and np.all(lstm.b_i.get_value() == 0)
    W = lstm.W_hi.get_value().astype(np.float64)
    np.testing.assert_allclose(W.T @ W, np.eye(100), atol=1e-5)  # Saxe orthogonal
    Wx = lstm.W_xo.get_value().astype(np.float64)  # (12, 100): orthonormal rows
    np.testing.assert_allclose(Wx @ Wx.T, np.eye(D), atol=1e-5)
    no_peep = L.LSTMLayer(ins, num_units=4, peepholes=False, learn_init=False)
    assert L.count_params(no_peep, trainable=True) == 4 * D * 4 + 4 * 16 + 16
    assert L.count_params(no_peep) == L.count_params(no_peep, trainable=True) + 8  # fixed h0, c0


def test_gru_matches_numpy():
    ins = [L.InputLayer((None, d)) for d in SIZES]
    gru = L.GRULayer(ins, num_units=H, only_return_final=False, name="memory")
    gru_scan = L.GRULayer(ins, num_units=H, unroll_scan=False)
    _randomise(gru, 1)
    L.set_all_param_values(gru_scan, L.get_all_param_values(gru))
    assert L.count_params(gru) == 3 * 12 * H + 3 * H * H + 3 * H + H
    fn = function([l.input_var for l in ins], L.get_output([gru, gru_scan]), mode=MODE)
    got, got_scan = fn(*XS)
    expected = np_gru(XS, _params(gru))
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(got_scan, expected[:, -1], rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("cls,unroll", [(L.LSTMLayer, True), (L.LSTMLayer, False), (L.GRULayer, True)])
def test_verify_grad(cls, unroll):
    sizes = [4, 4, 2]
    with pytensor.config.change_flags(floatX="float64", mode=MODE):
        ins = [L.InputLayer((None, d)) for d in sizes]
        layer = cls(ins, num_units=3, unroll_scan=unroll)
        _randomise(layer, 2)
        params = L.get_all_params(layer)
        rng = np.random.default_rng(4)

        def fun(*syms):
            xs, ps = syms[: len(sizes)], syms[len(sizes):]
            out = L.get_output(layer, dict(zip(ins, xs)))
            return graph_replace(out, dict(zip(params, ps)))

        values = [rng.normal(size=(2, d)) for d in sizes] + [p.get_value() for p in params]
        verify_grad(fun, values, rng=np.random.default_rng(5), mode=MODE)


def test_recurrent_errors():
    with pytest.raises(ValueError, match=r"\(N, d_l\)"):
        L.LSTMLayer([L.InputLayer((None, 2, 3))])
    with pytest.raises(ValueError, match="input_size"):
        L.LSTMLayer([L.InputLayer((None, 5))], input_size=3)
    with pytest.raises(ValueError, match="num_units"):
        L.GRULayer([L.InputLayer((None, 5))], num_units=0)
    with pytest.raises(ValueError, match="at least one"):
        L.LSTMLayer([])


def test_dprint_scan_and_unrolled(capsys):
    ins = [L.InputLayer((None, d)) for d in (3, 2)]
    for unroll in (True, False):
        pytensor.dprint(L.get_output(L.LSTMLayer(ins, num_units=2, unroll_scan=unroll)))
    assert "Scan" in capsys.readouterr().out
