"""FLOP counts from layer shapes, checked against hand computation."""

import crmn_legacy  # noqa: F401
from crmn_legacy.flops import count_flops, flops_by_kind, paper_cost_model
from crmn_legacy.models import build_model


def _resnet32_conv_flops(k):
    """Hand count for ResNet-32 (n=5): conv1, then 3 stages of 5 blocks x 2 convs."""
    w1, w2, w3 = 16 * k, 32 * k, 64 * k
    total = 2 * 3 * 9 * w1 * 32 * 32                       # conv1
    total += 10 * 2 * w1 * 9 * w1 * 32 * 32                 # stage 1
    total += 2 * w1 * 9 * w2 * 16 * 16 + 9 * 2 * w2 * 9 * w2 * 16 * 16  # stage 2 (first conv strided)
    total += 2 * w2 * 9 * w3 * 8 * 8 + 9 * 2 * w3 * 9 * w3 * 8 * 8      # stage 3
    return total


def test_resnet32_flops_by_hand():
    net = build_model("resnet", 32, 1, 100)
    kinds = flops_by_kind(net)
    assert kinds["conv"] == _resnet32_conv_flops(1)
    assert kinds["dense"] == 2 * 64 * 100
    assert kinds["memory"] == 0
    assert count_flops(net, training=True) == 3 * count_flops(net)


def test_crmn32_memory_flops_use_padded_input():
    net = build_model("crmn", 32, 1, 100)
    kinds = flops_by_kind(net)
    d, h, steps = 16 * 16 * 16, 100, 15                     # pooled stage-1 output is the largest
    assert kinds["memory"] == 2 * steps * 4 * h * (d + h)
    assert kinds["dense"] == 2 * (64 + 100) * 100
    assert kinds["conv"] == _resnet32_conv_flops(1)


def test_paper_cost_model_eq8_to_10():
    res, mem = build_model("resnet", 32, 1, 100), build_model("crmn", 32, 1, 100)
    c_r = 5 * (16**2 * 9 * 32**2 + 32**2 * 9 * 16**2 + 64**2 * 9 * 8**2)
    assert paper_cost_model(res) == {"C_r": c_r, "memory": 0, "C_rm": c_r}
    extra = 5 * 3 * 100**2 + 5 * 100 * (16 * 32**2 + 32 * 16**2 + 64 * 8**2)
    assert paper_cost_model(mem) == {"C_r": c_r, "memory": extra, "C_rm": c_r + extra}
