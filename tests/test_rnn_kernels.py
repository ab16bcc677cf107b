"""minidl.kernels.nn.rnn_cpu against the numpy reference, and the reference against
finite differences of its own forward.

Hypothesis draws the cell, the direction, the sizes (batch 1 and hidden 1
included) and the running batch sizes of a packed batch (rows that stop early).
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from minidl.kernels.nn import rnn_cpu as cpu, rnn_reference as reference

fast = settings(max_examples=40, deadline=None)
MODES = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]


@st.composite
def rnn_cases(draw, dtype=np.float64):
    """(mode, arrays for forward, cotangents for backward, reverse)."""
    mode = draw(st.sampled_from(MODES))
    steps, batch = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    features, hidden = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    # sequences sorted longest first: batch_sizes does not increase, starts at batch
    lengths = sorted(draw(st.lists(st.integers(1, steps), min_size=batch, max_size=batch)),
                     reverse=True)
    lengths[0] = steps
    batch_sizes = (np.array(lengths)[:, None] > np.arange(steps)).sum(0)
    width = reference.GATES[mode] * hidden
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))

    def draw_array(*shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(dtype)
    arrays = (draw_array(steps, batch, features), draw_array(batch, hidden),
              draw_array(batch, hidden) if mode == "LSTM" else None,
              draw_array(width, features, scale=0.6), draw_array(width, hidden, scale=0.6),
              draw_array(width), draw_array(width), batch_sizes)
    cotangents = (draw_array(steps, batch, hidden), draw_array(batch, hidden),
                  draw_array(batch, hidden) if mode == "LSTM" else None)
    return mode, arrays, cotangents, draw(st.booleans())


def masked(y: np.ndarray, batch_sizes: np.ndarray) -> np.ndarray:
    """Zero the cotangent where a sequence has ended (its output there is a constant 0)."""
    y = y.copy()
    for t, n in enumerate(batch_sizes):
        y[t, n:] = 0
    return y


@fast
@given(st.sampled_from([np.float32, np.float64]).flatmap(
    lambda dtype: st.tuples(st.just(dtype), rnn_cases(dtype))))
def test_cpu_matches_reference(drawn):
    dtype, (mode, arrays, (gy, gh, gc), reverse) = drawn
    tolerance = {"rtol": 1e-4, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-10,
                                                                          "atol": 1e-12}
    *expected, ref_context = reference.forward(mode, *arrays, reverse)
    *got, context = cpu.forward(mode, *arrays, reverse)
    for mine, theirs in zip(got, expected):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            assert mine.dtype == dtype
            np.testing.assert_allclose(mine, theirs, **tolerance)
    for mine, theirs, name in zip(cpu.backward(gy, gh, gc, context),
                                  reference.backward(gy, gh, gc, ref_context),
                                  ["x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh"]):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            assert mine.dtype == dtype, name
            np.testing.assert_allclose(mine, theirs, **tolerance, err_msg=name)


@settings(max_examples=15, deadline=None)
@given(rnn_cases())
def test_reference_gradients_match_finite_differences(case):
    mode, arrays, (gy, gh, gc), reverse = case
    batch_sizes = arrays[-1]
    gy = masked(gy, batch_sizes)

    def loss(values):
        y, h, c, _ = reference.forward(mode, *values, batch_sizes, reverse)
        return (y * gy).sum() + (h * gh).sum() + (0 if c is None else (c * gc).sum())
    inputs = list(arrays[:-1])
    _, _, _, context = reference.forward(mode, *arrays, reverse)
    grads = reference.backward(gy, gh, gc, context)
    eps = 1e-6
    for k, (value, grad) in enumerate(zip(inputs, grads)):
        if value is None:
            continue
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            saved = value[index]
            value[index] = saved + eps
            up = loss(inputs)
            value[index] = saved - eps
            down = loss(inputs)
            value[index] = saved
            numeric[index] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6, err_msg=f"input {k}")
