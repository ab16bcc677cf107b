"""Optimizer updates as numba.njit loops on the CPU.

Each update is a loop that applies one rule of ``rules.py`` to every element:
it reads element i of the param, the grad and each state buffer, calls the
rule, and writes the results back. The backend function (``sgd``, ``rmsprop``,
...) first calls the rule's ``X_arguments`` (which checks the arrays and casts
every constant to the array dtype), then the loop compiled (``jit.py``) either
serially or with ``parallel=True`` (``numba.prange`` split over the cores), by
size against ``PARALLEL_THRESHOLD``. In a ``prange`` loop the rule inlines: the
loop runs as fast as one written out by hand. The loops compile on first
call, once per dtype and set of buffers in use, and numba caches the machine
code on disk. No fastmath: results match ``reference`` to rounding.

numba's disk cache tracks the file of the cached function only: after
editing ``rules.py`` clear the cache (``__pycache__/cpu.*.nbi``/``.nbc`` or
``NUMBA_CACHE_DIR``) or touch this file, or stale loops keep running.
"""
from __future__ import annotations

import functools
import math
from typing import Callable

import numba
import numpy as np
from numba import prange

from . import rules
from .jit import Loops
from .reference import (check_arrays, copy_from_host, copy_to_host, full, muon_lr,
                        newton_schulz, synchronize, to_device, zeros)
from .rules import lerp

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


def _compile(loop: Callable) -> Loops:
    """``loop`` compiled serially and in parallel, run in parallel from
    ``PARALLEL_THRESHOLD`` elements (read at each call)."""
    return Loops(loop, lambda: PARALLEL_THRESHOLD)


@numba.njit
def _at(buffer, i, zero):
    """``buffer[i]``, or ``zero`` for a buffer switched off (None: the branch is
    resolved at compile time, so the loop reads nothing and stays vectorised)."""
    if buffer is None:
        return zero
    return buffer[i]


@numba.njit
def _put(buffer, i, value):
    """``buffer[i] = value`` unless the buffer is switched off (None)."""
    if buffer is not None:
        buffer[i] = value


# The updates whose options can switch a state buffer off, and those buffers' positions
# among the loop's arguments.
OPTIONAL_BUFFERS = {"sgd": (2,), "rmsprop": (3, 4), "adam": (4,), "adabelief": (4,),
                    "schedule_free": (3,)}


def loop_arguments(update: str, *args) -> tuple:
    """The arguments of ``update``'s loop for the backend function's ``args``:
    ``rules.<update>_arguments(*args)``, with each state buffer the options
    switch off (a zero-length array) replaced by None, which compiles a loop
    without it: a load guarded by a run-time flag would keep LLVM from
    vectorising the loop."""
    loop_args = getattr(rules, f"{update}_arguments")(*args)
    return _switch_off(loop_args, OPTIONAL_BUFFERS.get(update, ()))


def _switch_off(loop_args: tuple, optional: tuple[int, ...]) -> tuple:
    """``loop_args`` with the zero-length arrays at the positions ``optional`` set to None."""
    for i in optional:
        if loop_args[i].size == 0:
            loop_args = loop_args[:i] + (None,) + loop_args[i + 1:]
    return loop_args


def _wrap(update: str) -> Callable[..., None]:
    """The backend function: the rule's arguments with the switched-off buffers as
    None (``loop_arguments``), then the loop, serial or parallel by size.

    ``run.prepare(*args)`` does the first part once and returns the second as a
    call of no arguments: for arguments that stay, a flat group's buffers and
    hyperparameters between two changes of them (``FlatGroup.step``), it skips
    the checks and casts, most of a small update's time (7 of 18 us for the
    26k parameters of the digits MLP)."""
    loops = LOOPS[update]

    def prepare(*args) -> Callable[[], None]:
        loop_args = loop_arguments(update, *args)
        return functools.partial(loops.run, loop_args[0].size, *loop_args)

    @functools.wraps(getattr(rules, f"{update}_arguments"))
    def run(*args) -> None:
        prepare(*args)()

    run.__name__ = run.__qualname__ = update
    run.__doc__ = f"The update of ``reference.{update}`` (rule: ``rules.{update}``)."
    run.prepare = prepare
    return run


# -- the loops: read element i, apply the rule, write it back ---------------------

def _sgd_loop(param, grad, momentum_buffer, *constants):
    zero = param.dtype.type(0)
    for i in prange(param.size):
        param[i], b = rules.sgd(param[i], grad[i], _at(momentum_buffer, i, zero), *constants)
        _put(momentum_buffer, i, b)


def _adagrad_loop(param, grad, state_sum, *constants):
    for i in prange(param.size):
        param[i], state_sum[i] = rules.adagrad(param[i], grad[i], state_sum[i], *constants)


def _rmsprop_loop(param, grad, square_avg, grad_avg, momentum_buffer, *constants):
    zero = param.dtype.type(0)
    for i in prange(param.size):
        param[i], square_avg[i], m, b = rules.rmsprop(
            param[i], grad[i], square_avg[i], _at(grad_avg, i, zero),
            _at(momentum_buffer, i, zero), *constants)
        _put(grad_avg, i, m)
        _put(momentum_buffer, i, b)


def _adam_loop(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *constants):
    zero = param.dtype.type(0)
    for i in prange(param.size):
        param[i], exp_avg[i], exp_avg_sq[i], vmax = rules.adam(
            param[i], grad[i], exp_avg[i], exp_avg_sq[i], _at(max_exp_avg_sq, i, zero),
            *constants)
        _put(max_exp_avg_sq, i, vmax)


def _rprop_loop(param, grad, prev, step_size, *constants):
    for i in prange(param.size):
        param[i], prev[i], step_size[i] = rules.rprop(param[i], grad[i], prev[i], step_size[i],
                                                      *constants)


def _adadelta_loop(param, grad, square_avg, acc_delta, *constants):
    for i in prange(param.size):
        param[i], square_avg[i], acc_delta[i] = rules.adadelta(
            param[i], grad[i], square_avg[i], acc_delta[i], *constants)


def _adamax_loop(param, grad, exp_avg, exp_inf, *constants):
    for i in prange(param.size):
        param[i], exp_avg[i], exp_inf[i] = rules.adamax(param[i], grad[i], exp_avg[i],
                                                        exp_inf[i], *constants)


def _nadam_loop(param, grad, exp_avg, exp_avg_sq, *constants):
    for i in prange(param.size):
        param[i], exp_avg[i], exp_avg_sq[i] = rules.nadam(param[i], grad[i], exp_avg[i],
                                                          exp_avg_sq[i], *constants)


def _radam_loop(param, grad, exp_avg, exp_avg_sq, *constants):
    for i in prange(param.size):
        param[i], exp_avg[i], exp_avg_sq[i] = rules.radam(param[i], grad[i], exp_avg[i],
                                                          exp_avg_sq[i], *constants)


# -- Adafactor and Muon: loops over the params of a group, with their shapes -----
#
# One call per group, as the flat updates: the loop runs over the rows of
# ``table`` (``reference.adafactor`` documents its columns), in parallel over
# params when the group is large; each param's reductions run inside its turn.

@numba.njit
def _sum_of_squares(array, lo, hi):
    """sum(array[lo:hi] ** 2), accumulated in float64."""
    total = 0.0
    for i in range(lo, hi):
        total += float(array[i]) * float(array[i])
    return total


def _adafactor_loop(param, grad, row_var, col_var, variance, update, table, steps, lr,
                    beta2_decay, eps1, eps2, d, weight_decay, maximize):
    """``reference.adafactor``, each param in its turn: its RMS, its second-moment
    statistics, its update U (into the scratch ``update``) and U's RMS, then the step."""
    t = param.dtype.type
    sign, eps1_t, eps1_sq = t(-1 if maximize else 1), t(eps1), t(eps1 * eps1)
    decay = t(1 - lr * weight_decay)
    for k in prange(table.shape[0]):
        if steps[k] == 0:
            continue
        offset, size, ndim, batch, rows, cols = table[k, 0], table[k, 1], table[k, 2], \
            table[k, 3], table[k, 4], table[k, 5]
        row_at, col_at, var_at = table[k, 6], table[k, 7], table[k, 8]
        weight = float(steps[k]) ** beta2_decay
        w, rest, small = t(weight), t(1 - weight), abs(weight) < 0.5
        rho = min(lr, 1 / math.sqrt(float(steps[k])))
        rms = math.sqrt(_sum_of_squares(param, offset, offset + size)) / math.sqrt(size)
        alpha = max(eps2, rms) * rho
        # 1: the second moment: row and column means of g^2 (matrix), or g^2 itself;
        # a mean is PyTorch's norm(g, dim).square_().div_(count)
        total = 0.0
        if ndim > 1:
            for s in range(batch):
                base, col_sums = offset + s * rows * cols, np.zeros(cols)
                row_total = 0.0
                for i in range(rows):
                    row_sum = 0.0
                    for j in range(cols):
                        g = sign * grad[base + i * cols + j]
                        square = float(g * g)
                        row_sum += square
                        col_sums[j] += square
                    r, norm = row_at + s * rows + i, t(math.sqrt(row_sum))   # PyTorch's
                    row_var[r] = lerp(row_var[r], norm * norm / t(cols), w, rest, small)
                    row_total += float(row_var[r])
                for j in range(cols):
                    c, norm = col_at + s * cols + j, t(math.sqrt(col_sums[j]))
                    col_var[c] = lerp(col_var[c], norm * norm / t(rows), w, rest, small)
                # 2: U = g / sqrt(max(R C / max(mean(R), eps1), eps1^2)), row by row
                row_mean = max(t(row_total / rows), eps1_t)
                for i in range(rows):
                    r, at = row_var[row_at + s * rows + i], base + i * cols
                    for j in range(cols):
                        u = rules.adafactor_scaled(sign * grad[at + j],
                                                   r * col_var[col_at + s * cols + j] / row_mean,
                                                   eps1_sq)
                        update[at + j] = u
                        total += float(u) * float(u)
        else:
            for i in range(size):
                g = sign * grad[offset + i]
                v = lerp(variance[var_at + i], g * g, w, rest, small)
                variance[var_at + i] = v
                u = rules.adafactor_scaled(g, v, eps1_sq)
                update[offset + i] = u
                total += float(u) * float(u)
        # 3: the step, clipped at RMS(U) = d
        neg_scale = t(-alpha / max(1.0, math.sqrt(total) / (math.sqrt(size) * d)))
        for e in range(offset, offset + size):
            param[e] = rules.decayed_step(param[e], update[e], decay, neg_scale)


def _muon_momentum_loop(grad, momentum_buffer, update, table, steps, momentum, nesterov):
    """Muon's elementwise part for every param with a grad: the momentum buffer,
    and into ``update`` the matrix that the Newton-Schulz iteration orthogonalises."""
    t = grad.dtype.type
    weight, rest, small = t(1 - momentum), t(momentum), abs(1 - momentum) < 0.5
    n_weight, n_rest, n_small = t(momentum), t(1 - momentum), abs(momentum) < 0.5
    for k in prange(table.shape[0]):
        if steps[k] == 0:
            continue
        offset, at = table[k, 0], table[k, 6]
        for e in range(table[k, 1]):
            momentum_buffer[at + e], update[offset + e] = rules.muon_momentum(
                momentum_buffer[at + e], grad[offset + e], weight, rest, small, n_weight,
                n_rest, n_small, nesterov)


_ADAFACTOR, _MUON_MOMENTUM = _compile(_adafactor_loop), _compile(_muon_momentum_loop)


def adafactor(param, grad, row_var, col_var, variance, table, steps, lr, beta2_decay, eps1,
              eps2, d, weight_decay, maximize) -> None:
    """The update of ``reference.adafactor``: one loop over the group's params."""
    check_arrays(param, grad, (row_var, False), (col_var, False), (variance, False))
    eps1 = np.finfo(param.dtype).eps if eps1 is None else eps1
    update = np.empty_like(param)   # U, between its RMS and the step
    _ADAFACTOR.run(param.size, param, grad, row_var, col_var, variance, update, table, steps,
                   float(lr), float(beta2_decay), float(eps1), float(eps2), float(d),
                   float(weight_decay), bool(maximize))


def muon(param, grad, momentum_buffer, table, steps, lr, weight_decay, momentum, nesterov, a, b,
         c, eps, ns_steps, adjust_lr_fn) -> None:
    """The update of ``reference.muon``: the momentum in one loop over the group, then
    per matrix the Newton-Schulz iteration (``reference.newton_schulz`` itself: numpy's
    BLAS matmuls are the fast way on the cpu) and the step."""
    check_arrays(param, grad, (momentum_buffer, True))
    update = np.empty_like(param)
    _MUON_MOMENTUM.run(param.size, grad, momentum_buffer, update, table, steps,
                       float(momentum), bool(nesterov))
    cast = param.dtype.type
    for (offset, size, _, _, rows, cols, _), step in zip(table, steps):
        if step == 0:
            continue
        ortho = newton_schulz(update[offset:offset + size].reshape(rows, cols), a, b, c,
                              ns_steps, eps)
        p = param[offset:offset + size].reshape(rows, cols)
        p *= cast(1 - lr * weight_decay)
        p += cast(-muon_lr(lr, adjust_lr_fn, rows, cols)) * ortho


def _asgd_loop(param, grad, ax, *constants):
    for i in prange(param.size):
        param[i], ax[i] = rules.asgd(param[i], grad[i], ax[i], *constants)


def _lion_loop(param, grad, exp_avg, *constants):
    for i in prange(param.size):
        param[i], exp_avg[i] = rules.lion(param[i], grad[i], exp_avg[i], *constants)


def _adabelief_loop(param, grad, exp_avg, exp_avg_var, max_exp_avg_var, *constants):
    zero = param.dtype.type(0)
    for i in prange(param.size):
        param[i], exp_avg[i], exp_avg_var[i], smax = rules.adabelief(
            param[i], grad[i], exp_avg[i], exp_avg_var[i], _at(max_exp_avg_var, i, zero),
            *constants)
        _put(max_exp_avg_var, i, smax)


def _schedule_free_loop(param, grad, z, exp_avg_sq, *constants):
    zero = param.dtype.type(0)
    for i in prange(param.size):
        param[i], z[i], v = rules.schedule_free(param[i], grad[i], z[i],
                                                _at(exp_avg_sq, i, zero), *constants)
        _put(exp_avg_sq, i, v)


def _interpolate_loop(param, end, *constants):
    for i in prange(param.size):
        param[i] = rules.lerp(param[i], end[i], *constants)


LOOPS = {"sgd": _compile(_sgd_loop), "adagrad": _compile(_adagrad_loop),
         "rmsprop": _compile(_rmsprop_loop), "adam": _compile(_adam_loop),
         "rprop": _compile(_rprop_loop), "adadelta": _compile(_adadelta_loop),
         "adamax": _compile(_adamax_loop), "nadam": _compile(_nadam_loop),
         "radam": _compile(_radam_loop), "asgd": _compile(_asgd_loop),
         "lion": _compile(_lion_loop), "adabelief": _compile(_adabelief_loop),
         "schedule_free": _compile(_schedule_free_loop),
         "interpolate": _compile(_interpolate_loop)}
UPDATES = tuple(LOOPS)
(sgd, adagrad, rmsprop, adam, rprop, adadelta, adamax, nadam, radam, asgd, lion, adabelief,
 schedule_free, interpolate) = map(_wrap, UPDATES)

__all__ = ["name", "on_host", "PARALLEL_THRESHOLD", "UPDATES", *UPDATES, "adafactor", "muon",
           "to_device", "zeros", "full", "copy_from_host", "copy_to_host", "synchronize"]
