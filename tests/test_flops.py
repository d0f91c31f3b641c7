"""FLOP counts from layer shapes: checked against hand derivations from the paper's layer shapes, and against
the products a compiled training step really executes (counted node by node while it runs)."""

import collections
import functools

import numpy as np
import pytensor.tensor as pt
import pytest

import crmn_legacy  # noqa: F401
from crmn_legacy.flops import count_flops, flops_by_kind, paper_cost_model
from crmn_legacy.models import build_model, crmn

H, GATES, CLASSES = 100, 4, 100  # LSTM hidden = cell size (section 4), LSTM gates (eqs. 2-7), CIFAR-100


@functools.lru_cache(maxsize=None)
def _crmn32(k):
    return build_model("crmn", 32, k, CLASSES)


def _resnet32_conv_flops(k):
    """Forward FLOPs (2 x multiply-adds) per image of ResNet-32's convs (n = 5): [conv1, then the 30 block convs].

    3x3 'same' convolutions; 16k maps at 32x32, 32k at 16x16, 64k at 8x8; the first conv of stages 2 and 3
    has stride 2 and reads the previous stage's maps (He et al.'s CIFAR ResNet, paper section 3.2).
    """
    w1, w2, w3 = 16 * k, 32 * k, 64 * k
    convs = [2 * 3 * 9 * w1 * 32 * 32]                                     # conv1, on the RGB image
    convs += [2 * w1 * 9 * w1 * 32 * 32] * 10                              # stage 1: 5 blocks x 2 convs
    convs += [2 * w1 * 9 * w2 * 16 * 16] + [2 * w2 * 9 * w2 * 16 * 16] * 9  # stage 2
    convs += [2 * w2 * 9 * w3 * 8 * 8] + [2 * w3 * 9 * w3 * 8 * 8] * 9      # stage 3
    return convs


def _crmn32_training_step_by_hand(k):
    """Executed FLOPs per image of one CRMN-32 training step, by kind, derived from the paper's shapes.

    * Every product y = x W costs the same in each pass: forward, weight gradient x^T dy, input gradient
      dy W^T.  The input gradient of conv1 (of the images) is never computed: conv1 counts twice, every
      other conv three times.
    * Memory (section 3.2, eqs. 2-7): the 3n = 15 block outputs, 2x2 mean-pooled, are the LSTM's steps:
      d_l = 16k x 16 x 16 (stage 1), 32k x 8 x 8 (stage 2), 64k x 4 x 4 (stage 3).  Our LSTM multiplies
      each step by the first d_l rows of W_x (no zero padding), 4 gates of H = 100 units: 2 x 4 H d_l
      per pass; the recurrent product h_{l-1} W_h, 2 x 4 H H per step and pass (h_0 is learned, so even
      the first step's input gradient is computed).  Peepholes and gate nonlinearities are elementwise.
    * Softmax layer: [global average pool (64k), h_L (H)] -> 100 classes, three passes.
    """
    convs = _resnet32_conv_flops(k)
    steps = [16 * k * 16 * 16] * 5 + [32 * k * 8 * 8] * 5 + [64 * k * 4 * 4] * 5
    return {
        "conv": 3 * sum(convs) - convs[0],
        "dense": 3 * 2 * (64 * k + H) * CLASSES,
        "memory": 3 * sum(2 * GATES * H * d for d in steps) + 3 * len(steps) * 2 * GATES * H * H,
    }


def test_resnet32_flops_by_hand():
    net = build_model("resnet", 32, 1, 100)
    kinds = flops_by_kind(net)
    assert kinds["conv"] == sum(_resnet32_conv_flops(1))
    assert kinds["dense"] == 2 * 64 * 100
    assert kinds["memory"] == 0
    # training: three passes of every product but conv1's, whose input gradient is not computed
    assert count_flops(net, training=True) == 3 * count_flops(net) - _resnet32_conv_flops(1)[0]


@pytest.mark.parametrize("k", [1, 4])
def test_crmn32_training_step_flops_by_hand(k):
    net = _crmn32(k)
    by_hand = _crmn32_training_step_by_hand(k)
    assert dict(flops_by_kind(net, training=True)) == by_hand
    assert count_flops(net, training=True) == sum(by_hand.values())


@pytest.mark.parametrize("k", [1, 4])
def test_crmn32_padded_lstm_count_is_labelled_apart(k):
    """padded=True: every one of the 15 steps at the zero-padded size D = 16k x 16 x 16 (the model as the
    paper defines it); the default counts what is executed (unpadded d_l)."""
    net = _crmn32(k)
    d_max = 16 * k * 16 * 16
    padded = flops_by_kind(net, padded=True)
    assert padded["memory"] == 2 * 15 * GATES * H * (d_max + H)
    executed = flops_by_kind(net)
    steps = [16 * k * 16 * 16] * 5 + [32 * k * 8 * 8] * 5 + [64 * k * 4 * 4] * 5
    assert executed["memory"] == 2 * GATES * H * sum(steps) + 15 * 2 * GATES * H * H
    assert padded["conv"] == executed["conv"] == sum(_resnet32_conv_flops(k))
    assert padded["dense"] == executed["dense"] == 2 * (64 * k + H) * CLASSES


def test_memory_that_pads_its_inputs_counts_padded_and_fixed_h0_saves_a_product():
    """slice_weights=False really multiplies the zero-padded inputs; learn_init=False leaves h_0 untrained,
    so the first step's dh_0 = da_1 W_h^T is not computed.  CRMN-8 (n = 1) on 16x16 images: 3 steps of
    d_l = 16 x 8 x 8, 32 x 4 x 4, 64 x 2 x 2, padded to D = 1024."""
    def net(**memory_options):
        return build_model("crmn", 8, 1, 10, input_shape=(None, 3, 16, 16), memory_options=memory_options)

    assert flops_by_kind(net())["memory"] == 2 * GATES * H * (1024 + 512 + 256) + 3 * 2 * GATES * H * H
    assert flops_by_kind(net(slice_weights=False))["memory"] == 3 * 2 * GATES * H * (1024 + H)
    diff = flops_by_kind(net(), training=True)["memory"] - flops_by_kind(net(learn_init=False), training=True)["memory"]
    assert diff == 2 * GATES * H * H


def test_paper_cost_model_eq8_to_10():
    res, mem = build_model("resnet", 32, 1, 100), _crmn32(1)
    c_r = 5 * (16**2 * 9 * 32**2 + 32**2 * 9 * 16**2 + 64**2 * 9 * 8**2)
    assert paper_cost_model(res) == {"C_r": c_r, "memory": 0, "C_rm": c_r}
    extra = 5 * 3 * 100**2 + 5 * 100 * (16 * 32**2 + 32 * 16**2 + 64 * 8**2)
    assert paper_cost_model(mem) == {"C_r": c_r, "memory": extra, "C_rm": c_r + extra}


# ---------------------------------------------------------------------------------------- what really runs
def _product_flops(node, storage_map):
    """2 x multiply-adds of one executed matrix product or convolution node, from its run-time shapes."""
    name = type(node.op).__name__
    shape = [np.shape(storage_map[v][0]) for v in node.inputs]
    if name == "Conv2d":                        # x (N, C, H, W), w (F, C, kh, kw) -> y (N, F, Ho, Wo)
        (n, c, _, _), (f, _, kh, kw) = shape[:2]
        ho, wo = np.shape(storage_map[node.outputs[0]][0])[2:]
    elif name == "Conv2dGradWeights":           # x, dy (N, F, Ho, Wo) -> dw (F, C, kh, kw)
        (n, c, _, _), (_, f, ho, wo) = shape[:2]
        kh, kw = np.shape(storage_map[node.outputs[0]][0])[2:]
    elif name == "Conv2dGradInputs":            # w (F, C, kh, kw), dy (N, F, Ho, Wo) -> dx
        (f, c, kh, kw), (n, _, ho, wo) = shape[:2]
    elif name in ("Matmul", "Dot22", "Dot22Scalar", "Dot", "Gemm"):
        out = np.shape(storage_map[node.outputs[0]][0])
        a = shape[2] if name == "Gemm" else shape[0]  # Gemm(z, alpha, x, y, beta)
        inner = a[0] if getattr(node.op, "trans_a", False) else a[-1]
        return 2 * int(np.prod(out)) * inner
    else:
        return None
    return 2 * n * f * c * kh * kw * ho * wo


def test_count_equals_the_products_a_compiled_training_step_executes():
    """Compile a small CRMN's training step with our rewrites (the default query) and a linker that calls
    back after every node; add up the products of every convolution and matrix-product node as run."""
    from pytensor.compile.mode import Mode
    from pytensor.link.vm import VMLinker

    from crmn_legacy import random as crmn_random
    from crmn_legacy.runtime.compile import FAST_QUERY, function, register_rewrites
    from crmn_legacy.ops.tanh import DoubleExpTanh
    from crmn_legacy.training.step import training_step

    register_rewrites()  # what get_mode() does before it hands out our default mode

    crmn_random.set_rng(3)
    net = crmn(1, 1, num_classes=4, input_var=pt.tensor4("x"), input_shape=(None, 3, 16, 16))
    step = training_step(net)
    executed, kinds = [0], collections.Counter()

    def callback(node, thunk, storage_map, compute_map):
        n = _product_flops(node, storage_map)
        kinds[type(node.op).__name__] += 1
        if n is not None:
            executed[0] += n
        else:  # nothing else in the graph may hide a product we do not count
            assert not any(s in type(node.op).__name__.lower() for s in ("dot", "gemm", "gemv", "ger", "conv",
                                                                          "matmul", "blockwise")), node

    fn = function(step.inputs, step.outputs, updates=step.updates, cache=False,
                  mode=Mode(linker=VMLinker(use_cloop=False, callback=callback), optimizer=FAST_QUERY))
    # our rewrites ran (crmn_float32_tanh put its tanh into the LSTM's fused gate Composites)
    scalar = [getattr(n.op, "scalar_op", None) for n in fn.maker.fgraph.apply_nodes]
    assert any(isinstance(op, DoubleExpTanh) for s in scalar if hasattr(s, "fgraph") for op in
               (m.op for m in s.fgraph.apply_nodes))
    batch = 6
    rng = np.random.default_rng(0)
    fn(rng.standard_normal((batch, 3, 16, 16)).astype(np.float32), np.arange(batch, dtype=np.int32) % 4)
    # 7 convs forward and weight gradient, 6 input gradients (not conv1's); 3 steps x 3 passes of the LSTM's
    # input projections (our Matmul) and recurrence, 3 passes of the softmax layer
    assert kinds["Conv2d"] == kinds["Conv2dGradWeights"] == 7 and kinds["Conv2dGradInputs"] == 6
    assert kinds["Matmul"] == 9
    assert executed[0] == count_flops(net, training=True) * batch
    assert executed[0] < 3 * count_flops(net, padded=True) * batch  # the old convention overstated it
