"""Helpers for the training tests: the tiny synthetic dataset and configuration (see conftest.py)."""

import dataclasses

import numpy as np

from crmn_legacy.training.config import TrainConfig

TINY_ARGS = ["--model", "resnet", "--depth", "8", "--width", "0.125", "--val-fraction", "0.2",
             "--batch-size", "16", "--eval-batch-size", "100", "--seed", "3"]


def make_tiny_data(n_train=80, n_test=30, seed=0):
    """3 classes of 8x8 uint8 images whose mean brightness carries the label."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n_train + n_test)
    X = (rng.integers(0, 90, (n_train + n_test, 3, 8, 8)) + 80 * y[:, None, None, None]).astype(np.uint8)
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])


def retarget(trainer, tiny_file, out, **changes):
    """Point the compiled trainer at a new output folder / settings (no recompile)."""
    from crmn_legacy.training.trainer import prepare_output_dir

    trainer.config = tiny_config(tiny_file, out, **changes).resolved()
    trainer.out = prepare_output_dir(out)
    return trainer


def tiny_config(tiny_file, out, **changes):
    base = TrainConfig(model="resnet", depth=8, width=0.125, dataset_file=str(tiny_file), val_fraction=0.2,
                       batch_size=16, eval_batch_size=100, lr_schedule=[0.1, 0.01, 0.001], patience=1,
                       epochs=4, phase="both", seed=3, out=str(out), progress="none")
    return dataclasses.replace(base, **changes)
