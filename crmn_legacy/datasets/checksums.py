"""Official MD5 sums of the dataset files, and check_md5s(...) to compare files against them.

Sources: the CIFAR page (https://www.cs.toronto.edu/~kriz/cifar.html) publishes
the archives' MD5s; the MD5s of the files inside the archives (the extracted
``cifar-10-batches-py/`` and ``cifar-100-python/`` folders) are the ones
torchvision's ``datasets/cifar.py`` checks, mirrored in many loaders.  SVHN's
are torchvision's ``datasets/svhn.py`` values for the three ``*_32x32.mat``
files of http://ufldl.stanford.edu/housenumbers/.

How a dataset is verified:

* a downloaded archive (``.tar.gz``) -- its own MD5 (:data:`ARCHIVE_MD5`);
* an extracted CIFAR folder -- the MD5 of every file the loader reads
  (:data:`MEMBER_MD5`); extra files in the folder are ignored;
* SVHN -- each ``.mat`` file's MD5.

``verify`` selects what a mismatch does: ``"strict"`` raises
:class:`~crmn_legacy.datasets.errors.ChecksumError`, ``"warn"`` (the loaders'
default) issues one :class:`~crmn_legacy.datasets.errors.ChecksumWarning`
listing every differing file and loads anyway, ``"off"`` skips hashing.
"""

import hashlib
import os
import sys
import warnings

from .errors import ChecksumError, ChecksumWarning, DatasetError

__all__ = ["ARCHIVE_MD5", "MEMBER_MD5", "VERIFY_MODES", "md5_bytes", "md5_file", "check_md5s"]

ARCHIVE_MD5 = {
    "cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a",
    "cifar-100-python.tar.gz": "eb9058c3a382ffc7106e4002c42a8d85",
    "train_32x32.mat": "e26dedcc434d2e4c54c9b2d4a06d8373",
    "test_32x32.mat": "eb5a983be6a315427106f1b164d9cef3",
    "extra_32x32.mat": "a93ce644f1a588dc4d68dda5feec44a7",
}
"""dict: file name -> official MD5 of the downloadable files."""

MEMBER_MD5 = {
    "cifar-10-batches-py": {
        "data_batch_1": "c99cafc152244af753f735de768cd75f",
        "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
        "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
        "data_batch_4": "634d18415352ddfa80567beed471001a",
        "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
        "test_batch": "40351d587109b95175f43aff81a1287e",
        "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
    },
    "cifar-100-python": {
        "train": "16019d7e3df5f24257cddd939b257f8d",
        "test": "f0ef6b0ae62326f3e7ffdfab6717acfc",
        "meta": "7973b15100ade9c7d40fb424638fde48",
    },
}
"""dict: extracted folder name -> {member file name -> official MD5}."""

VERIFY_MODES = ("strict", "warn", "off")


def md5_bytes(data):
    """md5_bytes(data) -- hex MD5 of a bytes-like object."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def md5_file(path, chunk_size=1 << 20):
    """md5_file(path, chunk_size=1 << 20) -- hex MD5 of a file, read in chunks.

    Raises
    ------
    DatasetError
        When the file cannot be read.
    """
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(chunk_size), b""):
                digest.update(block)
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return digest.hexdigest()


def check_verify_mode(verify):
    """check_verify_mode(verify) -- return ``verify`` if in :data:`VERIFY_MODES`, else raise ``ValueError``."""
    if verify not in VERIFY_MODES:
        raise ValueError(f"verify must be one of {VERIFY_MODES}, got {verify!r}")
    return verify


def check_md5s(results, verify="warn", what="dataset"):
    """check_md5s(results, verify="warn", what="dataset") -- act on computed vs official MD5s.

    Parameters
    ----------
    results : iterable of (name, actual_md5, official_md5)
        ``name`` is the file path shown to the user.
    verify : {"strict", "warn", "off"}
        What a mismatch does (see the module docstring).
    what : str
        Dataset name for the message.

    Returns
    -------
    bool
        True when every file matches its official MD5 (always True for ``"off"``).

    Raises
    ------
    ChecksumError
        On a mismatch with ``verify="strict"``.
    """
    check_verify_mode(verify)
    if verify == "off":
        return True
    bad = [(name, actual, official) for name, actual, official in results if actual != official]
    if not bad:
        return True
    lines = "\n".join(f"  {name}: MD5 {actual}, official {official}" for name, actual, official in bad)
    msg = (
        f"{what}: not the official file{'s' if len(bad) > 1 else ''} (MD5 differs):\n{lines}\n"
        "This is a modified, rebuilt, truncated or corrupt copy."
    )
    if verify == "strict":
        raise ChecksumError(msg + " Refusing it (verify='strict'); use verify='warn' to load it anyway.")
    warnings.warn(msg + " Loading it anyway (verify='warn'; verify='off' silences this).", ChecksumWarning,
                  stacklevel=_caller_stacklevel())
    return False


def _caller_stacklevel():
    """Stack level of the first frame outside this package, so the warning points at the user's call."""
    here = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == here:
        frame, level = frame.f_back, level + 1
    return level
