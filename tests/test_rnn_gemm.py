"""minidl.kernels.nn.gemm: products into row-strided views, with beta, whole and cut into
OpenBLAS's small-matrix sizes, against numpy's matmul."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minidl.kernels.jit import njit
from minidl.kernels.nn import gemm as kernels


@njit
def _into_views(a, b, out, beta, rows, cols, depth, cut):
    """The product of a[1:1+rows, 2:2+depth] and b[:depth, 3:3+cols] into
    out[2:2+rows, 1:1+cols]: every operand a view with a row stride of its own."""
    left, right = a[1:1 + rows, 2:2 + depth], b[:depth, 3:3 + cols]
    target = out[2:2 + rows, 1:1 + cols]
    if cut:
        kernels.small_gemm(left, right, target, beta)
    else:
        kernels.gemm(left, right, target, beta)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([np.float32, np.float64]), st.integers(1, 9), st.integers(1, 9),
       st.integers(1, 9), st.sampled_from([0.0, 1.0, 0.5]), st.booleans(),
       st.integers(0, 2**16))
def test_gemm_writes_only_its_view(dtype, rows, cols, depth, beta, cut, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((rows + 3, depth + 4)).astype(dtype)
    b = rng.standard_normal((depth + 2, cols + 5)).astype(dtype)
    out = rng.standard_normal((rows + 4, cols + 3)).astype(dtype)
    if beta == 0:
        out[2:2 + rows, 1:1 + cols] = np.nan    # BLAS reads no C at beta 0
    expected = out.copy()
    product = a[1:1 + rows, 2:2 + depth] @ b[:depth, 3:3 + cols]
    expected[2:2 + rows, 1:1 + cols] = product + (
        0 if beta == 0 else beta * out[2:2 + rows, 1:1 + cols])
    _into_views(a, b, out, dtype(beta), rows, cols, depth, cut)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k, n", [(32, 128, 512), (32, 512, 128), (32, 256, 1024),
                                     (3, 700, 600), (32, 64, 256)])
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_small_gemm_cuts_large_products_and_adds_up(dtype, m, k, n, beta):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    out = rng.standard_normal((m, n)).astype(dtype)
    expected = a.astype(np.float64) @ b + beta * out
    njit(lambda a, b, out, beta: kernels.small_gemm(a, b, out, beta))(a, b, out, dtype(beta))
    tolerance = 1e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(out, expected, rtol=tolerance, atol=tolerance * np.sqrt(k))


@pytest.mark.parametrize("length, rest, width", [
    (512, 32 * 128, 128),     # h (32, 128) @ W^T (128, 512): 4 products of 32 128 128
    (512, 32 * 128, 128),     # dG (32, 512) @ W (512, 128), cut along k
    (1024, 32 * 256, 64),     # hidden 256
    (256, 32 * 64, 256),      # hidden 64: one product, m n k = 524288
    (100, 10**6, 16),         # beyond SMALL even at 16: the narrowest block
    (5, 3, 5)])               # shorter than 16: the whole length
def test_block_width_is_the_widest_power_of_two_within_small(length, rest, width):
    assert kernels._width(length, rest) == width
    if 16 < width < length:
        assert rest * width <= kernels.SMALL < rest * width * 2


@pytest.mark.parametrize("operand", ["a", "b", "out"])
def test_gemm_refuses_operands_whose_rows_are_not_contiguous(operand):
    """BLAS is told each row stride only: an operand whose elements within a row are not
    adjacent (a transposed or a strided view) would be read wrongly, so it is refused."""
    rng = np.random.default_rng(0)
    arrays = {"a": rng.standard_normal((4, 3)), "b": rng.standard_normal((3, 5)),
              "out": np.zeros((4, 5))}
    arrays[operand] = np.asfortranarray(arrays[operand])
    call = njit(lambda a, b, out, beta: kernels.gemm(a, b, out, beta))
    with pytest.raises(ValueError, match="rows"):
        call(arrays["a"], arrays["b"], arrays["out"], 0.0)
