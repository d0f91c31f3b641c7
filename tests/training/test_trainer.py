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


# ----------------------------------------------------------------------------------- does training learn?
LEARN_CLASSES, LEARN_SIZE, SQUARE = 3, 16, 6


def _coloured_squares(n, seed):
    """n 16x16 images of noise (0..127 in every channel) with a 6x6 square 100 brighter in channel y, y the
    label (3 classes), anywhere in the image: recoverable from the image whatever the crop (a pad-4 crop
    keeps at least 2 of its 6 rows and columns), and not from the mean pixel of the training set."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, LEARN_CLASSES, n)
    X = rng.integers(0, 128, (n, 3, LEARN_SIZE, LEARN_SIZE))
    oy, ox = rng.integers(0, LEARN_SIZE - SQUARE + 1, (2, n))
    for i in range(n):
        X[i, y[i], oy[i]:oy[i] + SQUARE, ox[i]:ox[i] + SQUARE] += 100
    return X.astype(np.uint8), y


def test_training_learns_a_task_whose_label_is_in_the_image(tmp_path):
    """A few epochs of ``train`` on the paper's model (CRMN, depth 8, 4/8/16 maps, LSTM memory; pad-4 crops,
    momentum SGD, weight decay): the training loss falls and the validation accuracy ends far above chance."""
    from crmn_legacy.training import TrainConfig, train

    data = {"train": _coloured_squares(480, 1), "test": _coloured_squares(96, 2)}
    config = TrainConfig(model="crmn", depth=8, width=0.25, val_fraction=0.2, batch_size=32, eval_batch_size=96,
                         lr_schedule=[0.1, 0.01], patience=2, epochs=5, phase="select", seed=0,
                         out=str(tmp_path / "run"), progress="none", test_every=0)
    result = train(config, data=data)["select"]
    losses, val_acc = result["train_loss_curve"], result["val_acc_curve"]
    assert len(losses) == len(val_acc) == 5
    # chance: accuracy 1/C, and a uniform prediction's cross-entropy ln C.  "Far above chance": more than 6
    # standard deviations of a chance classifier's accuracy on the 96 validation images (p < 1e-8).
    chance, n_valid = 1.0 / LEARN_CLASSES, 96
    well_above = chance + 6 * np.sqrt(chance * (1 - chance) / n_valid)
    assert val_acc[-1] >= well_above and max(val_acc) >= well_above, val_acc
    assert losses[-1] < 0.5 * min(losses[0], np.log(LEARN_CLASSES)), losses


# ------------------------------------------------------------------- images and labels stay together
def _labelled_images(n_train=80, n_test=30, seed=5):
    """8x8 images, each constant per channel: channel 0 = 30 + 60 y (its label), channels 1 and 2 its index
    i (10 + i mod 200, 10 + i div 200): both can be read back from any pixel a crop keeps."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    y = rng.integers(0, 3, n)
    i = np.arange(n)
    X = np.empty((n, 3, 8, 8), np.uint8)
    X[:, 0] = (30 + 60 * y)[:, None, None]
    X[:, 1] = (10 + i % 200)[:, None, None]
    X[:, 2] = (10 + i // 200)[:, None, None]
    return {"train": (X[:n_train], y[:n_train]), "test": (X[n_train:], y[n_train:])}, y


def _decode(xb, mean):
    """(labels, indices, padded pixel count) of a preprocessed batch; pad-4 crops add pixels that are 0 in every
    channel, every other pixel of an image must hold the image's one value per channel."""
    labels, index, padded = [], [], 0
    for img in np.asarray(xb, dtype=np.float64):
        kept = np.any(img != 0, axis=0)
        padded += int((~kept).sum())
        assert kept.sum() >= 4 * 4  # a crop moves the image by at most 4 of its 8 pixels each way
        values = img[:, kept]
        assert np.all(values == values[:, :1]), "an image's pixels were mixed with another's"
        v = np.rint((values[:, 0] + np.asarray(mean, dtype=np.float64).reshape(3)) * 255).astype(int)
        assert (v[0] - 30) % 60 == 0
        labels.append((v[0] - 30) // 60)
        index.append((v[1] - 10) + 200 * (v[2] - 10))
    return np.array(labels), np.array(index), padded


def test_image_label_pairs_survive_subsets_shuffling_and_augmentation(trainer, tiny_file, tmp_path):
    """Every batch the trainer hands its training and evaluation functions, in both phases: each image's
    label is its target, images come from the chosen subsets, the order changes every epoch, crops happen."""
    from crmn_legacy.training.data import load_training_data

    data, y_all = _labelled_images()
    tr = retarget(trainer, tiny_file, tmp_path / "run", epochs=3, phase="both", train_subset=40, val_subset=12,
                  test_subset=15, lr_schedule=[0.1, 0.01, 0.001])
    real_data, tr.data = tr.data, load_training_data(tr.config, data)  # the fixture is shared: restored below
    seen = []  # (phase, "train" or "eval", example indices, padded pixels) per batch
    phase = []
    real_train, real_eval, real_run_phase = tr.train_fn, tr.eval_fn, tr._run_phase

    def checked(kind, fn):
        def call(xb, yb):
            labels, index, padded = _decode(xb, tr.data.phase(phase[-1]).transform.mean)
            np.testing.assert_array_equal(labels, yb)          # the label drawn in the image is its target
            np.testing.assert_array_equal(y_all[index], yb)    # ... and the label of that very example
            seen.append((phase[-1], kind, index, padded))
            return fn(xb, yb)
        return call

    def run_phase(name, ckpt):
        phase.append(name)
        return real_run_phase(name, ckpt)

    tr.train_fn, tr.eval_fn, tr._run_phase = checked("train", real_train), checked("eval", real_eval), run_phase
    try:
        tr.run()
    finally:
        tr.train_fn, tr.eval_fn, tr.data = real_train, real_eval, real_data
        del tr._run_phase
    assert phase == ["select", "final"]

    def batches(ph, kind):
        return [(index, padded) for p, k, index, padded in seen if (p, k) == (ph, kind)]

    # phase 1: 40 of the 64 training images (80 minus 20% validation); batches of 16, the last 8 dropped
    train1 = batches("select", "train")
    assert len(train1) == 3 * 2
    epochs = [np.concatenate([index for index, _ in train1[2 * e:2 * e + 2]]) for e in range(3)]
    assert all(len(set(e)) == 32 for e in epochs)                            # no image twice in an epoch
    assert not all(np.array_equal(epochs[0], e) for e in epochs[1:])         # a new order every epoch
    subset = set(np.concatenate(epochs).tolist())
    assert 32 <= len(subset) <= 40 and max(subset) < 80
    assert all(padded > 0 for _, padded in train1)                           # pad-4 crops in every batch
    evaluated = set(np.concatenate([index for index, _ in batches("select", "eval")]).tolist())
    test = {i for i in evaluated if i >= 80}
    valid = evaluated - test
    assert len(valid) == 12 and len(test) == 15 and not subset & valid
    # phase 2: phase 1's training and validation subsets together (52 images), same test subset
    train2 = batches("final", "train")
    assert len(train2) == 3 * 3
    assert set(np.concatenate([index for index, _ in train2]).tolist()) <= subset | valid
    assert set(np.concatenate([index for index, _ in batches("final", "eval")]).tolist()) == test
    assert all(padded == 0 for p, k, _, padded in seen if k == "eval")       # evaluation: no augmentation
