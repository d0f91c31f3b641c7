"""Figure 3 is drawn from Table 1's rows: one continuous run per model, the tested run's curves.

And Table 2's 32-layer, 64-map row trains with section 4.2's recipe (batch 50,
rates [0.1, 0.01, 0.005, 0.001]), as the wide row does.
"""

import importlib
import json
import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "repro"))



def test_figure3_draws_the_tested_run_of_table1_rows(fixture_file, tmp_path, capsys):
    figure3 = importlib.import_module("figure3")
    results, md = tmp_path / "results", tmp_path / "RESULTS.md"
    md.write_text("# Results\n")
    argv = ["--budget", "smoke", "--rows", "crmn-32-k1", "--dataset-file", str(fixture_file),
            "--results-dir", str(results), "--results-md", str(md)]
    assert figure3.main(argv) == 0, capsys.readouterr().err[-2000:]
    row = json.loads((results / "table1" / "crmn-32-k1.json").read_text())
    curves = row["training"]["curves"]
    # the smoke budget runs both phases: the tested run is phase 2, one epoch; its log is the source
    assert curves["phase"] == "final"
    log = [json.loads(x) for x in
           (results / "table1" / "runs" / "crmn-32-k1-smoke-cifar100-seed0" / "final" / "log.jsonl")
           .read_text().splitlines()]
    assert curves["train_loss"] == [r["train_loss"] for r in log]
    assert curves["test_error"] == [pytest.approx(1.0 - r["test_acc"]) for r in log]
    assert curves["tested_epoch"] == len(log)
    section = md.read_text().split("<!-- repro:figure3:begin -->")[1]
    assert "crmn-32-k1" in section and "never two phases joined" in section
    # --collect redraws from the row without training again
    capsys.readouterr()
    assert figure3.main(argv + ["--collect"]) == 0
    assert "training" not in capsys.readouterr().err


def test_figure3_names_untrained_rows_and_fails(tmp_path, capsys):
    figure3 = importlib.import_module("figure3")
    rc = figure3.main(["--budget", "cpu", "--collect", "--results-dir", str(tmp_path), "--no-results-md"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "python repro/table1.py --budget cpu --only resnet-32-k1" in err


def test_figure3_rejects_an_unknown_row(tmp_path):
    figure3 = importlib.import_module("figure3")
    with pytest.raises(SystemExit) as exc:
        figure3.main(["--rows", "crmn-33-k1", "--collect", "--results-dir", str(tmp_path)])
    assert exc.value.code == 2


def test_table2_32_layer_row_uses_section_4_2_recipe(fixture_file, tmp_path, capsys):
    table2 = importlib.import_module("table2")
    results = tmp_path / "results"
    argv = ["--budget", "smoke", "--only", "crmn-32-k4", "--no-repeats", "--dataset-file", str(fixture_file),
            "--results-dir", str(results), "--no-results-md"]
    assert table2.main(argv) == 0, capsys.readouterr().err[-2000:]
    (run,) = (results / "table2" / "runs").iterdir()
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["batch_size"] == 50 and cfg["lr_schedule"] == [0.1, 0.01, 0.005, 0.001]
