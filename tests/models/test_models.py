"""ResNet / CRMN builders: Table 1 parameter counts, shapes, variants, errors, a tiny CRMN end to end."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import verify_grad
from pytensor.graph.replace import graph_replace

import crmn_legacy  # noqa: F401
from crmn_legacy import layers as L
from crmn_legacy.runtime.compile import function, get_mode
from crmn_legacy.models import (
    PAPER_CONFIGS, TABLE1, blocks_per_stage, build_model, count_params, crmn, matches_paper, paper_millions,
    resnet,
)

FAST = get_mode("FAST_COMPILE")
TINY = dict(num_classes=3, input_shape=(None, 3, 8, 8))


def _conv_bias_count(net):
    return sum(p.get_value().size for p in L.get_all_params(net) if ".conv" in p.name and p.name.endswith(".b"))


@pytest.mark.parametrize("row", TABLE1, ids=lambda r: f"{r.arch}{r.depth}-k{r.width}")
def test_table1_parameter_counts(row):
    net = build_model(row.arch, row.depth, row.width, 100)
    count = count_params(net)
    # default reading: conv biases present (paper's text), printed figure truncated to 0.01M
    assert matches_paper(count, row.paper_params_m), (count, row.paper_params_m)
    # the other reading: no conv biases (Lasagne's batch_norm), figure rounded
    assert matches_paper(count - _conv_bias_count(net), row.paper_params_m, mode="round")
    assert count_params(net, trainable=True) == count


def test_table1_hand_check_and_rounding_modes():
    net = resnet(5, 1)
    # conv1 3*16*9 + 16 b + 32 bn; 15 convs/stage ... checked by hand in the docstring of models.table1
    assert count_params(net) == 471140
    assert paper_millions(471140) == 0.47 and paper_millions(2127620) == 2.12
    assert paper_millions(2127620, "round") == 2.13
    assert not matches_paper(2127620, 2.12, mode="round")
    assert count_params(resnet(5, 1, conv_bias=False)) == 470004
    # the LSTM adds a constant number of parameters (section 4.1): 4*4096*100 + 4*100^2 + 4*100 + 3*100 + 2*100 + 100*100
    assert count_params(crmn(5, 1)) - count_params(net) == 1638400 + 40000 + 400 + 300 + 200 + 10000


def test_shapes_names_and_memory_interface():
    net = crmn(5, 1)
    assert net.output_shape == (None, 100)
    mem = [l for l in L.get_all_layers(net) if l.name == "memory"][0]
    assert mem.step_sizes == [16 * 16 * 16] * 5 + [32 * 8 * 8] * 5 + [64 * 4 * 4] * 5 and mem.input_size == 4096
    names = {p.name for p in L.get_all_params(net, statistic=None)}
    for name in ("conv1.W", "conv1.b", "bn1.gamma", "stage2.block3.conv1.W", "stage2.block3.bn1.gamma",
                 "stage3.block5.bn2.mean", "memory.W_xi", "memory.w_co", "memory.h0", "softmax.W", "softmax.b"):
        assert name in names, name
    concat = [l for l in L.get_all_layers(net) if l.name == "concat"][0]
    assert concat.output_shape == (None, 64 + 100)
    # every block output (after addition + ReLU) feeds the memory; not conv1, not the global pool
    feeders = [l.input_layer.input_layer.name for l in mem.input_layers]
    assert feeders == [f"stage{s}.block{b}.relu" for s in (1, 2, 3) for b in range(1, 6)]
    assert resnet(3, 1.5).input_layer.output_shape == (None, 96)
    assert build_model("resnet", 20, 1, 10).output_shape == (None, 10)


def test_variants_build_with_expected_counts():
    k = 0.25  # 4, 8, 16 maps
    std = count_params(resnet(1, k, **TINY))
    plain = count_params(resnet(1, k, variant="plain", **TINY))
    assert plain == std  # option-A shortcuts have no parameters
    pre = resnet(1, k, variant="preact", **TINY)
    # preact: conv1 loses its BN (8) and a final BN over 16 maps appears (32); the blocks' BNs move to their inputs
    # (4, 4 | 4, 8 | 8, 16 maps instead of 4, 4 | 8, 8 | 16, 16)
    assert count_params(pre) == std - 8 + 32 + 2 * ((4 + 4 + 4 + 8 + 8 + 16) - (4 + 4 + 8 + 8 + 16 + 16))
    bott = resnet(1, k, variant="bottleneck", **TINY)
    assert bott.input_layer.output_shape == (None, 64)  # 4 x 64k output maps
    assert build_model("resnet", 11, k, 3, variant="bottleneck", input_shape=(None, 3, 8, 8)).output_shape == (None, 3)
    gru = crmn(1, k, memory="gru", memory_units=7, **TINY)
    names = {p.name for p in L.get_all_params(gru)}
    assert "memory.W_xr" in names and "memory.c0" not in names
    lstm = crmn(1, k, memory_units=7, **TINY)
    assert count_params(lstm) - count_params(gru) == 4 * 7 * 7 - 3 * 7 * 7 + 7 * 4 * 4 * 4 + 7 + 3 * 7 + 7
    scan_net = crmn(1, k, memory_options=dict(unroll_scan=False, outgate_nonlinearity="tanh"), **TINY)
    assert "Scan" in pytensor.dprint(L.get_output(scan_net), file="str")
    assert count_params(crmn(1, k, memory_options=dict(peepholes=False), **TINY)) == \
        count_params(crmn(1, k, **TINY)) - 300


def test_depth_readings_and_paper_configs():
    assert blocks_per_stage(32) == 5 and blocks_per_stage(134) == 22 and blocks_per_stage(56) == 9
    assert blocks_per_stage(164, "bottleneck") == 18
    assert blocks_per_stage(28, depth_convention="wrn") == 4
    net = build_model(**PAPER_CONFIGS["cifar10-56-48"])
    assert net.output_shape == (None, 10)
    assert [l for l in L.get_all_layers(net) if l.name == "memory"][0].input_size == 48 * 16 * 16


@pytest.mark.slow
def test_wide_28_160_builds():
    net = build_model(**PAPER_CONFIGS["cifar100-28-160"])
    mem = [l for l in L.get_all_layers(net) if l.name == "memory"][0]
    assert len(mem.step_sizes) == 12 and mem.input_size == 160 * 16 * 16


@pytest.mark.parametrize("args,kwargs,match", [
    (("resnet", 28, 1, 100), {}, "depth_convention='wrn'"),
    (("resnet", 33, 1, 100), {}, "6n\\+2"),
    (("resnet", 32, 1, 100), {"variant": "bottleneck"}, "9n\\+2"),
    (("crmn", 2, 1, 100), {}, "n >= 1"),
    (("resnet", 32, 0, 100), {}, "positive"),
    (("resnet", 32, -1, 100), {}, "positive"),
    (("resnet", 32, 0.3, 100), {}, "16k must be an integer"),
    (("resnet", 32, 1, 0), {}, "num_classes"),
    (("vgg", 32, 1, 100), {}, "arch"),
    (("resnet", 32, 1, 100), {"variant": "densenet"}, "unknown variant"),
    (("crmn", 32, 1, 100), {"memory": "ntm"}, "unknown memory"),
    (("crmn", 32, 1, 100), {"memory": None}, "needs memory"),
    (("resnet", 32, 1, 100), {"memory": "lstm"}, "use crmn"),
    (("crmn", 32, 1, 100), {"input_shape": (None, 3, 4, 4)}, "too small"),
    (("crmn", 32, 1, 100), {"memory_options": {"bogus": 1}}, "bad memory_options"),
    (("resnet", 28, 1, 100), {"depth_convention": "wrn", "variant": "bottleneck"}, "basic blocks"),
    (("resnet", 32, 1, 100), {"depth_convention": "he6"}, "depth_convention"),
])
def test_impossible_configurations(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_model(*args, **kwargs)


@pytest.fixture(scope="module")
def tiny_crmn():
    net = crmn(1, 0.25, memory_units=5, **TINY)
    inp = [l for l in L.get_all_layers(net) if isinstance(l, L.InputLayer)][0]
    return net, inp


def test_tiny_crmn_forward_train_and_inference(tiny_crmn):
    net, inp = tiny_crmn
    out, updates = L.get_output(net, return_updates=True)
    det = L.get_output(net, deterministic=True)
    n_bn = len([l for l in L.get_all_layers(net) if isinstance(l, L.BatchNormLayer)])
    assert len(updates) == 2 * n_bn == 14
    fn = function([inp.input_var], [out, det], updates=list(updates.items()))  # the package's default mode
    X = np.random.default_rng(0).random((4, 3, 8, 8)).astype("float32")
    before = L.get_all_param_values(net)
    y, y_det = fn(X)
    assert y.shape == y_det.shape == (4, 3)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)
    assert not np.allclose(y, y_det)  # batch statistics vs (initial) running averages
    changed = [a.shape for a, b in zip(before, L.get_all_param_values(net)) if not np.array_equal(a, b)]
    assert len(changed) == 14  # only the running statistics moved
    pytensor.dprint(out, file="str")


def test_verify_grad_through_tiny_crmn():
    with pytensor.config.change_flags(floatX="float64", mode=FAST):
        net = crmn(1, 0.25, memory_units=3, **TINY)
        inp = [l for l in L.get_all_layers(net) if isinstance(l, L.InputLayer)][0]
        wanted = ["conv1.b", "stage2.block1.bn1.gamma", "stage3.block1.conv2.b", "memory.W_hi", "memory.b_f",
                  "memory.h0", "memory.w_co", "softmax.b"]
        by_name = {p.name: p for p in L.get_all_params(net)}
        params = [by_name[n] for n in wanted]
        rng = np.random.default_rng(1)
        for p in params:  # move away from the symmetric initial values (zeros, ones)
            p.set_value(p.get_value() + 0.1 * rng.normal(size=p.get_value().shape))
        # the input is a constant: every element of an input costs one forward pass in the numeric gradient;
        # the gradient w.r.t. conv1.W already flows back through every layer
        x = pt.constant(rng.random((2, 3, 8, 8)))

        def fun(*ps):
            return graph_replace(L.get_output(net, x), dict(zip(params, ps)))

        verify_grad(fun, [p.get_value() for p in params], rng=np.random.default_rng(2), mode=FAST)
