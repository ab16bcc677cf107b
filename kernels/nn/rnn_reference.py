"""Recurrent layers in plain numpy, one time step at a time, written for clarity:
the test oracle of ``rnn_cpu``.

One layer and one direction of PyTorch's RNN, LSTM or GRU over a time-major
sequence x (T, B, I), from h0 (B, H) (and c0 for the LSTM), with the weights
w_ih (G H, I), w_hh (G H, H) and biases b_ih, b_hh (G H,), G the gates
(1 for the RNN, 4 for the LSTM: i, f, g, o; 3 for the GRU: r, z, n):

    RNN   h' = act(W_ih x + b_ih + W_hh h + b_hh)            act = tanh or relu
    LSTM  i, f, g, o = sig, sig, tanh, sig of (W_ih x + b_ih + W_hh h + b_hh)
          c' = f c + i g,   h' = o tanh(c')
    GRU   r = sig(W_ir x + b_ir + W_hr h + b_hr)
          z = sig(W_iz x + b_iz + W_hz h + b_hz)
          n = tanh(W_in x + b_in + r (W_hn h + b_hn))
          h' = (1 - z) n + z h

``batch_sizes[t]`` is how many sequences are still running at step t (the
sequences sorted longest first, as in a PackedSequence): only the first
``batch_sizes[t]`` rows step; the others keep their state, and their output
is zero. ``reverse`` runs the steps from t = T - 1 down to 0, so that each
sequence starts at its own last element from h0.

    forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, batch_sizes, reverse)
                                        y (T, B, H), h_n, c_n, context
    backward(gy, gh_n, gc_n, context, input_grad=True)
                                        dL/dx, dL/dh0, dL/dc0, dL/dw_ih, dL/dw_hh,
                                        dL/db_ih, dL/db_hh; dL/dx None without
                                        input_grad (the input needs no gradient)

``mode`` is "RNN_TANH", "RNN_RELU", "LSTM" or "GRU"; c0, c_n, gc_n and dL/dc0 are
None except for the LSTM. The backward is backpropagation through time: the
steps in the opposite order, each cell's gradient from what its forward kept.
"""
from __future__ import annotations

from typing import Any

import numpy as np

name = "reference"

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


# -- one step of each cell --------------------------------------------------------------------
# forward: (h', c' or None, cache); backward, from dL/dh' and dL/dc': dL/d(the gates' input
# sums) on the input side and on the hidden side (they differ in the GRU's n), the part of
# dL/dh that bypasses W_hh, and dL/dc.
def rnn_step(x, h, c, w_ih, w_hh, b_ih, b_hh, relu: bool):
    a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    h_new = np.maximum(a, 0) if relu else np.tanh(a)
    return h_new, None, (x, h, h_new, relu)


def rnn_step_grad(dh, dc, cache):
    x, h, h_new, relu = cache
    da = dh * ((h_new > 0) if relu else (1 - h_new ** 2))
    return da, da, 0, None


def lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh, relu: bool):
    a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    ai, af, ag, ao = np.split(a, 4, axis=1)
    i, f, g, o = sigmoid(ai), sigmoid(af), np.tanh(ag), sigmoid(ao)
    c_new = f * c + i * g
    h_new = o * np.tanh(c_new)
    return h_new, c_new, (x, h, c, i, f, g, o, c_new)


def lstm_step_grad(dh, dc, cache):
    x, h, c, i, f, g, o, c_new = cache
    tanh_c = np.tanh(c_new)
    do = dh * tanh_c
    dc = dc + dh * o * (1 - tanh_c ** 2)
    di, df, dg = dc * g, dc * c, dc * i
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2),
                         do * o * (1 - o)], axis=1)
    return da, da, 0, dc * f


def gru_step(x, h, c, w_ih, w_hh, b_ih, b_hh, relu: bool):
    xr, xz, xn = np.split(x @ w_ih.T + b_ih, 3, axis=1)
    hr, hz, hn = np.split(h @ w_hh.T + b_hh, 3, axis=1)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    h_new = (1 - z) * n + z * h
    return h_new, None, (x, h, r, z, n, hn)


def gru_step_grad(dh, dc, cache):
    x, h, r, z, n, hn = cache
    dn, dz = dh * (1 - z), dh * (h - n)
    dan = dn * (1 - n ** 2)
    dar = dan * hn * r * (1 - r)
    daz = dz * z * (1 - z)
    return (np.concatenate([dar, daz, dan], axis=1),
            np.concatenate([dar, daz, dan * r], axis=1), dh * z, None)


STEPS = {"RNN_TANH": (rnn_step, rnn_step_grad), "RNN_RELU": (rnn_step, rnn_step_grad),
         "LSTM": (lstm_step, lstm_step_grad), "GRU": (gru_step, gru_step_grad)}


def _order(steps: int, reverse: bool) -> range:
    return range(steps - 1, -1, -1) if reverse else range(steps)


def forward(mode: str, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None, w_ih: np.ndarray,
            w_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray, batch_sizes: np.ndarray,
            reverse: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[str, Any]]:
    """The layer's output at every step, its last states and what backward needs."""
    step = STEPS[mode][0]
    h = h0.copy()
    c = c0.copy() if mode == "LSTM" else np.zeros_like(h0)
    y = np.zeros((x.shape[0], *h0.shape), x.dtype)
    caches = []
    for t in _order(x.shape[0], reverse):
        n = batch_sizes[t]
        # copies: the cache keeps them, and h and c change in place below
        h_new, c_new, cache = step(x[t, :n], h[:n].copy(), c[:n].copy(), w_ih, w_hh, b_ih,
                                   b_hh, mode == "RNN_RELU")
        caches.append((t, n, cache))
        h[:n] = h_new
        if c_new is not None:
            c[:n] = c_new
        y[t, :n] = h_new
    context = {"mode": mode, "caches": caches, "x_shape": x.shape, "h0": h0, "w_ih": w_ih,
               "w_hh": w_hh}
    return y, h, (c if mode == "LSTM" else None), context


def backward(gy: np.ndarray, gh_n: np.ndarray, gc_n: np.ndarray | None, context: dict[str, Any],
             input_grad: bool = True):
    """dL/dx (None unless ``input_grad``), dL/dh0, dL/dc0 (None but for the LSTM), dL/dw_ih,
    dL/dw_hh, dL/db_ih, dL/db_hh."""
    step_grad = STEPS[context["mode"]][1]
    w_ih, w_hh = context["w_ih"], context["w_hh"]
    dx = np.zeros(context["x_shape"], gy.dtype)
    dw_ih, dw_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
    db_ih, db_hh = np.zeros(w_ih.shape[0], gy.dtype), np.zeros(w_hh.shape[0], gy.dtype)
    dh = gh_n.copy()
    dc = gc_n.copy() if gc_n is not None else np.zeros_like(dh)
    for t, n, cache in reversed(context["caches"]):
        x, h = cache[0], cache[1]
        da_ih, da_hh, dh_direct, dc_prev = step_grad(dh[:n] + gy[t, :n], dc[:n], cache)
        dx[t, :n] = da_ih @ w_ih
        dw_ih += da_ih.T @ x
        dw_hh += da_hh.T @ h
        db_ih += da_ih.sum(axis=0)
        db_hh += da_hh.sum(axis=0)
        dh[:n] = da_hh @ w_hh + dh_direct
        if dc_prev is not None:
            dc[:n] = dc_prev
    return (dx if input_grad else None, dh, (dc if context["mode"] == "LSTM" else None), dw_ih,
            dw_hh, db_ih, db_hh)
