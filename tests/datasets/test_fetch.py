"""fetch: offline fails at once naming the file and the place; a download is verified (file:// URLs)."""

import time
import urllib.error

import pytest

from crmn_legacy.datasets import checksums, fetch as fetch_mod, load_cifar10
from crmn_legacy.datasets.checksums import md5_file
from crmn_legacy.datasets.errors import DatasetError
from official_formats import cifar10_files, write_tarball


@pytest.fixture
def offline(monkeypatch):
    calls = []

    def refuse(url, timeout=None):
        calls.append((url, timeout))
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(fetch_mod.urllib.request, "urlopen", refuse)
    return calls


def test_offline_message(offline, tmp_path, capsys):
    t0 = time.perf_counter()
    rc = fetch_mod.main(["cifar100", "--data-dir", str(tmp_path), "--timeout", "3"])
    assert rc == 1 and time.perf_counter() - t0 < 5
    err = capsys.readouterr().err
    assert "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz" in err
    assert f"put it at {tmp_path / 'cifar-100-python.tar.gz'}" in err and "eb9058c3a382ffc7106e4002c42a8d85" in err
    assert offline[0][1] == 3.0
    assert not list(tmp_path.iterdir())  # no partial file left behind


def test_svhn_offline_names_the_mat(offline, tmp_path):
    with pytest.raises(DatasetError, match=r"train_32x32.mat: cannot download http://ufldl.stanford.edu/"):
        fetch_mod.fetch("svhn", tmp_path, progress=False)


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    src = tmp_path / "mirror"
    src.mkdir()
    tgz = write_tarball(src, "cifar-10-python.tar.gz", "cifar-10-batches-py", cifar10_files())
    return {"cifar10": [tgz.as_uri()]}, tgz


def test_download_verify_extract_load(mirror, tmp_path, monkeypatch):
    sources, tgz = mirror
    monkeypatch.setitem(checksums.ARCHIVE_MD5, "cifar-10-python.tar.gz", md5_file(tgz))
    dest = tmp_path / "data"
    files = fetch_mod.fetch("cifar10", dest, sources=sources, progress=False)
    assert files == [dest / "cifar-10-python.tar.gz"] and (dest / "cifar-10-batches-py" / "test_batch").is_file()
    assert load_cifar10(dest, verify="off")["train"][0].shape == (20, 3, 32, 32)
    # present and verified: no second download
    monkeypatch.setattr(fetch_mod.urllib.request, "urlopen", lambda *a, **k: pytest.fail("downloaded again"))
    fetch_mod.fetch("cifar10", dest, sources=sources, progress=False)


def test_download_with_wrong_md5(mirror, tmp_path):
    sources, _ = mirror
    dest = tmp_path / "data"
    with pytest.raises(DatasetError, match=r"downloaded file has MD5 [0-9a-f]{32}, official c58f3010"):
        fetch_mod.fetch("cifar10", dest, sources=sources, progress=False)
    assert (dest / "cifar-10-python.tar.gz.bad").exists() and not (dest / "cifar-10-python.tar.gz").exists()


def test_cli_dispatch_and_bad_name(capsys):
    with pytest.raises(SystemExit):
        fetch_mod.main(["imagenet"])
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(DatasetError, match="unknown dataset"):
        fetch_mod.fetch("mnist")
