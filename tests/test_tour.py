"""Tests of crmn_legacy.tour: the whole tour runs, and its computed claims hold.

One module-scoped run of steps 1-5 (one compiled function, ~25 s on 2 warm
cores); step 6 (JAX) reuses the same context in a test marked ``jax``.
"""

import sys
import time

import numpy as np
import pytest

from crmn_legacy import tour


@pytest.fixture(scope="module")
def ran():
    ctx = tour.TourContext()
    lines = []
    start = time.perf_counter()
    facts = tour.run_tour([1, 2, 3, 4, 5], ctx=ctx, say=lines.append)
    seconds = time.perf_counter() - start
    print(f"\ntour steps 1-5: {seconds:.1f} s (compile {ctx.compile_seconds:.1f} s)")
    return ctx, facts, "\n".join(lines)


def test_step1_lstm_step_names_the_paper_variables(ran):
    _, facts, text = ran
    assert facts[1]["names"] == sorted(["i_l", "f_l", "o_l", "c_l", "s_l", "h_l"])
    for name, op in (("i_l", "Sigmoid"), ("f_l", "Sigmoid"), ("o_l", "Sigmoid"), ("s_l", "Tanh"),
                     ("c_l", "Add"), ("h_l", "Mul")):
        assert f"{op} [id" in text and f"'{name}'" in text
    assert facts[1]["nodes"] > 10


def test_step2_rewrites_fuse_inplace_and_fold(ran):
    _, facts, text = ran
    before, after = facts[2]["before"], facts[2]["after"]
    assert after["nodes"] < before["nodes"]
    assert before["fused"] == 0 and after["fused"] > 0
    assert after["scalar_ops_in_fused"] > after["fused"]          # each fused node does several ops
    assert before["inplace"] == 0 and after["inplace"] > 0
    assert before["all_constant_input_nodes"] > 0 and after["all_constant_input_nodes"] == 0
    assert after["by_kind"]["Conv2dGradWeights"] >= 1 and after["by_kind"]["Conv2dGradInputs"] >= 1
    for name, (nb, na) in facts[2]["sizes"].items():
        assert 0 < na < nb, name
    assert "Conv2dGradWeights" in text and "'dL/dW_conv'" in text


def test_step3_finite_differences_agree(ran):
    _, facts, _ = ran
    checks = facts[3]["checks"]
    assert set(checks) == {tour.CONV_PARAM, tour.GATE_PARAM}
    for name, rows in checks.items():
        assert len(rows) == 4
        for row in rows:
            assert row["abs_error"] < 1e-8, (name, row)
            if abs(row["analytic"]) > 1e-5:
                assert row["rel_error"] < 1e-5, (name, row)
    assert facts[3]["max_abs_error"] < 1e-8


def test_step3_restores_the_parameters(ran):
    ctx, facts, _ = ran
    np.testing.assert_allclose(ctx.values()["loss"], facts[3]["loss"], rtol=0, atol=1e-14)


def test_step4_two_paths_sum_to_the_total(ran):
    ctx, facts, _ = ran
    f = facts[4]
    assert f["norms"]["residual path"] > 0 and f["norms"]["memory path"] > 0
    assert f["relative_sum_error"] < 1e-12
    vals = ctx.values()          # recompute independently of the step's own arithmetic
    np.testing.assert_allclose(vals["dL/dx1_res"] + vals["dL/dx1_mem"], vals["dL/dx1"], rtol=1e-12, atol=1e-15)
    assert f["shape"] == vals["dL/dx1"].shape


def test_step5_shows_our_conv_c_code(ran):
    _, facts, text = ran
    f = facts[5]
    for fn in ("crmn_conv2d_fwd_double", "crmn_conv2d_fwd_float", "crmn_im2col_double"):
        assert fn in f["functions"]
    assert "instantiate" in f["exported"] and f["structs"]
    assert {"init", "run", "cleanup"} <= set(f["methods"])
    assert any("crmn_conv2d_fwd_double(" in line for line in f["excerpt"])
    assert 0 < f["c_nodes"] <= f["nodes"]
    assert f["conv_kinds"]["Conv2d"] >= 1
    assert "crmn_conv2d_fwd_double(" in text


@pytest.mark.jax
def test_step6_jax_matches_the_c_backend(ran):
    ctx, _, _ = ran
    lines = []
    f = tour.step_jax(ctx, lines.append)
    assert f.get("skipped") is None and "error" not in f, f
    for name, d in f["diffs"].items():
        assert d["max_abs_diff"] <= 1e-10 * max(1.0, d["max_abs"]), (name, d)
    assert f["dtype"] == "float64"


def test_step6_skips_without_jax(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)      # "import jax" now raises ImportError
    lines = []
    f = tour.step_jax(ctx=None, say=lines.append)
    assert f["skipped"] and "SKIPPED" in "\n".join(lines)


def test_main_list_and_single_step(capsys):
    assert tour.main(["--list"]) == 0
    listed = capsys.readouterr().out.strip().splitlines()
    assert [line.split(".")[0] for line in listed] == [str(s.number) for s in tour.STEPS]
    assert tour.main(["--step", "1"]) == 0
    out = capsys.readouterr().out
    assert "Step 1" in out and "Step 2" not in out and "'h_l'" in out
