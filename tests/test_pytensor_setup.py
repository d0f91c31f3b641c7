"""crmn_legacy._pytensor_setup: what ``import crmn_legacy`` sets, and how a user overrides it."""

import os
import subprocess
import sys

import pytest

_CHILD = ("import crmn_legacy, pytensor; "
          "print(pytensor.config.floatX, pytensor.config.openmp, pytensor.config.openmp_elemwise_minsize)")


def _run(**env):
    full = {k: v for k, v in os.environ.items() if k not in ("PYTENSOR_FLAGS", "CRMN_ELEMWISE_OPENMP")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, env=full,
                          check=True).stdout.split()


@pytest.mark.parametrize("env, expect", [
    ({}, ["float32", "True", "128"]),
    ({"CRMN_ELEMWISE_OPENMP": "0"}, ["float32", "False", "128"]),
    ({"PYTENSOR_FLAGS": "floatX=float64,openmp=False"}, ["float64", "False", "128"]),
    ({"PYTENSOR_FLAGS": "openmp_elemwise_minsize=5000"}, ["float32", "True", "5000"]),
])
def test_defaults_and_overrides(env, expect):
    assert _run(**env) == expect
