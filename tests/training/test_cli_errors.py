"""Bad input to ``train`` and ``evaluate``: one line on stderr, a non-zero exit, no traceback, nothing damaged.

Each case calls the subcommand's ``main`` in this process: an exception escaping it would fail the test (that
is the traceback a user would have seen).
"""

import json
import os

import h5py
import numpy as np
import pytest

from crmn_legacy.training import checkpoint, cli
from crmn_legacy.training.checkpoint import load_checkpoint, save_checkpoint
from crmn_legacy.training.config import TrainConfig


@pytest.fixture
def base(tiny_file, tmp_path):
    """Options of a tiny, valid training run (80 images: 64 train, 16 validation at --val-fraction 0.2)."""
    return ["--model", "resnet", "--depth", "8", "--width", "0.125", "--dataset-file", str(tiny_file),
            "--val-fraction", "0.2", "--batch-size", "16", "--epochs", "1", "--phase", "select", "--progress",
            "none", "--out", str(tmp_path / "run")]


def _with(argv, option, value):
    argv = list(argv)
    argv[argv.index(option) + 1] = value
    return argv


@pytest.mark.parametrize("argv, says", [
    (["--depth", "eight"], "invalid int value"),
    (["--dataset", "mnist"], "invalid choice: 'mnist'"),
    (["--lr-schedule", ","], "empty list of learning rates"),
    (["--time-limit", "soon"], "not a duration"),
    (["--model-option", "units"], "--model-option needs KEY=VALUE"),
    (["--batch-size", "0"], "--batch-size must be >= 1"),
    (["--val-fraction", "1.5"], "--val-fraction must be in (0, 1)"),
    (["--lr-schedule", "0.01,0.1"], "strictly decreasing"),
])
def test_bad_options(one_line_error, base, argv, says):
    assert says in one_line_error(cli.main_train, base + argv)


def test_train_subset_larger_than_the_split(one_line_error, base):
    line = one_line_error(cli.main_train, base + ["--train-subset", "65"])
    assert "--train-subset 65 is larger than the 64 images" in line


@pytest.mark.parametrize("option, value, says", [
    ("--depth", "7", "not of the form 6n+2"),
    ("--width", "0.3", "16k must be an integer"),
])
def test_impossible_models(one_line_error, base, option, value, says):
    assert says in one_line_error(cli.main_train, _with(base, option, value))


def test_unknown_model_option(one_line_error, base):
    assert "unknown model option(s) nosuch" in one_line_error(cli.main_train,
                                                              base + ["--model-option", "nosuch=1"])


def test_bad_files(one_line_error, base, tmp_path):
    missing = str(tmp_path / "missing.h5")
    assert "missing.h5" in one_line_error(cli.main_train, _with(base, "--dataset-file", missing))
    text = tmp_path / "notes.txt"
    text.write_text("not data")
    assert "not an HDF5 file" in one_line_error(cli.main_train, _with(base, "--dataset-file", str(text)))
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    assert "not writable" in one_line_error(cli.main_train, _with(base, "--out", str(blocker)))
    assert "CIFAR-10: not found" in one_line_error(
        cli.main_train, ["--dataset", "cifar10", "--data-dir", str(tmp_path / "nodata"), "--out",
                                 str(tmp_path / "o")])


def test_resume_of_a_broken_run(one_line_error, tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    line = one_line_error(cli.main_train, ["--out", str(tmp_path), "--resume"])
    assert "config.json is not a run configuration" in line
    (tmp_path / "config.json").write_text(json.dumps({**TrainConfig().to_dict(), "colour": "blue"}))
    assert "colour" in one_line_error(cli.main_train, ["--out", str(tmp_path), "--resume"])


def test_full_disk_while_writing_a_checkpoint_keeps_the_run(one_line_error, capsys, base, full_disk):
    """A run with one finished epoch is resumed for a second one while every checkpoint write fails with
    ENOSPC: the command says so in one line, exits 2, and the first epoch's checkpoint is intact."""
    assert cli.main_train(base) == 0
    out = base[base.index("--out") + 1]
    last = os.path.join(out, "select", "last.h5")
    before = load_checkpoint(last)
    assert before.meta["epoch"] == 1
    capsys.readouterr()

    full_disk(checkpoint, limit=4096)
    line = one_line_error(cli.main_train, ["--out", out, "--resume", "--epochs", "2"])
    assert "No space left on device" in line and ".h5" in line and "is kept" in line
    after = load_checkpoint(last)
    assert after.meta["epoch"] == 1 and after.meta["step"] == before.meta["step"]
    for name, value in before.params.items():
        np.testing.assert_array_equal(after.params[name], value)
    assert load_checkpoint(os.path.join(out, "select", "best.h5")).meta["epoch"] == 1
    leftovers = [f for f in os.listdir(os.path.join(out, "select")) if f.endswith(".tmp")]
    assert leftovers == []


def test_evaluate_bad_files(one_line_error, tmp_path):
    assert "no checkpoint at" in one_line_error(cli.main_evaluate, [str(tmp_path / "none.h5")])
    text = tmp_path / "notes.h5"
    text.write_text("not hdf5")
    assert "not a readable HDF5 file" in one_line_error(cli.main_evaluate, [str(text)])
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.zeros(3)
    assert "not a crmn_legacy checkpoint" in one_line_error(cli.main_evaluate, [str(foreign)])
    damaged = tmp_path / "damaged.h5"
    meta = dict(kind="last", phase="select", epoch=1, step=4, step_in_epoch=0, lr=0.1, elapsed_seconds=1.0)
    save_checkpoint(damaged, {"w": np.ones(2, np.float32)}, {"w": np.zeros(2, np.float32)}, meta, {},
                    TrainConfig().to_dict())
    with h5py.File(damaged, "a") as f:
        del f["params"]
    assert "damaged crmn_legacy checkpoint" in one_line_error(cli.main_evaluate, [str(damaged)])
    assert "need a whole number >= 1" in one_line_error(cli.main_evaluate,
                                                        [str(damaged), "--batch-size", "0"])
