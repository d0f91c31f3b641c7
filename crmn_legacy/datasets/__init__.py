"""Datasets of the paper: CIFAR-10, CIFAR-100, SVHN in their official formats, with the paper's preprocessing.

Each dataset is one loader module that ends with one :func:`register_dataset`
call (:mod:`~crmn_legacy.datasets.registry`); :func:`dataset_names` lists them.

Loaders return :class:`DatasetSplits`, a dict ``{split: (X uint8 (N, 3, 32, 32),
y int64 (N,))}`` with keys "train", "test" (SVHN also "extra").

>>> data = load_dataset("cifar10")                     # doctest: +SKIP
>>> splits = make_splits(data, validation=True, seed=0)  # doctest: +SKIP
>>> prep = paper_preprocessing("cifar10", splits["train"][0])  # doctest: +SKIP
>>> it = MinibatchIterator(*splits["train"], 128, transform=prep, augment=RandomCrop())  # doctest: +SKIP
"""

from .checksums import ARCHIVE_MD5, MEMBER_MD5
from .cifar import load_cifar10, load_cifar100
from .errors import ChecksumError, ChecksumWarning, DatasetError
from .iterator import MinibatchIterator
from .paths import data_dir
from .preprocessing import (
    RandomCrop, Standardize, compute_mean_pixel, global_contrast_normalize, pad_and_random_crop,
    paper_preprocessing, subtract_mean, to_unit_range,
)
from .splits import make_splits, split_validation, svhn_validation_split, validation_indices
from .registry import Dataset, get as get_dataset, names as dataset_names, register as register_dataset
from .splitsdict import DatasetSplits
from .svhn import load_svhn

__all__ = [
    "load_cifar10", "load_cifar100", "load_svhn", "load_dataset", "dataset_names", "get_dataset", "register_dataset",
    "Dataset", "DatasetSplits",
    "DatasetError", "ChecksumError", "ChecksumWarning", "ARCHIVE_MD5", "MEMBER_MD5", "data_dir",
    "to_unit_range", "compute_mean_pixel", "subtract_mean", "global_contrast_normalize", "pad_and_random_crop",
    "RandomCrop", "Standardize", "paper_preprocessing",
    "validation_indices", "split_validation", "svhn_validation_split", "make_splits", "MinibatchIterator",
]



def load_dataset(name, root=None, verify="warn", **kwargs):
    """load_dataset(name, root=None, verify="warn", **kwargs) -- load a registered dataset by name.

    ``name`` is one of :func:`dataset_names` (``"cifar10"``, ``"cifar100"``,
    ``"svhn"``), case-insensitive and may be spelled "CIFAR-10", "cifar_100", ...;
    ``kwargs`` go to the loader (``extra=False`` for SVHN).
    """
    return get_dataset(name).load(root, verify=verify, **kwargs)
