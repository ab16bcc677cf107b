"""Recurrent layers as numba.njit loops on the CPU (the API of ``rnn_reference``).

One call runs a whole layer and direction. The data path of a forward:

    proj = x W_ih^T                      (T B, G H): one BLAS matmul for all the steps
    for each step t (one njit loop):
        proj[t] += h W_hh^T              (B, G H): BLAS, in place (``gemm.small_gemm``;
                                         the GRU keeps h W_hh^T apart, in hh)
        per row, a few passes over its G H values, each storing one array: the
        gates from proj[t] + the biases (the LSTM's activated in place, in proj),
        the new state, the output; the activated gates are kept

and of the backward (backpropagation through time), from the end:

    for each step t (one njit loop):
        per row, a few passes, each storing one array: dL/d(the gates' input
        sums) at step t from dL/dh, dL/dc and the kept gates, into dG (T, B, G H)
        dL/dh_{t-1} = dG[t] W_hh         BLAS (``gemm.small_gemm``), plus the GRU's z dL/dh
    dL/dx = dG W_ih,  dL/dW_ih = dG^T x,  dL/dW_hh = dG^T h_prev,  dL/db = sums of dG
                                         three BLAS matmuls over all the steps (dL/dx
                                         only where the input needs a gradient)

The GRU's n gate multiplies its hidden-side sum by r, so its dG has an
input side and a hidden side (``dG_ih``, ``dG_hh``) that differ in the n block;
the RNN's and the LSTM's are one array. Only the first ``batch_sizes[t]``
rows step at t (see ``rnn_reference``); the others keep their state and pass
dL/dh through unchanged.

Compiled by ``kernels/jit.py`` (``error_model="numpy"``, no fastmath,
``cache=True`` with its fallback); the constants are in the arrays' dtype, so
float32 stays float32. numba's disk cache tracks this file only: after editing
``gemm.py`` or ``vexp.py``, which these loops inline, delete
``kernels/nn/__pycache__/rnn_cpu.*.nbi``/``.nbc`` (or touch this file), or the
old code keeps running. The loops run serially: each step waits for the one
before, and the per-step matmuls are small. Those go to BLAS through
``gemm.small_gemm``, which writes into a slice of the kept buffers and cuts a
product into OpenBLAS's small-matrix sizes: at hidden 128 a step's h W_hh^T
took 65 us as one ``np.dot`` and 39 us as four products of 128 columns.

sigmoid and tanh come from ``vexp``: an exp of arithmetic and a bit cast, which
LLVM vectorises, where numba calls libm's exp and tanh one element at a time.
On 409600 float32 values (one LSTM layer's gates at batch 32, sequence 50,
hidden 64), one thread, under load: np.tanh in an njit loop 15 ms, tanh as
2 sigmoid(2 a) - 1 over np.exp 1.0 ms, sigmoid over np.exp 1.9 ms and over
``vexp.exp`` 0.37 ms (numpy's own vectorised tanh: 0.15 ms). The LSTM forward at
those sizes: 3.0-3.5 ms with np.exp in one fused loop per row, 1.3 ms with
``vexp`` and a loop per stored array. The LSTM keeps tanh(c) for the backward,
which then needs no exp at all.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..jit import njit
from .gemm import small_gemm
from .vexp import sigmoid, tanh

name = "cpu"


# Each gate's block of a (G H) vector, indexed [gate, j] in the (..., G, H) views: an
# index hidden + j would keep numba's negative-index wraparound check in the inner loop
# (LLVM cannot prove it >= 0) and stop it from vectorising.
I, F, G, O = 0, 1, 2, 3      # LSTM
R, Z, N = 0, 1, 2            # GRU


# -- forward loops: state h (and c) updated in place; hprev[t] = the state entering step t ----
# Each pass over a row stores into one array, so that LLVM vectorises it: with several
# arrays stored into (and read) in one loop, the checks that they do not overlap
# exceed what it will test at run time, and the loop stays scalar (measured: the
# LSTM forward 3.5 times slower with one fused loop, its backward's gate math 3.3).
@njit
def _rnn_forward(proj, h, w_hh_t, bias, batch_sizes, reverse, relu, y, hprev):
    """proj (T, B, H): x W_ih^T on entry, each step's sums (made in place) on return."""
    steps, hidden = proj.shape[0], h.shape[1]
    zero, one = h.dtype.type(0), h.dtype.type(1)
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        n = batch_sizes[t]
        hprev[t] = h
        small_gemm(h[:n], w_hh_t, proj[t, :n], one)     # proj[t] += h W_hh^T
        for b in range(n):
            p, h_row = proj[t, b], h[b]
            for j in range(hidden):
                a = p[j] + bias[j]
                h_row[j] = max(a, zero) if relu else tanh(a, one)
            y[t, b] = h_row


@njit
def _lstm_forward(h, c, w_hh_t, bias, scale, batch_sizes, reverse, y, hprev, cprev, rows, gates,
                  tanh_cells):
    """rows (T, B, 4 H): x W_ih^T on entry, the activated gates on return, each step's
    sums made in place; gates = rows as (T, B, 4, H); bias, scale (4 H): scale is 2 on
    the g block, where tanh(a) = 2 sigmoid(2 a) - 1, and 1 elsewhere."""
    steps, hidden = rows.shape[0], h.shape[1]
    one = h.dtype.type(1)
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        n = batch_sizes[t]
        hprev[t] = h
        cprev[t] = c
        small_gemm(h[:n], w_hh_t, rows[t, :n], one)     # rows[t] += h W_hh^T
        for b in range(n):
            row = rows[t, b]
            for k in range(row.shape[0]):      # i, f, g, o
                m = scale[k]
                row[k] = m * sigmoid(m * (row[k] + bias[k]), one) - (m - one)
            gate, c_row, tanh_c, h_row = gates[t, b], c[b], tanh_cells[t, b], h[b]
            for j in range(hidden):            # c' = f c + i g
                c_row[j] = gate[F, j] * c_row[j] + gate[I, j] * gate[G, j]
            for j in range(hidden):
                tanh_c[j] = tanh(c_row[j], one)
            for j in range(hidden):            # h' = o tanh(c')
                h_row[j] = gate[O, j] * tanh_c[j]
            y[t, b] = h_row


@njit
def _gru_forward(proj, h, w_hh_t, b_ih, b_hh, batch_sizes, reverse, y, hprev, rows, gates,
                 hidden_n):
    """proj, rows (T, B, 3 H); gates = rows as (T, B, 3, H); b_ih, b_hh (3 H)."""
    steps, hidden = proj.shape[0], h.shape[1]
    one = h.dtype.type(1)
    hh = np.empty((h.shape[0], w_hh_t.shape[1]), h.dtype)
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        n = batch_sizes[t]
        hprev[t] = h
        small_gemm(h[:n], w_hh_t, hh[:n], 0)           # hh = h W_hh^T
        for b in range(n):
            p, q, row = proj[t, b], hh[b], rows[t, b]
            for k in range(2 * hidden):        # r, z
                row[k] = sigmoid(p[k] + b_ih[k] + q[k] + b_hh[k], one)
            gate, hn, h_row = gates[t, b], hidden_n[t, b], h[b]
            q_n, b_n = q[2 * hidden:], b_hh[2 * hidden:]
            p_n, bi_n = p[2 * hidden:], b_ih[2 * hidden:]
            for j in range(hidden):            # W_hn h + b_hn
                hn[j] = q_n[j] + b_n[j]
            new = gate[N]
            for j in range(hidden):            # n = tanh(W_in x + b_in + r (W_hn h + b_hn))
                new[j] = tanh(p_n[j] + bi_n[j] + gate[R, j] * hn[j], one)
            for j in range(hidden):            # h' = (1 - z) n + z h
                h_row[j] = (one - gate[Z, j]) * new[j] + gate[Z, j] * h_row[j]
            y[t, b] = h_row


# -- backward loops: dh (and dc) from dL/dh_n, dL/dc_n, updated in place down to step 0 -------
# ``grad`` (T, B, G H) and ``grad4``, the same memory as (T, B, G, H): the gate passes
# write grad4, the matmul reads grad.
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
        small_gemm(grad[t, :n], w_hh, dh[:n], 0)


@njit
def _lstm_backward(gy, dh, dc, w_hh, cprev, gates, tanh_cells, batch_sizes, reverse, grad,
                   grad4):
    """One pass per stored array, as in the forward (measured on the gate math alone at
    hidden 64: 118 us against 392 for one fused loop)."""
    steps, hidden = gy.shape[0], dh.shape[1]
    one = dh.dtype.type(1)
    dh_total = np.empty(hidden, dh.dtype)
    for s in range(steps):
        t = s if reverse else steps - 1 - s
        n = batch_sizes[t]
        for b in range(n):
            gate, d, tanh_c, c_prev = gates[t, b], grad4[t, b], tanh_cells[t, b], cprev[t, b]
            dh_row, dc_row, gy_row = dh[b], dc[b], gy[t, b]
            for j in range(hidden):
                dh_total[j] = dh_row[j] + gy_row[j]
            for j in range(hidden):            # dL/dc' through h' = o tanh(c'), kept in dc
                dc_row[j] += dh_total[j] * gate[O, j] * (one - tanh_c[j] * tanh_c[j])
            for j in range(hidden):
                d[I, j] = dc_row[j] * gate[G, j] * gate[I, j] * (one - gate[I, j])
            for j in range(hidden):
                d[F, j] = dc_row[j] * c_prev[j] * gate[F, j] * (one - gate[F, j])
            for j in range(hidden):
                d[G, j] = dc_row[j] * gate[I, j] * (one - gate[G, j] * gate[G, j])
            for j in range(hidden):
                d[O, j] = dh_total[j] * tanh_c[j] * gate[O, j] * (one - gate[O, j])
            for j in range(hidden):            # dL/dc through c' = f c + i g
                dc_row[j] *= gate[F, j]
        small_gemm(grad[t, :n], w_hh, dh[:n], 0)


@njit
def _gru_backward(gy, dh, w_hh, hprev, gates, hidden_n, batch_sizes, reverse, grad_ih4,
                  grad_hh, grad_hh4):
    """One pass per stored array, as the LSTM's."""
    steps, hidden = gy.shape[0], dh.shape[1]
    one = dh.dtype.type(1)
    dh_total = np.empty(hidden, dh.dtype)
    for s in range(steps):
        t = s if reverse else steps - 1 - s
        n = batch_sizes[t]
        for b in range(n):
            gate, d_ih, d_hh = gates[t, b], grad_ih4[t, b], grad_hh4[t, b]
            dh_row, gy_row, h_prev, hn = dh[b], gy[t, b], hprev[t, b], hidden_n[t, b]
            for j in range(hidden):
                dh_total[j] = dh_row[j] + gy_row[j]
            for j in range(hidden):            # through h' = (1 - z) n + z h
                d_ih[N, j] = dh_total[j] * (one - gate[Z, j]) * (one - gate[N, j] * gate[N, j])
            for j in range(hidden):
                d_ih[R, j] = d_ih[N, j] * hn[j] * gate[R, j] * (one - gate[R, j])
            for j in range(hidden):
                d_ih[Z, j] = (dh_total[j] * (h_prev[j] - gate[N, j]) * gate[Z, j]
                              * (one - gate[Z, j]))
            for j in range(hidden):            # the hidden side: the n block times r
                d_hh[R, j] = d_ih[R, j]
            for j in range(hidden):
                d_hh[Z, j] = d_ih[Z, j]
            for j in range(hidden):
                d_hh[N, j] = d_ih[N, j] * gate[R, j]
            for j in range(hidden):            # the part that bypasses W_hh
                dh_row[j] = dh_total[j] * gate[Z, j]
        small_gemm(grad_hh[t, :n], w_hh, dh[:n], one)  # dh += dG_hh W_hh


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


def _allocate(batch_sizes: np.ndarray, batch: int):
    """np.empty where every row steps at every step, else np.zeros: the rows that do
    not step (a packed batch's ended sequences) are never written and must read 0."""
    return np.empty if batch_sizes.min() == batch else np.zeros


def forward(mode: str, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None, w_ih: np.ndarray,
            w_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray, batch_sizes: np.ndarray,
            reverse: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, Context]:
    """y (T, B, H), h_n, c_n (LSTM, else None) and the context for ``backward``."""
    steps, batch, features = x.shape
    width = w_ih.shape[0]
    w_hh = np.ascontiguousarray(w_hh)   # the backward's products read its rows (gemm.py)
    proj = np.dot(x.reshape(steps * batch, features), w_ih.T).reshape(steps, batch, width)
    w_hh_t = np.ascontiguousarray(w_hh.T)
    batch_sizes = np.ascontiguousarray(batch_sizes, dtype=np.int64)
    h = h0.copy()
    y = _allocate(batch_sizes, batch)((steps, *h0.shape), x.dtype)
    hprev = np.empty_like(y)
    gates = extra = tanh_cells = c = None
    blocks = (steps, batch, width // h0.shape[1], h0.shape[1])   # (T, B, G, H) views
    if mode == "LSTM":
        c = c0.copy()
        extra, tanh_cells = np.empty_like(y), np.empty_like(y)
        scale = np.ones(blocks[2:], x.dtype)
        scale[G] = 2
        gates = proj.reshape(blocks)     # activated in place
        _lstm_forward(h, c, w_hh_t, b_ih + b_hh, scale.ravel(), batch_sizes, reverse, y, hprev,
                      extra, proj, gates, tanh_cells)
    elif mode == "GRU":
        gates, extra = np.empty(blocks, x.dtype), np.empty_like(y)
        _gru_forward(proj, h, w_hh_t, b_ih, b_hh, batch_sizes, reverse, y, hprev,
                     gates.reshape(proj.shape), gates, extra)
    else:
        _rnn_forward(proj, h, w_hh_t, b_ih + b_hh, batch_sizes, reverse, mode == "RNN_RELU", y,
                     hprev)
    return y, h, c, Context(mode, reverse, batch_sizes, x, w_ih, w_hh, hprev, y, gates, extra,
                            tanh_cells)


def backward(gy: np.ndarray, gh_n: np.ndarray, gc_n: np.ndarray | None, context: Context,
             input_grad: bool = True):
    """dL/dx (None unless ``input_grad``), dL/dh0, dL/dc0 (LSTM, else None), dL/dw_ih,
    dL/dw_hh, dL/db_ih, dL/db_hh."""
    mode, steps, batch = context.mode, context.x.shape[0], context.x.shape[1]
    width, hidden = context.w_ih.shape[0], context.w_hh.shape[1]
    gy = np.ascontiguousarray(gy)
    dh, dc = gh_n.copy(), None
    grad_ih = _allocate(context.batch_sizes, batch)((steps, batch, width), gy.dtype)
    grad_hh = grad_ih
    if mode in ("LSTM", "GRU"):
        blocks = context.gates.shape
    if mode == "LSTM":
        dc = gc_n.copy()
        _lstm_backward(gy, dh, dc, context.w_hh, context.extra, context.gates, context.tanh_cells,
                       context.batch_sizes, context.reverse, grad_ih, grad_ih.reshape(blocks))
    elif mode == "GRU":
        grad_hh = _allocate(context.batch_sizes, batch)(grad_ih.shape, gy.dtype)
        _gru_backward(gy, dh, context.w_hh, context.hprev, context.gates, context.extra,
                      context.batch_sizes, context.reverse, grad_ih.reshape(blocks), grad_hh,
                      grad_hh.reshape(blocks))
    else:
        _rnn_backward(gy, dh, context.w_hh, context.y, context.batch_sizes, context.reverse,
                      mode == "RNN_RELU", grad_ih)
    rows_ih = grad_ih.reshape(steps * batch, width)
    rows_hh = grad_hh.reshape(steps * batch, width)
    dx = np.dot(rows_ih, context.w_ih).reshape(context.x.shape) if input_grad else None
    dw_ih = np.dot(rows_ih.T, context.x.reshape(steps * batch, -1))
    dw_hh = np.dot(rows_hh.T, context.hprev.reshape(steps * batch, hidden))
    ones = np.ones(steps * batch, gy.dtype)   # the sums over the rows as BLAS products: at
    db_ih = np.dot(ones, rows_ih)             # hidden 64, 26 us against 69 us for sum(axis=0)
    db_hh = db_ih.copy() if grad_hh is grad_ih else np.dot(ones, rows_hh)
    return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh
