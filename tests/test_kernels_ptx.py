"""Every CUDA kernel through NVIDIA's real compiler, on a machine without a GPU.

``numba.cuda.compile_ptx(kernel, signature, cc=(9, 0))`` runs numba-cuda's type
inference and lowering and NVVM (from the ``numba-cuda[cu13]`` wheels), so it
finds what the simulator cannot: a rule that does not type on the device, or
a float64 promotion in a float32 kernel. Skipped, with the reason, where
numba-cuda or NVVM is missing.
"""
from __future__ import annotations

import functools
import os
import re
import runpy
import types
from pathlib import Path

import numpy as np
import pytest

import minidl.kernels as kernels
from minidl.kernels import rules

# add.f64, fma.rn.f64, sqrt.rn.f64, div.rn.f64, setp.lt.f64, cvt.f64.f32, ld.param.f64, ...
F64 = re.compile(r"\b[a-z]+(\.\w+)*\.f64\b")


def _compiler_problem() -> str | None:
    """Why compile_ptx cannot run here, or None."""
    if os.environ.get("NUMBA_DISABLE_JIT", "0").strip() not in ("", "0"):
        return "NUMBA_DISABLE_JIT=1: the kernels call njit rules, which are then not compiled"
    problem = kernels.cuda_problem()
    if problem is not None and ("not installed" in problem or "cannot be imported" in problem
                                or "row_stack" in problem):
        return problem
    try:
        from numba import cuda
        from numba.cuda.cudadrv import nvvm
        nvvm.NVVM()
        cuda.compile_ptx(lambda x: None, "void(float32[::1])", cc=(9, 0))
    except Exception as error:  # no NVVM library, or a compiler that cannot run
        return f"NVVM is unavailable: {type(error).__name__}: {' '.join(str(error).split())}"
    return None


_PROBLEM = _compiler_problem()
pytestmark = pytest.mark.skipif(_PROBLEM is not None,
                                reason=f"cannot compile CUDA kernels to PTX: {_PROBLEM}")


@pytest.fixture(scope="module")
def compile_ptx():
    """compile_ptx for sm_90, also where no device is there to ask.

    A kernel that calls an njit rule makes numba-cuda compile the rule as a
    device function for the *current device's* compute capability; without
    a GPU there is none, so for these tests it is told (9, 0), the target
    the kernels are compiled for anyway.
    """
    from numba import cuda
    import numba.cuda.dispatcher as dispatcher

    saved = dispatcher.get_current_device
    dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=(9, 0))
    try:
        yield functools.partial(cuda.compile_ptx, cc=(9, 0))
    finally:
        dispatcher.get_current_device = saved


def kernel_ptx(compile_ptx, update: str) -> dict[str, str]:
    from minidl.kernels import cuda_kernels

    ptx = {}
    for signature in cuda_kernels.signatures(update):
        code, _ = compile_ptx(cuda_kernels.KERNELS[update], signature.args)
        ptx[str(signature.args[0].dtype)] = code
    return ptx


UPDATES = ("sgd", "adagrad", "rmsprop", "adam", "rprop", "adadelta", "adamax", "nadam", "radam",
           "asgd", "lion", "adabelief", "schedule_free", "interpolate")


def test_every_update_has_a_kernel():
    from minidl.kernels import cpu, cuda_kernels

    assert tuple(cuda_kernels.KERNELS) == cpu.UPDATES == UPDATES


class Recorder:
    """A stand-in backend: ``backend.X(*args)`` records ``rules.X_arguments(*args)``."""

    def __init__(self):
        self.calls: list[tuple] = []

    def __getattr__(self, update: str):
        return lambda *args: self.calls.append(getattr(rules, f"{update}_arguments")(*args))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("update", UPDATES)
def test_signature_matches_the_rule_arguments(update, dtype):
    """The kernel's declared (arrays, constants, flags) are what ``rules.X_arguments``
    returns, in that order, and every constant has the array's dtype."""
    from minidl.kernels import cuda_kernels

    check = runpy.run_path(str(Path(__file__).parent / "cudasim" / "kernels_check.py"))
    recorder = Recorder()
    for case_update, options in check["CASES"]:
        if case_update == update:
            n = 4
            states = [np.zeros(size, dtype) for size in check["state_sizes"](update, options, n)]
            check["call"](recorder, update, options, np.ones(n, dtype), np.ones(n, dtype),
                          states, 2)
    assert recorder.calls
    arrays, constants, flags = cuda_kernels.ARITY[update]
    for call in recorder.calls:
        assert len(call) == arrays + constants + flags
        assert all(isinstance(a, np.ndarray) and a.dtype == dtype for a in call[:arrays])
        assert all(type(c) is dtype for c in call[arrays:arrays + constants])
        assert all(isinstance(f, bool) for f in call[arrays + constants:])


@pytest.mark.parametrize("update", UPDATES)
def test_float32_and_float64_kernels_compile_to_ptx(compile_ptx, update):
    ptx = kernel_ptx(compile_ptx, update)
    assert set(ptx) == {"float32", "float64"}
    for dtype, code in ptx.items():
        assert ".entry" in code and "sm_90" in code, f"{update} {dtype}: not an sm_90 kernel"
    assert F64.search(ptx["float64"]), "the pattern finds no f64 instruction in float64 PTX"
    found = F64.search(ptx["float32"])
    assert found is None, f"{update}: float32 kernel has the f64 instruction {found.group()!r}"


@pytest.mark.parametrize("name", ["adafactor", "muon_momentum", "muon_normalise", "gemm",
                                  "muon_step"])
def test_adafactor_and_muon_kernels_compile_to_ptx_without_float64_in_float32(compile_ptx,
                                                                              name):
    """The kernels that see shapes: Adafactor's block per param with its block sums,
    Muon's momentum, normalisation, GEMM and step."""
    from minidl.kernels import cuda_kernels

    ptx = {str(signature.args[0].dtype): compile_ptx(getattr(cuda_kernels, name),
                                                     signature.args)[0]
           for signature in cuda_kernels.shaped_signatures()[name]}
    assert F64.search(ptx["float64"]), "the pattern finds no f64 instruction in float64 PTX"
    found = F64.search(ptx["float32"])
    assert found is None, f"{name}: float32 kernel has the f64 instruction {found.group()!r}"


def test_a_missing_nvvm_is_named_in_the_skip_reason(monkeypatch):
    from numba.cuda.cudadrv import nvvm

    def missing():
        raise OSError("libnvvm.so: cannot open shared object file")

    monkeypatch.setattr(nvvm, "NVVM", missing)
    assert _compiler_problem() == ("NVVM is unavailable: OSError: libnvvm.so: cannot open "
                                   "shared object file")
