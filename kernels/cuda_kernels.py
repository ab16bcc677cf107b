"""The cuda backend's kernels as plain Python functions, before compilation.

Each kernel is a grid-stride loop, thread ``i`` of ``T`` updating elements
``i, i + T, i + 2T, ...``, that applies one rule of ``rules.py`` per element:
the same rule the cpu loops apply. Its arguments are those of the cpu loop
(``rules.X_arguments``: arrays, then constants in the array dtype, then flags)
with the constants and flags packed in one tuple (a kernel compiled for
explicit signatures takes no ``*args``), and a state buffer switched off stays
a zero-length device array (a kernel cannot take None): it is read and
written only where it has elements.

``cuda.py`` compiles these for the GPU; the tests compile them to PTX with
``numba.cuda.compile_ptx`` on machines without one (``signatures``). Importing
this module needs numba-cuda, but neither a GPU nor a driver.
"""
from __future__ import annotations

import numba
from numba import cuda

from . import rules


@numba.njit
def _at(buffer, i, zero):
    """``buffer[i]``, or ``zero`` for a zero-length (switched off) buffer."""
    return buffer[i] if buffer.size > 0 else zero


@numba.njit
def _put(buffer, i, value):
    """``buffer[i] = value`` unless the buffer is zero-length (switched off)."""
    if buffer.size > 0:
        buffer[i] = value


def sgd(param, grad, momentum_buffer, constants):
    zero = param.dtype.type(0)
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        param[i], b = rules.sgd(param[i], grad[i], _at(momentum_buffer, i, zero), *constants)
        _put(momentum_buffer, i, b)


def adagrad(param, grad, state_sum, constants):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        param[i], state_sum[i] = rules.adagrad(param[i], grad[i], state_sum[i], *constants)


def rmsprop(param, grad, square_avg, grad_avg, momentum_buffer, constants):
    zero = param.dtype.type(0)
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        param[i], square_avg[i], m, b = rules.rmsprop(
            param[i], grad[i], square_avg[i], _at(grad_avg, i, zero),
            _at(momentum_buffer, i, zero), *constants)
        _put(grad_avg, i, m)
        _put(momentum_buffer, i, b)


def adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, constants):
    zero = param.dtype.type(0)
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        param[i], exp_avg[i], exp_avg_sq[i], vmax = rules.adam(
            param[i], grad[i], exp_avg[i], exp_avg_sq[i], _at(max_exp_avg_sq, i, zero),
            *constants)
        _put(max_exp_avg_sq, i, vmax)


def rprop(param, grad, prev, step_size, constants):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        param[i], prev[i], step_size[i] = rules.rprop(param[i], grad[i], prev[i], step_size[i],
                                                      *constants)


def adadelta(param, grad, square_avg, acc_delta, constants):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        param[i], square_avg[i], acc_delta[i] = rules.adadelta(
            param[i], grad[i], square_avg[i], acc_delta[i], *constants)


def adamax(param, grad, exp_avg, exp_inf, constants):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        param[i], exp_avg[i], exp_inf[i] = rules.adamax(param[i], grad[i], exp_avg[i],
                                                        exp_inf[i], *constants)


def nadam(param, grad, exp_avg, exp_avg_sq, constants):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        param[i], exp_avg[i], exp_avg_sq[i] = rules.nadam(param[i], grad[i], exp_avg[i],
                                                          exp_avg_sq[i], *constants)


def radam(param, grad, exp_avg, exp_avg_sq, constants):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        param[i], exp_avg[i], exp_avg_sq[i] = rules.radam(param[i], grad[i], exp_avg[i],
                                                          exp_avg_sq[i], *constants)


def asgd(param, grad, ax, constants):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        param[i], ax[i] = rules.asgd(param[i], grad[i], ax[i], *constants)


def lion(param, grad, exp_avg, constants):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        param[i], exp_avg[i] = rules.lion(param[i], grad[i], exp_avg[i], *constants)


def adabelief(param, grad, exp_avg, exp_avg_var, max_exp_avg_var, constants):
    zero = param.dtype.type(0)
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        param[i], exp_avg[i], exp_avg_var[i], smax = rules.adabelief(
            param[i], grad[i], exp_avg[i], exp_avg_var[i], _at(max_exp_avg_var, i, zero),
            *constants)
        _put(max_exp_avg_var, i, smax)


def schedule_free(param, grad, z, exp_avg_sq, constants):
    zero = param.dtype.type(0)
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        param[i], z[i], v = rules.schedule_free(param[i], grad[i], z[i],
                                                _at(exp_avg_sq, i, zero), *constants)
        _put(exp_avg_sq, i, v)


def interpolate(param, end, constants):
    for i in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        param[i] = rules.lerp(param[i], end[i], *constants)


KERNELS = {"sgd": sgd, "adagrad": adagrad, "rmsprop": rmsprop, "adam": adam, "rprop": rprop,
           "adadelta": adadelta, "adamax": adamax, "nadam": nadam, "radam": radam,
           "asgd": asgd, "lion": lion, "adabelief": adabelief, "schedule_free": schedule_free,
           "interpolate": interpolate}

# (arrays, constants, flags) of each kernel: the counts of ``rules.X_arguments``' result.
ARITY = {"sgd": (3, 5, 3), "adagrad": (3, 4, 0), "rmsprop": (5, 12, 3), "adam": (5, 10, 2),
         "rprop": (4, 8, 1), "adadelta": (4, 6, 0), "adamax": (4, 7, 1), "nadam": (4, 11, 1),
         "radam": (4, 12, 2), "asgd": (3, 5, 1), "lion": (3, 7, 0), "adabelief": (5, 9, 3),
         "schedule_free": (4, 9, 3), "interpolate": (2, 2, 1)}


def signatures(update: str) -> list:
    """void(arrays x dtype[::1], (constants x dtype, flags x boolean)), float32 and float64."""
    arrays, constants, flags = ARITY[update]
    return [numba.void(*[dtype[::1]] * arrays,
                       numba.types.Tuple([dtype] * constants + [numba.boolean] * flags))
            for dtype in (numba.float32, numba.float64)]
