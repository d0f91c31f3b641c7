"""repro/table1.py: the FLOP columns (executed vs LSTM padded) and their labels."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "repro"))

import table1  # noqa: E402

from crmn_legacy.layers import get_all_layers  # noqa: E402
from crmn_legacy.layers.recurrent import DepthRecurrentLayer  # noqa: E402
from crmn_legacy.models import TABLE1, build_model  # noqa: E402

ROWS = {table1.row_id(r): r for r in TABLE1}


def test_padded_minus_executed_is_the_skipped_zero_padding_by_hand():
    """CRMN-32 k=1: 15 steps of sizes 16*16*16 (x5), 32*8*8 (x5), 64*4*4 (x5) after 2x2 pooling; D = 4096.

    A padded LSTM multiplies D inputs at every step; ours multiplies d_l: the
    difference is 2 (FLOPs per multiply-add) x 4 gates x H units x sum(D - d_l).
    """
    cols = table1.static_columns(ROWS["crmn-32-k1"])
    net = build_model("crmn", 32, 1, 100)
    (memory,) = [lay for lay in get_all_layers(net) if isinstance(lay, DepthRecurrentLayer)]
    d = [16 * 16 * 16] * 5 + [32 * 8 * 8] * 5 + [64 * 4 * 4] * 5
    skipped = 2 * 4 * memory.num_units * sum(max(d) - dl for dl in d)
    assert cols["flops_forward_padded"] - cols["flops_forward"] == skipped


def test_a_resnet_has_no_padding_to_count():
    cols = table1.static_columns(ROWS["resnet-32-k1"])
    assert cols["flops_forward_padded"] == cols["flops_forward"]


def test_the_table_labels_both_counts():
    rows = [table1.static_columns(ROWS[r]) for r in ("resnet-32-k1", "crmn-32-k1")]
    text, md = table1.render(rows, "test machine")
    header = md.splitlines()[0]
    assert "MFLOPs/img (executed)" in header and "MFLOPs/img (LSTM padded)" in header
    crmn = md.splitlines()[3].split("|")
    executed, padded = (float(crmn[header.split("|").index(h)]) for h in
                        (" MFLOPs/img (executed) ", " MFLOPs/img (LSTM padded) "))
    assert padded > executed


def _pair(res_runs, crmn_runs, budgets=("cpu", "cpu"), notes=("n", "n")):
    """Table 1 result dicts of the 32-layer k=1 pair with the given test accuracies per seed."""
    import _common as C

    def row(model, accs, budget, note, paper):
        runs = [{"seed": i, "test_acc": a, "val_acc_curve": [a / 100], "budget": budget, "budget_note": note,
                 "dataset": "cifar10", "select_epochs": 30} for i, a in enumerate(accs)]
        return {"model": model, "layers": 32, "width": 1, "paper_test_acc": paper,
                "training": C.summarize_seeds(runs)}

    return [row("resnet", res_runs, budgets[0], notes[0], 69.53), row("crmn", crmn_runs, budgets[1], notes[1], 70.84)]


def test_memory_effect_with_seeds_by_hand():
    # means 90 and 92, population stds 1 and 1 over 2 seeds: se = sqrt(1/2 + 1/2) = 1; d = 2 = 2 se -> not > 0
    (note,) = table1.memory_effect_notes(_pair([89.0, 91.0], [91.0, 93.0]))
    assert "+2.00 +- 1.00 points" in note and "cannot resolve the paper's +1.31" in note
    (note,) = table1.memory_effect_notes(_pair([89.0, 91.0], [91.5, 93.5]))   # d = 2.5 > 2 se
    assert "+2.50 +- 1.00" in note and "supports the paper's +1.31" in note
    (note,) = table1.memory_effect_notes(_pair([91.5, 93.5], [89.0, 91.0]))   # d = -2.5 < -2 se
    assert "-2.50 +- 1.00" in note and "contradicts the paper's +1.31" in note
    assert "different budgets" not in note


def test_memory_effect_of_single_runs_never_resolves_and_names_a_budget_mismatch():
    (note,) = table1.memory_effect_notes(_pair([83.10], [88.0], notes=("15-22", "18-20")))
    assert "+4.90 points from one run each" in note and "cannot resolve" in note
    assert "different budgets" in note
    assert table1.memory_effect_notes(_pair([83.1], [88.0])[1:]) == []   # no ResNet row, no note
