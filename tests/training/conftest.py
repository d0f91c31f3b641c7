"""Fixtures for the training tests: a tiny synthetic dataset file and one compiled tiny trainer.

The network is the smallest the models allow: a ResNet with n=1 (depth 8) and
width k=0.125 (2, 4, 8 maps) on 8x8 images of 3 classes; it is compiled once
per test session (module ``trainer`` fixture) and reused with other output
folders and configurations (the learning rate is a shared variable, so no
setting used here needs a recompile).
"""

import pytest

from crmn_legacy.training.data import write_dataset_file
from training_helpers import make_tiny_data, tiny_config


@pytest.fixture(scope="session")
def tiny_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("tinydata") / "tiny.h5"
    train, test = make_tiny_data()
    write_dataset_file(path, train, test, num_classes=3)
    return path


@pytest.fixture(scope="session")
def trainer(tiny_file, tmp_path_factory):
    """One compiled Trainer; tests retarget it with :func:`retarget`."""
    from crmn_legacy.training.trainer import Trainer

    return Trainer(tiny_config(tiny_file, tmp_path_factory.mktemp("first")))
