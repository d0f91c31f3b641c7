"""Weights-only files: ``export`` keeps what evaluation needs, drops velocities and resume state."""

import json

import h5py
import numpy as np
import pytest

from crmn_legacy.training.checkpoint import export_weights, load_checkpoint
from crmn_legacy.training.cli import main_evaluate, main_export
from crmn_legacy.training.trainer import OutputDirError
from training_helpers import retarget


@pytest.fixture(scope="module")
def finished_run(trainer, tiny_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("export-run")
    tr = retarget(trainer, tiny_file, out, phase="select", epochs=2, patience=5)
    summary = tr.run()["select"]
    return tr, out, summary


def test_export_keeps_weights_and_drops_velocities(finished_run, tmp_path):
    _, out, _ = finished_run
    src = load_checkpoint(out / "select" / "best.h5")
    export_weights(out / "select" / "best.h5", tmp_path / "w.h5")
    w = load_checkpoint(tmp_path / "w.h5")
    assert w.velocities is None and w.meta["kind"] == "weights" and "schedule" not in w.state
    assert list(w.params) == list(src.params)
    for name, value in src.params.items():
        assert w.params[name].dtype == np.float32
        np.testing.assert_array_equal(w.params[name], value)
    np.testing.assert_array_equal(w.preprocessing["mean"], src.preprocessing["mean"])
    with h5py.File(tmp_path / "w.h5", "r") as f:
        assert "velocities" not in f


def test_evaluate_reproduces_the_reported_test_accuracy(finished_run, tmp_path, tiny_file, capsys):
    _, out, summary = finished_run
    assert main_export([str(out / "select" / "best.h5"), str(tmp_path / "w.h5")]) == 0
    capsys.readouterr()
    assert main_evaluate([str(tmp_path / "w.h5"), "--dataset-file", str(tiny_file), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    # the trainer tested the best-validation model on the same split: the same count of correct images
    assert res["acc"] * res["n"] == pytest.approx(summary["best_model_test_acc"] * res["n"], abs=1e-9)
    assert res["loss"] == pytest.approx(summary["best_model_test_loss"], rel=1e-5)


def test_a_weights_file_refuses_to_resume(finished_run, trainer, tiny_file, tmp_path):
    _, out, _ = finished_run
    run = tmp_path / "run"
    (run / "select").mkdir(parents=True)
    export_weights(out / "select" / "last.h5", run / "select" / "last.h5")
    tr = retarget(trainer, tiny_file, run, phase="select", epochs=3, patience=5)
    with pytest.raises(OutputDirError, match="weights-only"):
        tr.run(resume=True)


def test_export_errors_are_one_line(tmp_path, capsys):
    assert main_export([str(tmp_path / "missing.h5"), str(tmp_path / "w.h5")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no checkpoint" in err and not (tmp_path / "w.h5").exists()
    (tmp_path / "x.h5").write_bytes(b"")
    assert main_export([str(tmp_path / "x.h5"), str(tmp_path / "x.h5")]) == 2
    assert "replace the checkpoint" in capsys.readouterr().err
