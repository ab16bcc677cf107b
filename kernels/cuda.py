"""Optimizer updates as numba.cuda kernels.

Each update is ONE kernel launch: a grid-stride loop, thread ``i`` of ``T``
updating elements ``i, i + T, i + 2T, ...``, so any size runs on a grid capped
at ``32 * SMs`` blocks of 256 threads (a tiny grid under the simulator, so the
stride is exercised). The kernels take the same arguments as the cpu loops
(``cpu.<update>_arguments``: arrays, then scalars cast to the array dtype on
the host, then flags) and are compiled when this module is imported, for
float32 and float64 contiguous 1-D arrays with scalars of the same type: a
float32 kernel has no float64 arithmetic. The configured launcher
``kernel[blocks, threads]`` is cached per size, so a step costs the host one
launch and nothing more. No fastmath.

The arrays are device arrays (``to_device``, ``zeros``, ``full``); unused state
buffers are zero-length device arrays of the param's dtype.
"""
from __future__ import annotations

import functools
import math
import warnings

import numba
import numpy as np

from . import BackendUnavailable, cuda_problem

_problem = cuda_problem()
if _problem is not None:
    raise BackendUnavailable(f"the cuda backend is unavailable: {_problem}")

from numba import cuda  # noqa: E402  (only once cuda_problem() says it imports)
from numba.core.errors import NumbaPerformanceWarning  # noqa: E402

from .cpu import adagrad_arguments, adam_arguments, rmsprop_arguments, sgd_arguments  # noqa: E402

name = "cuda"
on_host = False

SIMULATOR = bool(numba.config.ENABLE_CUDASIM)
THREADS = 8 if SIMULATOR else 256
MAX_BLOCKS = 2 if SIMULATOR else 32 * cuda.get_current_device().MULTIPROCESSOR_COUNT


def _signatures(arrays: int, scalars: int, flags: int) -> list:
    """void(arrays x dtype[::1], scalars x dtype, flags x boolean), for float32 and float64."""
    return [numba.void(*[dtype[::1]] * arrays, *[dtype] * scalars, *[numba.boolean] * flags)
            for dtype in (numba.float32, numba.float64)]


@functools.lru_cache(maxsize=None)
def _launcher(kernel, size: int):
    """``kernel[blocks, threads]`` for ``size`` elements, configured once per size."""
    blocks = max(1, min(math.ceil(size / THREADS), MAX_BLOCKS))
    with warnings.catch_warnings():  # small grids are fine for small arrays
        warnings.simplefilter("ignore", NumbaPerformanceWarning)
        return kernel[blocks, THREADS]


@cuda.jit(_signatures(arrays=3, scalars=5, flags=3))
def _sgd_kernel(param, grad, momentum_buffer, neg_lr, sign, weight_decay, momentum,
                one_minus_dampening, use_momentum, first_step, nesterov):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        p = param[i]
        g = sign * grad[i] + weight_decay * p
        if use_momentum:
            if first_step:
                b = g
            else:
                b = momentum_buffer[i] * momentum + one_minus_dampening * g
            momentum_buffer[i] = b
            g = g + momentum * b if nesterov else b
        param[i] = p + neg_lr * g


def sgd(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay,
        nesterov, maximize, step) -> None:
    """The update of ``reference.sgd``."""
    _launcher(_sgd_kernel, param.size)(*sgd_arguments(
        param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov, maximize,
        step))


@cuda.jit(_signatures(arrays=3, scalars=4, flags=0))
def _adagrad_kernel(param, grad, state_sum, neg_clr, sign, weight_decay, eps):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        p = param[i]
        g = sign * grad[i] + weight_decay * p
        s = state_sum[i] + g * g
        state_sum[i] = s
        param[i] = p + neg_clr * g / (math.sqrt(s) + eps)


def adagrad(param, grad, state_sum, lr, lr_decay, weight_decay, eps, maximize, step) -> None:
    """The update of ``reference.adagrad``; ``clr`` is computed in float64 on the host."""
    _launcher(_adagrad_kernel, param.size)(*adagrad_arguments(
        param, grad, state_sum, lr, lr_decay, weight_decay, eps, maximize, step))


@cuda.jit(_signatures(arrays=5, scalars=9, flags=3))
def _rmsprop_kernel(param, grad, square_avg, grad_avg, momentum_buffer, neg_lr, sign,
                    weight_decay, alpha, one_minus_alpha, lerp_rest, eps_inside, eps_outside,
                    momentum, lerp_small, centered, use_momentum):
    zero = param.dtype.type(0)
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        p = param[i]
        g = sign * grad[i] + weight_decay * p
        v = square_avg[i] * alpha + one_minus_alpha * g * g
        square_avg[i] = v
        if centered:
            m = grad_avg[i]
            m = m + one_minus_alpha * (g - m) if lerp_small else g - (g - m) * lerp_rest
            grad_avg[i] = m
            v = max(v - m * m, zero)
        denom = math.sqrt(v + eps_inside) + eps_outside
        if use_momentum:
            b = momentum_buffer[i] * momentum + g / denom
            momentum_buffer[i] = b
            param[i] = p + neg_lr * b
        else:
            param[i] = p + neg_lr * g / denom


def rmsprop(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
            weight_decay, momentum, centered, maximize, eps_in_sqrt) -> None:
    """The update of ``reference.rmsprop`` (centered variance clamped at 0)."""
    _launcher(_rmsprop_kernel, param.size)(*rmsprop_arguments(
        param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps, weight_decay,
        momentum, centered, maximize, eps_in_sqrt))


@cuda.jit(_signatures(arrays=5, scalars=10, flags=2))
def _adam_kernel(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, neg_step_size, sign, decay,
                 weight_decay, one_minus_beta1, lerp_rest, beta2, one_minus_beta2,
                 bias_correction2_sqrt, eps, lerp_small, amsgrad):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        p = param[i] * decay
        g = sign * grad[i] + weight_decay * p
        m = exp_avg[i]
        m = m + one_minus_beta1 * (g - m) if lerp_small else g - (g - m) * lerp_rest
        exp_avg[i] = m
        v = exp_avg_sq[i] * beta2 + one_minus_beta2 * g * g
        exp_avg_sq[i] = v
        if amsgrad:
            v = max(max_exp_avg_sq[i], v)
            max_exp_avg_sq[i] = v
        param[i] = p + neg_step_size * m / (math.sqrt(v) / bias_correction2_sqrt + eps)


def adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
         weight_decay, decoupled_weight_decay, amsgrad, maximize, step) -> None:
    """The update of ``reference.adam``."""
    _launcher(_adam_kernel, param.size)(*adam_arguments(
        param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps, weight_decay,
        decoupled_weight_decay, amsgrad, maximize, step))


KERNELS = {"sgd": _sgd_kernel, "adagrad": _adagrad_kernel, "rmsprop": _rmsprop_kernel,
           "adam": _adam_kernel}


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
