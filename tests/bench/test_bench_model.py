"""crmn_legacy.bench.model: the --compile-only measurement."""

import json

import pytest

import crmn_legacy  # noqa: F401
from crmn_legacy.bench import model as bench_model


def test_compile_only_reports_build_and_compile_time_and_runs_no_step(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CRMN_GRAPH_CACHE", str(tmp_path))
    rc = bench_model.main(["--model", "resnet", "--depth", "8", "--num-classes", "10", "--batch-size", "2",
                           "--compile-only", "--json"])
    assert rc == 0
    r = json.loads(capsys.readouterr().out)
    assert r["compile_s"] == r["compile_train_s"] > 0 and r["build_s"] > 0 and r["train_nodes"] > 0
    assert "step_s" not in r and "inference_ms_per_image" not in r and r["peak_gflops"] is None
    assert list(tmp_path.rglob("*.pkl"))  # went through the graph cache


def _resnet8_training_step_flops():
    """Executed FLOPs per image of a ResNet-8 (n = 1) training step on 32x32 images, 10 classes, by hand.

    3x3 'same' convs: conv1 3 -> 16 maps at 32x32; one block per stage: 16 -> 16 at 32x32, 16 -> 32 (stride
    2) and 32 -> 32 at 16x16, 32 -> 64 (stride 2) and 64 -> 64 at 8x8; softmax 64 -> 10.  Each product runs
    forward, as weight gradient and as input gradient, except conv1's input gradient (the images').
    """
    conv1 = 2 * 3 * 9 * 16 * 32 * 32
    blocks = 2 * 9 * (2 * 16 * 16 * 32 * 32 + (16 * 32 + 32 * 32) * 16 * 16 + (32 * 64 + 64 * 64) * 8 * 8)
    return 2 * conv1 + 3 * blocks + 3 * 2 * 64 * 10


def test_timed_steps_carry_a_matmul_probe_per_step(tmp_path, monkeypatch):
    monkeypatch.setenv("CRMN_GRAPH_CACHE", str(tmp_path))
    r = bench_model.measure_model("resnet", 8, 1, batch_size=2, num_classes=10, steps=5, warmup=1, peak=100.0,
                                  inference=False, log=lambda msg: None)
    assert len(r["step_s"]) == 5 and len(r["probe_gflops"]) == 5 and min(r["probe_gflops"]) > 0
    assert r["step_s_median"] == sorted(r["step_s"])[2] and r["probe_gflops_median"] == sorted(r["probe_gflops"])[2]
    # the rates divide the executed FLOPs (derived above, not taken from the library) by the median step
    flops = 2 * _resnet8_training_step_flops()
    assert r["train_gflop_per_step"] == pytest.approx(flops / 1e9, rel=1e-12)
    rate = flops / r["step_s_median"] / 1e9
    assert r["achieved_gflops"] == pytest.approx(rate, rel=1e-12)
    assert r["fraction_of_peak"] == pytest.approx(rate / 100.0, rel=1e-12)
    assert r["fraction_of_probe"] == pytest.approx(rate / sorted(r["probe_gflops"])[2], rel=1e-12)
    r = bench_model.measure_model("resnet", 8, 1, batch_size=2, num_classes=10, steps=5, peak=100.0,
                                  inference=False, log=lambda msg: None, probe_steps=False)
    assert "probe_gflops" not in r and "fraction_of_probe" not in r


def test_matmul_probe_returns_a_rate():
    from crmn_legacy.bench.peak import MatmulProbe

    probe = MatmulProbe(n=128, settle_s=0.0)
    assert probe() > 0
