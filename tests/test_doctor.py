"""Tests for ``python -m crmn_legacy doctor`` and the PyTensor set-up it reports."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

import crmn_legacy
import crmn_legacy.runtime.compile
from crmn_legacy import doctor
from crmn_legacy.runtime.pytensor_flags import blas_info


def test_floatx_is_float32():
    import pytensor

    assert pytensor.config.floatX == "float32"


def test_blas_probe_runs_sgemm():
    check = doctor.check_blas()
    assert check.status == doctor.OK, check.detail
    assert blas_info()["source"] in ("scipy-openblas32", "user")


def test_pytensor_dot_uses_linked_blas_without_warning():
    """PyTensor's own Gemm compiles against scipy-openblas32: no 'could not link to a BLAS' warning."""
    import pytensor
    import pytensor.tensor as pt

    a, b = pt.fmatrix("a"), pt.fmatrix("b")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = crmn_legacy.runtime.compile.function([a, b], pt.dot(a, b))
    ops = {type(node.op).__name__ for node in f.maker.fgraph.apply_nodes}
    assert ops & {"Dot22", "Gemm", "CGemv", "Dot22Scalar"}, ops
    rng = np.random.default_rng(0)
    x, y = rng.random((5, 7), dtype=np.float32), rng.random((7, 3), dtype=np.float32)
    np.testing.assert_allclose(f(x, y), x @ y, rtol=1e-5)
    assert pytensor.config.blas__ldflags


def test_doctor_cli_json_and_exit_code(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "crmn_legacy", "doctor", "--json", "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    checks = json.loads(proc.stdout)
    names = {c["name"] for c in checks}
    assert {"pytensor", "numpy", "compile mode", "C compiler", "BLAS", "compile cache"} <= names
    failed = [c for c in checks if c["status"] == "FAIL"]
    assert (proc.returncode == 1) == bool(failed)
    for c in checks:
        if c["status"] != "OK":
            assert c["remedy"], c


def test_doctor_reports_unwritable_compiledir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    check = doctor.check_compiledir(str(blocker / "sub"))
    assert check.status == doctor.FAIL and "base_compiledir" in check.remedy


@pytest.mark.parametrize("argv", [["--help"], []])
def test_main_usage(argv, capsys):
    from crmn_legacy.__main__ import main

    assert main(argv) == 0
    assert "doctor" in capsys.readouterr().out


@pytest.mark.jax
def test_doctor_lists_the_devices_jax_sees():
    import jax

    check = doctor.check_jax_devices()
    assert check.status == doctor.OK
    for d in jax.devices():
        assert f"{d.platform}:{d.id}" in check.detail


def test_doctor_has_no_jax_devices_line_without_jax(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real(name, *a))
    assert doctor.check_jax_devices() is None
