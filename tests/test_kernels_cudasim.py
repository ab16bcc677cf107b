"""The cuda kernels under numba's CUDA simulator (tests/cudasim/kernels_check.py)."""
from __future__ import annotations


def test_cuda_kernels_match_reference_under_the_simulator(cudasim):
    done = cudasim("cudasim/kernels_check.py", "--n", "37", "--steps", "8")
    assert "cases x 2 dtypes, n=37, 8 steps: 0 failures" in done.stdout, done.stdout
