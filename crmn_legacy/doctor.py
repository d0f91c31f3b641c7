"""python -m crmn_legacy doctor -- is this installation ready to train?

Prints one line per check and a verdict.  Each check is ``OK``, ``WARN`` (works,
but worse than it could) or ``FAIL`` (training would stop); every ``WARN`` and
``FAIL`` line carries a one-line remedy.  Exits 1 when any check fails.

Checks: versions (crmn_legacy, Python, PyTensor, numpy, scipy, h5py, JAX if
present) and the devices JAX sees (``--backend jax``); the compile mode our
functions use; the C compiler PyTensor calls; the BLAS our C code links (a
real ``scipy_cblas_sgemm`` call, compiled and run); whether PyTensor's compile
cache is writable; which datasets are found where.
"""

import argparse
import importlib
import os
import shutil
import subprocess
import sys
import tempfile

__all__ = ["Check", "run_checks", "main"]

OK, WARN, FAIL = "OK", "WARN", "FAIL"


class Check:
    """Check(name, status, detail, remedy=None) -- the result of one check."""

    def __init__(self, name, status, detail, remedy=None):
        self.name, self.status, self.detail, self.remedy = name, status, detail, remedy

    def as_dict(self):
        """as_dict() -> dict with keys name, status, detail, remedy."""
        return {"name": self.name, "status": self.status, "detail": str(self.detail), "remedy": self.remedy}


def _version(module):
    try:
        return importlib.import_module(module).__version__
    except ImportError:
        return None


def check_versions():
    """check_versions() -> list of Check: one per package we depend on."""
    import crmn_legacy

    out = [Check("crmn_legacy", OK, crmn_legacy.__version__), Check("python", OK, sys.version.split()[0])]
    for mod, pip_name in (("pytensor", "pytensor"), ("numpy", "numpy"), ("scipy", "scipy"), ("h5py", "h5py")):
        ver = _version(mod)
        if ver is None:
            out.append(Check(mod, FAIL, "not installed", f"pip install {pip_name}"))
        else:
            out.append(Check(mod, OK, ver))
    ver = _version("pytensor")
    if ver is not None and not ver.startswith("3."):
        out[-4] = Check("pytensor", FAIL, f"{ver} (need 3.x)", "pip install 'pytensor>=3,<4'")
    jax_ver = _version("jax")
    out.append(Check("jax", OK, jax_ver) if jax_ver else Check("jax", OK, "not installed (optional: pip install -e .[jax])"))
    return out


def check_jax_devices():
    """check_jax_devices() -> Check or None (JAX not installed): the devices ``--backend jax`` would use."""
    from crmn_legacy.training.backend import JAX_REMEDY, jax_devices

    try:
        devices = jax_devices()
    except RuntimeError as exc:  # a broken jaxlib (e.g. a CUDA build without a driver) raises on first use
        return Check("JAX devices", WARN, f"JAX does not start: {exc}".splitlines()[0], JAX_REMEDY)
    if devices is None:
        return None
    if any(not d.startswith("cpu") for d in devices):
        return Check("JAX devices", OK, f"{', '.join(devices)} (--backend jax runs on the first)")
    return Check("JAX devices", OK, f"{', '.join(devices)} (no GPU visible: --backend jax runs on the CPU; "
                                    "a GPU needs a CUDA jaxlib, e.g. pip install 'jax[cuda12]')")


def check_mode():
    """check_mode() -> Check: the mode crmn_legacy.runtime.compile.function uses."""
    from crmn_legacy.runtime.compile import DEFAULT_MODE, get_mode

    chosen = os.environ.get("CRMN_MODE", DEFAULT_MODE)
    mode = get_mode()
    return Check("compile mode", OK, f"{chosen} (linker={type(mode.linker).__name__}; set CRMN_MODE to change)")


def check_compiler():
    """check_compiler() -> Check: the C++ compiler PyTensor's C backend calls."""
    import pytensor

    cxx = pytensor.config.cxx
    if not cxx or shutil.which(cxx) is None:
        return Check("C compiler", FAIL, f"not found ({cxx!r})", "install g++ (apt-get install g++) and re-run")
    try:
        ver = subprocess.run([cxx, "--version"], capture_output=True, text=True, timeout=30).stdout.splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError) as exc:
        return Check("C compiler", FAIL, f"{cxx}: {exc}", "install g++ (apt-get install g++) and re-run")
    return Check("C compiler", OK, f"{cxx}: {ver}")


_BLAS_PROBE = r"""
#include <stdio.h>
#include <cblas.h>
int main(void) {
    float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, c[4] = {0, 0, 0, 0};
    scipy_cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2);
    printf("%g %g %g %g\n", c[0], c[1], c[2], c[3]);
    return 0;
}
"""


def check_blas():
    """check_blas() -> Check: compile, link and run a ``scipy_cblas_sgemm`` call as our C code does."""
    import pytensor

    from crmn_legacy.runtime.pytensor_flags import blas_info

    info = blas_info()
    if info["include_dir"] is None:
        return Check("BLAS", FAIL, "scipy-openblas32 is not installed", "pip install scipy-openblas32")
    cxx = pytensor.config.cxx or "g++"
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "probe.c"), os.path.join(tmp, "probe")
        with open(src, "w") as fh:
            fh.write(_BLAS_PROBE)
        cmd = [cxx, "-x", "c", src, "-o", exe, f"-I{info['include_dir']}", f"-L{info['lib_dir']}",
               f"-l{info['library']}", f"-Wl,-rpath,{info['lib_dir']}"]
        try:
            built = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if built.returncode != 0:
                return Check("BLAS", FAIL, "cannot link scipy_cblas_sgemm: " + built.stderr.strip()[-200:],
                             "pip install --force-reinstall scipy-openblas32")
            ran = subprocess.run([exe], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as exc:
            return Check("BLAS", FAIL, str(exc), "pip install --force-reinstall scipy-openblas32")
    if ran.stdout.split() != ["19", "22", "43", "50"]:
        return Check("BLAS", FAIL, f"sgemm gave {ran.stdout.strip()!r}", "pip install --force-reinstall scipy-openblas32")
    ver = _version("scipy_openblas32") or "?"
    source = info["source"] or "none"
    detail = f"scipy-openblas32 {ver} ({info['library']} in {info['lib_dir']}); PyTensor's own BLAS flags: {source}"
    return Check("BLAS", OK, detail)


def _unwritable(path):
    """_unwritable(path) -> None when ``path`` is (or can be made) a writable folder, else the OSError's text."""
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            pass
    except OSError as exc:
        return str(exc)
    return None


def check_compiledir(path=None):
    """check_compiledir(path=None) -> Check: PyTensor's compile cache (default: ``config.compiledir``) is writable."""
    import pytensor

    path = pytensor.config.compiledir if path is None else path
    problem = _unwritable(path)
    if problem:
        return Check("compile cache", FAIL, f"{path}: {problem}", "set PYTENSOR_FLAGS=base_compiledir=/a/writable/dir")
    return Check("compile cache", OK, path)


def check_graph_cache():
    """check_graph_cache() -> Check: the rewritten-graph cache (:mod:`crmn_legacy.runtime.graph_cache`) is usable."""
    from .runtime.graph_cache import default_cache_dir

    path = default_cache_dir()
    if path is None:
        return Check("graph cache", WARN, "off (CRMN_GRAPH_CACHE=off): every compile rewrites the graph again",
                     "unset CRMN_GRAPH_CACHE to cache rewritten graphs")
    problem = _unwritable(path)
    if problem:
        return Check("graph cache", WARN, f"{path}: {problem} (compiles will not be cached)",
                     "set CRMN_GRAPH_CACHE=/a/writable/dir")
    return Check("graph cache", OK, str(path))


def check_threads():
    """check_threads() -> Check: how many threads our C code and its OpenBLAS use."""
    omp = os.environ.get("OMP_NUM_THREADS", f"all {os.cpu_count()} cores")
    blas = os.environ.get("CRMN_BLAS_THREADS") or os.environ.get("OPENBLAS_NUM_THREADS") or "1"
    return Check("threads", OK, f"OpenMP (conv, BatchNorm): {omp}; OpenBLAS inside them: {blas} "
                              "(CRMN_BLAS_THREADS / OMP_NUM_THREADS change them)")


def check_datasets(data_dir=None):
    """check_datasets(data_dir=None) -> list of Check: which datasets are found where."""
    try:
        from crmn_legacy.datasets import paths
    except ImportError as exc:
        return [Check("datasets", WARN, f"dataset module unavailable ({exc})", "reinstall: pip install -e .")]
    found = paths.find_datasets(data_dir)
    out = []
    for name, where in found.items():
        if where:
            out.append(Check(f"dataset {name}", OK, str(where)))
        else:
            out.append(Check(f"dataset {name}", WARN, "not found",
                             f"python -m crmn_legacy fetch {name}  (or put it under {paths.data_dir(data_dir)})"))
    if not any(found.values()):
        out.append(Check("datasets", FAIL, "no dataset found: training needs one",
                         "python -m crmn_legacy fetch cifar10 (see data/README.md)"))
    return out


def run_checks(data_dir=None):
    """run_checks(data_dir=None) -> list of Check, in display order."""
    checks = check_versions()
    jax_check = check_jax_devices()
    if jax_check is not None:
        checks.append(jax_check)
    for fn in (check_mode, check_compiler, check_blas, check_compiledir, check_graph_cache, check_threads):
        checks.append(fn())
    checks.extend(check_datasets(data_dir))
    return checks


def main(argv=None):
    """main(argv=None) -> int: print the checks; 1 when any FAILs."""
    parser = argparse.ArgumentParser(prog="python -m crmn_legacy doctor", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="where to look for datasets (default: $CRMN_DATA_DIR, then <repo>/data)")
    parser.add_argument("--json", action="store_true", help="print the checks as one JSON list")
    args = parser.parse_args(argv)
    checks = run_checks(args.data_dir)
    if args.json:
        import json

        print(json.dumps([c.as_dict() for c in checks], indent=1))
    else:
        for c in checks:
            print(f"[{c.status:<4}] {c.name:<16} {c.detail}")
            if c.remedy and c.status != OK:
                print(f"       {'':<16} remedy: {c.remedy}")
    failed = [c for c in checks if c.status == FAIL]
    if not args.json:
        print("doctor: " + (f"{len(failed)} problem(s) would stop training" if failed else "ready to train"))
    return 1 if failed else 0
