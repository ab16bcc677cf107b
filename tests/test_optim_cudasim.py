"""The optimizers with device="cuda", under numba's CUDA simulator (no GPU needed).

The checks live in tests/cudasim/optim_check.py, which runs in a process of its
own because NUMBA_ENABLE_CUDASIM must be set before numba is imported.
"""
from __future__ import annotations

import importlib.util

import pytest


@pytest.mark.skipif(importlib.util.find_spec("numba_cuda") is None,
                    reason="numba-cuda is not installed")
def test_cuda_optimizers_match_cpu_under_the_simulator(cudasim):
    done = cudasim("cudasim/optim_check.py")
    assert "optim under the CUDA simulator: ok" in done.stdout
