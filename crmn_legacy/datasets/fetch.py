"""fetch(dataset, data_dir=None, ...) and ``python -m crmn_legacy fetch DATASET [--data-dir DIR]`` -- download, verify.

Downloads the official files into the data folder (see
:mod:`~crmn_legacy.datasets.paths`), checks each against its official MD5
(:data:`~crmn_legacy.datasets.checksums.ARCHIVE_MD5`) and, for CIFAR, extracts
the archive next to it (the loaders read either form).  A file already present
with the right MD5 is not downloaded again.  Without internet the first
connection fails within ``timeout`` seconds and the error says which file to
download by hand and where to put it.
"""

import shutil
import sys
import tarfile
import urllib.error
import urllib.request

from .._cli import ArgumentParser, fail
from ..utils import atomic_writer, os_error_text
from . import registry
from .checksums import ARCHIVE_MD5, md5_file
from .errors import DatasetError
from .paths import DATA_DIR_ENV
from .paths import data_dir as _resolve

__all__ = ["fetch", "main"]


def _manual_hint(url, target):
    return (f"Download {url} by hand (MD5 {ARCHIVE_MD5[target.name]}) and put it at {target}, "
            f"or point --data-dir / ${DATA_DIR_ENV} at a folder that holds it.")


def _download(url, target, timeout, progress):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_writer(target) as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while True:
                block = response.read(1 << 20)
                if not block:
                    break
                out.write(block)
                done += len(block)
                if progress:
                    pct = f" {100 * done / total:5.1f}%" if total else ""
                    print(f"\r  {target.name}: {done / 2**20:8.1f} MiB{pct}", end="", file=sys.stderr, flush=True)
        if progress:
            print(file=sys.stderr)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DatasetError(f"{target.name}: cannot download {url} ({reason}). {_manual_hint(url, target)}") from None


def _extract(archive, folder):
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(folder, filter="data")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DatasetError(f"{archive}: cannot extract ({exc})") from None


def fetch(dataset, data_dir=None, timeout=10.0, extract=True, progress=True, sources=None):
    """fetch(dataset, data_dir=None, timeout=10.0, extract=True, progress=True, sources=None) -- download and verify.

    Parameters
    ----------
    dataset : str
        A registered dataset (:func:`~crmn_legacy.datasets.registry.names`).
    data_dir : str or os.PathLike, optional
        Target folder (created if needed); default :func:`~crmn_legacy.datasets.paths.data_dir` ``()``.
    timeout : float
        Seconds to wait for a connection or data before failing.
    extract : bool
        Extract CIFAR archives (into ``cifar-10-batches-py/`` / ``cifar-100-python/``).
    progress : bool
        Print progress to stderr.
    sources : dict, optional
        ``{dataset: [url, ...]}`` replacing the registered official URLs (tests, mirrors).

    Returns
    -------
    list of pathlib.Path
        The verified files.

    Raises
    ------
    DatasetError
        Download failure (saying which file to put where) or MD5 mismatch.
    """
    key = registry.canonical_name(dataset)
    if sources is None:
        sources = {name: registry.get(name).sources for name in registry.names()}
    if key not in sources:
        raise DatasetError(f"unknown dataset {dataset!r}; expected one of {', '.join(sources)}")
    folder = _resolve(data_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"{folder}: cannot create the data folder ({exc.strerror or exc})") from None
    done = []
    for url in sources[key]:
        target = folder / url.rsplit("/", 1)[-1]
        official = ARCHIVE_MD5[target.name]
        if target.exists() and md5_file(target) == official:
            if progress:
                print(f"  {target}: present, MD5 ok", file=sys.stderr)
        else:
            if progress:
                print(f"  downloading {url}", file=sys.stderr)
            _download(url, target, timeout, progress)
            actual = md5_file(target)
            if actual != official:
                bad = target.with_name(target.name + ".bad")
                shutil.move(target, bad)
                raise DatasetError(f"{target.name}: downloaded file has MD5 {actual}, official {official}; "
                                   f"kept as {bad}. {_manual_hint(url, target)}")
        if extract and target.name.endswith(".tar.gz"):
            _extract(target, folder)
        done.append(target)
    return done


def main(argv=None):
    """main(argv=None) -- ``python -m crmn_legacy fetch DATASET [--data-dir DIR] [--timeout S] [--no-extract]``.

    Returns
    -------
    int
        0 on success, 1 on failure (the reason printed to stderr).
    """
    parser = ArgumentParser(prog="python -m crmn_legacy fetch",
                            description="Download and verify a dataset from its official site.")
    parser.add_argument("dataset", choices=registry.names(), help="dataset to download")
    parser.add_argument("--data-dir", default=None,
                        help=f"target folder (default: ${DATA_DIR_ENV}, else <repo>/data)")
    parser.add_argument("--timeout", type=float, default=10.0, help="network timeout in seconds (default 10)")
    parser.add_argument("--no-extract", action="store_true", help="keep CIFAR archives packed")
    args = parser.parse_args(argv)
    if not args.timeout > 0:
        parser.error(f"--timeout must be > 0 seconds, got {args.timeout:g}")
    try:
        files = fetch(args.dataset, args.data_dir, timeout=args.timeout, extract=not args.no_extract)
    except DatasetError as exc:
        return fail(parser.prog, exc, code=1)
    except OSError as exc:  # e.g. the data folder's disk is full (the partial download is removed)
        return fail(parser.prog, os_error_text(exc), code=1)
    print(f"{args.dataset}: {len(files)} file(s) verified in {files[0].parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
