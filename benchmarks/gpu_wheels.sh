#!/usr/bin/env bash
# benchmarks/gpu_wheels.sh [DIR] [PYTHON_VERSION]
#
# Wheels for a GPU machine without a package index that already has Python with JAX (a CUDA jaxlib), numpy,
# scipy, h5py, numba and pytest, but neither PyTensor nor this package: PyTensor 3 and scipy-openblas32 for
# CPython PYTHON_VERSION (default 3.12) on x86-64 Linux, and this checkout built as a wheel, into DIR
# (default .whl, replaced).  benchmarks/gpu_check.sh DIR installs them there.  Needs pip and an index here.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-.whl}
py=${2:-3.12}
rm -rf "$dir" && mkdir -p "$dir"
python3 -m pip download --no-deps --only-binary=:all: --python-version "$py" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$dir" "pytensor>=3.0,<4" "scipy-openblas32>=0.3.27"
python3 -m pip wheel --no-deps -w "$dir" .
ls -l "$dir"
