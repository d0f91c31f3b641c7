"""Data folder resolution: argument, then $CRMN_DATA_DIR, then <repo>/data."""

import pathlib

import pytest

import crmn_legacy
from crmn_legacy.datasets import paths
from crmn_legacy.datasets.errors import DatasetError


def test_order(monkeypatch, tmp_path):
    monkeypatch.delenv("CRMN_DATA_DIR", raising=False)
    repo = pathlib.Path(crmn_legacy.__file__).resolve().parents[1]
    assert paths.data_dir() == repo / "data"
    monkeypatch.setenv("CRMN_DATA_DIR", str(tmp_path / "env"))
    assert paths.data_dir() == tmp_path / "env"
    assert paths.data_dir(tmp_path / "flag") == tmp_path / "flag"


def test_find_dataset(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a.tar.gz").write_bytes(b"")
    assert paths.find_dataset(tmp_path, ["b", "a.tar.gz"], "X") == tmp_path / "b"
    assert paths.find_dataset(tmp_path, ["c", "a.tar.gz"], "X") == tmp_path / "a.tar.gz"
    assert paths.find_dataset(tmp_path / "b", ["b"], "X") == tmp_path / "b"  # the folder itself
    with pytest.raises(DatasetError, match=r"CIFAR-10: not found; looked for .*/zz.*fetch cifar10"):
        paths.find_dataset(tmp_path, ["zz"], "CIFAR-10")


def test_dangling_symlink_is_explained(tmp_path):
    data = tmp_path / "main" / "data"  # like /work/main/data beside /work/shared/data
    data.mkdir(parents=True)
    (tmp_path / "shared" / "data" / "b").mkdir(parents=True)
    (data / "b").symlink_to("../shared/data/b")  # resolved from main/data/: one level short
    with pytest.raises(DatasetError, match=r"symbolic link to ../shared/data/b, which does not exist"):
        paths.find_dataset(data, ["b"], "X")
    (data / "b").unlink()
    (data / "b").symlink_to("../../shared/data/b")
    assert paths.find_dataset(data, ["b"], "X").resolve() == (tmp_path / "shared/data/b").resolve()
