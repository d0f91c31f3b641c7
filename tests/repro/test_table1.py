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
