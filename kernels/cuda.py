"""Optimizer updates as numba.cuda kernels.

Each update is ONE kernel launch of a grid-stride loop (``cuda_kernels.py``)
that applies the update's rule of ``rules.py`` to every element, the same
rule the cpu loops apply; any size runs on a grid capped at ``32 * SMs``
blocks of 256 threads (a tiny grid under the simulator, so the stride is
exercised). A kernel is compiled the first time its update is called, for
float32 and float64 contiguous 1-D arrays with constants of the same type: a
float32 kernel has no float64 arithmetic. The configured launcher
``kernel[blocks, threads]`` is cached per size, so a step costs the host one
launch and nothing more. No fastmath.

The arrays are device arrays (``to_device``, ``zeros``, ``full``); unused state
buffers are zero-length device arrays of the param's dtype.
"""
from __future__ import annotations

import functools
import math
import types
import warnings
from typing import Callable

import numba
import numpy as np

from . import BackendUnavailable, cuda_problem

_problem = cuda_problem()
if _problem is not None:
    raise BackendUnavailable(f"the cuda backend is unavailable: {_problem}")

from numba import cuda  # noqa: E402  (only once cuda_problem() says it imports)
from numba.core.errors import NumbaPerformanceWarning  # noqa: E402

from . import cuda_kernels, rules  # noqa: E402

name = "cuda"
on_host = False

SIMULATOR = bool(numba.config.ENABLE_CUDASIM)
THREADS = 8 if SIMULATOR else 256
MAX_BLOCKS = 2 if SIMULATOR else 32 * cuda.get_current_device().MULTIPROCESSOR_COUNT


@functools.lru_cache(maxsize=None)
def compiled(update: str):
    """The kernel of ``update``, compiled for float32 and float64 (on first use)."""
    function = cuda_kernels.KERNELS[update]
    if SIMULATOR:   # the simulator runs kernels as Python: index its arrays in Python too
        function = types.FunctionType(function.__code__, {
            **function.__globals__, "_at": cuda_kernels._at.py_func,
            "_put": cuda_kernels._put.py_func})
    return cuda.jit(cuda_kernels.signatures(update))(function)


@functools.lru_cache(maxsize=None)
def _launcher(kernel, size: int):
    """``kernel[blocks, threads]`` for ``size`` elements, configured once per size."""
    blocks = max(1, min(math.ceil(size / THREADS), MAX_BLOCKS))
    with warnings.catch_warnings():  # small grids are fine for small arrays
        warnings.simplefilter("ignore", NumbaPerformanceWarning)
        return kernel[blocks, THREADS]


def _wrap(update: str) -> Callable[..., None]:
    """The backend function: ``rules.<update>_arguments``, then one launch with the
    arrays as arguments and the constants and flags as one tuple."""
    arguments = getattr(rules, f"{update}_arguments")
    arrays = cuda_kernels.ARITY[update][0]

    @functools.wraps(arguments)
    def launch(*args) -> None:
        kernel_args = arguments(*args)
        _launcher(compiled(update), kernel_args[0].size)(*kernel_args[:arrays],
                                                         kernel_args[arrays:])

    launch.__name__ = launch.__qualname__ = update
    launch.__doc__ = f"The update of ``reference.{update}`` (rule: ``rules.{update}``)."
    return launch


UPDATES = tuple(cuda_kernels.KERNELS)
(sgd, adagrad, rmsprop, adam, rprop, adadelta, adamax, nadam, radam, asgd, lion, adabelief,
 schedule_free, interpolate) = map(_wrap, UPDATES)


# -- the array API -------------------------------------------------------------

def to_device(host_array: np.ndarray):
    """A device copy of a host array."""
    return cuda.to_device(np.ascontiguousarray(host_array))


def zeros(n: int, dtype):
    return cuda.to_device(np.zeros(n, dtype=dtype))


def full(n: int, value: float, dtype):
    return cuda.to_device(np.full(n, value, dtype=dtype))


def copy_from_host(dst, src: np.ndarray) -> None:
    """dst (device) <- src (host)."""
    dst.copy_to_device(src)


def copy_to_host(src, dst: np.ndarray) -> None:
    """dst (host) <- src (device)."""
    src.copy_to_host(dst)


def synchronize() -> None:
    """Wait for every launched update to finish."""
    cuda.synchronize()
