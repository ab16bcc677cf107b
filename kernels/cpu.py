"""Optimizer updates as numba.njit loops on the CPU.

Each update is one Python wrapper and one loop. The wrapper checks the arrays,
casts every scalar to the array dtype (``t = param.dtype.type``: a float64
scalar would silently promote a float32 loop and cost 4x), folds the options
into loop constants, and calls the loop compiled either serially or with
``parallel=True`` (``numba.prange`` split over the cores), by size against
``PARALLEL_THRESHOLD``. The loops compile on first call, once per dtype, and
numba caches the machine code on disk.

The options become arithmetic where that is exact, so the loop has no branch
for them: ``g = sign * grad + weight_decay * p`` (sign = -1 when maximizing,
``0 * p`` adds nothing), ``sqrt(d + eps_inside) + eps_outside`` (one of the two
is 0). The remaining flags (centered, momentum, amsgrad, ...) are the same for
every element: LLVM hoists them out of the loop and still vectorises it, which
``error_model="numpy"`` allows (numba's default "python" model checks every
division for zero and blocks SIMD). No fastmath: results match ``reference``
to rounding.
"""
from __future__ import annotations

import math
import threading
import types
import warnings
from typing import Callable, NamedTuple

import numba
import numpy as np
from numba import prange

from .reference import (check_arrays, copy_from_host, copy_to_host, full, synchronize, to_device,
                        zeros)

name = "cpu"
on_host = True

# Sizes from which the parallel loop is used. Measured with benchmarks/cpu_threshold.py
# (float32 RMSprop step, 2-core Xeon (Emerald Rapids, AVX-512), numba 0.68.1, OpenMP
# threading layer, best of 7 to 11; microseconds per step):
#   size      1e3   1e4   3e4   5e4   1e5    3e5    1e6     3e6     1e7
#   serial    6.1  10.1  19.5  28.7  52.5  150.1  487.5  1517.8  9276.9
#   parallel  8.0  10.3  14.9  19.6  31.2   81.4  262.9   744.0  4858.8
# Break-even near 1e4; parallel gains 1.3x at 3e4, 1.5x at 5e4, 1.7x at 1e5. The
# threshold keeps a margin above break-even because the parallel loop suffers badly
# when another process holds a core: each call then waits for the OS to schedule
# the second thread (measured ~6 ms per call at 1e3..1e4 elements beside a busy
# process, against 6..10 us serially).
PARALLEL_THRESHOLD = 50_000

_PARALLEL_LOCK = threading.Lock()

CACHE_WARNING = ("minidl.kernels.cpu: numba found no writable cache directory, so the kernels "
                 "compile without a disk cache (set NUMBA_CACHE_DIR to a writable directory)")


def _jit(function: Callable, **options) -> numba.core.dispatcher.Dispatcher:
    """numba.njit(function, error_model="numpy", cache=True, **options).

    Where no cache directory is writable numba raises RuntimeError ("no
    locator available") at decoration time: compile without a cache then.
    """
    try:
        return numba.njit(function, error_model="numpy", cache=True, **options)
    except RuntimeError:
        warnings.warn(CACHE_WARNING, RuntimeWarning, stacklevel=2)
        return numba.njit(function, error_model="numpy", **options)


class Loops(NamedTuple):
    """The two compiled variants of one loop."""

    serial: numba.core.dispatcher.Dispatcher
    parallel: numba.core.dispatcher.Dispatcher

    def pick(self, size: int) -> numba.core.dispatcher.Dispatcher:
        return self.parallel if size >= PARALLEL_THRESHOLD else self.serial

    def __call__(self, *args) -> None:
        """Run the variant that suits the size of ``args[0]``. Parallel runs go
        one at a time: numba's workqueue threading layer (its fallback where
        neither OpenMP nor TBB loads) aborts the process when two threads enter
        parallel code at once, and one parallel loop already uses every core."""
        loop = self.pick(args[0].size)
        if loop is self.serial:
            return loop(*args)
        with _PARALLEL_LOCK:
            return loop(*args)


def _compile(loop: Callable) -> Loops:
    """Serial and parallel variants of ``loop`` (whose ``prange`` is a plain
    ``range`` in the serial one).

    numba's disk cache keys a function by its qualified name and bytecode,
    not by ``parallel``, so the parallel variant compiles a renamed copy.
    """
    twin = types.FunctionType(loop.__code__, loop.__globals__, loop.__name__ + "_parallel")
    twin.__qualname__ = loop.__qualname__ + "_parallel"
    return Loops(_jit(loop), _jit(twin, parallel=True))


def _lerp_constants(weight: float, t) -> tuple:
    """(w, 1 - w, small) for the two forms of PyTorch's lerp (see ``reference._lerp_``)."""
    return t(weight), t(1 - weight), abs(weight) < 0.5


# -- loop arguments: arrays, then scalars cast to the array dtype, then flags.
# cuda.py launches its kernels with the same arguments.

def sgd_arguments(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay,
                  nesterov, maximize, step) -> tuple:
    use_momentum = momentum != 0
    check_arrays(param, grad, (momentum_buffer, use_momentum))
    t = param.dtype.type
    return (param, grad, momentum_buffer, t(-lr), t(-1 if maximize else 1), t(weight_decay),
            t(momentum), t(1 - dampening), use_momentum, step == 1, bool(nesterov))


def adagrad_arguments(param, grad, state_sum, lr, lr_decay, weight_decay, eps, maximize,
                      step) -> tuple:
    check_arrays(param, grad, (state_sum, True))
    t = param.dtype.type
    clr = lr / (1 + (step - 1) * lr_decay)
    return (param, grad, state_sum, t(-clr), t(-1 if maximize else 1), t(weight_decay), t(eps))


def rmsprop_arguments(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                      weight_decay, momentum, centered, maximize, eps_in_sqrt) -> tuple:
    use_momentum = momentum > 0
    check_arrays(param, grad, (square_avg, True), (grad_avg, centered),
                 (momentum_buffer, use_momentum))
    t = param.dtype.type
    one_minus_alpha, lerp_rest, lerp_small = _lerp_constants(1 - alpha, t)
    return (param, grad, square_avg, grad_avg, momentum_buffer, t(-lr), t(-1 if maximize else 1),
            t(weight_decay), t(alpha), one_minus_alpha, lerp_rest, t(eps if eps_in_sqrt else 0),
            t(0 if eps_in_sqrt else eps), t(momentum), lerp_small, bool(centered), use_momentum)


def adam_arguments(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
                   weight_decay, decoupled_weight_decay, amsgrad, maximize, step) -> tuple:
    check_arrays(param, grad, (exp_avg, True), (exp_avg_sq, True), (max_exp_avg_sq, amsgrad))
    t = param.dtype.type
    decay = 1 - lr * weight_decay if decoupled_weight_decay else 1
    one_minus_beta1, lerp_rest, lerp_small = _lerp_constants(1 - beta1, t)
    return (param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, t(-lr / (1 - beta1 ** step)),
            t(-1 if maximize else 1), t(decay), t(0 if decoupled_weight_decay else weight_decay),
            one_minus_beta1, lerp_rest, t(beta2), t(1 - beta2), t(math.sqrt(1 - beta2 ** step)),
            t(eps), lerp_small, bool(amsgrad))


# -- the loops and their wrappers ---------------------------------------------

def _sgd_loop(param, grad, momentum_buffer, neg_lr, sign, weight_decay, momentum,
              one_minus_dampening, use_momentum, first_step, nesterov):
    for i in prange(param.size):
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


_sgd = _compile(_sgd_loop)


def sgd(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay,
        nesterov, maximize, step) -> None:
    """The update of ``reference.sgd``."""
    _sgd(*sgd_arguments(param, grad, momentum_buffer, lr, momentum, dampening,
                        weight_decay, nesterov, maximize, step))


def _adagrad_loop(param, grad, state_sum, neg_clr, sign, weight_decay, eps):
    for i in prange(param.size):
        p = param[i]
        g = sign * grad[i] + weight_decay * p
        s = state_sum[i] + g * g
        state_sum[i] = s
        param[i] = p + neg_clr * g / (np.sqrt(s) + eps)


_adagrad = _compile(_adagrad_loop)


def adagrad(param, grad, state_sum, lr, lr_decay, weight_decay, eps, maximize, step) -> None:
    """The update of ``reference.adagrad``; ``clr`` is computed in float64 on the host."""
    _adagrad(*adagrad_arguments(param, grad, state_sum, lr, lr_decay,
                                weight_decay, eps, maximize, step))


def _rmsprop_loop(param, grad, square_avg, grad_avg, momentum_buffer, neg_lr, sign,
                  weight_decay, alpha, one_minus_alpha, lerp_rest, eps_inside, eps_outside,
                  momentum, lerp_small, centered, use_momentum):
    zero = param.dtype.type(0)
    for i in prange(param.size):
        p = param[i]
        g = sign * grad[i] + weight_decay * p
        v = square_avg[i] * alpha + one_minus_alpha * g * g
        square_avg[i] = v
        if centered:
            m = grad_avg[i]
            m = m + one_minus_alpha * (g - m) if lerp_small else g - (g - m) * lerp_rest
            grad_avg[i] = m
            v = max(v - m * m, zero)
        denom = np.sqrt(v + eps_inside) + eps_outside
        if use_momentum:
            b = momentum_buffer[i] * momentum + g / denom
            momentum_buffer[i] = b
            param[i] = p + neg_lr * b
        else:
            param[i] = p + neg_lr * g / denom


_rmsprop = _compile(_rmsprop_loop)


def rmsprop(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
            weight_decay, momentum, centered, maximize, eps_in_sqrt) -> None:
    """The update of ``reference.rmsprop`` (centered variance clamped at 0)."""
    _rmsprop(*rmsprop_arguments(
        param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps, weight_decay,
        momentum, centered, maximize, eps_in_sqrt))


def _adam_loop(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, neg_step_size, sign, decay,
               weight_decay, one_minus_beta1, lerp_rest, beta2, one_minus_beta2,
               bias_correction2_sqrt, eps, lerp_small, amsgrad):
    for i in prange(param.size):
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
        param[i] = p + neg_step_size * m / (np.sqrt(v) / bias_correction2_sqrt + eps)


_adam = _compile(_adam_loop)


def adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
         weight_decay, decoupled_weight_decay, amsgrad, maximize, step) -> None:
    """The update of ``reference.adam``.

    The decoupled decay multiplies p by ``1 - lr * weight_decay`` (by 1, an
    exact no-op, otherwise), and the coupled one adds ``weight_decay * p`` to
    g (0 when decoupled); the bias corrections are float64 host scalars.
    """
    _adam(*adam_arguments(
        param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps, weight_decay,
        decoupled_weight_decay, amsgrad, maximize, step))


__all__ = ["name", "on_host", "PARALLEL_THRESHOLD", "sgd", "adagrad", "rmsprop", "adam",
           "to_device", "zeros", "full", "copy_from_host", "copy_to_host", "synchronize"]
