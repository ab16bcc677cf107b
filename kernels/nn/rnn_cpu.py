"""Recurrent layers as numba.njit loops on the CPU (the API of ``rnn_reference``).

One call runs a whole layer and direction. The data path of a forward:

    proj = x W_ih^T                      (T B, G H): one BLAS matmul for all the steps
    for each step t (one njit loop):
        hh = h W_hh^T                    (B, G H): BLAS (np.dot inside the loop)
        one fused pass over (B, H): the gates from proj[t] + hh + the biases,
        the new state, and the output; the activated gates are kept

and of the backward (backpropagation through time), from the end:

    for each step t (one njit loop):
        one fused pass: dL/d(the gates' input sums) at step t from dL/dh, dL/dc
        and the kept gates, into dG (T, B, G H)
        dL/dh_{t-1} = dG[t] W_hh         BLAS, plus the GRU's z dL/dh
    dL/dx = dG W_ih,  dL/dW_ih = dG^T x,  dL/dW_hh = dG^T h_prev,  dL/db = sums of dG
                                         three BLAS matmuls over all the steps

The GRU's n gate multiplies its hidden-side sum by r, so its dG has an
input side and a hidden side (``dG_ih``, ``dG_hh``) that differ in the n block;
the RNN's and the LSTM's are one array. Only the first ``batch_sizes[t]``
rows step at t (see ``rnn_reference``); the others keep their state and pass
dL/dh through unchanged.

Compiled by ``kernels/jit.py`` (``error_model="numpy"``, no fastmath,
``cache=True`` with its fallback); the constants are in the arrays' dtype, so
float32 stays float32. The loops run serially: each step waits for the one
before, and the per-step matmuls are small.

tanh is computed as 2 sigmoid(2 a) - 1, from ``np.exp``: numba calls libm's
tanh for ``np.tanh``, one element at a time, and libm's tanh is slow. On
409600 float32 values (one LSTM layer's gates at batch 32, sequence 50, hidden
64) np.tanh took 15 ms inside an njit loop and the exp form 1.0 ms (numpy's own
vectorised tanh: 0.15 ms). The exp form is exact to a few units in the last
place of 1 (not of tanh(a) itself, for tiny a), well inside the tests'
tolerances against the reference and PyTorch. The LSTM keeps tanh(c) for the
backward, which then needs no exp at all.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.linalg.cython_blas  # noqa: F401  (the BLAS numba's np.dot calls: loaded now)

from ..jit import njit

name = "cpu"


@njit
def sigmoid(a, one):
    """1 / (1 + exp(-a)), with ``one`` in a's dtype."""
    return one / (one + np.exp(-a))


@njit
def tanh(a, one):
    """tanh(a) = 2 sigmoid(2 a) - 1 (see the module docstring: np.tanh is a libm call)."""
    two = one + one
    return two / (one + np.exp(-two * a)) - one


# Each gate's block of a (G H) vector, indexed [gate, j] in the (..., G, H) views: an
# index hidden + j would keep numba's negative-index wraparound check in the inner loop
# (LLVM cannot prove it >= 0) and stop it from vectorising.
I, F, G, O = 0, 1, 2, 3      # LSTM
R, Z, N = 0, 1, 2            # GRU


# -- forward loops: state h (and c) updated in place; hprev[t] = the state entering step t ----
@njit
def _rnn_forward(proj, h, w_hh_t, bias, batch_sizes, reverse, relu, y, hprev):
    steps, hidden = proj.shape[0], h.shape[1]
    zero, one = h.dtype.type(0), h.dtype.type(1)
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        n = batch_sizes[t]
        hprev[t] = h
        hh = np.dot(h[:n], w_hh_t)
        for b in range(n):
            for j in range(hidden):
                a = proj[t, b, j] + hh[b, j] + bias[j]
                value = max(a, zero) if relu else tanh(a, one)
                h[b, j] = value
                y[t, b, j] = value


@njit
def _lstm_forward(proj, h, c, w_hh_t, bias, batch_sizes, reverse, y, hprev, cprev, gates,
                  tanh_cells):
    """proj, gates (T, B, 4, H); bias (4, H)."""
    steps, hidden = proj.shape[0], h.shape[1]
    one = h.dtype.type(1)
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        n = batch_sizes[t]
        hprev[t] = h
        cprev[t] = c
        hh = np.dot(h[:n], w_hh_t).reshape((n, 4, hidden))
        for b in range(n):
            p, q, gate = proj[t, b], hh[b], gates[t, b]
            for j in range(hidden):
                i = sigmoid(p[I, j] + q[I, j] + bias[I, j], one)
                f = sigmoid(p[F, j] + q[F, j] + bias[F, j], one)
                g = tanh(p[G, j] + q[G, j] + bias[G, j], one)
                o = sigmoid(p[O, j] + q[O, j] + bias[O, j], one)
                cell = f * c[b, j] + i * g
                tanh_cell = tanh(cell, one)
                c[b, j] = cell
                h[b, j] = o * tanh_cell
                y[t, b, j] = o * tanh_cell
                tanh_cells[t, b, j] = tanh_cell
                gate[I, j], gate[F, j], gate[G, j], gate[O, j] = i, f, g, o


@njit
def _gru_forward(proj, h, w_hh_t, b_ih, b_hh, batch_sizes, reverse, y, hprev, gates, hidden_n):
    """proj, gates (T, B, 3, H); b_ih, b_hh (3, H)."""
    steps, hidden = proj.shape[0], h.shape[1]
    one = h.dtype.type(1)
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        n = batch_sizes[t]
        hprev[t] = h
        hh = np.dot(h[:n], w_hh_t).reshape((n, 3, hidden))
        for b in range(n):
            p, q, gate = proj[t, b], hh[b], gates[t, b]
            for j in range(hidden):
                r = sigmoid(p[R, j] + b_ih[R, j] + q[R, j] + b_hh[R, j], one)
                z = sigmoid(p[Z, j] + b_ih[Z, j] + q[Z, j] + b_hh[Z, j], one)
                hn = q[N, j] + b_hh[N, j]
                new = tanh(p[N, j] + b_ih[N, j] + r * hn, one)
                value = (one - z) * new + z * h[b, j]
                h[b, j] = value
                y[t, b, j] = value
                hidden_n[t, b, j] = hn
                gate[R, j], gate[Z, j], gate[N, j] = r, z, new


# -- backward loops: dh (and dc) from dL/dh_n, dL/dc_n, updated in place down to step 0 -------
# ``grad`` (T, B, G H) and ``grad4``, the same memory as (T, B, G, H): the fused pass
# writes grad4, the matmul reads grad.
@njit
def _rnn_backward(gy, dh, w_hh, y, batch_sizes, reverse, relu, grad):
    steps, hidden = gy.shape[0], dh.shape[1]
    zero, one = dh.dtype.type(0), dh.dtype.type(1)
    for s in range(steps):
        t = s if reverse else steps - 1 - s
        n = batch_sizes[t]
        for b in range(n):
            for j in range(hidden):
                value = y[t, b, j]
                slope = (one if value > zero else zero) if relu else one - value * value
                grad[t, b, j] = (dh[b, j] + gy[t, b, j]) * slope
        dh[:n] = np.dot(grad[t, :n], w_hh)


@njit
def _lstm_backward(gy, dh, dc, w_hh, cprev, gates, tanh_cells, batch_sizes, reverse, grad,
                   grad4):
    steps, hidden = gy.shape[0], dh.shape[1]
    one = dh.dtype.type(1)
    for s in range(steps):
        t = s if reverse else steps - 1 - s
        n = batch_sizes[t]
        for b in range(n):
            gate, d = gates[t, b], grad4[t, b]
            for j in range(hidden):
                i, f, g, o = gate[I, j], gate[F, j], gate[G, j], gate[O, j]
                tanh_c = tanh_cells[t, b, j]
                dh_total = dh[b, j] + gy[t, b, j]
                dcell = dc[b, j] + dh_total * o * (one - tanh_c * tanh_c)
                d[I, j] = dcell * g * i * (one - i)
                d[F, j] = dcell * cprev[t, b, j] * f * (one - f)
                d[G, j] = dcell * i * (one - g * g)
                d[O, j] = dh_total * tanh_c * o * (one - o)
                dc[b, j] = dcell * f
        dh[:n] = np.dot(grad[t, :n], w_hh)


@njit
def _gru_backward(gy, dh, w_hh, hprev, gates, hidden_n, batch_sizes, reverse, grad_ih4,
                  grad_hh, grad_hh4):
    steps, hidden = gy.shape[0], dh.shape[1]
    one = dh.dtype.type(1)
    direct = np.empty_like(dh)
    for s in range(steps):
        t = s if reverse else steps - 1 - s
        n = batch_sizes[t]
        for b in range(n):
            gate, d_ih, d_hh = gates[t, b], grad_ih4[t, b], grad_hh4[t, b]
            for j in range(hidden):
                r, z, new = gate[R, j], gate[Z, j], gate[N, j]
                dh_total = dh[b, j] + gy[t, b, j]
                d_new = dh_total * (one - z) * (one - new * new)
                d_r = d_new * hidden_n[t, b, j] * r * (one - r)
                d_z = dh_total * (hprev[t, b, j] - new) * z * (one - z)
                d_ih[R, j], d_ih[Z, j], d_ih[N, j] = d_r, d_z, d_new
                d_hh[R, j], d_hh[Z, j], d_hh[N, j] = d_r, d_z, d_new * r
                direct[b, j] = dh_total * z
        dh[:n] = direct[:n] + np.dot(grad_hh[t, :n], w_hh)


class Context(NamedTuple):
    """What the forward keeps for the backward."""
    mode: str
    reverse: bool
    batch_sizes: np.ndarray
    x: np.ndarray            # (T, B, I)
    w_ih: np.ndarray
    w_hh: np.ndarray
    hprev: np.ndarray        # (T, B, H): the hidden state entering each step
    y: np.ndarray            # the RNN's activations
    gates: np.ndarray | None     # (T, B, G, H) activated (LSTM, GRU)
    extra: np.ndarray | None     # LSTM: the cells entering each step, GRU: W_hn h + b_hn
    tanh_cells: np.ndarray | None    # LSTM: tanh of the cells after each step


def forward(mode: str, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None, w_ih: np.ndarray,
            w_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray, batch_sizes: np.ndarray,
            reverse: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, Context]:
    """y (T, B, H), h_n, c_n (LSTM, else None) and the context for ``backward``."""
    steps, batch, features = x.shape
    width = w_ih.shape[0]
    proj = np.dot(x.reshape(steps * batch, features), w_ih.T).reshape(steps, batch, width)
    w_hh_t = np.ascontiguousarray(w_hh.T)
    batch_sizes = np.ascontiguousarray(batch_sizes, dtype=np.int64)
    h = h0.copy()
    y = np.zeros((steps, *h0.shape), x.dtype)
    hprev = np.empty_like(y)
    gates = extra = tanh_cells = c = None
    blocks = (steps, batch, width // h0.shape[1], h0.shape[1])   # (T, B, G, H) views
    if mode == "LSTM":
        c = c0.copy()
        gates, extra, tanh_cells = np.empty(blocks, x.dtype), np.empty_like(y), np.empty_like(y)
        _lstm_forward(proj.reshape(blocks), h, c, w_hh_t, (b_ih + b_hh).reshape(blocks[2:]),
                      batch_sizes, reverse, y, hprev, extra, gates, tanh_cells)
    elif mode == "GRU":
        gates, extra = np.empty(blocks, x.dtype), np.empty_like(y)
        _gru_forward(proj.reshape(blocks), h, w_hh_t, b_ih.reshape(blocks[2:]),
                     b_hh.reshape(blocks[2:]), batch_sizes, reverse, y, hprev, gates, extra)
    else:
        _rnn_forward(proj, h, w_hh_t, b_ih + b_hh, batch_sizes, reverse, mode == "RNN_RELU", y,
                     hprev)
    return y, h, c, Context(mode, reverse, batch_sizes, x, w_ih, w_hh, hprev, y, gates, extra,
                            tanh_cells)


def backward(gy: np.ndarray, gh_n: np.ndarray, gc_n: np.ndarray | None, context: Context):
    """dL/dx, dL/dh0, dL/dc0 (LSTM, else None), dL/dw_ih, dL/dw_hh, dL/db_ih, dL/db_hh."""
    mode, steps, batch = context.mode, context.x.shape[0], context.x.shape[1]
    width, hidden = context.w_ih.shape[0], context.w_hh.shape[1]
    gy = np.ascontiguousarray(gy)
    dh, dc = gh_n.copy(), None
    grad_ih = np.zeros((steps, batch, width), gy.dtype)   # rows that do not step stay 0
    grad_hh = grad_ih
    if mode in ("LSTM", "GRU"):
        blocks = context.gates.shape
    if mode == "LSTM":
        dc = gc_n.copy()
        _lstm_backward(gy, dh, dc, context.w_hh, context.extra, context.gates, context.tanh_cells,
                       context.batch_sizes, context.reverse, grad_ih, grad_ih.reshape(blocks))
    elif mode == "GRU":
        grad_hh = np.zeros_like(grad_ih)
        _gru_backward(gy, dh, context.w_hh, context.hprev, context.gates, context.extra,
                      context.batch_sizes, context.reverse, grad_ih.reshape(blocks), grad_hh,
                      grad_hh.reshape(blocks))
    else:
        _rnn_backward(gy, dh, context.w_hh, context.y, context.batch_sizes, context.reverse,
                      mode == "RNN_RELU", grad_ih)
    rows_ih = grad_ih.reshape(steps * batch, width)
    rows_hh = grad_hh.reshape(steps * batch, width)
    dx = np.dot(rows_ih, context.w_ih).reshape(context.x.shape)
    dw_ih = np.dot(rows_ih.T, context.x.reshape(steps * batch, -1))
    dw_hh = np.dot(rows_hh.T, context.hprev.reshape(steps * batch, hidden))
    return dx, dh, dc, dw_ih, dw_hh, rows_ih.sum(axis=0), rows_hh.sum(axis=0)
