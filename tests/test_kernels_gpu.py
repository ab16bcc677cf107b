"""The cuda kernels on a real GPU: every update against the reference, and no float64
arithmetic in the float32 kernels' PTX. Skipped, visibly, where there is no GPU."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numba
import pytest

import minidl.kernels as kernels
from minidl.kernels.cpu import UPDATES

pytestmark = pytest.mark.gpu

_problem = kernels.cuda_problem()
if numba.config.ENABLE_CUDASIM:
    pytest.skip("NUMBA_ENABLE_CUDASIM=1: the simulator is not a GPU (see test_kernels_cudasim.py)",
                allow_module_level=True)
if _problem is not None:
    pytest.skip(f"no usable CUDA GPU: {_problem}", allow_module_level=True)

# add.f64, fma.rn.f64, sqrt.rn.f64, div.rn.f64, setp.lt.f64, cvt.f64.f32, cvt.rn.f32.f64, ...
F64_INSTRUCTION = re.compile(
    r"\b(add|sub|mul|div|fma|sqrt|neg|abs|max|min|setp|cvt)(\.\w+)*\.f64\b")


def load_check():
    path = Path(__file__).parent / "cudasim" / "kernels_check.py"
    spec = importlib.util.spec_from_file_location("kernels_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cuda():
    return kernels.load("cuda")


def test_array_api(cuda):
    assert load_check().api_problems(cuda) == []


@pytest.mark.parametrize("n", ["small", "strided"])
def test_every_update_matches_reference(cuda, n):
    size = 37 if n == "small" else 2 * cuda.MAX_BLOCKS * cuda.THREADS + 37
    assert load_check().mismatches(cuda, n=size, steps=50) == []


@pytest.mark.parametrize("update", UPDATES)
def test_float32_ptx_has_no_float64_arithmetic(cuda, update):
    ptx_by_signature = cuda.compiled(update).inspect_asm()
    float32 = [ptx for signature, ptx in ptx_by_signature.items() if "float32" in str(signature[0])]
    float64 = [ptx for signature, ptx in ptx_by_signature.items() if "float64" in str(signature[0])]
    assert float32 and float64
    assert all(F64_INSTRUCTION.search(ptx) for ptx in float64), "the pattern finds nothing"
    for ptx in float32:
        found = F64_INSTRUCTION.search(ptx)
        assert found is None, f"{update}: float32 kernel has f64 instruction {found.group()}"
