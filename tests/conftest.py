"""Shared test set-up.

* PyTensor's compile cache: one writable directory shared by every test (and
  every test run), so the suite compiles each C module once.  It is
  ``$CRMN_TEST_COMPILEDIR`` if set, else PyTensor's own default when that is
  writable, else ``<repo>/.pytest_cache/pytensor``.  It must be chosen before
  PyTensor is imported, so this file sets ``PYTENSOR_FLAGS`` first.
* The test session is a crmn_legacy program: it calls ``crmn_legacy.configure()``
  (float32, OpenMP, OpenBLAS threads) before any test module is imported.
* ``fixture_file`` fixture: a tiny HDF5 dataset file (``--dataset-file``) for the repro scripts' smoke
  runs: random 32x32 images of 10 classes, 240 training and 100 test images (random labels: it checks the
  pipeline, not accuracy).
* ``data_root`` fixture: ``../shared/data`` beside the checkout (the real
  CIFAR-10 copy); tests marked ``needs_data`` skip cleanly when it is absent.
* ``jax`` marker: skipped when JAX is not installed.
* ``one_line_error`` fixture: runs a command line's ``main`` and checks it fails with one error line.
* ``full_disk`` fixture: makes a module's atomic writes fail with ENOSPC after some bytes, as a full disk does.
"""

import os
import pathlib
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def _writable(path):
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            pass
        return True
    except OSError:
        return False


def _choose_compiledir():
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    if "base_compiledir" in flags or "compiledir" in flags:
        return
    wanted = os.environ.get("CRMN_TEST_COMPILEDIR")
    candidates = [pathlib.Path(wanted)] if wanted else []
    candidates += [pathlib.Path.home() / ".pytensor", REPO / ".pytest_cache" / "pytensor"]
    for cand in candidates:
        if _writable(cand):
            sep = "," if flags else ""
            os.environ["PYTENSOR_FLAGS"] = f"{flags}{sep}base_compiledir={cand}"
            return


_choose_compiledir()

import pytest  # noqa: E402

import crmn_legacy  # noqa: E402

crmn_legacy.configure()


def _have_jax():
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


def pytest_collection_modifyitems(config, items):
    have_data = (SHARED_DATA / "cifar-10-batches-py").is_dir()
    have_jax = _have_jax()
    skip_data = pytest.mark.skip(reason=f"real data not found at {SHARED_DATA}")
    skip_jax = pytest.mark.skip(reason="JAX is not installed (pip install -e .[jax])")
    for item in items:
        if "needs_data" in item.keywords and not have_data:
            item.add_marker(skip_data)
        if "jax" in item.keywords and not have_jax:
            item.add_marker(skip_jax)


@pytest.fixture(scope="session")
def fixture_file(tmp_path_factory):
    import numpy as np

    from crmn_legacy.training.data import write_dataset_file

    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("data") / "tiny.h5"
    split = [(rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, n)) for n in (240, 100)]
    write_dataset_file(path, *split, num_classes=10)
    return path


@pytest.fixture(scope="session")
def data_root():
    """Path to ``../shared/data`` (tests using it must be marked ``needs_data``)."""
    if not (SHARED_DATA / "cifar-10-batches-py").is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def one_line_error(capsys):
    """one_line_error(main, argv) -> the error line of ``main(argv)``, which must fail (a non-zero return or exit)
    with exactly one ``PROG: error: ...`` line on stderr, the last one (progress lines may come before it)."""
    def run(main, argv):
        try:
            rc = main(argv)
        except SystemExit as exc:
            rc = exc.code
        err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert rc not in (0, None), err
        assert [line for line in err if ": error: " in line] == err[-1:], err
        return err[-1]

    return run


@pytest.fixture
def full_disk(monkeypatch):
    """full_disk(module, limit=0) -> None: ``module.atomic_writer`` yields files whose writes raise
    ``OSError(ENOSPC)`` once ``limit`` bytes were written (the real writer still cleans up)."""
    import contextlib
    import errno

    def patch(module, limit=0):
        real = module.atomic_writer

        class FullDisk:
            def __init__(self, fh):
                self._fh, self._left = fh, limit

            def write(self, data):
                if len(data) > self._left:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                self._left -= len(data)
                return self._fh.write(data)

            def __getattr__(self, name):
                return getattr(self._fh, name)

        @contextlib.contextmanager
        def writer(path, mode="wb", encoding=None):
            with real(path, mode, encoding) as fh:
                yield FullDisk(fh)

        monkeypatch.setattr(module, "atomic_writer", writer)

    return patch
