"""crmn_legacy.datasets.registry: one list of datasets, read by every place that names one."""

import numpy as np
import pytest

from crmn_legacy.datasets import DatasetSplits, load_dataset, registry
from crmn_legacy.datasets.fetch import fetch
from crmn_legacy.datasets.paths import find_datasets
from crmn_legacy.datasets.preprocessing import paper_preprocessing


def test_the_papers_datasets_are_registered():
    assert registry.names() == ("cifar10", "cifar100", "svhn")
    assert registry.get("CIFAR-100").title == "CIFAR-100"
    assert registry.get("svhn").preprocessing == "gcn" and registry.get("cifar_10").preprocessing == "mean"
    with pytest.raises(ValueError, match="unknown dataset 'mnist'; expected one of cifar10, cifar100, svhn"):
        registry.get("mnist")


def test_a_new_dataset_is_one_registration(monkeypatch, tmp_path):
    """A registered dataset is loaded by name, found in a data folder, fetched from its sources and
    preprocessed with its recipe, with no other change."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # leave the real registry as it was
    images = np.arange(2 * 3 * 32 * 32, dtype=np.uint8).reshape(2, 3, 32, 32)

    def load_tiny(root=None, verify="warn"):
        return DatasetSplits({"train": (images, np.array([0, 1])), "test": (images, np.array([1, 0]))}, "tiny", 2)

    registry.register(registry.Dataset("tiny", "Tiny", load_tiny, ("tiny.bin",), ("file:///nowhere/tiny.bin",),
                                       preprocessing="mean"))
    assert registry.names()[-1] == "tiny"
    assert load_dataset("TINY")["train"][1].tolist() == [0, 1]
    (tmp_path / "tiny.bin").write_bytes(b"x")
    assert find_datasets(tmp_path)["tiny"] == tmp_path / "tiny.bin"
    assert paper_preprocessing("tiny", images).mean is not None
    with pytest.raises(ValueError, match="unknown dataset 'nope'"):
        fetch("nope", tmp_path, progress=False)
    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.get("tiny"))
    with pytest.raises(ValueError, match="preprocessing must be"):
        registry.register(registry.Dataset("other", "Other", load_tiny, (), (), preprocessing="zca"))
