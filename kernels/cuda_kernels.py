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

import math

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


# -- Adafactor: one block per param, the param's reductions inside the block --------
#
# One launch per group, as the flat updates; block b updates params b, b + blocks, ...
# A reduction sums each thread's partial in ``partial`` (global scratch, the block's
# slice) by halving: the block's size is a power of two. ``factors`` holds each
# param's numbers in the array dtype, made on the host (no float64 on the device):
# (lerp weight 1 - beta2_t, 1 - weight, rho_t, size, rows, cols).

@cuda.jit(device=True)
def _block_sum(partial, value):
    """The sum of ``value`` over the threads of this block."""
    tid, threads = cuda.threadIdx.x, cuda.blockDim.x
    at = cuda.blockIdx.x * threads
    partial[at + tid] = value
    cuda.syncthreads()
    stride = threads // 2
    while stride > 0:
        if tid < stride:
            partial[at + tid] += partial[at + tid + stride]
        cuda.syncthreads()
        stride //= 2
    total = partial[at]
    cuda.syncthreads()
    return total


def adafactor(param, grad, row_var, col_var, variance, update, row_means, partial, table,
              steps, factors, constants):
    sign, eps1, eps1_sq, eps2, d, decay, zero, one, half = constants
    tid, threads = cuda.threadIdx.x, cuda.blockDim.x
    for k in range(cuda.blockIdx.x, table.shape[0], cuda.gridDim.x):
        if steps[k] == 0:
            continue
        offset, size, ndim, batch, rows, cols = table[k, 0], table[k, 1], table[k, 2], \
            table[k, 3], table[k, 4], table[k, 5]
        row_at, col_at, var_at = table[k, 6], table[k, 7], table[k, 8]
        w, rest, rho = factors[k, 0], factors[k, 1], factors[k, 2]
        size_f, rows_f, cols_f = factors[k, 3], factors[k, 4], factors[k, 5]
        small = w < half
        acc = zero
        for e in range(offset + tid, offset + size, threads):
            acc += param[e] * param[e]
        alpha = max(eps2, math.sqrt(_block_sum(partial, acc) / size_f)) * rho
        if ndim > 1:   # row and column means of g^2, a thread per row, then per column
            for r in range(tid, batch * rows, threads):
                base, acc = offset + r * cols, zero
                for j in range(cols):
                    acc += grad[base + j] * grad[base + j]
                norm = math.sqrt(acc)
                row_var[row_at + r] = rules.lerp(row_var[row_at + r], norm * norm / cols_f, w,
                                                 rest, small)
            for c in range(tid, batch * cols, threads):
                s, j = c // cols, c % cols
                base, acc = offset + s * rows * cols + j, zero
                for i in range(rows):
                    acc += grad[base + i * cols] * grad[base + i * cols]
                norm = math.sqrt(acc)
                col_var[col_at + c] = rules.lerp(col_var[col_at + c], norm * norm / rows_f, w,
                                                 rest, small)
            cuda.syncthreads()
            for s in range(tid, batch, threads):
                acc = zero
                for i in range(rows):
                    acc += row_var[row_at + s * rows + i]
                row_means[row_at + s * rows] = max(acc / rows_f, eps1)
            cuda.syncthreads()
        else:
            for e in range(tid, size, threads):
                g = sign * grad[offset + e]
                variance[var_at + e] = rules.lerp(variance[var_at + e], g * g, w, rest, small)
        acc = zero
        for e in range(tid, size, threads):
            if ndim > 1:
                s, i, j = e // (rows * cols), (e // cols) % rows, e % cols
                estimate = row_var[row_at + s * rows + i] * col_var[col_at + s * cols + j] \
                    / row_means[row_at + s * rows]
            else:
                estimate = variance[var_at + e]
            u = rules.adafactor_scaled(sign * grad[offset + e], estimate, eps1_sq)
            update[offset + e] = u
            acc += u * u
        clip = max(one, math.sqrt(_block_sum(partial, acc)) / (math.sqrt(size_f) * d))
        neg_scale = -alpha / clip
        for e in range(offset + tid, offset + size, threads):
            param[e] = rules.decayed_step(param[e], update[e], decay, neg_scale)
        cuda.syncthreads()


# -- Muon: the momentum in one launch per group, then per matrix the Newton-Schulz
# iteration as launches of a plain GEMM (a thread per element of the result) -------

def muon_momentum(grad, momentum_buffer, update, table, steps, constants, nesterov):
    weight, rest, n_weight, n_rest, half = constants
    small, n_small = weight < half, n_weight < half
    for k in range(cuda.blockIdx.x, table.shape[0], cuda.gridDim.x):
        if steps[k] == 0:
            continue
        offset, at = table[k, 0], table[k, 6]
        for e in range(cuda.threadIdx.x, table[k, 1], cuda.blockDim.x):
            momentum_buffer[at + e], update[offset + e] = rules.muon_momentum(
                momentum_buffer[at + e], grad[offset + e], weight, rest, small, n_weight,
                n_rest, n_small, nesterov)


def muon_normalise(source, target, partial, eps, tall):
    """One block: target = source / max(||source||_F, eps), source the flat (rows, cols)
    matrix, target (rows, cols), or its transpose (cols, rows) when tall (rows > cols)."""
    rows_out, cols_out = target.shape
    acc = eps - eps
    for e in range(cuda.threadIdx.x, source.size, cuda.blockDim.x):
        acc += source[e] * source[e]
    scale = max(math.sqrt(_block_sum(partial, acc)), eps)
    for e in range(cuda.threadIdx.x, source.size, cuda.blockDim.x):
        i, j = e // cols_out, e % cols_out
        if tall:   # source (cols_out, rows_out) row-major: its element e is target[j', i']
            i, j = e % rows_out, e // rows_out
        target[i, j] = source[e] / scale


def gemm(a, b, c, alpha, beta, transpose_b):
    """c = alpha * a @ op(b) + beta * c, op(b) = b.T if transpose_b; beta 0 ignores c."""
    n, m = c.shape
    for index in range(cuda.grid(1), n * m, cuda.gridsize(1)):
        i, j = index // m, index % m
        acc = alpha - alpha
        for k in range(a.shape[1]):
            acc += a[i, k] * (b[j, k] if transpose_b else b[k, j])
        c[i, j] = alpha * acc if beta == alpha - alpha else alpha * acc + beta * c[i, j]


def muon_step(param, ortho, decay, neg_lr, tall):
    """param (flat rows x cols) = param * decay + neg_lr * O, O (rows, cols) or, for a
    tall matrix, its transpose (cols, rows)."""
    rows_o, cols_o = ortho.shape
    for e in range(cuda.grid(1), param.size, cuda.gridsize(1)):
        i, j = e // cols_o, e % cols_o
        if tall:
            i, j = e % rows_o, e // rows_o
        param[e] = rules.decayed_step(param[e], ortho[i, j], decay, neg_lr)


SHAPED = ("adafactor", "muon_momentum", "muon_normalise", "gemm", "muon_step")


def shaped_signatures() -> dict[str, list]:
    """The signatures of Adafactor's and Muon's kernels, float32 and float64."""
    out: dict[str, list] = {name: [] for name in SHAPED}
    for dtype in (numba.float32, numba.float64):
        flat, matrix = dtype[::1], dtype[:, ::1]
        out["adafactor"].append(numba.void(*[flat] * 8, numba.int64[:, ::1], numba.int64[::1],
                                           matrix, numba.types.UniTuple(dtype, 9)))
        out["muon_momentum"].append(numba.void(flat, flat, flat, numba.int64[:, ::1],
                                               numba.int64[::1],
                                               numba.types.UniTuple(dtype, 5), numba.boolean))
        out["muon_normalise"].append(numba.void(flat, matrix, flat, dtype, numba.boolean))
        out["gemm"].append(numba.void(matrix, matrix, matrix, dtype, dtype, numba.boolean))
        out["muon_step"].append(numba.void(flat, matrix, dtype, dtype, numba.boolean))
    return out
