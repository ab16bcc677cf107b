"""The fused loops of a compiled step (``minidl.compile``) as numba.njit loops
(the API of ``fused_reference``).

A compiled step replays the eager step's arithmetic and must match it to the
bit, so each loop here does the float operations of the numpy calls it
replaces, in the same order. Three facts about numpy make that possible:

- elementwise arithmetic (+, -, *, /, max, sqrt) is IEEE: any loop that does
  the same operation on the same two numbers gets the same result;
- ``np.sum`` along a contiguous axis (a row, or a whole 1-D array) starts from
  0 and adds a pairwise sum: below 8 values one after the other, up to 128 in
  8 running sums combined as a tree, above that the two halves (split at a
  multiple of 8) summed apart (``_pairwise``);
- ``np.sum(a, axis=0)`` of a C-contiguous (N, F) array starts from 0 and adds
  the rows one after the other, each column on its own, except for F = 1,
  where the column is contiguous and is summed pairwise (``row_sums`` of it).

numpy's float32 ``exp`` and ``log`` are SIMD implementations that differ from
the libm functions numba calls in the last bit, so cross-entropy's exp and
log stay numpy calls between these loops.

The loops, for logits x (N, C), classes t (N,), a layer's output y (N, F):

    bias_relu           y <- max(y + b, 0), mask <- y + b > 0      (forward, in place)
    relu_bias_grad      g_y <- g_relu * mask;  g_b <- sum of g_y's rows
    column_sums         g_b <- sum of g's rows                      (a linear's bias)
    shift_rows          s <- x - max_k x_k, per row
    row_sums            totals <- sum_k e_k, per row                (of exps = np.exp(s))
    cross_entropy_loss  loss <- sum_i (logs_i - s[i, t_i]) / divisor  (logs = np.log(totals))
    cross_entropy_grad  g_x <- (e / totals - onehot(t)) * scale
    classes_in_range    whether 0 <= t_i < C for every i

Compiled by ``kernels/jit.py`` (``error_model="numpy"``, no fastmath, disk cache);
the constants are cast to the arrays' dtype. Each call costs about 0.3 us
against 1-4 us for each numpy call it replaces. Compiling them cold takes numba
a few seconds (each loop that inlines the pairwise sum pays for it again), so
only ``row_sums`` calls it, and the other sums that numpy takes pairwise (a
single column, the total of the losses) are ``row_sums`` of a one-row view.
"""
from __future__ import annotations

import numpy as np

from ..jit import njit

name = "cpu"


def _block_loop(a, start, n):
    """numpy's sum of a[start:start + n] for n <= 128: one after the other below 8
    values, else 8 running sums combined as a tree and the rest added."""
    if n < 8:
        total = a.dtype.type(-0.0)
        for i in range(n):
            total += a[start + i]
        return total
    r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
    r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
    i = 8
    while i < n - n % 8:
        r0 += a[start + i]
        r1 += a[start + i + 1]
        r2 += a[start + i + 2]
        r3 += a[start + i + 3]
        r4 += a[start + i + 4]
        r5 += a[start + i + 5]
        r6 += a[start + i + 6]
        r7 += a[start + i + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        total += a[start + i]
        i += 1
    return total


_block = njit(_block_loop)


def _pairwise_loop(a, start, n):
    """numpy's pairwise sum of a[start:start + n] (1-D, contiguous): above 128 values
    the sum of the two halves, split at a multiple of 8. numpy recurses; this loop
    walks the same tree with a stack (numba's disk cache mishandles recursion):
    pending (start, size, halves summed?) frames, and the sums found so far."""
    if n <= 128:
        return _block(a, start, n)
    frames = np.empty((130, 3), np.int64)
    sums = np.empty(130, a.dtype)
    frames[0, 0], frames[0, 1], frames[0, 2] = start, n, 0
    depth, found = 1, 0
    while depth > 0:
        depth -= 1
        first, size, combine = frames[depth, 0], frames[depth, 1], frames[depth, 2]
        if combine:
            found -= 1
            sums[found - 1] = sums[found - 1] + sums[found]
        elif size <= 128:
            sums[found] = _block(a, first, size)
            found += 1
        else:
            half = size // 2
            half -= half % 8
            frames[depth, 2] = 1                   # after both halves: add them
            frames[depth + 1, 0], frames[depth + 1, 1], frames[depth + 1, 2] = \
                first + half, size - half, 0       # then the right half
            frames[depth + 2, 0], frames[depth + 2, 1], frames[depth + 2, 2] = \
                first, half, 0                     # the left half first
            depth += 3
    return sums[0]


_pairwise = njit(_pairwise_loop)


def _bias_relu_loop(out, bias, mask):
    zero = out.dtype.type(0)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            value = out[i, j] + bias[j]
            mask[i, j] = value > zero
            out[i, j] = zero if value <= zero else value


def _column_sums_loop(a, out):
    """Row after row: numpy's order for two columns or more."""
    zero = a.dtype.type(0)
    for j in range(a.shape[1]):
        out[j] = zero
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[j] += a[i, j]


def _relu_bias_grad_loop(grad, mask, out, bias_grad):
    one, zero = out.dtype.type(1), out.dtype.type(0)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = grad[i, j] * (one if mask[i, j] else zero)
    _column_sums(out, bias_grad)


def _shift_rows_loop(x, shifted):
    for i in range(x.shape[0]):
        top = x[i, 0]
        for j in range(1, x.shape[1]):
            value = x[i, j]
            if value > top or value != value:     # NaN wins, as in np.max
                top = value
            if top != top:
                break
        for j in range(x.shape[1]):
            shifted[i, j] = x[i, j] - top


def _row_sums_loop(a, out):
    zero = a.dtype.type(0)
    flat = a.reshape(-1)
    for i in range(a.shape[0]):
        out[i] = zero + _pairwise(flat, i * a.shape[1], a.shape[1])


def _picked_losses_loop(logs, shifted, classes, losses):
    for i in range(logs.shape[0]):
        losses[i] = logs[i] - shifted[i, classes[i]]


def _cross_entropy_grad_loop(exps, totals, classes, scale, grad):
    one = grad.dtype.type(1)
    for i in range(exps.shape[0]):
        for j in range(exps.shape[1]):
            value = exps[i, j] / totals[i]
            if j == classes[i]:
                value -= one
            grad[i, j] = value * scale


def _classes_in_range_loop(classes, n_classes):
    for i in range(classes.shape[0]):
        if classes[i] < 0 or classes[i] >= n_classes:
            return False
    return True


_bias_relu = njit(_bias_relu_loop)
_column_sums = njit(_column_sums_loop)
_relu_bias_grad = njit(_relu_bias_grad_loop)
_shift_rows = njit(_shift_rows_loop)
_row_sums = njit(_row_sums_loop)
_picked_losses = njit(_picked_losses_loop)
_cross_entropy_grad = njit(_cross_entropy_grad_loop)
_classes_in_range = njit(_classes_in_range_loop)


def bias_relu(out: np.ndarray, bias: np.ndarray, mask: np.ndarray) -> None:
    """A linear layer's bias and the ReLU after it, in one pass over ``out`` (N, F):
    out <- max(out + bias, 0), mask <- out + bias > 0 (NaN stays NaN)."""
    _bias_relu(out, bias, mask)


def column_sums(a: np.ndarray, out: np.ndarray) -> None:
    """out <- np.sum(a, axis=0), for an (N, F) ``a`` (numpy itself where ``a`` is not
    C-contiguous: its order of additions then follows the strides)."""
    if not a.flags.c_contiguous:
        np.sum(a, axis=0, out=out)
    elif a.shape[1] == 1:         # one contiguous column: numpy sums it pairwise
        _row_sums(a.reshape(1, -1), out)
    else:
        _column_sums(a, out)


def relu_bias_grad(grad: np.ndarray, mask: np.ndarray, out: np.ndarray,
                   bias_grad: np.ndarray) -> None:
    """The backward of a fused linear + ReLU before its matmuls: out <- grad * mask
    (the gradient of the linear's output), bias_grad <- column_sums(out)."""
    _relu_bias_grad(grad, mask, out, bias_grad)
    if out.shape[1] == 1:         # one contiguous column: numpy sums it pairwise
        _row_sums(out.reshape(1, -1), bias_grad)


def shift_rows(x: np.ndarray, shifted: np.ndarray) -> None:
    """shifted <- x - np.max(x, axis=1, keepdims=True)."""
    _shift_rows(x, shifted)


def row_sums(a: np.ndarray, out: np.ndarray) -> None:
    """out <- np.sum(a, axis=1), for a C-contiguous (N, C) ``a``."""
    _row_sums(a, out)


def cross_entropy_loss(logs: np.ndarray, shifted: np.ndarray, classes: np.ndarray,
                       divisor: int, losses: np.ndarray, loss: np.ndarray) -> None:
    """losses <- logs - shifted[i, classes[i]];  loss (0-d) <- losses.sum() / divisor."""
    _picked_losses(logs, shifted, classes, losses)
    total = loss.reshape(1)
    _row_sums(losses.reshape(1, -1), total)
    total /= losses.dtype.type(divisor)


def cross_entropy_grad(exps: np.ndarray, totals: np.ndarray, classes: np.ndarray,
                       scale: np.floating, grad: np.ndarray) -> None:
    """grad <- (exps / totals[:, None] - onehot(classes)) * scale."""
    _cross_entropy_grad(exps, totals, classes, grad.dtype.type(scale), grad)


def classes_in_range(classes: np.ndarray, n_classes: int) -> bool:
    """Whether every class index lies in [0, n_classes)."""
    return bool(_classes_in_range(classes, n_classes))
