"""Every op: forward values against numpy, backward against finite differences."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minidl
from minidl import Tensor, gradcheck

fast = settings(max_examples=25, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3)


def values(seed: int, shape: tuple, kind: str = "any") -> np.ndarray:
    """float64 test data: "any" normal, "positive" in [0.5, 2], "nonzero" |x| >= 0.1."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if kind == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "nonzero":
        return np.sign(x) * (np.abs(x) + 0.1)
    return x


def leaf(array: np.ndarray) -> Tensor:
    return Tensor(array, requires_grad=True, dtype=np.float64)


@st.composite
def shape_and_axis(draw, min_dims: int = 0):
    """A shape and an axis for it: None, (), an int or a tuple, negatives included."""
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=3))
    ndim = len(shape)
    form = draw(st.sampled_from(["none", "empty"] + (["int", "tuple"] if ndim else [])))
    if form == "none":
        return shape, None
    if form == "empty":
        return shape, ()
    if form == "int":
        return shape, draw(st.integers(-ndim, ndim - 1))
    dims = draw(st.lists(st.integers(0, ndim - 1), min_size=1, unique=True))
    return shape, tuple(d - ndim if draw(st.booleans()) else d for d in dims)


# -- elementwise ---------------------------------------------------------------
def _erf(x):
    return np.vectorize(math.erf)(x)


UNARY = {  # name: (minidl function, numpy reference, kind of test data)
    "neg": (minidl.neg, np.negative, "any"),
    "exp": (minidl.exp, np.exp, "any"),
    "log": (minidl.log, np.log, "positive"),
    "sqrt": (minidl.sqrt, np.sqrt, "positive"),
    "abs": (minidl.abs, np.abs, "nonzero"),
    "tanh": (minidl.tanh, np.tanh, "any"),
    "sigmoid": (minidl.sigmoid, lambda x: 1 / (1 + np.exp(-x)), "any"),
    "relu": (minidl.relu, lambda x: np.maximum(x, 0), "nonzero"),
    "leaky_relu": (minidl.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), "nonzero"),
    "leaky_relu_0.2": (lambda x: minidl.leaky_relu(x, negative_slope=0.2),
                       lambda x: np.where(x > 0, x, 0.2 * x), "nonzero"),
    "gelu": (minidl.gelu, lambda x: x * (1 + _erf(x / math.sqrt(2))) / 2, "any"),
    "gelu_tanh": (lambda x: minidl.gelu(x, approximate="tanh"),
                  lambda x: x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))) / 2,
                  "any"),
    "clip": (lambda x: minidl.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5), "clip"),
    "clip_min": (lambda x: minidl.clip(x, min=0.3), lambda x: np.maximum(x, 0.3), "clip"),
    "clip_max": (lambda x: minidl.clip(x, max=-0.3), lambda x: np.minimum(x, -0.3), "clip"),
    "square": (lambda x: x**2, np.square, "any"),
    "cube": (lambda x: minidl.pow(x, 3), lambda x: x**3, "any"),
    "pow_half": (lambda x: x**0.5, np.sqrt, "positive"),
    "pow_-1.5": (lambda x: x**-1.5, lambda x: x**-1.5, "positive"),
    "pow_0": (lambda x: x**0, np.ones_like, "any"),
}


def _unary_data(seed: int, shape: tuple, kind: str) -> np.ndarray:
    if kind != "clip":
        return values(seed, shape, kind)
    x = values(seed, shape)
    return np.where(np.abs(np.abs(x) - 0.4) < 0.15, x + 0.4, x)  # away from the bounds +-0.3, +-0.5


@pytest.mark.parametrize("name", UNARY)
@fast
@given(shape=shapes, seed=seeds)
def test_unary_forward_and_gradient(name, shape, seed):
    op, reference, kind = UNARY[name]
    x = _unary_data(seed, shape, kind)
    out = op(leaf(x))
    assert out.dtype == np.float64 and out.shape == shape
    np.testing.assert_allclose(out.numpy(), reference(x), rtol=1e-12, atol=1e-12)
    assert gradcheck(op, leaf(x))


def test_gelu_known_values():
    x = Tensor([-1.0, 0.0, 1.0], dtype=np.float64)
    np.testing.assert_allclose(minidl.gelu(x).numpy(), [-0.15865525393145707, 0.0, 0.8413447460685429])
    np.testing.assert_allclose(minidl.gelu(x, approximate="tanh").numpy(),
                               [-0.15880800939172324, 0.0, 0.8411919906082768])


@pytest.mark.parametrize("name", UNARY)
def test_unary_keeps_float32(name):
    """float32 in, float32 out and float32 gradient, close to the float64 results."""
    op, _, kind = UNARY[name]
    data = _unary_data(0, (4,), kind)
    x32, x64 = Tensor(data, requires_grad=True), leaf(data)
    out32, out64 = op(x32), op(x64)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32.numpy(), out64.numpy(), rtol=1e-6, atol=1e-7)
    out32.sum().backward()
    out64.sum().backward()
    assert x32.grad.dtype == np.float32
    np.testing.assert_allclose(x32.grad, x64.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", [minidl.exp, minidl.log, minidl.sigmoid, minidl.tanh,
                                minidl.sqrt, minidl.mean, minidl.var,
                                minidl.softmax, minidl.log_softmax, minidl.logsumexp])
def test_integer_input_gives_float32(op):
    x = Tensor([1, 2, 3])
    out = op(x)
    assert out.dtype == np.float32
    as_float = op(Tensor([1.0, 2.0, 3.0], dtype=np.float64))
    np.testing.assert_allclose(out.numpy(), as_float.numpy(), rtol=1e-6)


# -- binary ops with broadcasting ---------------------------------------------
BINARY = {
    "add": (minidl.add, np.add, lambda a, b: a + b, "any"),
    "sub": (minidl.sub, np.subtract, lambda a, b: a - b, "any"),
    "mul": (minidl.mul, np.multiply, lambda a, b: a * b, "any"),
    "div": (minidl.div, np.divide, lambda a, b: a / b, "nonzero"),
    "maximum": (minidl.maximum, np.maximum, None, "any"),
    "minimum": (minidl.minimum, np.minimum, None, "any"),
}


@pytest.mark.parametrize("name", BINARY)
@fast
@given(shapes=pairs, seed=seeds)
def test_binary_forward_and_gradient(name, shapes, seed):
    op, reference, operator, b_kind = BINARY[name]
    (shape_a, shape_b), shape_out = shapes
    a, b = values(seed, shape_a), values(seed + 1, shape_b, b_kind)
    out = op(leaf(a), leaf(b))
    assert out.shape == shape_out and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), reference(a, b))
    if operator is not None:
        np.testing.assert_allclose(operator(leaf(a), leaf(b)).numpy(), reference(a, b))
    assert gradcheck(op, leaf(a), leaf(b))


@fast
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3), seed=seeds)
def test_where_forward_and_gradient(shapes, seed):
    (shape_c, shape_a, shape_b), _ = shapes
    condition = values(seed, shape_c) > 0
    a, b = values(seed + 1, shape_a), values(seed + 2, shape_b)
    np.testing.assert_array_equal(minidl.where(condition, leaf(a), leaf(b)).numpy(), np.where(condition, a, b))
    assert gradcheck(lambda a, b: minidl.where(Tensor(condition), a, b), leaf(a), leaf(b))


def test_clip_keeps_float32_and_does_not_truncate_integers():
    assert minidl.clip(Tensor([0.2, 0.7]), 0.5, np.float64(0.6)).dtype == np.float32
    out = minidl.clip(Tensor([0, 1, 2]), 0.5, 1.5)
    np.testing.assert_array_equal(out.numpy(), [0.5, 1.0, 1.5])
    np.testing.assert_array_equal(minidl.clip(Tensor([0, 1, 2]), max=1).numpy(), [0, 1, 1])


def test_clip_with_array_bounds_and_at_the_bounds():
    x = leaf(np.array([-2.0, -1.0, 0.0, 1.0, 2.0]))
    out = minidl.clip(x, np.array([[-1.0], [0.5]]), 1.0)
    np.testing.assert_array_equal(out.numpy(), [[-1, -1, 0, 1, 1], [0.5, 0.5, 0.5, 1, 1]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 1, 1, 2, 0])  # x on a bound passes its gradient


def test_where_with_a_scalar_branch():
    x = leaf(np.array([-1.0, 2.0, -3.0]))
    out = minidl.where(x > 0, x, 0.0)
    out.sum().backward()
    np.testing.assert_array_equal(out.numpy(), [0.0, 2.0, 0.0])
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])


@fast
@given(shapes=hnp.mutually_broadcastable_shapes(signature="(m?,n),(n,p?)->(m?,p?)", max_dims=4,
                                                 min_side=1, max_side=3), seed=seeds)
def test_matmul_forward_and_gradient(shapes, seed):
    (shape_a, shape_b), shape_out = shapes
    a, b = values(seed, shape_a), values(seed + 1, shape_b)
    out = leaf(a) @ leaf(b)
    assert out.shape == shape_out
    np.testing.assert_allclose(out.numpy(), a @ b)
    assert gradcheck(minidl.matmul, leaf(a), leaf(b))


# -- scalars and numpy arrays on either side ----------------------------------
REFLECTED = {
    "2 + x": (lambda x: 2 + x, lambda x: 2 + x),
    "x - 2": (lambda x: x - 2, lambda x: x - 2),
    "2 - x": (lambda x: 2 - x, lambda x: 2 - x),
    "3 * x": (lambda x: 3 * x, lambda x: 3 * x),
    "x / 4": (lambda x: x / 4, lambda x: x / 4),
    "2 / x": (lambda x: 2 / x, lambda x: 2 / x),
    "array + x": (lambda x: np.arange(3.0) + x, lambda x: np.arange(3.0) + x),
    "array - x": (lambda x: np.arange(3.0) - x, lambda x: np.arange(3.0) - x),
    "x * array": (lambda x: x * np.arange(3.0), lambda x: x * np.arange(3.0)),
    "array / x": (lambda x: np.arange(3.0) / x, lambda x: np.arange(3.0) / x),
    "array @ x": (lambda x: np.ones((2, 2)) @ x, lambda x: np.ones((2, 2)) @ x),
    "x @ array": (lambda x: x @ np.ones((3, 4)), lambda x: x @ np.ones((3, 4))),
    "maximum(x, 0.5)": (lambda x: minidl.maximum(x, 0.5), lambda x: np.maximum(x, 0.5)),
    "minimum(array, x)": (lambda x: minidl.minimum(np.zeros(3), x), lambda x: np.minimum(0, x)),
    "float64 scalar * x": (lambda x: np.float64(2.5) * x, lambda x: 2.5 * x),
}


@pytest.mark.parametrize("name", REFLECTED)
def test_non_tensor_operands(name):
    op, reference = REFLECTED[name]
    x = values(0, (2, 3), "nonzero")
    out = op(leaf(x))
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.numpy(), reference(x))
    assert gradcheck(op, leaf(x))
    assert op(Tensor(x)).dtype == np.float32, "a non-Tensor operand must not promote float32"


def test_integer_tensors_stay_integer():
    a = Tensor([1, 2, 3])
    assert (a + a).dtype.kind == "i" and (a * 2).dtype.kind == "i" and (a - 1).dtype.kind == "i"
    assert minidl.sum(a).dtype.kind == "i" and minidl.max(a).item() == 3


@pytest.mark.parametrize("op, expected", [(lambda x: x ** Tensor([2.0]), [1.0, 4.0]),
                                          (lambda x: 2 ** x, [2.0, 4.0]),
                                          (lambda x: minidl.pow(x, [1, 2]), [1.0, 4.0])])
def test_pow_takes_a_tensor_exponent(op, expected):
    np.testing.assert_allclose(op(Tensor([1.0, 2.0])).numpy(), expected)


# -- reductions ----------------------------------------------------------------
def _var1(x, axis, keepdims):
    return np.var(x, axis=axis, keepdims=keepdims, ddof=1)


def _logsumexp(x, axis, keepdims):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


REDUCTIONS = {
    "sum": (minidl.sum, np.sum),
    "mean": (minidl.mean, np.mean),
    "max": (minidl.max, np.max),
    "min": (minidl.min, np.min),
    "var": (minidl.var, np.var),
    "var_ddof1": (lambda x, axis, keepdims: minidl.var(x, axis, keepdims, ddof=1), _var1),
    "logsumexp": (minidl.logsumexp, _logsumexp),
}


@pytest.mark.parametrize("name", REDUCTIONS)
@fast
@given(case=shape_and_axis(), keepdims=st.booleans(), seed=seeds)
def test_reduction_forward_and_gradient(name, case, keepdims, seed):
    op, reference = REDUCTIONS[name]
    shape, axis = case
    x = values(seed, shape)
    axes = range(len(shape)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    if name == "var_ddof1" and math.prod(shape[a] for a in axes) < 2:
        with pytest.warns(RuntimeWarning, match="degrees of freedom"):
            assert np.isnan(op(leaf(x), axis, keepdims).numpy()).all()
        return
    out = op(leaf(x), axis=axis, keepdims=keepdims)
    expected = reference(x, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected) and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda x: op(x, axis=axis, keepdims=keepdims), leaf(x))


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "var"])
def test_reduction_methods_match_functions(name):
    x = Tensor(values(3, (2, 3, 4)))
    for axis in (None, 1, -1, (0, 2)):
        np.testing.assert_array_equal(getattr(x, name)(axis=axis).numpy(),
                                      getattr(minidl, name)(x, axis=axis).numpy())
    assert getattr(x, name)().dtype == np.float32


@pytest.mark.parametrize("op, x, expected", [
    (minidl.max, [1.0, 3.0, 3.0, 1.0], [0, 0.5, 0.5, 0]),
    (minidl.min, [1.0, 1.0, 3.0, 1.0], [1 / 3, 1 / 3, 0, 1 / 3])])
def test_max_min_split_gradient_among_ties(op, x, expected):
    x = leaf(np.array(x))
    op(x).backward()
    np.testing.assert_allclose(x.grad, expected)


def test_max_ties_per_row():
    x = leaf(np.array([[2.0, 2.0, 1.0], [0.0, 5.0, 5.0], [7.0, 7.0, 7.0]]))
    minidl.max(x, axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0.5, 0.5, 0], [0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


def test_maximum_minimum_split_ties_half_half():
    a, b = leaf(np.array([1.0, 2.0, 3.0])), leaf(np.array([1.0, 5.0, 0.0]))
    (minidl.maximum(a, b) * Tensor([1.0, 10.0, 100.0], dtype=np.float64)).sum().backward()
    np.testing.assert_allclose(a.grad, [0.5, 0.0, 100.0])
    np.testing.assert_allclose(b.grad, [0.5, 10.0, 0.0])
    x = leaf(np.array([-1.0, 0.0, 2.0]))
    minidl.minimum(x, 0.0).sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, 0.5, 0.0])


def test_var_default_is_population_variance():
    x = Tensor([1.0, 2.0, 3.0, 4.0])
    assert x.var().item() == pytest.approx(1.25)
    assert minidl.var(x, ddof=1).item() == pytest.approx(5 / 3)


@pytest.mark.parametrize("axis, error", [(2, IndexError), (-3, IndexError),
                                         ((0, 0), RuntimeError), ((0, -2), RuntimeError)])
def test_bad_axis_raises(axis, error):
    """PyTorch's types: IndexError for an axis out of range, RuntimeError for one named twice."""
    with pytest.raises(error, match="axis"):
        minidl.sum(Tensor(np.ones((2, 3))), axis=axis)


# -- shape ops -------------------------------------------------------------------
@fast
@given(shape=shapes, seed=seeds, data=st.data())
def test_reshape_and_transpose(shape, seed, data):
    x = values(seed, shape)
    target = tuple(reversed(shape))
    np.testing.assert_array_equal(minidl.reshape(leaf(x), target).numpy(), x.reshape(target))
    np.testing.assert_array_equal(leaf(x).reshape(*target, 1).numpy(), x.reshape(*target, 1))
    assert gradcheck(lambda x: minidl.reshape(x, -1), leaf(x))
    axes = tuple(data.draw(st.permutations(range(len(shape)))))
    if len(axes) == 2:   # two axes are exchanged, as PyTorch's transpose(dim0, dim1)
        axes = (1, 0)
    np.testing.assert_array_equal(minidl.transpose(leaf(x), axes).numpy(), x.transpose(axes))
    np.testing.assert_array_equal(leaf(x).T.numpy(), x.T)
    assert gradcheck(lambda x: x.transpose(*axes), leaf(x))
    assert gradcheck(lambda x: x.T, leaf(x))


def test_transpose_negative_axes_and_bad_axes():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(x.transpose(-1, 0, 1).numpy(), x.numpy().transpose(2, 0, 1))
    with pytest.raises(RuntimeError, match="transpose"):
        x.transpose(0, 1, 1)
    with pytest.raises(RuntimeError):
        x.transpose(0, 0, 1)


def test_transpose_of_two_axes_exchanges_them_as_pytorch():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(x.transpose(0, 2).numpy(), np.swapaxes(x.numpy(), 0, 2))
    m = Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(m.transpose(0, 1).numpy(), m.numpy().T)   # numpy: the identity
    np.testing.assert_array_equal(m.transpose(1, 0).numpy(), m.numpy().T)
    assert gradcheck(lambda t: t.transpose(0, 2), leaf(x.numpy()))


@pytest.mark.parametrize("start, end, expected", [
    (0, -1, (24,)), (1, -1, (2, 12)), (0, 1, (6, 4)), (1, 1, (2, 3, 4)), (-2, -1, (2, 12))])
def test_flatten(start, end, expected):
    x = values(0, (2, 3, 4))
    out = minidl.flatten(leaf(x), start, end)
    assert out.shape == expected
    np.testing.assert_array_equal(out.numpy().ravel(), x.ravel())
    assert gradcheck(lambda x: x.flatten(start, end), leaf(x))


def test_flatten_scalar_and_errors():
    assert minidl.flatten(Tensor(3.0)).shape == (1,)
    with pytest.raises(RuntimeError, match="start_dim"):
        minidl.flatten(Tensor(np.ones((2, 3))), 1, 0)


INDICES = {
    "int": 1,
    "negative int": -1,
    "slice": slice(1, None),
    "step slice": (slice(None, None, 2), slice(None, None, -1)),
    "newaxis": (None, 0),
    "ellipsis": (Ellipsis, 1),
    "bool mask": np.array([True, False, True]),
    "int array": np.array([2, 0]),
    "repeated": np.array([0, 0, 2, 0]),
    "2-d int array": (np.array([[0, 1], [2, 2]]), slice(0, 2)),
    "mixed": (np.array([1, 1]), np.array([0, 3])),
    "list": [0, 0],
}


@pytest.mark.parametrize("name", INDICES)
def test_getitem(name):
    index = INDICES[name]
    x = values(1, (3, 4))
    np.testing.assert_array_equal(leaf(x)[index].numpy(), x[index])
    assert gradcheck(lambda x: x[index], leaf(x))


def test_getitem_accumulates_repeated_indices():
    x = leaf(np.array([1.0, 2.0, 3.0]))
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])


def test_getitem_with_a_tensor_mask():
    x = leaf(np.array([-1.0, 2.0, 3.0]))
    x[x > 0].sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack(axis):
    parts = [values(i, (2, 3)) for i in range(3)]
    if axis != 0:
        parts[1] = values(1, (2, 5))
    assert np.array_equal(minidl.concatenate([leaf(p) for p in parts], axis).numpy(), np.concatenate(parts, axis))
    assert gradcheck(lambda *ts: minidl.concatenate(ts, axis=axis), *map(leaf, parts))
    same = [values(i, (2, 3)) for i in range(3)]
    assert np.array_equal(minidl.stack([leaf(p) for p in same], axis).numpy(), np.stack(same, axis))
    assert gradcheck(lambda *ts: minidl.stack(ts, axis=axis), *map(leaf, same))


def test_concatenate_mixes_arrays_and_tensors():
    x = leaf(np.ones((1, 2)))
    out = minidl.concatenate([np.zeros((1, 2)), x])
    np.testing.assert_array_equal(out.numpy(), [[0, 0], [1, 1]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 1]])


# -- softmax family ----------------------------------------------------------------
def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@fast
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=seeds, data=st.data())
def test_softmax_family_forward_and_gradient(shape, seed, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = values(seed, shape) * 3
    np.testing.assert_allclose(minidl.softmax(leaf(x), axis).numpy(), _softmax(x, axis), rtol=1e-12)
    shifted = x - x.max(axis=axis, keepdims=True)
    np.testing.assert_allclose(leaf(x).log_softmax(axis).numpy(),
                               shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True)), rtol=1e-12)
    assert gradcheck(lambda x: minidl.softmax(x, axis=axis), leaf(x))
    assert gradcheck(lambda x: x.log_softmax(axis=axis), leaf(x))
    assert gradcheck(lambda x: x.softmax(axis), leaf(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_family_stable_at_large_values(dtype):
    x = Tensor([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]], requires_grad=True, dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        probabilities = minidl.softmax(x)
        log_probabilities = minidl.log_softmax(x)
        total = minidl.logsumexp(x, axis=1)
        (probabilities.sum() + log_probabilities.sum() + total.sum()).backward()
    np.testing.assert_allclose(probabilities.numpy(), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-7)
    np.testing.assert_allclose(log_probabilities.numpy()[0], [0, -1e4, -2e4])
    np.testing.assert_allclose(total.numpy(), [1e4, -1e4 + math.log(3)], rtol=1e-6)
    assert np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(minidl.logsumexp(Tensor([1e4, 1e4], dtype=dtype)).numpy(), 1e4 + math.log(2))


@np.errstate(divide="ignore")  # log 0 = -inf, the log of an empty sum
def test_softmax_family_over_an_empty_axis():
    x = leaf(np.ones((3, 0)))
    for op in (minidl.softmax, minidl.log_softmax):
        out = op(x, axis=1)
        assert out.shape == (3, 0)
        out.sum().backward()
        assert x.grad.shape == (3, 0)
    np.testing.assert_array_equal(minidl.logsumexp(x, axis=1).numpy(), [-np.inf] * 3)  # as torch


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_stable_at_large_values(dtype):
    x = Tensor([-1e4, -50.0, 0.0, 50.0, 1e4], requires_grad=True, dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = minidl.sigmoid(x)
        out.sum().backward()
    np.testing.assert_allclose(out.numpy(), [0, 1 / (1 + math.exp(50)), 0.5, 1 / (1 + math.exp(-50)), 1])
    np.testing.assert_allclose(x.grad, [0, out.numpy()[1] * (1 - out.numpy()[1]), 0.25, out.numpy()[1], 0], atol=1e-30)


# -- methods, comparisons, dtypes ---------------------------------------------------
METHODS = ["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "sum", "mean", "max", "min", "var",
           "transpose", "flatten", "softmax", "log_softmax", "logsumexp"]


@pytest.mark.parametrize("name", METHODS)
def test_methods_call_the_ops(name):
    x = Tensor(values(0, (2, 3), "positive"), dtype=np.float64)
    method, function = getattr(x, name)(), getattr(minidl, name)(x)
    np.testing.assert_array_equal(method.numpy(), function.numpy())
    assert method.dtype == np.float64, "float64 in, float64 out"
    np.testing.assert_array_equal(x.reshape(3, 2).numpy(), x.reshape((3, 2)).numpy())
    np.testing.assert_array_equal(x.clip(0.6, 1.0).numpy(), np.clip(x.numpy(), 0.6, 1.0))


def test_comparisons_return_bool_tensors_without_grad():
    x = leaf(np.array([1.0, 2.0, 3.0]))
    for result, expected in [(x < 2, [1, 0, 0]), (x <= 2, [1, 1, 0]), (x > 2, [0, 0, 1]),
                             (x >= 2, [0, 1, 1]), (x == 2, [0, 1, 0]), (x != 2, [1, 0, 1]),
                             (np.array([3.0, 2.0, 1.0]) < x, [0, 0, 1]), (2 == x, [0, 1, 0])]:
        assert isinstance(result, Tensor) and result.dtype == bool and not result.requires_grad
        np.testing.assert_array_equal(result.numpy(), np.array(expected, dtype=bool))
    assert (x == Tensor([1.0, 0.0, 3.0], dtype=np.float64)).numpy().tolist() == [True, False, True]
    assert (x.numpy().argmax() == Tensor([2, 2])).numpy().tolist() == [True, True]
    assert (x == None) is False  # noqa: E711  (compares by identity, never raises)


def test_tensors_hash_by_identity():
    a, b = Tensor([1.0]), Tensor([1.0])
    assert len({a, b}) == 2 and {a: 1, b: 2}[a] == 1


def test_mixed_float_dtypes_promote_like_numpy():
    assert (Tensor([1.0]) + Tensor([1.0], dtype=np.float64)).dtype == np.float64


# -- error messages ---------------------------------------------------------------
@pytest.mark.parametrize("op, pattern", [   # shapes that do not fit: RuntimeError, as PyTorch
    (lambda: Tensor(np.ones((2, 3))) + Tensor(np.ones(4)), r"add.*\(2, 3\).*\(4,\)"),
    (lambda: Tensor(np.ones((2, 3))) * np.ones((3, 2)), r"mul.*\(2, 3\).*\(3, 2\)"),
    (lambda: minidl.maximum(Tensor(np.ones(2)), Tensor(np.ones(3))), r"maximum.*\(2,\).*\(3,\)"),
    (lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5))), r"matmul.*\(2, 3\).*\(4, 5\)"),
    (lambda: Tensor(np.ones(3)) @ Tensor(np.ones(4)), r"matmul.*\(3,\).*\(4,\)"),
    (lambda: Tensor(np.ones((2, 2, 3))) @ Tensor(np.ones((3, 3, 1))), r"matmul.*\(2, 2, 3\).*\(3, 3, 1\)"),
    (lambda: Tensor(np.ones(3)) @ Tensor(2.0), r"matmul.*\(3,\).*\(\)"),
    (lambda: Tensor(np.ones((2, 3))).reshape(4), r"\(2, 3\).*\(4,\)"),
    (lambda: minidl.concatenate([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))]), r"\(2, 3\).*\(2, 4\)"),
    (lambda: minidl.stack([Tensor(np.ones(2)), Tensor(np.ones(3))]), r"\(2,\).*\(3,\)"),
    (lambda: minidl.where(np.ones(2, dtype=bool), Tensor(np.ones(3)), 0.0), r"where.*\(2,\).*\(3,\)"),
    (lambda: Tensor(np.ones(2)) < Tensor(np.ones(3)), r"\(2,\).*\(3,\)"),
    (lambda: minidl.max(Tensor(np.ones((0, 2)))), r"\(0, 2\)"),
])
def test_shape_errors_name_the_problem(op, pattern):
    with pytest.raises(RuntimeError, match=pattern):
        op()


def test_gelu_names_a_bad_approximate() -> None:
    with pytest.raises(RuntimeError, match="approximate.*'fast'"):   # PyTorch's type
        minidl.gelu(Tensor([1.0]), approximate="fast")


@pytest.mark.parametrize("op, pattern", [
    (lambda: minidl.clip(Tensor([1.0])), "min and max"),
    (lambda: minidl.concatenate([]), "empty"),
])
def test_errors_name_the_problem(op, pattern):
    with pytest.raises(ValueError, match=pattern):
        op()


def test_where_needs_a_bool_condition():
    with pytest.raises(TypeError, match="float"):
        minidl.where(np.ones(2), Tensor([1.0, 2.0]), 0.0)


def test_bad_operand_type_raises():
    with pytest.raises(TypeError, match="str"):
        Tensor([1.0]) + "a"
