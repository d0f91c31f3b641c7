"""crmn_legacy.bench.model: the --compile-only measurement."""

import json

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


def test_timed_steps_carry_a_matmul_probe_per_step(tmp_path, monkeypatch):
    monkeypatch.setenv("CRMN_GRAPH_CACHE", str(tmp_path))
    r = bench_model.measure_model("resnet", 8, 1, batch_size=2, num_classes=10, steps=5, warmup=1, peak=100.0,
                                  inference=False, log=lambda msg: None)
    assert len(r["step_s"]) == 5 and len(r["probe_gflops"]) == 5 and min(r["probe_gflops"]) > 0
    assert r["probe_gflops_median"] == sorted(r["probe_gflops"])[2]
    assert abs(r["fraction_of_probe"] - r["achieved_gflops"] / r["probe_gflops_median"]) < 1e-12
    assert abs(r["fraction_of_peak"] - r["achieved_gflops"] / 100.0) < 1e-12
    r = bench_model.measure_model("resnet", 8, 1, batch_size=2, num_classes=10, steps=5, peak=100.0,
                                  inference=False, log=lambda msg: None, probe_steps=False)
    assert "probe_gflops" not in r and "fraction_of_probe" not in r


def test_matmul_probe_returns_a_rate():
    from crmn_legacy.bench.peak import MatmulProbe

    probe = MatmulProbe(n=128, settle_s=0.0)
    assert probe() > 0
