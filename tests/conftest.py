"""Shared test set-up.

* PyTensor's compile cache: one writable directory shared by every test (and
  every test run), so the suite compiles each C module once.  It is
  ``$CRMN_TEST_COMPILEDIR`` if set, else PyTensor's own default when that is
  writable, else ``<repo>/.pytest_cache/pytensor``.  It must be chosen before
  PyTensor is imported, so this file sets ``PYTENSOR_FLAGS`` first.
* ``data_root`` fixture: ``../shared/data`` beside the checkout (the real
  CIFAR-10 copy); tests marked ``needs_data`` skip cleanly when it is absent.
* ``jax`` marker: skipped when JAX is not installed.
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
def data_root():
    """Path to ``../shared/data`` (tests using it must be marked ``needs_data``)."""
    if not (SHARED_DATA / "cifar-10-batches-py").is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA
