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

Adafactor (``adafactor``) sees each param's shape: one launch of a block per
param (``cuda_kernels.adafactor``), its reductions inside the block. Muon
(``muon``) runs its momentum in one launch per group and then, per matrix, its
Newton-Schulz iteration as launches of a plain GEMM kernel.

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
from .reference import muon_lr  # noqa: E402

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


@functools.lru_cache(maxsize=None)
def _shaped_kernel(name: str):
    """``cuda_kernels.<name>``, a kernel of Adafactor or Muon, compiled for float32
    and float64 (on first use)."""
    return cuda.jit(cuda_kernels.shaped_signatures()[name])(getattr(cuda_kernels, name))


@functools.lru_cache(maxsize=16)
def _scratch(purpose: str, size: int, dtype: np.dtype):
    """A device array of ``size`` elements for ``purpose``, reused by every step of
    that size (two purposes never share one)."""
    return cuda.device_array(max(size, 1), dtype)


@functools.lru_cache(maxsize=64)
def _matrices(rows: int, cols: int, dtype: np.dtype) -> tuple:
    """Device scratch of one matrix shape: X and X' (rows, cols), A and B (rows, rows)."""
    return (cuda.device_array((rows, cols), dtype), cuda.device_array((rows, cols), dtype),
            cuda.device_array((rows, rows), dtype), cuda.device_array((rows, rows), dtype))


def muon(param, grad, momentum_buffer, table, steps, lr, weight_decay, momentum, nesterov, a, b,
         c, eps, ns_steps, adjust_lr_fn) -> None:
    """The update of ``reference.muon``: the momentum in one launch per group, then per
    matrix the Newton-Schulz iteration, three GEMM launches a step (``cuda_kernels.gemm``,
    a thread per element of the result), and the step."""
    dtype = param.dtype
    t = dtype.type
    table = np.ascontiguousarray(table, np.int64)
    update = _scratch("update", param.size, dtype)
    blocks = max(1, min(len(table), MAX_BLOCKS))
    _launcher(_shaped_kernel("muon_momentum"), blocks * THREADS)(
        grad, momentum_buffer, update, cuda.to_device(table),
        cuda.to_device(np.asarray(steps, np.int64)),
        tuple(t(x) for x in (1 - momentum, momentum, momentum, 1 - momentum, 0.5)),
        bool(nesterov))
    one, zero = t(1), t(0)
    partial = _scratch("partial", THREADS, dtype)
    gemm = _shaped_kernel("gemm")
    for (offset, size, _, _, rows, cols, _), step in zip(table, steps):
        if step == 0:
            continue
        tall = bool(rows > cols)
        x, x_next, gram, poly = _matrices(*((cols, rows) if tall else (rows, cols)), dtype)
        _shaped_kernel("muon_normalise")[1, THREADS](update[offset:offset + size], x, partial,
                                                   t(eps), tall)
        for _ in range(ns_steps):   # A = X X^T;  B = b A + c A A;  X = a X + B X
            _launcher(gemm, gram.size)(x, x, gram, one, zero, True)
            poly.copy_to_device(gram)
            _launcher(gemm, poly.size)(gram, gram, poly, t(c), t(b), False)
            x_next.copy_to_device(x)
            _launcher(gemm, x.size)(poly, x, x_next, one, t(a), False)
            x, x_next = x_next, x
        _launcher(_shaped_kernel("muon_step"), size)(
            param[offset:offset + size], x, t(1 - lr * weight_decay),
            t(-muon_lr(lr, adjust_lr_fn, rows, cols)), tall)


def adafactor(param, grad, row_var, col_var, variance, table, steps, lr, beta2_decay, eps1,
              eps2, d, weight_decay, maximize) -> None:
    """The update of ``reference.adafactor``: one launch, a block per param (the host
    makes each param's step-dependent numbers in the array dtype)."""
    dtype = param.dtype
    t = dtype.type
    eps1 = float(np.finfo(dtype).eps) if eps1 is None else eps1
    table = np.ascontiguousarray(table, np.int64)
    steps = np.asarray(steps, np.int64)
    weights = np.maximum(steps, 1).astype(np.float64) ** beta2_decay
    rhos = np.minimum(lr, 1 / np.sqrt(np.maximum(steps, 1)))
    factors = np.stack([weights, 1 - weights, rhos, table[:, 1], table[:, 4], table[:, 5]],
                       axis=1).astype(dtype)
    constants = tuple(t(x) for x in (-1 if maximize else 1, eps1, eps1 * eps1, eps2, d,
                                     1 - lr * weight_decay, 0, 1, 0.5))
    blocks = max(1, min(len(table), MAX_BLOCKS))
    _launcher(_shaped_kernel("adafactor"), blocks * THREADS)(
        param, grad, row_var, col_var, variance,
        _scratch("update", param.size, dtype), _scratch("row_means", row_var.size, dtype),
        _scratch("partial", blocks * THREADS, dtype), cuda.to_device(table),
        cuda.to_device(steps), cuda.to_device(factors), constants)


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
