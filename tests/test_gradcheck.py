"""gradcheck accepts correct backwards and catches wrong ones."""
from __future__ import annotations

import re

import numpy as np
import pytest

import minidl
from minidl import GradcheckError, Tensor, gradcheck


def leaf(array, dtype=np.float64) -> Tensor:
    return Tensor(np.asarray(array), requires_grad=True, dtype=dtype)


def square_with_wrong_backward(x: Tensor) -> Tensor:
    """x^2 whose backward forgets the factor 2."""
    return Tensor._make(x.numpy()**2, (x,), lambda g: (g * x.numpy(),))


def product_with_wrong_second_gradient(a: Tensor, b: Tensor) -> Tensor:
    """a * b whose gradient for b is d/da instead of d/db."""
    return Tensor._make(a.numpy() * b.numpy(), (a, b), lambda g: (g * b.numpy(), g * b.numpy()))


def test_passes_on_correct_ops():
    rng = np.random.default_rng(0)
    a, b = leaf(rng.standard_normal((3, 4))), leaf(rng.standard_normal((4, 2)))
    assert gradcheck(minidl.matmul, a, b) is True
    assert gradcheck(lambda x: (x * x).sum(axis=1), a) is True


def test_raises_on_a_wrong_backward():
    with pytest.raises(GradcheckError, match=r"input 0, element \(1,\)") as caught:
        gradcheck(square_with_wrong_backward, leaf([0.0, 1.5, -2.0]))
    assert isinstance(caught.value, AssertionError)
    assert "analytic" in str(caught.value) and "numeric" in str(caught.value)


def test_names_the_input_with_the_wrong_gradient():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    with pytest.raises(GradcheckError, match="input 1, element"):
        gradcheck(product_with_wrong_second_gradient, a, b)


def test_checks_only_inputs_that_require_grad():
    a, b = leaf([1.0, 2.0]), Tensor([3.0, 4.0], dtype=np.float64)
    assert gradcheck(product_with_wrong_second_gradient, a, b)


def test_reports_the_values():
    x = leaf([2.0])
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: square_with_wrong_backward(x).sum(), x)
    analytic, numeric = map(float, re.search(r"analytic gradient (\S+) but numeric (\S+)",
                                             str(caught.value)).groups())
    assert analytic / numeric == pytest.approx(0.5, rel=1e-6)  # v * x against v * 2x, at x = 2


def test_works_in_float64_on_copies():
    x = leaf(np.array([0.3, -1.2, 2.0]), dtype=np.float32)
    seen = []

    def exp_recording_dtype(t: Tensor) -> Tensor:
        seen.append(t.dtype)
        return minidl.exp(t)
    assert gradcheck(exp_recording_dtype, x)
    assert set(seen) == {np.dtype(np.float64)}
    np.testing.assert_array_equal(x.numpy(), np.array([0.3, -1.2, 2.0], dtype=np.float32))
    assert x.grad is None and x.dtype == np.float32


def test_passes_arrays_through_as_constants():
    x = leaf(np.arange(4.0))
    assert gradcheck(lambda x, index, weights: x[index] * weights, x, np.array([0, 3, 3]), np.ones(3))


def test_catches_a_graph_cut_by_the_function():
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: x.detach() * 2, leaf([1.0, 2.0]))


def test_tolerance():
    def off_by(delta):
        return lambda x: Tensor._make(x.numpy() * 3, (x,), lambda g: (g * (3 + delta),))
    x = leaf([1.0])
    assert gradcheck(off_by(1e-7), x)
    with pytest.raises(GradcheckError):
        gradcheck(off_by(1e-2), x)
    assert gradcheck(off_by(1e-2), x, atol=0.0, rtol=0.01)


@pytest.mark.parametrize("kwargs, pattern", [({"eps": 0.0}, "eps: 0.0"), ({"atol": -1.0}, "atol=-1.0"),
                                             ({"rtol": float("nan")}, "rtol=nan")])
def test_rejects_bad_settings(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        gradcheck(minidl.exp, leaf([1.0]), **kwargs)


@pytest.mark.parametrize("fn, pattern", [(lambda x: Tensor(x.numpy(), dtype=np.float32), "float32"),
                                         (lambda x: x.numpy(), "ndarray")])
def test_needs_fn_to_return_a_float64_tensor(fn, pattern):
    with pytest.raises(TypeError, match=pattern):
        gradcheck(fn, leaf([1.0]))


def test_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(minidl.exp, Tensor([1.0]))
