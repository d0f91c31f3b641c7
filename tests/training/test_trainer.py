"""The two-phase protocol end to end on the tiny compiled trainer (see conftest.py), and its guard rails."""

import json

import h5py
import numpy as np
import pytest

from training_helpers import retarget, tiny_config
from crmn_legacy.training import checkpoint as ck
from crmn_legacy.training.trainer import OutputDirError, TrainingDiverged, build_network


def test_both_phases_record_replay_and_report(trainer, tiny_file, tmp_path):
    """Scripted validation numbers force one rate change: epoch 1 best, epoch 2 worse (patience 1 ->
    lr 0.01 and the epoch-1 model reloaded), epoch 3 best.  Everything else is real training."""
    tr = retarget(trainer, tiny_file, tmp_path / "run", epochs=3, patience=1, lr_schedule=[0.1, 0.01, 0.001])
    scripted = iter([(1.0, 0.5), (2.0, 0.25), (0.5, 0.75)])
    valid_X = tr.data.phase("select").valid[0]
    real_evaluate, real_set_params, real_set_velocities = tr.evaluate, tr.set_params, tr._set_velocities
    reloads = []

    def evaluate(split, transform):
        return next(scripted) if split[0] is valid_X else real_evaluate(split, transform)

    def set_params(values):
        best_now = ck.load_checkpoint(tmp_path / "run/select/best.h5")
        reloads.append(all(np.array_equal(values[k], best_now.params[k]) for k in best_now.params)
                       and best_now.meta["epoch"] == 1)
        return real_set_params(values)

    def set_velocities(values=None):
        real_set_velocities(values)
        if values is None and reloads:
            reloads.append(all(not v.get_value().any() for v in tr.velocities))

    tr.evaluate, tr.set_params, tr._set_velocities = evaluate, set_params, set_velocities
    try:
        res = tr.run()
    finally:
        del tr.evaluate, tr.set_params, tr._set_velocities
    sel, fin = res["select"], res["final"]
    assert reloads[:2] == [True, True]  # reloaded exactly best.h5 (epoch 1), velocities reset to zero
    assert sel["lr_changes"] == [{"epoch": 2, "lr": 0.01, "reloaded_epoch": 1}]
    assert sel["recorded_schedule"] == [[0.1, 1], [0.01, 1]]  # epoch 2 discarded by the reload
    assert sel["best"]["epoch"] == 3 and sel["stop_reason"] == "epoch budget"
    log = [json.loads(line) for line in open(tmp_path / "run/select/log.jsonl")]
    assert [r["lr"] for r in log] == pytest.approx([0.1, 0.1, 0.01])
    assert [(r["val_loss"], r["val_acc"]) for r in log] == [(1.0, 0.5), (2.0, 0.25), (0.5, 0.75)]
    for r in log:  # one self-contained JSON line per epoch
        assert {"train_loss", "train_acc", "val_loss", "val_acc", "lr", "epoch_time", "config"} <= set(r)
        assert r["config"]["model"] == "resnet" and r["config"]["batch_size"] == 16
    saved = json.loads((tmp_path / "run/select/schedule.json").read_text())
    assert saved["recorded_schedule"] == [[0.1, 1], [0.01, 1]]
    # phase 2 replays it on train+valid and reports the test error after each epoch
    flog = [json.loads(line) for line in open(tmp_path / "run/final/log.jsonl")]
    assert [r["lr"] for r in flog] == pytest.approx([0.1, 0.01])
    assert flog[0]["step"] == 5  # 80 = 64 train + 16 valid images, batches of 16
    assert all(r["test_acc"] is not None for r in flog)
    result = json.loads((tmp_path / "run/final/result.json").read_text())
    assert result["test_error"] == pytest.approx(1 - flog[-1]["test_acc"]) == fin["test_error"]
    # the final checkpoint holds every parameter incl. BatchNorm statistics, and the velocities
    c = ck.load_checkpoint(tmp_path / "run/final/final.h5")
    assert list(c.params) == [p.name for p in tr.all_params]
    assert len(c.params) > len(tr.trainable)  # BatchNorm running statistics included
    assert list(c.velocities) == [p.name for p in tr.trainable]
    assert c.meta["phase"] == "final" and c.meta["epoch"] == 2 and c.state["status"]["finished"]
    # a finished run is not silently overwritten
    with pytest.raises(OutputDirError, match="--resume"):
        tr.run()


def test_nan_loss_stops_and_keeps_last_good_checkpoint(trainer, tiny_file, tmp_path):
    tr = retarget(trainer, tiny_file, tmp_path / "run", lr_schedule=[1e30], epochs=3, phase="select",
                  checkpoint_every_steps=1)
    with pytest.raises(TrainingDiverged, match=r"loss became (nan|inf|-inf) .*Last good checkpoint: \S+last.h5 "
                                               r"\(epoch 0, step 1\)"):
        tr.run()
    c = ck.load_checkpoint(tmp_path / "run/select/last.h5")
    assert c.meta["step"] == 1 and all(np.isfinite(v).all() for v in c.params.values())


def test_checkpoint_of_other_architecture_names_first_mismatch(trainer, tiny_file, tmp_path):
    other = build_network(tiny_config(tiny_file, tmp_path, width=0.25), (None, 3, 8, 8), 3)
    from crmn_legacy.layers import get_all_params
    params = {p.name: p.get_value() for p in get_all_params(other, statistic=None)}
    meta = {"kind": "last", "phase": "select", "epoch": 0, "step": 0, "step_in_epoch": 0, "lr": 0.1,
            "elapsed_seconds": 0.0}
    ck.save_checkpoint(tmp_path / "other.h5", params, {}, meta, {}, {})
    first = next(n for n, p in zip(params, trainer.all_params)
                 if params[n].shape != p.get_value().shape or n != p.name)
    with pytest.raises(ck.CheckpointMismatch, match=f"first mismatching parameter is #\\d+: checkpoint has "
                                                    f"'{first}'"):
        trainer.load_params(tmp_path / "other.h5")


def test_unwritable_output_dir_reported_before_training(tiny_file, tmp_path, capsys):
    from crmn_legacy.training.cli import main_train
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    # dataset path deliberately bad too: the folder must be reported first, before data or compilation
    rc = main_train(["--dataset-file", str(tmp_path / "missing.h5"), "--out", str(blocker / "run")])
    err = capsys.readouterr().err
    assert rc == 2 and "output directory" in err and "not writable" in err


def test_checkpoint_layout_of_a_real_run(trainer, tiny_file, tmp_path):
    tr = retarget(trainer, tiny_file, tmp_path / "run", epochs=1, phase="select", checkpoint_every_steps=2)
    tr.run()
    with h5py.File(tmp_path / "run/select/last.h5", "r") as f:
        assert {"format", "kind", "phase", "epoch", "step", "step_in_epoch", "lr", "elapsed_seconds", "config",
                "crmn_legacy_version", "pytensor_version", "numpy_version"} <= set(f.attrs)
        assert set(f["state"]) == {"schedule", "best", "rng", "epoch_accum", "history", "status"}
        rng = json.loads(f["state/rng"].asstr()[()])
        assert rng["iterator"]["seed"] == 3 and "state" in rng["global"]
        assert f["preprocessing/mean"].shape[0] == 3
