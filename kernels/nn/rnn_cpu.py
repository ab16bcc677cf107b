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
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..jit import njit

name = "cpu"


@njit
def sigmoid(a, one):
    """1 / (1 + exp(-a)), with ``one`` in a's dtype."""
    return one / (one + np.exp(-a))


# -- forward loops: state h (and c) updated in place; hprev[t] = the state entering step t ----
@njit
def _rnn_forward(proj, h, w_hh_t, bias, batch_sizes, reverse, relu, y, hprev):
    steps, hidden = proj.shape[0], h.shape[1]
    zero = h.dtype.type(0)
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        n = batch_sizes[t]
        hprev[t] = h
        hh = np.dot(h[:n], w_hh_t)
        for b in range(n):
            for j in range(hidden):
                a = proj[t, b, j] + hh[b, j] + bias[j]
                value = max(a, zero) if relu else np.tanh(a)
                h[b, j] = value
                y[t, b, j] = value


@njit
def _lstm_forward(proj, h, c, w_hh_t, bias, batch_sizes, reverse, y, hprev, cprev, gates, cells):
    steps, hidden = proj.shape[0], h.shape[1]
    one = h.dtype.type(1)
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        n = batch_sizes[t]
        hprev[t] = h
        cprev[t] = c
        hh = np.dot(h[:n], w_hh_t)
        for b in range(n):
            for j in range(hidden):
                i = sigmoid(proj[t, b, j] + hh[b, j] + bias[j], one)
                f = sigmoid(proj[t, b, hidden + j] + hh[b, hidden + j] + bias[hidden + j], one)
                g = np.tanh(proj[t, b, 2 * hidden + j] + hh[b, 2 * hidden + j]
                            + bias[2 * hidden + j])
                o = sigmoid(proj[t, b, 3 * hidden + j] + hh[b, 3 * hidden + j]
                            + bias[3 * hidden + j], one)
                cell = f * c[b, j] + i * g
                c[b, j] = cell
                h[b, j] = o * np.tanh(cell)
                y[t, b, j] = h[b, j]
                cells[t, b, j] = cell
                gates[t, b, j], gates[t, b, hidden + j] = i, f
                gates[t, b, 2 * hidden + j], gates[t, b, 3 * hidden + j] = g, o


@njit
def _gru_forward(proj, h, w_hh_t, b_ih, b_hh, batch_sizes, reverse, y, hprev, gates, hidden_n):
    steps, hidden = proj.shape[0], h.shape[1]
    one = h.dtype.type(1)
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        n = batch_sizes[t]
        hprev[t] = h
        hh = np.dot(h[:n], w_hh_t)
        for b in range(n):
            for j in range(hidden):
                r = sigmoid(proj[t, b, j] + b_ih[j] + hh[b, j] + b_hh[j], one)
                z = sigmoid(proj[t, b, hidden + j] + b_ih[hidden + j] + hh[b, hidden + j]
                            + b_hh[hidden + j], one)
                hn = hh[b, 2 * hidden + j] + b_hh[2 * hidden + j]
                new = np.tanh(proj[t, b, 2 * hidden + j] + b_ih[2 * hidden + j] + r * hn)
                h[b, j] = (one - z) * new + z * h[b, j]
                y[t, b, j] = h[b, j]
                hidden_n[t, b, j] = hn
                gates[t, b, j], gates[t, b, hidden + j], gates[t, b, 2 * hidden + j] = r, z, new


# -- backward loops: dh (and dc) from dL/dh_n, dL/dc_n, updated in place down to step 0 -------
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
def _lstm_backward(gy, dh, dc, w_hh, cprev, gates, cells, batch_sizes, reverse, grad):
    steps, hidden = gy.shape[0], dh.shape[1]
    one = dh.dtype.type(1)
    for s in range(steps):
        t = s if reverse else steps - 1 - s
        n = batch_sizes[t]
        for b in range(n):
            for j in range(hidden):
                i, f = gates[t, b, j], gates[t, b, hidden + j]
                g, o = gates[t, b, 2 * hidden + j], gates[t, b, 3 * hidden + j]
                tanh_c = np.tanh(cells[t, b, j])
                dh_total = dh[b, j] + gy[t, b, j]
                dcell = dc[b, j] + dh_total * o * (one - tanh_c * tanh_c)
                grad[t, b, j] = dcell * g * i * (one - i)
                grad[t, b, hidden + j] = dcell * cprev[t, b, j] * f * (one - f)
                grad[t, b, 2 * hidden + j] = dcell * i * (one - g * g)
                grad[t, b, 3 * hidden + j] = dh_total * tanh_c * o * (one - o)
                dc[b, j] = dcell * f
        dh[:n] = np.dot(grad[t, :n], w_hh)


@njit
def _gru_backward(gy, dh, w_hh, hprev, gates, hidden_n, batch_sizes, reverse, grad_ih, grad_hh):
    steps, hidden = gy.shape[0], dh.shape[1]
    one = dh.dtype.type(1)
    direct = np.empty_like(dh)
    for s in range(steps):
        t = s if reverse else steps - 1 - s
        n = batch_sizes[t]
        for b in range(n):
            for j in range(hidden):
                r, z = gates[t, b, j], gates[t, b, hidden + j]
                new = gates[t, b, 2 * hidden + j]
                dh_total = dh[b, j] + gy[t, b, j]
                d_new = dh_total * (one - z) * (one - new * new)
                d_r = d_new * hidden_n[t, b, j] * r * (one - r)
                d_z = dh_total * (hprev[t, b, j] - new) * z * (one - z)
                grad_ih[t, b, j] = grad_hh[t, b, j] = d_r
                grad_ih[t, b, hidden + j] = grad_hh[t, b, hidden + j] = d_z
                grad_ih[t, b, 2 * hidden + j] = d_new
                grad_hh[t, b, 2 * hidden + j] = d_new * r
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
    gates: np.ndarray | None     # (T, B, G H) activated (LSTM, GRU)
    extra: np.ndarray | None     # LSTM: the cells entering each step, GRU: W_hn h + b_hn
    cells: np.ndarray | None     # LSTM: the cells after each step


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
    gates = extra = cells = c = None
    if mode == "LSTM":
        c = c0.copy()
        gates, extra, cells = np.empty_like(proj), np.empty_like(y), np.empty_like(y)
        _lstm_forward(proj, h, c, w_hh_t, b_ih + b_hh, batch_sizes, reverse, y, hprev, extra,
                      gates, cells)
    elif mode == "GRU":
        gates, extra = np.empty_like(proj), np.empty_like(y)
        _gru_forward(proj, h, w_hh_t, b_ih, b_hh, batch_sizes, reverse, y, hprev, gates, extra)
    else:
        _rnn_forward(proj, h, w_hh_t, b_ih + b_hh, batch_sizes, reverse, mode == "RNN_RELU", y,
                     hprev)
    return y, h, c, Context(mode, reverse, batch_sizes, x, w_ih, w_hh, hprev, y, gates, extra,
                            cells)


def backward(gy: np.ndarray, gh_n: np.ndarray, gc_n: np.ndarray | None, context: Context):
    """dL/dx, dL/dh0, dL/dc0 (LSTM, else None), dL/dw_ih, dL/dw_hh, dL/db_ih, dL/db_hh."""
    mode, steps, batch = context.mode, context.x.shape[0], context.x.shape[1]
    width, hidden = context.w_ih.shape[0], context.w_hh.shape[1]
    gy = np.ascontiguousarray(gy)
    dh, dc = gh_n.copy(), None
    grad_ih = np.zeros((steps, batch, width), gy.dtype)   # rows that do not step stay 0
    grad_hh = grad_ih
    if mode == "LSTM":
        dc = gc_n.copy()
        _lstm_backward(gy, dh, dc, context.w_hh, context.extra, context.gates, context.cells,
                       context.batch_sizes, context.reverse, grad_ih)
    elif mode == "GRU":
        grad_hh = np.zeros_like(grad_ih)
        _gru_backward(gy, dh, context.w_hh, context.hprev, context.gates, context.extra,
                      context.batch_sizes, context.reverse, grad_ih, grad_hh)
    else:
        _rnn_backward(gy, dh, context.w_hh, context.y, context.batch_sizes, context.reverse,
                      mode == "RNN_RELU", grad_ih)
    rows_ih = grad_ih.reshape(steps * batch, width)
    rows_hh = grad_hh.reshape(steps * batch, width)
    dx = np.dot(rows_ih, context.w_ih).reshape(context.x.shape)
    dw_ih = np.dot(rows_ih.T, context.x.reshape(steps * batch, -1))
    dw_hh = np.dot(rows_hh.T, context.hprev.reshape(steps * batch, hidden))
    return dx, dh, dc, dw_ih, dw_hh, rows_ih.sum(axis=0), rows_hh.sum(axis=0)
