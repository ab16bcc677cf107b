#!/usr/bin/env bash
# Every real-GPU check of minidl in one run, for a lent GPU machine (written for an H200
# with Python 3.12, numba-cuda 0.30.4 and NumPy 2.5; about 3 minutes, under 5):
#
#   1. the NumPy >= 2.5 guard: `minidl info` says why cuda is unusable, no traceback;
#   2. with a NumPy 2.4 wheel carried in .whl/ (git-ignored), `minidl info` sees the GPU;
#   3. the GPU tests: every kernel against the reference (small and grid-strided sizes),
#      no f64 instruction in any float32 kernel's PTX (from the driver's compile), the
#      PTX tests (NVVM without the driver), and every optimizer on device="cuda" against
#      device="cpu" (tests/cudasim/optim_check.py, which runs on a real GPU as well);
#   4. examples/cpu_vs_gpu.py (weights agree across the backends) and the optimizer
#      benchmark's GPU columns (--quick: small CPU sizes, all GPU columns).
#
# Fetch the wheel once, on a machine with internet access, from the repository root:
#
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       --implementation cp --platform manylinux_2_28_x86_64 -d .whl numpy==2.4.6
#
# then run on the device, from the repository root (carry: [".whl"]):
#
#   bash benchmarks/gpu_check.sh
#
# `-P` keeps the source minidl/ in the working directory from shadowing the installed
# package, whose minidl.kernels lives in kernels/.
set -euo pipefail
cd "$(dirname "$0")/.."
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

python3 -m pip install -q --no-deps --no-build-isolation --target /tmp/minidl .
echo "== 1. minidl info with the machine's NumPy $(python3 -c 'import numpy; print(numpy.__version__)')"
PYTHONPATH=/tmp/minidl python3 -P -m minidl info

python3 -m pip install -q --no-index --no-deps --target /tmp/np .whl/numpy-2.4*.whl
export PYTHONPATH=/tmp/np:/tmp/minidl
echo "== 2. minidl info with NumPy $(python3 -P -c 'import numpy; print(numpy.__version__)')"
python3 -P -m minidl info

echo "== 3. GPU tests"
timeout 150 python3 -P -m pytest -p no:cacheprovider -q -rs \
    tests/test_kernels_gpu.py tests/test_kernels_ptx.py
timeout 60 python3 -P tests/cudasim/optim_check.py

echo "== 4. examples/cpu_vs_gpu.py and the optimizer benchmark"
timeout 60 python3 -P examples/cpu_vs_gpu.py --epochs 2 --out /tmp/gpu_check_plots
timeout 120 python3 -P benchmarks/optimizers.py --quick
