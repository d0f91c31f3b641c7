#!/usr/bin/env bash
# benchmarks/gpu_check.sh [WHEEL_DIR] -- a few-minute check of --backend jax on a GPU machine.
#
#   1. with WHEEL_DIR (made by benchmarks/gpu_wheels.sh): install PyTensor, scipy-openblas32 and this package
#      from it into a private folder (no index needed; JAX with CUDA, numpy, scipy, h5py must be there);
#   2. python -m crmn_legacy doctor: the "JAX devices" line must name a gpu;
#   3. CRMN-32 k=4 and k=1 training steps on the GPU (benchmarks/gpu_crmn_jax.py, batch 100): s/step,
#      images/s and s/epoch of 50,000 images; k=4 again in float32 arithmetic;
#   4. the JAX-equals-C tests (tests/training/test_backend.py) with JAX on the GPU: one checkpoint continued
#      under each backend gives the same weights, velocities and BatchNorm statistics;
#   5. if time is left, `train --backend jax` end to end (CRMN-32 k=4, one epoch of 5,000 random images).
#
# Everything printed also goes to $GPU_CHECK_OUT (default: $OUT, else /tmp/crmn-gpu-check): check.log,
# speed.jsonl (one JSON line per timing).
# Each part has its own time limit, so a slow part cannot starve the rest; about 8 minutes in all.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${GPU_CHECK_OUT:-${OUT:-${TMPDIR:-/tmp}/crmn-gpu-check}}
mkdir -p "$out"
exec > >(tee -a "$out/check.log") 2>&1
export PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
part() { echo; echo "=== $(date -u +%H:%M:%S) $*"; }

part "machine"
nvidia-smi -L || true
"$py" --version; g++ --version | head -1 || echo "no g++: the C backend (and the JAX-equals-C test) cannot run"

if [ $# -ge 1 ]; then
    part "install from $1"
    site=${TMPDIR:-/tmp}/crmn-site
    rm -rf "$site"
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$site" "$1"/*.whl || exit 1
    export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi
"$py" -c "import crmn_legacy, pytensor, jax; print('crmn_legacy', crmn_legacy.__file__, 'pytensor', pytensor.__version__, 'jax', jax.__version__, jax.devices())" || exit 1

part "doctor"
timeout 120 "$py" -m crmn_legacy doctor

bench() {
    timeout "$1" "$py" benchmarks/gpu_crmn_jax.py --steps 50 "${@:2}" | tee -a "$out/speed.jsonl.tmp"
    grep '^{' "$out/speed.jsonl.tmp" >> "$out/speed.jsonl"; rm -f "$out/speed.jsonl.tmp"
}
part "CRMN-32 k=4, JAX's default precision"; bench 150 --width 4
part "CRMN-32 k=1, JAX's default precision"; bench 120 --width 1

part "JAX equals C on this GPU (tests/training/test_backend.py)"
timeout 240 "$py" -m pytest -q -p no:cacheprovider tests/training/test_backend.py

part "CRMN-32 k=4, float32 arithmetic"; bench 120 --width 4 --precision float32

part "train --backend jax end to end (CRMN-32 k=4, one epoch of 5,000 random images)"
tmp=$(mktemp -d)
"$py" - "$tmp/random.h5" <<'PY'
import sys
import numpy as np
from crmn_legacy.training.data import write_dataset_file
rng = np.random.default_rng(0)
def split(n):
    return rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8), rng.integers(0, 100, n)
write_dataset_file(sys.argv[1], split(5000), split(1000), num_classes=100)
PY
timeout 180 "$py" -m crmn_legacy train --backend jax --model crmn --depth 32 --width 4 \
    --dataset-file "$tmp/random.h5" --epochs 1 --phase select --progress none --out "$tmp/run" \
    && "$py" - "$tmp/run/select/log.jsonl" <<'PY'
import json, sys
rec = [json.loads(line) for line in open(sys.argv[1])][-1]
med = rec["step_seconds_median"]
print(f"trainer: median step {med:.4f} s (batch 100) -> {med * 500:.1f} s per 50,000-image epoch of steps; "
      f"this epoch {rec['epoch_time']:.1f} s for {rec['step']} steps incl. compile and evaluation")
PY
part "done"
