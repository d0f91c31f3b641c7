"""repro/_common.py: rows x seeds -- which seeds a row still needs, and the best-of-K / mean +- std summary."""

import argparse
import math
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "repro"))

import _common as C  # noqa: E402


def _run(seed, test_acc, val_accs, budget="smoke", data="fixture"):
    return {"seed": seed, "test_acc": test_acc, "val_acc_curve": val_accs, "budget": budget, "dataset": data,
            "select_epochs": len(val_accs)}


def _args(**kw):
    base = dict(seed=0, seeds=None, budget="smoke", force=False)
    base.update(kw)
    return argparse.Namespace(**base)


def test_summary_of_three_seeds_by_hand():
    runs = [_run(2, 72.0, [0.5, 0.6]), _run(0, 70.0, [0.4, 0.7]), _run(1, 74.0, [0.3, 0.65])]
    t = C.summarize_seeds(runs)
    # best validation accuracy: seed 0 (0.7), whose test accuracy is 70 -- not the highest test accuracy
    assert t["seed"] == 0 and t["test_acc_best_val"] == 70.0
    assert [r["seed"] for r in t["runs"]] == [0, 1, 2] and t["seeds"] == [0, 1, 2]
    assert t["test_acc_max"] == 74.0  # the paper's "best of K"
    assert t["test_acc_mean"] == pytest.approx(72.0)  # (70 + 74 + 72) / 3
    assert t["test_acc_std"] == pytest.approx(math.sqrt((4 + 4 + 0) / 3))  # population std: 1.633
    assert C.seeds_cell(t) == "74.00 best of 3 (best-val run 70.00); 72.00 +- 1.63"
    assert C.seeds_note(t).startswith("seeds 0, 1, 2") and "seed 0)" in C.seeds_note(t)


def test_one_seed_is_the_run_itself():
    run = _run(0, 61.25, [0.5])
    assert C.summarize_seeds([run]) == run
    assert C.seeds_cell(run) == "61.25" and C.seeds_note(run) == "seed 0"
    assert C.seeds_cell(None) == "-"


def test_seeds_still_to_train_reuse_matching_runs():
    saved = {"training": C.summarize_seeds([_run(0, 70.0, [0.5]), _run(1, 71.0, [0.6])])}
    task = C.RowTask("table1", "crmn-32-k1", None, {})
    args = _args(seeds=3)
    assert C.wanted_seeds(args) == [0, 1, 2]
    todo = C.plan_row(saved, task, args, "fixture", C.wanted_seeds(args))
    assert [t.seed for t in todo] == [2] and todo[0].row_id == "crmn-32-k1"
    # another budget, another data copy, or --force: nothing is reused
    assert len(C.plan_row(dict(saved), task, _args(seeds=3, budget="cpu"), "fixture", [0, 1, 2])) == 3
    assert len(C.plan_row(dict(saved), task, args, "other data", [0, 1, 2])) == 3
    assert len(C.plan_row(dict(saved), task, _args(seeds=3, force=True), "fixture", [0, 1, 2])) == 3
    # nothing missing: the row's training becomes the summary of exactly the wanted seeds
    one = dict(saved)
    assert C.plan_row(one, task, _args(seed=1, seeds=1), "fixture", [1]) == []
    assert one["training"]["seed"] == 1 and "runs" not in one["training"]


def test_record_runs_merges_new_seeds_into_the_row_file(tmp_path):
    path = tmp_path / "row.json"
    C.save_row(path, {"params": 5, "training": _run(0, 70.0, [0.5])})
    saved = C.record_runs(path, {1: _run(1, 80.0, [0.9])}, _args(seeds=2), "fixture", [0, 1])
    assert C.load_row(path) == saved and saved["params"] == 5
    assert saved["training"]["seeds"] == [0, 1] and saved["training"]["test_acc_mean"] == pytest.approx(75.0)
    assert saved["training"]["seed"] == 1  # best validation accuracy (0.9)
