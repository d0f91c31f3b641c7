"""crmn_legacy.ops.c_support: how OpenMP workers wait (set at import, before libgomp loads)."""

import json
import os
import subprocess
import sys

import pytest

_PROBE = ("import json, os, crmn_legacy.ops; "
          "print(json.dumps({k: os.environ.get(k) for k in ('OMP_WAIT_POLICY', 'GOMP_SPINCOUNT')}))")


def _env_after_import(**overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(overrides)
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_default_is_a_short_spin_then_sleep():
    from crmn_legacy.ops.c_support import OMP_SPIN_COUNT

    assert _env_after_import() == {"OMP_WAIT_POLICY": "passive", "GOMP_SPINCOUNT": str(OMP_SPIN_COUNT)}


@pytest.mark.parametrize("user", [{"OMP_WAIT_POLICY": "active"}, {"GOMP_SPINCOUNT": "0"}])
def test_a_users_setting_is_kept(user):
    got = _env_after_import(**user)
    for key in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        assert got[key] == user.get(key), (key, got)
