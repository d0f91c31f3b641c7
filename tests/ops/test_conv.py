"""Tests of crmn_legacy.ops.conv: values against a NumPy reference, gradients
(first and second order), infer_shape, and clear errors for bad inputs."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from conv_reference import ref_conv2d, ref_grad_inputs, ref_grad_weights
from pytensor.gradient import verify_grad

import crmn_legacy  # noqa: F401
from crmn_legacy.runtime.compile import function, get_mode
from crmn_legacy.ops import Conv2d, Conv2dGradInputs, Conv2dGradWeights, conv2d, conv_output_shape

RNG = np.random.default_rng(1234)
MODE = get_mode()  # our default (CVM): the C implementation

# (xshape, wshape, stride, pad): odd, non-square shapes; batch 1 and 3; C != F.
CASES = [
    ((3, 2, 5, 7), (4, 2, 3, 3), 1, "half"),
    ((1, 3, 6, 5), (2, 3, 3, 3), 2, "half"),
    ((3, 2, 7, 6), (5, 2, 3, 3), 2, "same"),
    ((2, 4, 5, 5), (3, 4, 1, 1), 1, "valid"),
    ((3, 4, 7, 5), (6, 4, 1, 1), 2, 0),
    ((1, 2, 6, 7), (3, 2, 2, 3), (1, 2), (1, 0)),
    ((2, 3, 5, 4), (2, 3, 3, 2), (2, 1), "valid"),
    ((1, 1, 4, 6), (2, 1, 3, 3), 1, "full"),
    ((3, 2, 9, 8), (3, 2, 5, 5), (2, 2), 2),
    ((2, 2, 4, 5), (3, 2, 3, 3), 1, 3),  # stride 1, pad >= kernel: the col2im path
]

TOL = {"float32": dict(rtol=2e-5, atol=2e-5), "float64": dict(rtol=1e-10, atol=1e-10)}


def _rand(shape, dtype):
    return RNG.standard_normal(shape).astype(dtype)


def _fwd_bwd_fn(stride, pad, dtype):
    x, w, gy = pt.tensor4("x", dtype=dtype), pt.tensor4("w", dtype=dtype), pt.tensor4("gy", dtype=dtype)
    y = conv2d(x, w, stride=stride, pad=pad)
    dx, dw = pytensor.grad((y * gy).sum(), [x, w])
    return function([x, w, gy], [y, dx, dw])


# The float32 C code has two implementations (ops/c/src/conv2d_direct.h):
# im2col + GEMM and direct AVX2 kernels, chosen per call by CRMN_CONV_IMPL
# (gemm | direct | unset = auto).  Every case runs under each.
IMPLS = ["gemm", "direct", "auto"]


@pytest.fixture(params=IMPLS)
def impl(request, monkeypatch):
    if request.param == "auto":
        monkeypatch.delenv("CRMN_CONV_IMPL", raising=False)
    else:
        monkeypatch.setenv("CRMN_CONV_IMPL", request.param)
    return request.param


def _cpu_has(*flags):
    """_cpu_has(*flags) -> bool: /proc/cpuinfo lists every one of the CPU flags (False when unreadable)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            info = fh.read()
    except OSError:
        return False
    return all(f" {flag}" in info for flag in flags)


# Shapes aimed at the direct kernels' edges: widths not a multiple of 8 and
# below 8, output-channel counts not a multiple of the register tile (6, 4),
# C = 1, batch 1 and 3, pads 0 / 1 / half / full / pair, 1x1, 2x3, 3x3 and 5x5
# kernels, stride 1, 2, 3 and mixed, wide rows at stride 2 (vector
# de-interleave / interleave), more than 288 taps (several tap chunks).
DIRECT_CASES = [
    ((3, 5, 11, 19), (7, 5, 3, 3), 1, "half"),
    ((1, 1, 9, 13), (13, 1, 3, 3), 1, 1),
    ((3, 3, 13, 17), (9, 3, 3, 3), 2, "half"),
    ((2, 4, 20, 37), (5, 4, 3, 3), 2, 1),
    ((1, 6, 9, 16), (5, 6, 3, 3), (1, 2), "full"),
    ((3, 2, 8, 9), (4, 2, 3, 3), 3, 1),
    ((2, 40, 10, 12), (14, 40, 3, 3), 1, "half"),
    ((2, 40, 11, 18), (3, 40, 3, 3), 2, "half"),
    ((3, 3, 16, 16), (16, 3, 3, 3), 1, "half"),
    ((1, 2, 7, 24), (8, 2, 2, 3), 1, 0),
    ((3, 4, 12, 21), (2, 4, 2, 3), (2, 2), (1, 0)),
    ((2, 5, 18, 18), (6, 5, 1, 1), 1, "valid"),
    ((2, 5, 17, 19), (11, 5, 1, 1), 2, 0),
    ((1, 3, 5, 3), (1, 3, 3, 3), 1, "full"),
    ((2, 3, 14, 22), (5, 3, 5, 5), 2, 2),
    ((1, 2, 9, 10), (3, 2, 3, 3), 1, 4),  # pad > kernel
    # grad weights groups small images (here 6 per group): several groups,
    # a partial last one, both threads; 20 filters = a 16 block and an 8 block
    ((17, 3, 6, 7), (20, 3, 3, 3), 1, "half"),
    ((9, 2, 9, 12), (24, 2, 3, 3), 2, "half"),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("xshape, wshape, stride, pad", CASES + DIRECT_CASES)
def test_forward_and_gradients_match_reference(xshape, wshape, stride, pad, dtype, impl):
    f = _fwd_bwd_fn(stride, pad, dtype)
    x, w = _rand(xshape, dtype), _rand(wshape, dtype)
    y_ref = ref_conv2d(x, w, stride, pad)
    gy = _rand(y_ref.shape, dtype)
    y, dx, dw = f(x, w, gy)
    assert y.dtype == dx.dtype == dw.dtype == dtype
    assert y.shape == conv_output_shape(xshape, wshape, stride, pad)
    np.testing.assert_allclose(y, y_ref, **TOL[dtype])
    np.testing.assert_allclose(dx, ref_grad_inputs(w, gy, xshape[2:], stride, pad), **TOL[dtype])
    np.testing.assert_allclose(dw, ref_grad_weights(x, gy, wshape[2:], stride, pad), **TOL[dtype])


def test_non_contiguous_inputs(impl):
    """Transposed / strided views reach the C code and give the reference result."""
    x, w, gy = pt.tensor4("x"), pt.tensor4("w"), pt.tensor4("gy")
    y = Conv2d(1, "half")(x, w)
    outs = [y, Conv2dGradInputs(1, "half")(w, gy, x.shape[2:]), Conv2dGradWeights(1, "half")(x, gy, w.shape[2:])]
    f = function([x, w, gy], outs)
    xv = _rand((3, 4, 19, 22), "float32")[:, :, ::2, ::2]  # (3, 4, 10, 11), strided
    wv = _rand((5, 3, 3, 4), "float32").transpose(0, 3, 2, 1)  # (5, 4, 3, 3), permuted
    gyv = _rand((3, 5, 11, 10), "float32").transpose(0, 1, 3, 2)  # (3, 5, 10, 11)
    assert not (xv.flags.c_contiguous or wv.flags.c_contiguous or gyv.flags.c_contiguous)
    yv, dx, dw = f(xv, wv, gyv)
    np.testing.assert_allclose(yv, ref_conv2d(xv, wv), **TOL["float32"])
    np.testing.assert_allclose(dx, ref_grad_inputs(wv, gyv, xv.shape[2:]), **TOL["float32"])
    np.testing.assert_allclose(dw, ref_grad_weights(xv, gyv, (3, 3)), **TOL["float32"])


@pytest.mark.skipif(not _cpu_has("avx2", "fma"), reason="the direct kernels need AVX2 + FMA")
def test_conv_impl_switch_is_honoured(monkeypatch):
    """CRMN_CONV_IMPL=direct and =gemm run different code (different rounding), both accurate.

    The reduction is long (K = 256 * 3 * 3 = 2304 taps) so that the two paths
    split it differently: with a short K, OpenBLAS's sgemm kernel (e.g.
    SKYLAKEX) accumulates the taps in the same order as the direct kernel and
    the two agree bit for bit, which would hide an ignored switch.
    """
    x, w, gy = (pt.tensor4(name, dtype="float32") for name in ("x", "w", "gy"))
    for stride in (1, 2):
        y = Conv2d(stride, "half")(x, w)
        outs = [y, Conv2dGradInputs(stride, "half")(w, gy, x.shape[2:]),
                Conv2dGradWeights(stride, "half")(x, gy, w.shape[2:])]
        f = function([x, w, gy], outs)
        xv, wv = _rand((2, 256, 8, 8), "float32"), _rand((32, 256, 3, 3), "float32")
        gyv = _rand(conv_output_shape(xv.shape, wv.shape, stride), "float32")
        res = {}
        for impl in ("gemm", "direct"):
            monkeypatch.setenv("CRMN_CONV_IMPL", impl)
            res[impl] = [np.array(r) for r in f(xv, wv, gyv)]
        for a, b in zip(res["gemm"], res["direct"]):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
            assert not np.array_equal(a, b)


# Outputs wider than 8 columns take the AVX-512 16-column vectors (masked row
# ends), narrower ones row pairs (an odd last row alone); grad weights 32-filter
# tiles with a masked last block.
ISA_CASES = DIRECT_CASES + [
    ((3, 64, 8, 8), (64, 64, 3, 3), 1, "half"),
    ((2, 5, 7, 5), (9, 5, 3, 3), 1, "half"),
    ((2, 4, 9, 4), (7, 4, 3, 3), (1, 2), "full"),
    ((4, 16, 32, 32), (16, 16, 3, 3), 1, "half"),
    ((4, 16, 32, 32), (32, 16, 3, 3), 2, "half"),
    ((3, 32, 16, 16), (64, 32, 3, 3), 2, "half"),
    ((2, 7, 33, 35), (40, 7, 3, 3), 1, "half"),
    ((2, 6, 9, 31), (23, 6, 5, 5), 3, 2),
]


@pytest.mark.skipif(not _cpu_has("avx2", "fma", "avx512f"), reason="needs a CPU with AVX-512F")
@pytest.mark.parametrize("xshape, wshape, stride, pad", ISA_CASES)
def test_avx512_tiles_equal_avx2_bit_for_bit(xshape, wshape, stride, pad, monkeypatch):
    """CRMN_CONV_ISA=avx2 and the default (AVX-512 here) run the same FMAs in the same order per element."""
    monkeypatch.setenv("CRMN_CONV_IMPL", "direct")
    f = _fwd_bwd_fn(stride, pad, "float32")
    x, w = _rand(xshape, "float32"), _rand(wshape, "float32")
    gy = _rand(conv_output_shape(xshape, wshape, stride, pad), "float32")
    res = {}
    for isa in ("avx2", "auto"):
        monkeypatch.setenv("CRMN_CONV_ISA", isa)
        res[isa] = [np.array(r) for r in f(x, w, gy)]
    for name, a, b in zip(("y", "dx", "dw"), res["avx2"], res["auto"]):
        assert np.array_equal(a, b), name
    np.testing.assert_allclose(res["auto"][0], ref_conv2d(x, w, stride, pad), **TOL["float32"])


@pytest.mark.parametrize("impl_name", ["direct", "gemm"])
def test_grad_weights_is_the_same_on_every_call(impl_name, monkeypatch):
    """Regression: the threads' partial dw sums used dynamic scheduling, so which images a
    thread summed, hence dw's last bits, changed from call to call (seen in 1 of 3 calls)."""
    monkeypatch.setenv("CRMN_CONV_IMPL", impl_name)
    x, gy = pt.tensor4("x", dtype="float32"), pt.tensor4("gy", dtype="float32")
    f = function([x, gy], Conv2dGradWeights(1, "half")(x, gy, (3, 3)))
    xv, gyv = _rand((16, 16, 16, 16), "float32"), _rand((16, 16, 16, 16), "float32")
    first = np.array(f(xv, gyv))
    for _ in range(40):
        assert np.array_equal(np.array(f(xv, gyv)), first)


def test_default_mode_runs_the_c_code():
    f = _fwd_bwd_fn(2, "half", "float32")
    conv_ops = (Conv2d, Conv2dGradWeights, Conv2dGradInputs)
    pairs = [(node, thunk) for node, thunk in zip(f.vm.nodes, f.vm.thunks) if isinstance(node.op, conv_ops)]
    assert len(pairs) == 3
    for node, thunk in pairs:
        assert getattr(thunk, "cthunk", None) is not None, f"{node.op} runs its Python perform"


def test_python_perform_matches_c():
    """The NumPy perform (Python linker) and the C code agree."""
    x, w, gy = pt.tensor4("x"), pt.tensor4("w"), pt.tensor4("gy")
    y = conv2d(x, w, stride=(2, 1), pad=(1, 2))
    outs = [y, *pytensor.grad((y * gy).sum(), [x, w])]
    xv, wv = _rand((3, 2, 7, 6), "float32"), _rand((4, 2, 3, 3), "float32")
    gyv = _rand(conv_output_shape(xv.shape, wv.shape, (2, 1), (1, 2)), "float32")
    c_res = function([x, w, gy], outs)(xv, wv, gyv)
    py_res = function([x, w, gy], outs, mode=pytensor.compile.mode.Mode(linker="py", optimizer="fast_run"))(
        xv, wv, gyv
    )
    for a, b in zip(c_res, py_res):
        np.testing.assert_allclose(a, b, **TOL["float32"])


def test_batch_sizes_share_one_function(impl):
    f = _fwd_bwd_fn(1, "half", "float32")
    w = _rand((3, 2, 3, 3), "float32")
    for n in (1, 2, 5):
        x = _rand((n, 2, 4, 5), "float32")
        gy = _rand((n, 3, 4, 5), "float32")
        y, dx, dw = f(x, w, gy)
        np.testing.assert_allclose(y, ref_conv2d(x, w), **TOL["float32"])
        np.testing.assert_allclose(dw, ref_grad_weights(x, gy, (3, 3)), **TOL["float32"])


# ----------------------------------------------------------------------------- verify_grad
GRAD_CASES = [
    ((3, 2, 5, 7), (3, 2, 3, 3), 2, "half"),  # batch 3, stride 2, non-square, C != F
    ((1, 3, 6, 5), (2, 3, 3, 3), 1, (1, 0)),  # batch 1, explicit pair padding
    ((3, 2, 5, 4), (4, 2, 1, 1), (2, 1), "valid"),  # 1x1 kernel, mixed stride
]


def _grad_case(xshape, wshape, stride, pad, dtype):
    x, w = _rand(xshape, dtype), _rand(wshape, dtype)
    gy = _rand(conv_output_shape(xshape, wshape, stride, pad), dtype)
    return x, w, gy


@pytest.mark.parametrize("xshape, wshape, stride, pad", GRAD_CASES)
def test_verify_grad_conv2d(xshape, wshape, stride, pad):
    x, w, _ = _grad_case(xshape, wshape, stride, pad, "float64")
    verify_grad(lambda x, w: Conv2d(stride, pad)(x, w), [x, w], rng=RNG, mode=MODE)


@pytest.mark.parametrize("xshape, wshape, stride, pad", GRAD_CASES)
def test_verify_grad_conv2d_grad_weights(xshape, wshape, stride, pad):
    x, _, gy = _grad_case(xshape, wshape, stride, pad, "float64")
    op = Conv2dGradWeights(stride, pad)
    verify_grad(lambda x, gy: op(x, gy, wshape[2:]), [x, gy], rng=RNG, mode=MODE)


@pytest.mark.parametrize("xshape, wshape, stride, pad", GRAD_CASES)
def test_verify_grad_conv2d_grad_inputs(xshape, wshape, stride, pad):
    _, w, gy = _grad_case(xshape, wshape, stride, pad, "float64")
    op = Conv2dGradInputs(stride, pad)
    verify_grad(lambda w, gy: op(w, gy, xshape[2:]), [w, gy], rng=RNG, mode=MODE)


def test_verify_grad_float32(impl):
    x, w, gy = _grad_case((2, 2, 5, 6), (3, 2, 3, 3), 2, "half", "float32")
    verify_grad(lambda x, w: conv2d(x, w, stride=2), [x, w], rng=RNG, mode=MODE)
    verify_grad(lambda x, gy: Conv2dGradWeights(2)(x, gy, (3, 3)), [x, gy], rng=RNG, mode=MODE)
    verify_grad(lambda w, gy: Conv2dGradInputs(2)(w, gy, (5, 6)), [w, gy], rng=RNG, mode=MODE)


def test_second_derivative():
    """d/d(x, w) of a gradient: exercises the grads of the grad Ops."""
    x, w, _ = _grad_case((2, 2, 5, 4), (3, 2, 3, 3), 1, "half", "float64")

    def grad_of_energy(x, w):
        energy = (pt.tanh(conv2d(x, w)) ** 2).sum()
        gx, gw = pytensor.grad(energy, [x, w])
        return (gx**2).sum() + (gw**3).sum()

    verify_grad(grad_of_energy, [x, w], rng=RNG, mode=MODE)


# ----------------------------------------------------------------------------- infer_shape
def _shape_fn_has_no_conv(out, inputs):
    f = function(inputs, out.shape)
    ops = [type(node.op) for node in f.maker.fgraph.apply_nodes]
    assert not {Conv2d, Conv2dGradWeights, Conv2dGradInputs} & set(ops), ops
    return f


@pytest.mark.parametrize("stride, pad", [(1, "half"), (2, "valid"), ((2, 1), (1, 2)), (1, "full")])
def test_infer_shape(stride, pad):
    x, w, gy = pt.tensor4("x"), pt.tensor4("w"), pt.tensor4("gy")
    xv, wv = _rand((3, 2, 7, 6), "float32"), _rand((4, 2, 3, 2), "float32")
    yshape = conv_output_shape(xv.shape, wv.shape, stride, pad)
    gyv = _rand(yshape, "float32")
    y = Conv2d(stride, pad)(x, w)
    dw = Conv2dGradWeights(stride, pad)(x, gy, w.shape[2:])
    dx = Conv2dGradInputs(stride, pad)(w, gy, x.shape[2:])
    assert tuple(_shape_fn_has_no_conv(y, [x, w])(xv, wv)) == yshape
    assert tuple(_shape_fn_has_no_conv(dw, [x, w, gy])(xv, wv, gyv)) == wv.shape
    assert tuple(_shape_fn_has_no_conv(dx, [x, w, gy])(xv, wv, gyv)) == xv.shape


def test_static_shapes_propagate():
    x = pt.tensor("x", shape=(8, 3, 32, 31))
    w = pt.tensor("w", shape=(16, 3, 3, 3))
    assert conv2d(x, w).type.shape == (8, 16, 32, 31)
    assert conv2d(x, w, stride=2).type.shape == (8, 16, 16, 16)
    assert conv2d(x, w, pad="valid").type.shape == (8, 16, 30, 29)
    gy = pt.tensor("gy", shape=(8, 16, 16, 16))
    assert Conv2dGradWeights(2)(x, gy, (3, 3)).type.shape == (16, 3, 3, 3)
    assert Conv2dGradInputs(2)(w, gy, (32, 31)).type.shape == (8, 3, 32, 31)


# ----------------------------------------------------------------------------- errors
def test_bad_rank_raises_at_build():
    with pytest.raises(TypeError, match="4D"):
        conv2d(pt.matrix(), pt.tensor4())
    with pytest.raises(TypeError, match="4D"):
        conv2d(pt.tensor4(), pt.tensor3())
    with pytest.raises(TypeError, match="4D"):
        Conv2dGradWeights()(pt.tensor4(), pt.matrix(), (3, 3))


def test_channel_mismatch_raises_at_build():
    x = pt.tensor("x", shape=(None, 3, 8, 8))
    w = pt.tensor("w", shape=(4, 5, 3, 3))
    with pytest.raises(ValueError, match="3 channels but filters expect 5"):
        conv2d(x, w)
    gy = pt.tensor("gy", shape=(None, 6, 8, 8))
    with pytest.raises(ValueError, match="output channels"):
        Conv2dGradInputs()(w, gy, (8, 8))


@pytest.mark.parametrize("pad, error, message", [
    (-1, ValueError, "padding must be non-negative"),
    ((0, -2), ValueError, "padding must be non-negative"),
    ("bogus", ValueError, "pad must be 'valid', 'half'/'same', 'full'"),
    (1.5, TypeError, "pad must be a string, an int or a pair of ints"),  # a wrong type, not a wrong value
])
def test_bad_padding_raises_at_build(pad, error, message):
    with pytest.raises(error, match=message):
        conv2d(pt.tensor4(), pt.tensor4(), pad=pad)


@pytest.mark.parametrize("stride, error, message", [
    (0, ValueError, "stride must be >= 1"),
    (-1, ValueError, "stride must be >= 1"),
    ((1, 0), ValueError, "stride must be >= 1"),
    (1.0, TypeError, "stride must be an int or a pair of ints"),
    ((1, 2, 3), ValueError, "stride must be an int or a pair of ints"),
])
def test_bad_stride_raises_at_build(stride, error, message):
    with pytest.raises(error, match=message):
        conv2d(pt.tensor4(), pt.tensor4(), stride=stride)


def test_kernel_larger_than_input_raises_at_build():
    x = pt.tensor("x", shape=(None, 3, 4, 8))
    w = pt.tensor("w", shape=(2, 3, 5, 3))
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv2d(x, w, pad="valid")
    assert conv2d(x, w, pad="half").type.shape[2] == 4  # padding makes it fit


def test_dtype_errors():
    with pytest.raises(TypeError, match="same dtype"):
        Conv2d()(pt.tensor4(dtype="float32"), pt.tensor4(dtype="float64"))
    with pytest.raises(TypeError, match="float32 or float64"):
        Conv2d()(pt.tensor4(dtype="int32"), pt.tensor4(dtype="int32"))
    # the helper upcasts mixed operands
    assert conv2d(pt.tensor4(dtype="float32"), pt.tensor4(dtype="float64")).dtype == "float64"


def test_mismatched_grad_shapes_raise_at_build():
    x = pt.tensor("x", shape=(2, 3, 8, 8))
    gy = pt.tensor("gy", shape=(2, 4, 7, 8))
    with pytest.raises(ValueError, match="does not match"):
        Conv2dGradWeights(1, "half")(x, gy, (3, 3))


@pytest.fixture(scope="module")
def dynamic_fns():
    x, w, gy = pt.tensor4("x"), pt.tensor4("w"), pt.tensor4("gy")
    hw = pt.lvector("hw")
    return {
        "fwd": function([x, w], Conv2d(1, "valid")(x, w)),
        "gw": function([x, gy, hw], Conv2dGradWeights(1, "valid")(x, gy, hw)),
        "gi": function([w, gy, hw], Conv2dGradInputs(1, "valid")(w, gy, hw)),
    }


def test_runtime_shape_errors_are_python_errors(dynamic_fns):
    f32 = "float32"
    with pytest.raises(ValueError, match="channels"):
        dynamic_fns["fwd"](_rand((2, 3, 6, 6), f32), _rand((4, 2, 3, 3), f32))
    with pytest.raises(ValueError, match="larger than the padded input"):
        dynamic_fns["fwd"](_rand((2, 3, 2, 6), f32), _rand((4, 3, 3, 3), f32))
    with pytest.raises(ValueError, match="does not match"):
        dynamic_fns["gw"](_rand((2, 3, 6, 6), f32), _rand((2, 4, 5, 4), f32), np.array([3, 3]))
    with pytest.raises(ValueError, match="batch"):
        dynamic_fns["gw"](_rand((2, 3, 6, 6), f32), _rand((3, 4, 4, 4), f32), np.array([3, 3]))
    with pytest.raises(ValueError, match="does not match"):
        dynamic_fns["gi"](_rand((4, 3, 3, 3), f32), _rand((2, 4, 4, 4), f32), np.array([7, 6]))
    with pytest.raises(ValueError, match="output channels"):
        dynamic_fns["gi"](_rand((4, 3, 3, 3), f32), _rand((2, 5, 4, 4), f32), np.array([6, 6]))
    # and the functions still work afterwards
    y = dynamic_fns["fwd"](_rand((2, 3, 6, 6), f32), _rand((4, 3, 3, 3), f32))
    assert y.shape == (2, 4, 4, 4)
