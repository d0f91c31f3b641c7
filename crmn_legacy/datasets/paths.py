"""data_dir(data_dir=None) -- where the datasets live, and find_dataset(...) to locate one inside it.

Resolution order (first that is given wins):

1. the ``data_dir`` argument (the command lines' ``--data-dir DIR`` flag);
2. the environment variable ``$CRMN_DATA_DIR``;
3. ``<repo>/data``, where ``<repo>`` is the folder holding the ``crmn_legacy``
   package (the checkout, also for ``pip install -e .``).

Inside that folder each dataset is looked up under its official names
(``cifar-10-batches-py/`` or ``cifar-10-python.tar.gz``, ...).  Symbolic links
are followed, so ``ln -s /path/to/copy/cifar-10-batches-py data/`` makes a copy
elsewhere visible.
"""

import os
import pathlib

from .errors import DatasetError

__all__ = ["DATA_DIR_ENV", "REPO_ROOT", "default_data_dir", "data_dir", "find_dataset",
           "find_datasets"]

DATA_DIR_ENV = "CRMN_DATA_DIR"
REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]



def default_data_dir():
    """default_data_dir() -- ``<repo>/data``: the parent of the ``crmn_legacy`` package, then ``data``."""
    return REPO_ROOT / "data"


def data_dir(data_dir=None):
    """data_dir(data_dir=None) -- resolve the data folder: argument, then ``$CRMN_DATA_DIR``, then ``<repo>/data``.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        Explicit folder (the ``--data-dir`` flag).

    Returns
    -------
    pathlib.Path
        The folder (``~`` expanded); it need not exist.
    """
    if data_dir is not None and str(data_dir) != "":
        return pathlib.Path(data_dir).expanduser()
    env = os.environ.get(DATA_DIR_ENV, "")
    if env:
        return pathlib.Path(env).expanduser()
    return default_data_dir()


def find_dataset(root, names, dataset):
    """find_dataset(root, names, dataset) -- return the first of ``names`` found as ``root`` itself or inside it.

    Parameters
    ----------
    root : str, os.PathLike or None
        A data folder, or directly one of the dataset's files/folders.  ``None``
        means :func:`data_dir` ``()``.
    names : sequence of str
        Official file or folder names, in order of preference.
    dataset : str
        Dataset name for the error message.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DatasetError
        Naming every place that was looked at, when none exists.
    """
    root = data_dir(root)
    if root.name in names and root.exists():
        return root
    for name in names:
        cand = root / name
        if cand.exists():
            return cand
    for name in names:
        cand = root / name
        if cand.is_symlink():  # exists() is False: a dangling link
            target = os.readlink(cand)
            raise DatasetError(
                f"{cand}: symbolic link to {target}, which does not exist (a relative link target is "
                f"resolved from the link's own folder {cand.parent}, i.e. {cand.parent / target}). "
                f"Recreate it with an absolute target: ln -sfn /absolute/path/{name} {cand}"
            )
    looked = ", ".join(str(root / n) for n in names)
    raise DatasetError(
        f"{dataset}: not found; looked for {looked}. Put the official files there "
        f"(`python -m crmn_legacy fetch {dataset.lower().replace('-', '')} --data-dir {root}`), "
        f"or pass another folder with --data-dir / ${DATA_DIR_ENV}."
    )


def find_datasets(data_dir=None):
    """find_datasets(data_dir=None) -> dict name -> pathlib.Path or None: which datasets are where.

    Looks in :func:`data_dir` ``(data_dir)`` for each registered dataset's
    official names (what ``python -m crmn_legacy doctor`` reports).
    """
    from . import registry

    found = {}
    for name in registry.names():
        try:
            found[name] = find_dataset(data_dir, registry.get(name).official_names, name)
        except DatasetError:
            found[name] = None
    return found
