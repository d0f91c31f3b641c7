"""Smoke test of ``python -m crmn_legacy bench conv`` (tiny batch; not a timing test)."""

import json

from crmn_legacy.bench import main as bench_main
from crmn_legacy.bench.conv import SHAPES


def test_bench_conv_json(capsys):
    assert bench_main(["conv", "--batch-size", "2", "--repeats", "1", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    for key in ("peak_gflops", "k1_fraction", "k4_fraction"):
        assert res[key] > 0
    assert len(res["shapes"]) == len(SHAPES) == 10
    assert {(r["c_in"], r["c_out"], r["size"], r["stride"]) for r in res["shapes"] if r["k"] == 4} == {
        (64, 64, 32, 1), (64, 128, 32, 2), (128, 128, 16, 1), (128, 256, 16, 2), (256, 256, 8, 1)}
