"""Dataset(name, ...) and register(dataset) -- the one list of the datasets crmn_legacy knows.

A dataset is one module (its loader) and one :func:`register` call at the end
of it (see :mod:`~crmn_legacy.datasets.cifar`, :mod:`~crmn_legacy.datasets.svhn`);
everything that names datasets reads this registry: :func:`load_dataset`, the
data-folder search (``doctor``), ``fetch``, the paper's preprocessing and the
``--dataset`` options.  Checksums of the official files stay in the data table
:data:`~crmn_legacy.datasets.checksums.ARCHIVE_MD5` /
:data:`~crmn_legacy.datasets.checksums.MEMBER_MD5`.
"""

import dataclasses
from typing import Callable, Tuple

__all__ = ["Dataset", "register", "get", "names", "canonical_name"]


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Dataset(name, title, load, official_names, sources, preprocessing)

    Attributes
    ----------
    name : str
        The key users type (``"cifar10"``).
    title : str
        How messages name it (``"CIFAR-10"``).
    load : callable
        ``load(root=None, verify="warn", **kwargs) -> DatasetSplits``.
    official_names : tuple of str
        Files or folders that show the dataset is in a data folder, in order of preference.
    sources : tuple of str
        Official download URLs (``fetch`` downloads each and checks its MD5 in ``ARCHIVE_MD5``).
    preprocessing : {"mean", "gcn"}
        The paper's input normalisation: subtract the mean pixel (CIFAR) or global contrast
        normalisation (SVHN); see :func:`~crmn_legacy.datasets.preprocessing.paper_preprocessing`.
    """

    name: str
    title: str
    load: Callable
    official_names: Tuple[str, ...]
    sources: Tuple[str, ...]
    preprocessing: str


_REGISTRY = {}


def canonical_name(name):
    """canonical_name(name) -> str: ``"CIFAR-10"``, ``"cifar_10"`` ... -> ``"cifar10"``."""
    return str(name).lower().replace("-", "").replace("_", "")


def register(dataset):
    """register(dataset) -> dataset: add a :class:`Dataset` (its name must be new)."""
    if dataset.preprocessing not in ("mean", "gcn"):
        raise ValueError(f"{dataset.name}: preprocessing must be 'mean' or 'gcn', got {dataset.preprocessing!r}")
    if dataset.name in _REGISTRY:
        raise ValueError(f"dataset {dataset.name!r} is already registered")
    _REGISTRY[dataset.name] = dataset
    return dataset


def get(name):
    """get(name) -> Dataset (``name`` as :func:`canonical_name` spells it); ValueError naming the known ones."""
    key = canonical_name(name)
    if key not in _REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(_REGISTRY)}")
    return _REGISTRY[key]


def names():
    """names() -> tuple of the registered dataset names, in registration order."""
    return tuple(_REGISTRY)
