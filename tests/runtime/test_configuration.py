"""crmn_legacy.runtime.configuration: importing the package changes nothing; configure() and compile_settings() do, explicitly.

Each check runs in a fresh interpreter (the test process itself is configured by conftest.py).
"""

import json
import os
import subprocess
import sys


# A probe of the process state a library must leave alone: every PyTensor flag (without computing the lazy
# ones), every rewrite database and tag under PyTensor's optdb, the environment, the recursion limit, the
# thread count of the scipy-openblas32 library, and whether glibc serves a 64 MiB block with mmap (its
# default for anything above 32 MiB; keep_freed_memory turns mmap off).
_PROBE = r"""
import ctypes, ctypes.util, glob, json, os, platform, sys

def _mmapped_64mib():
    if platform.libc_ver()[0] != "glibc":
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    class Info(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                   "fsmblks", "uordblks", "fordblks", "keepcost")]
    libc.mallinfo2.restype = Info
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    before = libc.mallinfo2().hblks
    block = libc.malloc(64 * 2**20)
    after = libc.mallinfo2().hblks
    libc.free(block)
    return after > before

def _openblas_threads():
    import scipy_openblas32 as sob
    lib = ctypes.CDLL(sorted(glob.glob(os.path.join(sob.get_lib_dir(), f"lib{sob.get_library()}.so*")))[0])
    return lib.scipy_openblas_get_num_threads()

def _databases(db, prefix=""):
    from pytensor.graph.rewriting.db import RewriteDatabase
    out = {prefix or "optdb": [sorted(db._names), sorted(db.__db__)]}
    for name in sorted(db._names):
        for rewriter in db.__db__[name]:
            if isinstance(rewriter, RewriteDatabase):
                out.update(_databases(rewriter, f"{prefix}{name}/"))
    return out

def snapshot():
    import pytensor
    from pytensor.compile import optdb
    flags = {name: repr(getattr(p, "val", "<not computed>")) for name, p in pytensor.config._config_var_dict.items()}
    return {"flags": flags, "rewrites": _databases(optdb), "environ": dict(os.environ),
            "recursion": sys.getrecursionlimit(), "openblas_threads": _openblas_threads(),
            "mmap_64mib": _mmapped_64mib()}

import importlib
for name in json.loads(sys.argv[2]) if len(sys.argv) > 2 else []:  # third-party modules the code will import
    importlib.import_module(name)
before = snapshot()
exec(sys.argv[1])
after = snapshot()
print(json.dumps({"before": before, "after": after}))
"""

_IMPORT_ALL = """
import importlib, pkgutil
import crmn_legacy
for m in pkgutil.walk_packages(crmn_legacy.__path__, "crmn_legacy."):
    if not m.name.endswith("__main__"):
        importlib.import_module(m.name)
"""


def _clean_env(**extra):
    drop = ("PYTENSOR_FLAGS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OPENBLAS_NUM_THREADS", "CRMN_BLAS_THREADS",
            "CRMN_MALLOC_TUNING", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_MMAP_MAX_",
            "CRMN_ELEMWISE_OPENMP")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    flags = os.environ.get("PYTENSOR_FLAGS", "")  # keep only the test compile directory conftest.py chose
    keep = [f for f in flags.split(",") if f.startswith("base_compiledir=")]
    if keep:
        env["PYTENSOR_FLAGS"] = ",".join(keep)
    env.update(extra)
    return env


def _probe(code, preload=(), **env):
    out = subprocess.run([sys.executable, "-c", _PROBE, code, json.dumps(list(preload))], capture_output=True,
                         text=True, env=_clean_env(**env), timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return res["before"], res["after"]


def _diff(before, after):
    keys = set(before) | set(after)
    return {k: (before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)}


def _third_party_modules(code):
    """The modules of PyTensor, JAX, ... that ``code`` imports: some register their own rewrites when imported."""
    probe = code + "\nimport json, sys; print(json.dumps(sorted(m for m in sys.modules if not m.startswith('crmn_legacy') and '.' in m)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=_clean_env(), timeout=600,
                         check=True)
    return [m for m in json.loads(out.stdout.strip().splitlines()[-1])
            if m.split(".")[0] in ("pytensor", "jax", "jaxlib", "scipy", "numpy", "h5py")]


def test_importing_every_module_changes_no_global_state():
    """Importing every module of the package adds nothing to what importing the PyTensor (JAX, ...) modules it
    uses does by itself."""
    before, after = _probe(_IMPORT_ALL, preload=_third_party_modules(_IMPORT_ALL))
    assert before["mmap_64mib"] in (True, None)  # the probe sees glibc's default (positive control below)
    for part in ("flags", "rewrites", "environ"):
        assert _diff(before[part], after[part]) == {}, part
    for part in ("recursion", "openblas_threads", "mmap_64mib"):
        assert before[part] == after[part], part


def test_configure_applies_each_setting():
    before, after = _probe("import crmn_legacy; print(crmn_legacy.configure(), file=__import__('sys').stderr)")
    flags = _diff(before["flags"], after["flags"])
    assert flags["floatX"] == ("'float64'", "'float32'")
    assert flags["openmp"][1] == "True" and flags["openmp_elemwise_minsize"][1] == "128"
    assert "scipy_sgemm_" in flags["gcc__cxxflags"][1] and "-lscipy_openblas" in flags["blas__ldflags"][1]
    env = _diff(before["environ"], after["environ"])
    assert env == {"OMP_WAIT_POLICY": (None, "passive"), "GOMP_SPINCOUNT": (None, "30000")}
    assert after["openblas_threads"] == 1
    if before["mmap_64mib"] is not None:
        assert before["mmap_64mib"] is True and after["mmap_64mib"] is False
    assert _diff(before["rewrites"], after["rewrites"]) == {}  # rewrites are the modes' business, not configure's


def test_configure_keeps_the_users_own_settings():
    env = {"PYTENSOR_FLAGS": "floatX=float64,openmp=False", "OMP_WAIT_POLICY": "active", "OPENBLAS_NUM_THREADS": "2",
           "CRMN_MALLOC_TUNING": "0"}
    before, after = _probe("import crmn_legacy; crmn_legacy.configure()", **env)
    flags = _diff(before["flags"], after["flags"])
    assert "floatX" not in flags and "openmp" not in flags and flags["openmp_elemwise_minsize"][1] == "128"
    assert _diff(before["environ"], after["environ"]) == {}
    assert before["openblas_threads"] == after["openblas_threads"]
    assert before["mmap_64mib"] == after["mmap_64mib"]


def test_configure_after_openmp_is_loaded_warns_and_leaves_the_environment():
    code = ("import ctypes, warnings; ctypes.CDLL('libgomp.so.1'); import crmn_legacy\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always'); applied = crmn_legacy.configure()\n"
            "assert applied['openmp_env'] == 'too late', applied\n"
            "assert any('libgomp is already loaded' in str(x.message) for x in w), [str(x.message) for x in w]")
    before, after = _probe(code)
    assert _diff(before["environ"], after["environ"]) == {}


def test_compile_function_uses_our_flags_and_restores_pytensor_config():
    """crmn_legacy.runtime.compile.function compiles with OpenMP and the linked BLAS, registers our rewrites under our own
    tags only, and leaves pytensor.config and PyTensor's own modes as they were."""
    code = """
import numpy as np, pytensor, pytensor.tensor as pt
from crmn_legacy.runtime.compile import function
from crmn_legacy.ops import relu
x = pt.matrix("x", dtype="float32")
f = function([x], pt.tanh(relu(x) * 2), cache=False)
assert np.allclose(f(np.array([[-1.0, 0.5]], dtype="float32")), np.tanh([[0.0, 1.0]]))
ops = [n.op for n in f.maker.fgraph.toposort()]
assert any(getattr(o, "openmp", False) for o in ops), ops   # Elemwise built while compiling: our openmp=True
assert "double_exp_tanh" in str(ops), ops                  # our float32 tanh rewrite ran in our mode
plain = pytensor.function([x], pt.tanh(x), mode="CVM")        # after ours: PyTensor's own mode is untouched
assert "double_exp_tanh" not in str([n.op for n in plain.maker.fgraph.toposort()])
"""
    before, after = _probe(code)
    flags = _diff(before["flags"], after["flags"])
    # PyTensor computes some lazy defaults (compiledir, ...) when it first compiles: not a change of a value
    assert {k: v for k, v in flags.items() if v[0] != "'<not computed>'"} == {}
    for name in ("openmp", "openmp_elemwise_minsize", "blas__ldflags", "gcc__cxxflags", "floatX"):
        assert name not in flags, name
    assert _diff(before["environ"], after["environ"]) == {}
    added = {k: v for k, v in after["rewrites"].items() if before["rewrites"].get(k) != v}
    # our rewrites are now in optdb (and its canonicalize / specialize sub-databases), under our tags only
    new_tags = set()
    for db, (names, tags) in added.items():
        new_tags |= set(tags) - set(before["rewrites"][db][1])
    assert {"crmn", "crmn_fast"} <= new_tags
    assert not new_tags & {"fast_run", "fast_compile", "jax", "numba"}
