"""benchmarks/cpu_speed.py: the RESULTS.md section it writes from saved bench results, and its
argument checks (the benchmark itself is long and is not run here)."""

import importlib.util

import pytest

from conftest import REPO


@pytest.fixture(scope="module")
def cpu_speed():
    spec = importlib.util.spec_from_file_location("cpu_speed", REPO / "benchmarks" / "cpu_speed.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _step(model, depth, width, step, frac):
    return {"model": model, "depth": depth, "width": width, "step_s_median": step, "achieved_gflops": 100 * frac,
            "peak_gflops": 100.0, "fraction_of_peak": frac, "compile_s": 12.0, "peak_rss_mib": 900.0,
            "load_average": [0.5, 0.4, 0.3], "build_s": 2.0, "compile_train_s": 11.0, "train_nodes": 1234,
            "hardware": "Test CPU, 2 cores"}


def test_section_lists_measured_targets_and_quoted_pytorch(cpu_speed):
    results = {"conv": {"k1_fraction": 0.52, "k4_fraction": 0.8, "peak_gflops": 160.0, "load_average": [0.1]},
               "crmn32_k1": _step("crmn", 32, 1.0, 0.9, 0.45), "crmn32_k4": _step("crmn", 32, 4.0, 5.0, 0.8),
               "resnet134_cold": _step("resnet", 134, 1.0, 1.0, 0.3),
               "resnet134_warm": dict(_step("resnet", 134, 1.0, 1.0, 0.3), compile_train_s=4.0)}
    text = cpu_speed.section(results)
    assert "k=1 52.0% of a 160 GFLOP/s peak" in text
    # PyTorch's fraction: our executed FLOPs of the step (GFLOP/s x s/step) over its quoted time x 205 GFLOP/s:
    # k=1: 45 x 0.9 = 40.5 GFLOP / (0.62 s x 205) = 31.9%;  k=4: 80 x 5 = 400 / (6.00 x 205) = 32.5%
    assert "| crmn-32 k=1 | 0.900 | 45 / 100 | 45.0% | 60.0% | 0.62 s, 31.9% |" in text
    assert "| crmn-32 k=4 | 5.000 | 80 / 100 | 80.0% | 78.0% | 6.00 s, 32.5% |" in text
    assert "| [0.5, 0.4, 0.3] | - |" in text  # no probe in these results: a dash, not a number
    assert "resnet-32" not in text  # rows without results are left out, not invented
    assert "compile 11.0 s with an empty graph cache" in text and "4.0 s from the cache" in text
    assert "PyTorch figures are quoted" in text and "issue" not in text
    assert "executed FLOPs" in text and "Measured on: Test CPU, 2 cores." in text


def test_warm_needs_cold(cpu_speed):
    with pytest.raises(SystemExit):
        cpu_speed.main(["--only", "resnet134_warm", "--no-results-md"])


def test_probe_column(cpu_speed):
    r = dict(_step("crmn", 32, 4.0, 5.0, 0.8), probe_gflops_median=90.0, fraction_of_probe=80 / 90)
    text = cpu_speed.section({"crmn32_k4": r})
    assert "| [0.5, 0.4, 0.3] | 90 (88.9%) |" in text
