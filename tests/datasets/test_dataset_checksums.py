"""MD5 tables and the strict / warn / off behaviour."""

import hashlib
import warnings

import pytest

from crmn_legacy.datasets import checksums
from crmn_legacy.datasets.errors import ChecksumError, ChecksumWarning, DatasetError


def test_official_sums_present():
    assert checksums.ARCHIVE_MD5["cifar-10-python.tar.gz"] == "c58f30108f718f92721af3b95e74349a"
    assert checksums.ARCHIVE_MD5["cifar-100-python.tar.gz"] == "eb9058c3a382ffc7106e4002c42a8d85"
    assert checksums.ARCHIVE_MD5["train_32x32.mat"] == "e26dedcc434d2e4c54c9b2d4a06d8373"
    assert checksums.ARCHIVE_MD5["test_32x32.mat"] == "eb5a983be6a315427106f1b164d9cef3"
    assert checksums.ARCHIVE_MD5["extra_32x32.mat"] == "a93ce644f1a588dc4d68dda5feec44a7"
    assert len(checksums.MEMBER_MD5["cifar-10-batches-py"]) == 7
    assert set(checksums.MEMBER_MD5["cifar-100-python"]) == {"train", "test", "meta"}


def test_md5_file(tmp_path):
    f = tmp_path / "x"
    f.write_bytes(b"abc" * 1000)
    assert checksums.md5_file(f, chunk_size=7) == hashlib.md5(b"abc" * 1000).hexdigest()
    with pytest.raises(DatasetError, match="not found"):
        checksums.md5_file(tmp_path / "missing")


def test_modes():
    ok = [("a", "1", "1")]
    bad = [("a", "1", "1"), ("dir/b", "2", "3")]
    assert checksums.check_md5s(ok, "strict") is True
    with pytest.raises(ChecksumError, match=r"(?s)not the official file.*dir/b: MD5 2, official 3"):
        checksums.check_md5s(bad, "strict", "X")
    with pytest.warns(ChecksumWarning, match="not the official file"):
        assert checksums.check_md5s(bad, "warn") is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert checksums.check_md5s(bad, "off") is True
    with pytest.raises(ValueError, match="verify must be one of"):
        checksums.check_md5s(ok, "maybe")
