"""HDF5 checkpoint layout, round trip, atomic writes, mismatch errors (no compilation)."""

import json
import os

import h5py
import numpy as np
import pytest

import crmn_legacy
from crmn_legacy.training import checkpoint as ck


def _example():
    params = {"conv1.W": np.arange(6, dtype=np.float32).reshape(1, 1, 2, 3), "bn1.mean": np.ones(2, np.float32)}
    vel = {"conv1.W": np.full((1, 1, 2, 3), 0.5, np.float32)}
    meta = {"kind": "last", "phase": "select", "epoch": 2, "step": 17, "step_in_epoch": 3, "lr": 0.01,
            "elapsed_seconds": 12.5}
    gen = np.random.default_rng(5)
    state = {"schedule": {"kind": "plateau", "stage": 1}, "best": {"epoch": 2, "val_acc": 0.5},
             "rng": {"global": gen.bit_generator.state, "iterator": {"epoch": 2, "batch": 3}},
             "epoch_accum": {"loss": 1.25, "acc": 0.5, "count": 48, "seconds": 1.0},
             "history": [{"epoch": 1, "train_loss": 0.1}] * 3000,  # > 64 KiB of JSON: no attribute limit
             "status": {"finished": False}}
    return params, vel, meta, state, {"model": "resnet", "depth": 8}, {"mean": np.ones((3, 1, 1), np.float32),
                                                                         "gcn": False}


def test_round_trip_and_documented_layout(tmp_path):
    params, vel, meta, state, config, prep = _example()
    path = ck.save_checkpoint(tmp_path / "last.h5", params, vel, meta, state, config, prep)
    c = ck.load_checkpoint(path)
    assert list(c.params) == ["conv1.W", "bn1.mean"]  # network order kept
    for k in params:
        assert np.array_equal(c.params[k], params[k]) and c.params[k].dtype == np.float32
    assert np.array_equal(c.velocities["conv1.W"], vel["conv1.W"])
    assert c.meta == meta and c.state == state and c.config == config
    assert c.preprocessing["gcn"] == False and c.preprocessing["mean"].shape == (3, 1, 1)  # noqa: E712
    gen = np.random.default_rng()
    gen.bit_generator.state = c.state["rng"]["global"]
    assert gen.random() == np.random.default_rng(5).random()
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == ck.FORMAT and f.attrs["format_version"] == ck.FORMAT_VERSION
        for key in ("crmn_legacy_version", "pytensor_version", "numpy_version"):
            assert f.attrs[key]
        assert f.attrs["crmn_legacy_version"] == crmn_legacy.__version__
        assert json.loads(f.attrs["config"]) == config
        assert set(f) == {"params", "velocities", "preprocessing", "state"}
        assert set(f["state"]) == set(state)
    assert [p.name for p in tmp_path.iterdir()] == ["last.h5"]  # no temporary left behind


def test_crash_during_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    params, vel, meta, state, config, prep = _example()
    path = tmp_path / "last.h5"
    ck.save_checkpoint(path, params, vel, meta, state, config, prep)
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(ck, "_write_named_arrays", boom)
    with pytest.raises(ck.CheckpointError, match=r"disk full \(simulated\); the previous last.h5 is kept"):
        ck.save_checkpoint(path, params, vel, dict(meta, epoch=3), state, config, prep)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["last.h5"]


def test_mismatch_names_first_differing_parameter():
    saved = {"conv1.W": np.zeros((2, 3, 3, 3)), "conv1.b": np.zeros(2), "dense.W": np.zeros((8, 3))}
    model = [("conv1.W", (2, 3, 3, 3)), ("conv1.b", (2,)), ("dense.W", (16, 3))]
    with pytest.raises(ck.CheckpointMismatch, match=r"#2: checkpoint has 'dense.W' \(8, 3\), model has 'dense.W' "
                                                      r"\(16, 3\)"):
        ck.check_compatible(saved, model)
    with pytest.raises(ck.CheckpointMismatch, match="'memory.W_xi'"):
        ck.check_compatible(saved, model[:2] + [("memory.W_xi", (8, 3))])
    with pytest.raises(ck.CheckpointMismatch, match="missing from the checkpoint"):
        ck.check_compatible(saved, [("conv1.W", (2, 3, 3, 3)), ("conv1.b", (2,)), ("dense.W", (8, 3)),
                                    ("dense.b", (3,))])
    ck.check_compatible(saved, [(k, v.shape) for k, v in saved.items()])


def test_not_a_checkpoint(tmp_path):
    with pytest.raises(ck.CheckpointError, match="no checkpoint"):
        ck.load_checkpoint(tmp_path / "nope.h5")
    (tmp_path / "x.h5").write_bytes(b"garbage")
    with pytest.raises(ck.CheckpointError, match="not a readable HDF5"):
        ck.load_checkpoint(tmp_path / "x.h5")
