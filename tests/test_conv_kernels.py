"""minidl.kernels.nn: the njit kernels against the numpy reference, and the reference
against finite differences of its own forward.

Hypothesis draws the shapes, strides, dilations, groups and zero paddings (1x1
kernels, kernels as large as the input and batch size 1 included); pooling kernels
see already padded input, so pooling's padding is tested with the layers
(test_conv_layers.py).
"""
from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minidl.kernels.nn import cpu, reference

fast = settings(max_examples=30, deadline=None)


@st.composite
def conv_cases(draw):
    """(x, w, stride, dilation, groups) with a kernel that fits the input."""
    groups = draw(st.integers(1, 3))
    # channels per group around cpu.FEW_CHANNELS and cpu.SHORT_ROWS: every im2col loop
    cg, og = draw(st.sampled_from([1, 2, 3, 4, 9])), draw(st.integers(1, 3))
    n = draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    reach = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    size = [r + draw(st.integers(0, 4)) for r in reach]
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((n, cg * groups, *size))
    w = rng.standard_normal((og * groups, cg, *kernel))
    return x, w, stride, dilation, groups


@st.composite
def pool_cases(draw):
    """(x, kernel, stride) with the kernel inside the input; ties and NaNs on request.
    A third of the cases are 2 x 2 windows at stride 2, which have loops of their own."""
    if draw(st.integers(0, 2)) == 0:
        kernel, stride = (2, 2), (2, 2)
    else:
        kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
        stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    size = [k + draw(st.integers(0, 4)) for k in kernel]
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((draw(st.integers(1, 3)), draw(st.integers(1, 3)), *size))
    if draw(st.booleans()):   # few distinct values: many ties inside a window
        x = np.round(x)
    if draw(st.booleans()):   # a few NaNs, sometimes two in a window
        x[rng.random(x.shape) < 0.15] = np.nan
    return x, kernel, stride


paddings = st.tuples(st.tuples(st.integers(0, 2), st.integers(0, 2)),
                     st.tuples(st.integers(0, 2), st.integers(0, 2)))


@fast
@given(conv_cases(), st.sampled_from([np.float32, np.float64]), paddings, st.booleans())
def test_cpu_conv2d_matches_reference(case, dtype, padding, with_bias):
    x, w, stride, dilation, groups = case
    x, w = x.astype(dtype), w.astype(dtype)
    bias = np.linspace(-1, 1, w.shape[0]).astype(dtype) if with_bias else None
    expected, ref_context = reference.conv2d(x, w, stride, dilation, groups, padding, bias)
    got, context = cpu.conv2d(x, w, stride, dilation, groups, padding, bias)
    tolerance = {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-10}
    assert got.dtype == dtype and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, **tolerance)
    g = np.random.default_rng(1).standard_normal(expected.shape).astype(dtype)
    grads = cpu.conv2d_grad(g, context, True, True, True)
    assert grads[0].shape == x.shape and grads[1].shape == w.shape
    for mine, theirs in zip(grads, reference.conv2d_grad(g, ref_context, True, True, True)):
        assert mine.dtype == dtype
        np.testing.assert_allclose(mine, theirs, **tolerance)


def test_conv2d_grad_computes_only_what_is_asked():
    x, w = np.ones((1, 2, 4, 4)), np.ones((3, 2, 3, 3))
    for backend in (cpu, reference):
        y, context = backend.conv2d(x, w, (1, 1), (1, 1), 1)
        g = np.ones_like(y)
        assert backend.conv2d_grad(g, context, False, True)[0] is None
        assert backend.conv2d_grad(g, context, True, False)[1] is None
        assert backend.conv2d_grad(g, context)[2] is None   # no bias gradient unless asked


def numeric_gradient(f, x: np.ndarray, g: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d sum(f(x) * g) / dx by central differences."""
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        original = x[index]
        x[index] = original + eps
        above = np.sum(f(x) * g)
        x[index] = original - eps
        below = np.sum(f(x) * g)
        x[index] = original
        grad[index] = (above - below) / (2 * eps)
    return grad


@settings(max_examples=10, deadline=None)
@given(conv_cases(), paddings)
def test_reference_conv2d_grads_match_finite_differences(case, padding):
    x, w, stride, dilation, groups = case
    b = np.linspace(-1, 1, w.shape[0])
    y, context = reference.conv2d(x, w, stride, dilation, groups, padding, b)
    g = np.random.default_rng(2).standard_normal(y.shape)
    grad_x, grad_w, grad_b = reference.conv2d_grad(g, context, True, True, True)
    for grad, argument, convolve in (
            (grad_x, x, lambda v: reference.conv2d(v, w, stride, dilation, groups, padding, b)),
            (grad_w, w, lambda v: reference.conv2d(x, v, stride, dilation, groups, padding, b)),
            (grad_b, b, lambda v: reference.conv2d(x, w, stride, dilation, groups, padding, v))):
        np.testing.assert_allclose(grad, numeric_gradient(lambda v: convolve(v)[0], argument, g),
                                   rtol=1e-6, atol=1e-6)


def test_reference_conv2d_by_its_definition():
    """One output element written out: y[n, o, i, j] = sum w[o, c, p, q] x[n, c, i s + p d, ...]."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 4, 9, 8)), rng.standard_normal((6, 2, 2, 3))
    y, _ = reference.conv2d(x, w, (2, 1), (3, 2), 2)
    n, o, i, j = 1, 4, 1, 2     # output channel 4 is in group 1: input channels 2, 3
    expected = sum(w[o, c, p, q] * x[n, 2 + c, i * 2 + p * 3, j * 1 + q * 2]
                   for c in range(2) for p in range(2) for q in range(3))
    assert y.shape == (2, 6, 3, 4)
    assert y[n, o, i, j] == pytest.approx(expected)


@fast
@given(pool_cases(), st.sampled_from([np.float32, np.float64]))
def test_cpu_pooling_matches_reference(case, dtype):
    x, kernel, stride = case
    x = x.astype(dtype)
    expected, expected_choice = reference.max_pool2d(x, kernel, stride)
    got, choice = cpu.max_pool2d(x, kernel, stride)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(choice, expected_choice)   # ties and NaNs: the same element
    g = np.random.default_rng(4).standard_normal(got.shape).astype(dtype)
    np.testing.assert_allclose(cpu.max_pool2d_grad(g, choice, x.shape[2:], kernel, stride),
                               reference.max_pool2d_grad(g, choice, x.shape[2:], kernel, stride),
                               rtol=1e-6)
    np.testing.assert_allclose(cpu.avg_pool2d(x, kernel, stride),
                               reference.avg_pool2d(x, kernel, stride), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cpu.avg_pool2d_grad(g, x.shape[2:], kernel, stride),
                               reference.avg_pool2d_grad(g, x.shape[2:], kernel, stride),
                               rtol=1e-5, atol=1e-6)
    assert cpu.avg_pool2d(x, kernel, stride).dtype == dtype


@settings(max_examples=10, deadline=None)
@given(pool_cases())
def test_reference_pooling_grads_match_finite_differences(case):
    x, kernel, stride = case
    # no ties and no NaN: max is smooth there
    x = np.nan_to_num(x) + np.random.default_rng(5).uniform(0, 0.1, x.shape)
    y, choice = reference.max_pool2d(x, kernel, stride)
    g = np.random.default_rng(6).standard_normal(y.shape)
    np.testing.assert_allclose(
        reference.max_pool2d_grad(g, choice, x.shape[2:], kernel, stride),
        numeric_gradient(lambda v: reference.max_pool2d(v, kernel, stride)[0], x, g),
        rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        reference.avg_pool2d_grad(g, x.shape[2:], kernel, stride),
        numeric_gradient(lambda v: reference.avg_pool2d(v, kernel, stride), x, g),
        rtol=1e-6, atol=1e-6)


def test_max_pool_ties_go_to_the_first_element_and_nan_to_the_last_nan():
    """PyTorch's rule (torch 2.13: max_pool2d(..., return_indices=True) gives index 3 for
    the 2 x 3 window below and 2 for [[1, nan], [nan, 4]])."""
    x = np.array([[[[1.0, 3.0, 3.0, 0.0, 1.0, np.nan],
                    [3.0, 2.0, np.nan, 5.0, np.nan, 4.0]]]])
    for backend in (cpu, reference):
        y, choice = backend.max_pool2d(x, (2, 2), (2, 2))
        np.testing.assert_array_equal(y, [[[[3.0, np.nan, np.nan]]]])
        np.testing.assert_array_equal(choice, [[[[1, 2, 2]]]])   # offsets p KW + q
        # the general loop (a 2 x 3 window) and two NaNs: the last wins
        y, choice = backend.max_pool2d(np.array([[[[1.0, np.nan, 3.0], [np.nan, 4.0, 0.0]]]]),
                                       (2, 3), (1, 1))
        assert np.isnan(y).all() and choice.item() == 3


def test_parallel_loops_match_serial(monkeypatch):
    monkeypatch.setattr(cpu, "PARALLEL_SIZE", 1)
    rng = np.random.default_rng(7)
    # 1 and 10 channels per group: both layouts of the columns; 3 in one group: the run loops
    for channels, groups in ((2, 2), (20, 2), (3, 1)):
        x = rng.standard_normal((4, channels, 7, 7))
        w = rng.standard_normal((4, channels // groups, 3, 3))
        y, context = cpu.conv2d(x, w, (1, 2), (1, 1), groups)
        expected, ref_context = reference.conv2d(x, w, (1, 2), (1, 1), groups)
        np.testing.assert_allclose(y, expected)
        for mine, theirs in zip(cpu.conv2d_grad(np.ones_like(y), context)[:2],
                                reference.conv2d_grad(np.ones_like(y), ref_context)[:2]):
            np.testing.assert_allclose(mine, theirs)
    for kernel in ((2, 2), (3, 2)):   # the 2 x 2 loop and the general one
        np.testing.assert_array_equal(cpu.max_pool2d(x, kernel, (2, 2))[0],
                                      reference.max_pool2d(x, kernel, (2, 2))[0])
    assert all(loop.parallel.signatures for loop in (cpu._im2col, cpu._im2col_t, cpu._im2col_run,
                                                      cpu._col2im, cpu._col2im_t, cpu._col2im_run))
    assert cpu._max_pool.parallel.signatures and cpu._max_pool_2x2.parallel.signatures


def test_float32_loops_take_float32_scalars():
    """avg pooling's 1 / (KH KW) is passed in the array's dtype: no float64 signature."""
    x = np.ones((1, 1, 4, 4), np.float32)
    cpu.avg_pool2d(x, (2, 2), (2, 2))
    float32 = [s for s in cpu._avg_pool.serial.signatures if s[0].dtype == numba.float32]
    assert float32 and all(numba.float64 not in signature for signature in float32)
