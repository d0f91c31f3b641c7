"""crmn_legacy.runtime.pytensor_flags: the PyTensor flags our functions compile with, and how a user overrides them."""

import os
import subprocess
import sys

import pytest


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTENSOR_FLAGS", "CRMN_ELEMWISE_OPENMP")}
    env.update(extra)
    return env


@pytest.mark.parametrize("env, expect", [
    ({}, ["True", "128"]),
    ({"CRMN_ELEMWISE_OPENMP": "0"}, ["False", "128"]),
    ({"PYTENSOR_FLAGS": "openmp_elemwise_minsize=5000"}, ["True", "None"]),
])
def test_pytensor_flags_defaults_and_overrides(env, expect):
    code = ("from crmn_legacy.runtime.pytensor_flags import pytensor_flags as f; d = f(); "
            "print(d.get('openmp'), d.get('openmp_elemwise_minsize'), file=__import__('sys').stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_clean_env(**env),
                         check=True, timeout=300)
    assert out.stderr.split()[-2:] == expect
