"""Acceptance: a run killed with SIGKILL at an arbitrary step and resumed ends bit-identical to an uninterrupted run.

Three real ``python -m crmn_legacy train`` processes on the tiny dataset
(the paper's model, a CRMN with n=1, 2-4-8 maps and an LSTM memory of 4 units;
with ``-m slow`` also the same ResNet without memory; 8x8 images, phase select
then final, a checkpoint every 3 steps so the kill usually lands between
checkpoints and the resumed run recomputes some steps):

1. the reference, uninterrupted;
2. the victim, killed with ``SIGKILL`` (``os.kill``, no chance to clean up)
   once it reports step K on its ``--progress lines`` output, K drawn at random
   (set ``CRMN_KILL_STEP`` to pin it; the drawn value is in failure messages);
3. ``--resume`` of the victim's folder.

Bit-identity needs identical floating-point results, so every process runs with
``OPENBLAS_NUM_THREADS=1`` and ``OMP_NUM_THREADS=1`` (a multithreaded BLAS may
split sums differently between runs).
"""

import json
import os
import random
import signal
import subprocess
import sys

import numpy as np
import pytest

from crmn_legacy.training import checkpoint as ck
from training_helpers import TINY_ARGS

ARGS = TINY_ARGS + ["--lr-schedule", "0.1,0.01", "--patience", "1", "--epochs", "2", "--phase", "both",
                    "--checkpoint-every-steps", "3", "--progress", "lines"]
# select: 64 images / 16 = 4 steps x 2 epochs; final: 80 / 16 = 5 steps x (<= 2) epochs
MAX_STEP_LINES = 8 + 5

# wall-clock fields of a log record differ between any two runs; everything else must be identical
TIMING_KEYS = ("epoch_time", "elapsed", "step_seconds_median", "config")


def _env():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    return env


def _start(tiny_file, out, args, stderr=subprocess.DEVNULL):
    cmd = [sys.executable, "-m", "crmn_legacy", "train", "--dataset-file", str(tiny_file), "--out", str(out), *args]
    return subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=stderr, text=True)


#: the paper's model (CRMN n=1, an LSTM memory of 4 units), and the same ResNet without memory
MODEL_ARGS = {"crmn": ["--model", "crmn", "--model-option", "memory_units=4"], "resnet": ["--model", "resnet"]}


@pytest.mark.parametrize("model", ["crmn", pytest.param("resnet", marks=pytest.mark.slow)])
def test_sigkill_then_resume_is_bit_identical(model, tiny_file, tmp_path):
    """The CRMN in every run (one kill point, drawn at random); the ResNet (a subset of it) with -m slow."""
    args = ARGS + MODEL_ARGS[model]  # the last --model wins
    kill_at = int(os.environ.get("CRMN_KILL_STEP", random.randint(2, MAX_STEP_LINES - 1)))
    info = f"({model}, killed at progress line {kill_at}; rerun with CRMN_KILL_STEP={kill_at})"
    ref = _start(tiny_file, tmp_path / "ref", args)
    victim = _start(tiny_file, tmp_path / "victim", args, stderr=subprocess.PIPE)
    seen, tail = 0, []
    for line in victim.stderr:
        tail.append(line)
        if " step " in line and "[" in line:
            seen += 1
            if seen == kill_at:
                os.kill(victim.pid, signal.SIGKILL)
                break
    victim.stderr.close()
    rc = victim.wait(timeout=300)
    assert rc == -signal.SIGKILL, f"victim was not killed (rc={rc}) {info}\n{''.join(tail[-20:])}"

    resumed = subprocess.run([sys.executable, "-m", "crmn_legacy", "train", "--dataset-file", str(tiny_file),
                              "--out", str(tmp_path / "victim"), *args, "--resume", "--progress", "none"],
                             env=_env(), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, f"{info}\n{resumed.stdout}\n{resumed.stderr}"
    assert ref.wait(timeout=300) == 0

    for rel in ("select/best.h5", "select/last.h5", "final/final.h5"):
        a, b = ck.load_checkpoint(tmp_path / "ref" / rel), ck.load_checkpoint(tmp_path / "victim" / rel)
        assert list(a.params) == list(b.params)
        for name in a.params:
            assert a.params[name].dtype == b.params[name].dtype == np.float32
            assert np.array_equal(a.params[name], b.params[name]), f"{rel}: {name} differs {info}"
        for name in a.velocities:
            assert np.array_equal(a.velocities[name], b.velocities[name]), f"{rel}: velocity {name} {info}"
        assert (a.meta["epoch"], a.meta["step"]) == (b.meta["epoch"], b.meta["step"])
        assert a.state["schedule"] == b.state["schedule"]
    # the logs agree on every number except wall-clock times
    for phase in ("select", "final"):
        la = (tmp_path / "ref" / phase / "log.jsonl").read_text().splitlines()
        lb = (tmp_path / "victim" / phase / "log.jsonl").read_text().splitlines()
        strip = [{k: v for k, v in json.loads(x).items() if k not in TIMING_KEYS}
                 for x in la]
        stripb = [{k: v for k, v in json.loads(x).items() if k not in TIMING_KEYS}
                  for x in lb]
        assert strip == stripb, f"{phase} log differs {info}"
