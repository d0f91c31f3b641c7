"""The weights committed under results/ reproduce the test accuracy their Table 1 row reports.

For every trained Table 1 row whose weights file is committed, ``python -m
crmn_legacy evaluate FILE`` on the CIFAR-10 copy must count exactly as many
correct test images as the row's accuracy says.  Needs the data (skipped
without it) and at least one committed row.
"""

import json

import pytest

from conftest import REPO, SHARED_DATA
from crmn_legacy.training.cli import main_evaluate

pytestmark = pytest.mark.needs_data


def _rows():
    out = []
    for path in sorted((REPO / "results" / "table1").glob("*.json")):
        t = json.loads(path.read_text()).get("training") or {}
        w = t.get("weights")
        if t.get("test_acc") is not None and w and (REPO / w).is_file() and t.get("budget") == "cpu":
            out.append(pytest.param(t, id=path.stem))
    return out[:1]  # one is enough to check the path; each takes a full test-set pass


@pytest.mark.parametrize("training", _rows() or [pytest.param(None, marks=pytest.mark.skip(
    reason="no trained Table 1 row with committed weights"))])
def test_evaluate_reproduces_the_row(training, capsys, data_root):
    rc = main_evaluate([str(REPO / training["weights"]), "--data-dir", str(SHARED_DATA), "--json"])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n"] == 10000 and res["split"] == "test"
    assert round(res["acc"] * res["n"]) == round(training["test_acc"] / 100 * res["n"])
