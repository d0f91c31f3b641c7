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
