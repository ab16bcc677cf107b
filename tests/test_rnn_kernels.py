"""minidl.kernels.nn.rnn_cpu against the numpy reference, and the reference against
finite differences of its own forward; the vectorisable exp of ``vexp`` against numpy's.

Hypothesis draws the cell, the direction, the sizes (batch 1 and hidden 1
included) and the running batch sizes of a packed batch (rows that stop early).
"""
from __future__ import annotations

import platform
import re
import types

import numba
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minidl.kernels.jit import njit
from minidl.kernels.nn import rnn_cpu as cpu, rnn_reference as reference, vexp

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


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cpu_matches_reference_where_the_step_products_are_cut(mode, dtype):
    """Batch 32, hidden 200: each step's products exceed gemm.SMALL and go as blocks
    (the hypothesis sizes above stay far below it); a packed batch, both directions."""
    steps, batch, features, hidden = 3, 32, 7, 200
    width = reference.GATES[mode] * hidden
    assert batch * hidden * width > 10**6
    rng = np.random.default_rng(5)

    def draw(*shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(dtype)
    batch_sizes = np.array([batch, batch, batch - 5])
    arrays = (draw(steps, batch, features), draw(batch, hidden),
              draw(batch, hidden) if mode == "LSTM" else None, draw(width, features, scale=0.2),
              draw(width, hidden, scale=0.1), draw(width), draw(width), batch_sizes)
    cotangents = (draw(steps, batch, hidden), draw(batch, hidden),
                  draw(batch, hidden) if mode == "LSTM" else None)
    tolerance = {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-10,
                                                                         "atol": 1e-11}
    for reverse in (False, True):
        *expected, ref_context = reference.forward(mode, *arrays, reverse)
        *got, context = cpu.forward(mode, *arrays, reverse)
        pairs = list(zip(got, expected)) + list(zip(
            cpu.backward(*cotangents, context), reference.backward(*cotangents, ref_context)))
        for mine, theirs in pairs:
            if theirs is not None:
                np.testing.assert_allclose(mine, theirs, **tolerance)


@settings(max_examples=15, deadline=None)
@given(rnn_cases())
@pytest.mark.parametrize("backend", [cpu, reference])
def test_backward_without_input_grad_skips_only_dx(backend, case):
    mode, arrays, (gy, gh, gc), reverse = case
    *_, context = backend.forward(mode, *arrays, reverse)
    full = backend.backward(gy, gh, gc, context)
    without = backend.backward(gy, gh, gc, context, input_grad=False)
    assert without[0] is None and full[0] is not None
    for mine, theirs in zip(without[1:], full[1:]):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            np.testing.assert_array_equal(mine, theirs)


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


@pytest.mark.needs_jit
@pytest.mark.parametrize("dtype, low, high", [(np.float32, -87.0, 88.0),
                                              (np.float64, -708.0, 708.0)])
def test_vectorisable_exp_is_within_two_units_in_the_last_place(dtype, low, high):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(low, high, 20000), rng.uniform(-3, 3, 20000),
                        np.linspace(-1e-4, 1e-4, 101), [low, high, 0.0]]).astype(dtype)
    got, one = np.empty_like(x), dtype(1)
    sigmoids, tanhs = np.empty_like(x), np.empty_like(x)
    _apply(x, got, sigmoids, tanhs, one)
    exact = np.exp(x.astype(np.float64))
    assert np.max(np.abs(got - exact) / exact) <= 2 * np.finfo(dtype).eps
    wide = np.array([-1e4, 1e4, -np.inf, np.inf], dtype)   # beyond the clamp: finite
    _apply(wide, got[:4], sigmoids[:4], tanhs[:4], one)
    assert np.all(np.isfinite(got[:4])) and got[0] < 1e-37
    np.testing.assert_allclose(sigmoids[:4], [0, 1, 0, 1], atol=1e-37)
    np.testing.assert_array_equal(tanhs[:4], [-1, 1, -1, 1])
    # sigmoid and tanh to a few units in the last place of 1
    _apply(x, got, sigmoids, tanhs, one)
    wide_x = x.astype(np.float64)
    assert np.max(np.abs(sigmoids - 1 / (1 + np.exp(-wide_x)))) <= 4 * np.finfo(dtype).eps
    assert np.max(np.abs(tanhs - np.tanh(wide_x))) <= 4 * np.finfo(dtype).eps


@njit
def _apply(x, exps, sigmoids, tanhs, one):
    for k in range(x.size):
        exps[k] = vexp.exp(x[k])
        sigmoids[k] = vexp.sigmoid(x[k], one)
        tanhs[k] = vexp.tanh(x[k], one)


@njit
def _libm_sigmoid(a, one):
    return one / (one + np.exp(-a))


@njit
def _libm_tanh(a, one):
    return np.tanh(a)


def packed_float32_count(sigmoid, tanh) -> int:
    """Packed float32 arithmetic on vector registers (ymm, zmm) in the LSTM forward
    compiled anew, with its jit options, around the given sigmoid and tanh."""
    cpu.forward("LSTM", *[np.ones(shape, np.float32) for shape in
                          [(2, 3, 4), (3, 5), (3, 5), (20, 4), (20, 5), (20,), (20,)]],
                np.full(2, 3), False)
    compiled = cpu._lstm_forward
    signature = next(s for s in compiled.signatures if str(s[0].dtype) == "float32")
    options = dict(compiled.targetoptions)
    options.pop("nopython")
    options.pop("cache", None)   # numba shows no assembly of cached code
    function = compiled.py_func
    kernel = numba.njit(types.FunctionType(function.__code__, {
        **function.__globals__, "sigmoid": sigmoid, "tanh": tanh}), **options)
    kernel.compile(signature)
    return len(re.findall(r"\bv(?:mul|add|sub|div|fmadd\w*|max|min)ps\s+[^\n]*%[yz]mm",
                          kernel.inspect_asm(signature)))


@pytest.mark.needs_jit
@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 assembly check")
def test_float32_lstm_forward_vectorises_with_vexp_only():
    """With vexp's exp the gate passes compile to packed float32 arithmetic; around libm's
    exp and tanh (numba's np.exp, np.tanh) they stay scalar (measured: 69 against 19)."""
    assert packed_float32_count(vexp.sigmoid, vexp.tanh) > 2 * packed_float32_count(
        _libm_sigmoid, _libm_tanh)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layout", ["fortran", "strided"])
def test_cpu_takes_weights_of_any_layout(mode, layout):
    """A weight computed by a parametrization may be a transposed or strided view; the
    per-step products read W_hh by rows, so the kernel must not take its layout on trust."""
    rng = np.random.default_rng(3)
    steps, batch, features, hidden = 4, 3, 5, 6
    width = reference.GATES[mode] * hidden
    x, h0 = rng.standard_normal((steps, batch, features)), rng.standard_normal((batch, hidden))
    c0 = rng.standard_normal((batch, hidden)) if mode == "LSTM" else None
    w_ih, w_hh = rng.standard_normal((width, features)), rng.standard_normal((width, hidden))
    b_ih, b_hh = rng.standard_normal(width), rng.standard_normal(width)
    batch_sizes = np.array([3, 3, 2, 1])
    gy, gh = rng.standard_normal((steps, batch, hidden)), rng.standard_normal((batch, hidden))
    gc = rng.standard_normal((batch, hidden)) if mode == "LSTM" else None

    def relaid(w):
        return np.asfortranarray(w) if layout == "fortran" else np.repeat(w, 2, axis=1)[:, ::2]
    assert not relaid(w_hh).flags["C_CONTIGUOUS"]
    *expected, ref_context = reference.forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh,
                                               batch_sizes, False)
    *got, context = cpu.forward(mode, x, h0, c0, relaid(w_ih), relaid(w_hh), b_ih, b_hh,
                                batch_sizes, False)
    for mine, theirs in zip(got, expected):
        if theirs is not None:
            np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)
    for mine, theirs, name in zip(cpu.backward(masked(gy, batch_sizes), gh, gc, context),
                                  reference.backward(masked(gy, batch_sizes), gh, gc,
                                                     ref_context),
                                  ["x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh"]):
        if theirs is not None:
            np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12, err_msg=name)
