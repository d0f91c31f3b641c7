"""Smoke test of ``python -m crmn_legacy bench conv`` (tiny batch; not a timing test)."""

import json

import pytest

from crmn_legacy.bench import main as bench_main
from crmn_legacy.bench.conv import SHAPES


def _flops(shape, batch=2):
    """3 passes (forward, grad inputs, grad weights) x 2 N F C 3 3 Ho Wo of a 3x3 'same' conv."""
    ho = -(-shape["size"] // shape["stride"])
    return 3 * 2 * batch * shape["c_out"] * shape["c_in"] * 9 * ho * ho


def test_bench_conv_json(capsys):
    assert bench_main(["conv", "--batch-size", "2", "--repeats", "1", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["peak_gflops"] > 0 and res["batch_size"] == 2
    # each shape runs forward, grad inputs and grad weights (all three are executed for every shape)
    for r in res["shapes"]:
        flops = _flops(r)
        assert r["flops"] == flops and r["seconds"] > 0
        assert r["gflops"] == pytest.approx(flops / r["seconds"] / 1e9, rel=1e-12)
        assert r["fraction"] == pytest.approx(r["gflops"] / res["peak_gflops"], rel=1e-12)
    for k in (1, 4):  # a width's figure: all its FLOPs over all its time, not a mean of the shapes' rates
        sel = [r for r in res["shapes"] if r["k"] == k]
        rate = sum(_flops(r) for r in sel) / sum(r["seconds"] for r in sel) / 1e9
        assert res[f"k{k}_fraction"] == pytest.approx(rate / res["peak_gflops"], rel=1e-12)
    assert len(res["shapes"]) == len(SHAPES) == 10
    assert {(r["c_in"], r["c_out"], r["size"], r["stride"]) for r in res["shapes"] if r["k"] == 4} == {
        (64, 64, 32, 1), (64, 128, 32, 2), (128, 128, 16, 1), (128, 256, 16, 2), (256, 256, 8, 1)}
