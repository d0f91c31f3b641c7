"""load_training_data(config, data=None) -- the phase-1 and phase-2 splits and their preprocessing.

Phase 1 (``select``): ``make_splits(data, validation=True, seed)`` -- 10% of
the training set held out (SVHN: 5,000 images of train + extra); optional
seeded subsets (``--train-subset``, ``--val-subset``, ``--test-subset``) for
CPU runs.  Phase 2 (``final``): train = phase-1 train + phase-1 validation
(all training data when no subset is asked for), same test set.

Preprocessing follows the paper (``paper_preprocessing``): CIFAR inputs in
[0, 1] minus the mean pixel of *the images trained on in that phase*; SVHN
GCN.  Augmentation: pad 4 + random crop (``RandomCrop``), no flips unless
``flip``.

``dataset_file``: instead of a named dataset, an HDF5 file with datasets
``train/X`` (uint8, (N, C, H, W)), ``train/y``, ``test/X``, ``test/y`` and an
optional root attribute ``num_classes``; preprocessed like CIFAR.  Tests use
it for tiny synthetic data; it also lets any other image set be trained on.
"""

import h5py
import numpy as np

from ..datasets import dataset_names, load_dataset, make_splits
from ..datasets.preprocessing import RandomCrop, Standardize, compute_mean_pixel, paper_preprocessing
from ..datasets.splitsdict import DatasetSplits
from ..utils import atomic_writer

__all__ = ["PhaseData", "TrainingData", "load_training_data", "read_dataset_file", "write_dataset_file"]


def write_dataset_file(path, train, test, num_classes=None):
    """write_dataset_file(path, train, test, num_classes=None) -> None

    Write ``(X uint8, y)`` pairs in the ``dataset_file`` layout (atomically: :func:`crmn_legacy.utils.atomic_writer`).
    """
    with atomic_writer(path, "w+b") as fh, h5py.File(fh, "w") as f:
        for split, (X, y) in (("train", train), ("test", test)):
            f.create_dataset(f"{split}/X", data=np.asarray(X, dtype=np.uint8))
            f.create_dataset(f"{split}/y", data=np.asarray(y, dtype=np.int64))
        if num_classes is not None:
            f.attrs["num_classes"] = int(num_classes)


def read_dataset_file(path):
    """read_dataset_file(path) -> DatasetSplits"""
    try:
        with h5py.File(path, "r") as f:
            splits = {s: (f[f"{s}/X"][()], f[f"{s}/y"][()].astype(np.int64)) for s in ("train", "test")}
            num_classes = int(f.attrs.get("num_classes", 0)) or None
    except (OSError, KeyError) as exc:
        raise ValueError(f"--dataset-file {path}: not an HDF5 file with train/X, train/y, test/X, test/y ({exc})")
    if num_classes is None:
        num_classes = int(max(splits["train"][1].max(), splits["test"][1].max())) + 1
    return DatasetSplits(splits, "file", num_classes, source=str(path))


class PhaseData:
    """PhaseData(train, valid, test, transform, augment)

    One phase's ``(X, y)`` splits (``valid`` is None in phase 2), its
    deterministic ``transform`` (:class:`Standardize`) and ``augment``
    (:class:`RandomCrop` or None).
    """

    def __init__(self, train, valid, test, transform, augment):
        self.train, self.valid, self.test = train, valid, test
        self.transform, self.augment = transform, augment


def _subset(split, n, seed, salt, option=None):
    """A seeded random ``n`` of ``split``'s examples; all of them when ``n`` is None or, unless ``option`` names the
    command-line option that asked for exactly ``n``, when ``n`` exceeds them (then: ValueError)."""
    X, y = split
    if option is not None and n is not None and n > len(y):
        raise ValueError(f"{option} {n} is larger than the {len(y)} images of the split it selects from")
    if n is None or n >= len(y):
        return X, y
    idx = np.sort(np.random.default_rng([seed, salt]).permutation(len(y))[:n])
    return X[idx], y[idx]


class TrainingData:
    """TrainingData(config, splits)

    Holds the phase-1 splits; :meth:`phase` returns a :class:`PhaseData`
    (phase 2 is built on first use).  ``num_classes`` and ``input_shape``
    ``(None, C, H, W)`` describe the data.
    """

    def __init__(self, config, splits):
        self.config = config
        self.name = getattr(splits, "name", None) or config.dataset
        self.num_classes = int(getattr(splits, "num_classes", None)
                               or int(np.max(splits["train"][1])) + 1)
        c = config
        if "valid" in splits:
            sel = splits
        else:
            sel = make_splits(splits, validation=True, seed=c.seed, fraction=c.val_fraction, svhn_valid=c.svhn_valid)
        self._select = {
            "train": _subset(sel["train"], c.train_subset, c.seed, 1, option="--train-subset"),
            "valid": _subset(sel["valid"], c.val_subset, c.seed, 2),
            "test": _subset(sel["test"], c.test_subset, c.seed, 3),
        }
        X = self._select["train"][0]
        self.input_shape = (None,) + tuple(int(s) for s in X.shape[1:])
        self._final = None

    def _transform(self, X_train):
        if self.name in dataset_names():
            return paper_preprocessing(self.name, X_train, self.config.mean_mode)
        return Standardize(mean=compute_mean_pixel(X_train, self.config.mean_mode))

    def _augment(self):
        return RandomCrop(pad=4, flip=self.config.flip) if self.config.augment else None

    def phase(self, name):
        """phase(name) -> PhaseData for ``"select"`` or ``"final"``."""
        s = self._select
        if name == "select":
            return PhaseData(s["train"], s["valid"], s["test"], self._transform(s["train"][0]), self._augment())
        if name == "final":
            if self._final is None:
                X = np.concatenate([s["train"][0], s["valid"][0]])
                y = np.concatenate([s["train"][1], s["valid"][1]])
                self._final = PhaseData((X, y), None, s["test"], self._transform(X), self._augment())
            return self._final
        raise ValueError(f"unknown phase {name!r}")


def load_training_data(config, data=None):
    """load_training_data(config, data=None) -> TrainingData

    ``data``: splits already in memory (a loader's dict); else
    ``config.dataset_file`` or ``load_dataset(config.dataset, config.data_dir)``.
    """
    if data is None:
        if config.dataset_file:
            data = read_dataset_file(config.dataset_file)
        else:
            data = load_dataset(config.dataset, config.data_dir)
    if "train" not in data or "test" not in data:
        raise ValueError(f"training data needs 'train' and 'test' splits, got {sorted(data)}")
    return TrainingData(config, data)
