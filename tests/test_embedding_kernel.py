"""The embedding scatter-add kernel (kernels/nn: cpu.embedding_grad, an njit loop)
against the numpy reference (np.add.at), and the two ops that use it: the
Embedding layer and integer-array indexing ``C[X]`` (gradchecks)."""
from __future__ import annotations

import numpy as np
import pytest

import minidl
import minidl.nn.functional as F
from minidl.kernels.nn import cpu, reference


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("lookups, rows, dim", [(96, 27, 10), (5, 3, 1), (0, 4, 2),
                                                (1000, 7, 33)])
def test_cpu_matches_the_reference(dtype: type, lookups: int, rows: int, dim: int) -> None:
    rng = np.random.default_rng(lookups)
    index = rng.integers(0, rows, lookups)        # many repeats: every row is hit often
    g = rng.standard_normal((lookups, dim)).astype(dtype)
    expected = reference.embedding_grad(index, g, rows)
    got = cpu.embedding_grad(index, g, rows)
    assert got.dtype == dtype and got.shape == (rows, dim)
    np.testing.assert_allclose(got, expected, rtol=1e-6 if dtype == np.float32 else 1e-12)


def test_reference_sums_repeated_rows() -> None:
    g = np.array([[1.0, 2.0], [10.0, 20.0], [100.0, 200.0]])
    np.testing.assert_array_equal(reference.embedding_grad(np.array([2, 0, 2]), g, 3),
                                  [[10, 20], [0, 0], [101, 202]])


def test_cpu_reads_a_non_contiguous_gradient() -> None:
    g = np.arange(24.0).reshape(4, 6)[:, ::2]
    index = np.array([1, 1, 0, 2])
    np.testing.assert_array_equal(cpu.embedding_grad(index, g, 3),
                                  reference.embedding_grad(index, g, 3))


def test_embedding_and_integer_indexing_gradchecks() -> None:
    weight = minidl.randn(6, 3, dtype=minidl.float64, requires_grad=True)
    index = np.array([[0, 5, 5], [2, 0, 0]])
    assert minidl.gradcheck(lambda w: F.embedding(index, w), weight)
    assert minidl.gradcheck(lambda w: w[index], weight)
    assert minidl.gradcheck(lambda w: w[minidl.tensor([-1, 0, -1])], weight)
    vector = minidl.randn(5, dtype=minidl.float64, requires_grad=True)
    assert minidl.gradcheck(lambda v: v[np.array([[4, 4], [1, -5]])], vector)


def test_integer_indexing_gradient_equals_add_at() -> None:
    table = minidl.randn(27, 10, requires_grad=True)
    index = np.random.default_rng(0).integers(0, 27, (32, 3))
    g = np.random.default_rng(1).standard_normal((32, 3, 10)).astype(np.float32)
    table[index].backward(g)
    expected = np.zeros((27, 10), np.float32)
    np.add.at(expected, index, g)
    np.testing.assert_allclose(np.asarray(table.grad), expected, rtol=1e-6)
