"""Tests of crmn_legacy.runtime.malloc: keep_freed_memory() sets the glibc thresholds (only when called), and the opt-outs work."""

import platform
import resource
import subprocess
import sys

import numpy as np
import pytest

from crmn_legacy.runtime import malloc

glibc = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                           reason="mallopt thresholds are glibc's")


@glibc
def test_set_on_this_machine_and_opt_outs(monkeypatch):
    monkeypatch.delenv("CRMN_MALLOC_TUNING", raising=False)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_MAX_", raising=False)
    assert malloc.keep_freed_memory() is True
    monkeypatch.setenv("CRMN_MALLOC_TUNING", "0")
    assert malloc.keep_freed_memory() is False
    monkeypatch.delenv("CRMN_MALLOC_TUNING")
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1000")  # the user's own glibc setting wins
    assert malloc.keep_freed_memory() is False


_CHILD = """
import resource, sys
import numpy as np
if sys.argv[1] == "tuned":
    from crmn_legacy.runtime.malloc import keep_freed_memory
    keep_freed_memory()
def step():  # like a training step with allow_gc: ten 8 MiB intermediates and a 40 MiB one, then freed
    live = [np.ones(2 * 2**20, dtype=np.float32) for _ in range(10)] + [np.ones(10 * 2**20, dtype=np.float32)]
    del live
step()  # warm up: the first allocations fault in any case
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@glibc
def test_freed_blocks_are_reused_without_page_faults():
    """Ten 8 MiB blocks and one over glibc's 32 MiB mmap threshold, allocated and freed 5 times: with the
    settings no page is faulted in again."""
    env = {"CRMN_MALLOC_TUNING": "1", "PATH": "/usr/bin:/bin"}
    faults = {}
    for mode in ("plain", "tuned"):
        out = subprocess.run([sys.executable, "-c", _CHILD, mode], capture_output=True, text=True, env=env,
                             check=True)
        faults[mode] = int(out.stdout.strip().splitlines()[-1])
    assert faults["tuned"] < 100, faults
    assert faults["plain"] > 10 * max(faults["tuned"], 100), faults
