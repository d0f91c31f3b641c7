"""Every table script runs end to end with ``--budget smoke`` on fixture data (Figure 3: test_figure3.py).

The fixture is a tiny HDF5 dataset file (``--dataset-file``): random images,
labels of 10 classes.  Smoke rows train an n=1 k=1 stand-in model for one
epoch per phase: this checks the pipeline (training, row files, --collect,
RESULTS.md sections), not accuracy.
"""

import importlib
import json
import pathlib
import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "repro"))



def _run(script, argv, capsys):
    mod = importlib.import_module(script)
    rc = mod.main(argv)
    return rc, capsys.readouterr()


@pytest.mark.parametrize("script, row", [
    ("table1", "crmn-32-k1"),
    ("table2", "crmn-32-k4"),
    ("table3", "crmn-56-k3"),
    ("svhn", "crmn-56-k3"),
])
def test_smoke_budget_end_to_end(script, row, fixture_file, tmp_path, capsys):
    results, md = tmp_path / "results", tmp_path / "RESULTS.md"
    md.write_text("# Results\n\nhand-written text stays\n")
    argv = ["--budget", "smoke", "--only", row, "--dataset-file", str(fixture_file),
            "--results-dir", str(results), "--results-md", str(md)]
    if script == "table2":
        argv.append("--no-repeats")
    rc, out = _run(script, argv, capsys)
    assert rc == 0, out.err[-2000:]
    saved = json.loads((results / script / f"{row}.json").read_text())
    training = saved["training"]
    assert training["budget"] == "smoke" and "NOT a reproduction" in training["budget_note"]
    assert "fixture file" in training["dataset"]
    # the reported accuracy is the tested model's: its exported weights, evaluated afresh on the fixture's 100
    # test images (evaluate_checkpoint: its own network, data loading and evaluation function)
    from crmn_legacy.training.evaluate import evaluate_checkpoint

    weights = training["weights"] if pathlib.Path(training["weights"]).is_absolute() else REPO / training["weights"]
    check = evaluate_checkpoint(weights, split="test", dataset_file=fixture_file)
    assert check["n"] == 100 and training["test_acc"] == pytest.approx(100.0 * check["acc"], abs=1e-9)
    text = md.read_text()
    assert "hand-written text stays" in text
    assert f"<!-- repro:{script}:begin -->" in text and f"<!-- repro:{script}:end -->" in text
    assert "smoke" in text.split(f"<!-- repro:{script}:begin -->")[1]

    # --collect rebuilds the same section from the row files without training
    rc, out = _run(script, ["--collect", "--results-dir", str(results), "--results-md", str(md)], capsys)
    assert rc == 0
    assert "training" not in out.err
    assert md.read_text().count(f"<!-- repro:{script}:begin -->") == 1


def test_table1_params_only_json_is_instant_and_exact(capsys):
    rc, out = _run("table1", ["--params-only", "--json"], capsys)
    rows = json.loads(out.out)
    assert rc == 0 and len(rows) == 12
    assert {"model", "layers", "width", "paper_params_m", "params"} <= set(rows[0])
    assert all(r["match"] for r in rows)
    r32 = next(r for r in rows if r["model"] == "resnet" and r["layers"] == 32 and r["width"] == 1)
    assert r32["params"] == 471140 and r32["paper_params_m"] == 0.47


def test_table1_without_data_prints_params_and_how_to_get_data(tmp_path, capsys):
    md = tmp_path / "RESULTS.md"
    rc, out = _run("table1", ["--data-dir", str(tmp_path / "empty"), "--results-dir", str(tmp_path / "r"),
                              "--results-md", str(md)], capsys)
    assert rc == 0
    assert "471140" in out.out and "fetch cifar100" in out.err + out.out
    assert "2127620" in md.read_text()


def test_unknown_row_is_a_usage_error(capsys):
    mod = importlib.import_module("table3")
    with pytest.raises(SystemExit) as exc:
        mod.main(["--only", "no-such-row"])
    assert exc.value.code == 2
    assert "crmn-56-k3" in capsys.readouterr().err


def test_flips_diagnostic_trains_the_table1_row_with_flips(fixture_file, tmp_path, capsys):
    """repro/flips.py: the Table 1 row's training plus --flip, shown beside the Table 1 row (same budget, seed)."""
    results, md = tmp_path / "results", tmp_path / "RESULTS.md"
    common = ["--budget", "smoke", "--only", "resnet-32-k1", "--dataset", "cifar10", "--dataset-file", str(fixture_file),
              "--results-dir", str(results), "--results-md", str(md)]
    assert _run("table1", common, capsys)[0] == 0
    rc, out = _run("flips", common, capsys)
    assert rc == 0, out.err[-2000:]
    base = json.loads((results / "table1" / "resnet-32-k1.json").read_text())["training"]
    flip = json.loads((results / "flips" / "resnet-32-k1.json").read_text())["training"]
    assert flip["flip"] is True and "horizontal flips (not in the paper)" in flip["budget_note"]
    assert not base.get("flip")
    run_cfg = json.loads((pathlib.Path(flip["run_dir"]) / "config.json").read_text())
    assert run_cfg["flip"] is True and run_cfg["seed"] == base["seed"]
    section = md.read_text().split("<!-- repro:flips:begin -->")[1].split("<!-- repro:flips:end -->")[0]
    row = next(line for line in section.splitlines() if line.startswith("| resnet-32-k1"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == f"{base['test_acc']:.2f}" and cells[2] == f"{flip['test_acc']:.2f}"
    assert cells[3] == f"{flip['test_acc'] - base['test_acc']:+.2f}"
    # --collect: the same section from the row files, nothing trained
    rc, out = _run("flips", ["--collect", "--results-dir", str(results), "--results-md", str(md)], capsys)
    assert rc == 0 and md.read_text().count("<!-- repro:flips:begin -->") == 1
