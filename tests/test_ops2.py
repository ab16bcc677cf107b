"""Reductions, scans, shape and indexing ops: gradient checks in float64, hypothesis over
shapes and axes, the PyTorch-alignment rules (dim/keepdim, 0-d reductions, no degrees of
freedom, reversed clip bounds) and the errors. Values against PyTorch: test_ops2_torch.py."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import minidl
import minidl.nn.functional as F
from minidl import Tensor, gradcheck

fast = settings(max_examples=20, deadline=None)


def leaf(*shape: int, seed: int = 0, zeros: bool = False) -> Tensor:
    """float64 normal data (distinct values, so no ties), requiring grad."""
    x = np.random.default_rng(seed).standard_normal(shape)
    if zeros:
        x.flat[::3] = 0.0
    return Tensor(x, requires_grad=True, dtype=np.float64)


def index(*shape: int, high: int, seed: int = 1) -> Tensor:
    return Tensor(np.random.default_rng(seed).integers(0, high, shape))


GRADCHECKS = {
    "sum_dtype": (lambda x: x.sum(dim=1, dtype=np.float64), [leaf(3, 4)]),
    "std": (lambda x: x.std(dim=0, correction=1), [leaf(3, 4)]),
    "std_all": (lambda x: minidl.std(x), [leaf(3, 4)]),
    "var_keepdim": (lambda x: x.var(dim=(0, 2), keepdim=True, correction=1), [leaf(2, 3, 4)]),
    "prod": (lambda x: x.prod(dim=1), [leaf(3, 4)]),
    "prod_zeros": (lambda x: x.prod(dim=(0, 1)), [leaf(3, 4, zeros=True)]),
    "prod_one_zero": (lambda x: x.prod(), [Tensor([2.0, 0.0, 3.0], requires_grad=True)]),
    "max_dim": (lambda x: x.max(dim=1).values, [leaf(3, 4)]),
    "min_dim_keepdim": (lambda x: x.min(dim=0, keepdim=True).values, [leaf(3, 4)]),
    "median": (lambda x: x.median(), [leaf(4, 3)]),
    "median_dim": (lambda x: x.median(dim=1).values, [leaf(3, 4)]),
    "norm_2": (lambda x: x.norm(dim=1), [leaf(3, 4)]),
    "norm_1": (lambda x: x.norm(p=1), [leaf(3, 4)]),
    "norm_inf": (lambda x: x.norm(p=math.inf, dim=0), [leaf(3, 4)]),
    "norm_minus_inf": (lambda x: x.norm(p=-math.inf, dim=0), [leaf(3, 4)]),
    "norm_3": (lambda x: x.norm(p=3, dim=1, keepdim=True), [leaf(3, 4)]),
    "norm_fro": (lambda x: x.norm(p="fro", dim=(0, 1)), [leaf(3, 4)]),
    "normalize": (lambda x: F.normalize(x, dim=1), [leaf(3, 4)]),
    "softmax_0d": (lambda x: minidl.softmax(x, dim=0) * x, [leaf()]),
    "logsumexp_dim": (lambda x: minidl.logsumexp(x, dim=1, keepdim=True), [leaf(3, 4)]),
    "cumsum": (lambda x: x.cumsum(1), [leaf(3, 4)]),
    "cumsum_flat": (lambda x: minidl.cumsum(x), [leaf(3, 4)]),
    "cumprod": (lambda x: x.cumprod(0), [leaf(4, 3)]),
    "cumprod_zeros": (lambda x: x.cumprod(1), [leaf(3, 7, zeros=True)]),
    "cummax": (lambda x: x.cummax(1).values, [leaf(3, 5)]),
    "cummin": (lambda x: x.cummin(0).values, [leaf(5, 3)]),
    "logcumsumexp": (lambda x: x.logcumsumexp(1), [leaf(3, 5)]),
    "sort": (lambda x: x.sort(dim=0, descending=True).values, [leaf(4, 3)]),
    "topk": (lambda x: x.topk(2, dim=1, largest=False).values, [leaf(3, 5)]),
    "squeeze": (lambda x: x.squeeze(), [leaf(1, 3, 1)]),
    "unsqueeze": (lambda x: x.unsqueeze(1), [leaf(3, 2)]),
    "view": (lambda x: x.view(2, 6), [leaf(3, 4)]),
    "expand": (lambda x: x.expand(2, -1, 4), [leaf(3, 1)]),
    "permute": (lambda x: x.permute(1, 2, 0), [leaf(2, 3, 4)]),
    "swapaxes": (lambda x: x.swapaxes(-1, 0), [leaf(2, 3, 4)]),
    "flip": (lambda x: x.flip((0, 1)), [leaf(3, 4)]),
    "roll": (lambda x: x.roll((1, -1), (0, 1)), [leaf(3, 4)]),
    "roll_flat": (lambda x: x.roll(5), [leaf(3, 4)]),
    "repeat": (lambda x: x.repeat(2, 1, 3), [leaf(2, 3)]),
    "repeat_interleave": (lambda x: x.repeat_interleave(Tensor([2, 0, 1]), dim=0),
                          [leaf(3, 2)]),
    "unflatten": (lambda x: x.unflatten(1, (2, -1)), [leaf(2, 6)]),
    "split": (lambda x: minidl.cat([p * (i + 1) for i, p in enumerate(x.split(2, dim=1))], 1),
              [leaf(2, 5)]),
    "chunk": (lambda x: minidl.stack([p.sum() for p in x.chunk(3)]), [leaf(5, 2)]),
    "tril": (lambda x: x.tril(-1), [leaf(2, 3, 4)]),
    "triu": (lambda x: x.triu(1), [leaf(3, 4)]),
    "diag_vector": (lambda x: x.diag(-1), [leaf(3)]),
    "diag_matrix": (lambda x: x.diag(1), [leaf(3, 4)]),
    "diagonal": (lambda x: x.diagonal(-1, 2, 0), [leaf(3, 4, 5)]),
    "gather": (lambda x: x.gather(1, index(3, 5, high=4)), [leaf(3, 4)]),
    "scatter": (lambda x, s: x.scatter(1, Tensor([[2, 0], [1, 3], [0, 1]]), s),
                [leaf(3, 4), leaf(3, 2, seed=1)]),
    "scatter_add": (lambda x, s: x.scatter_add(0, index(4, 3, high=3), s),
                    [leaf(3, 4), leaf(4, 4, seed=1)]),
    "index_select": (lambda x: x.index_select(1, Tensor([3, 0, 3])), [leaf(3, 4)]),
    "masked_fill": (lambda x, v: x.masked_fill(Tensor(np.eye(3, 4, dtype=bool)), v),
                    [leaf(3, 4), leaf(seed=1)]),
    "masked_select": (lambda x: x.masked_select(Tensor([[True], [False], [True]])),
                      [leaf(3, 4)]),
    "take_along_dim": (lambda x: minidl.take_along_dim(x, index(3, 2, high=4), 1),
                       [leaf(1, 4)]),
    "getitem_mixed": (lambda x: x[[0, 1, 0], :, [1, 2, 1]], [leaf(3, 4, 5)]),
    "einsum_matmul": (lambda a, b: minidl.einsum("ij,jk->ik", a, b), [leaf(2, 3), leaf(3, 4)]),
    "einsum_trace": (lambda a: minidl.einsum("ii", a), [leaf(3, 3)]),
    "einsum_three": (lambda a, b, c: minidl.einsum("ij,jk,k->i", a, b, c),
                     [leaf(2, 3), leaf(3, 4, seed=1), leaf(4, seed=2)]),
    "einsum_ellipsis": (lambda a, b: minidl.einsum("...ij,...j->...i", a, b),
                        [leaf(2, 1, 3, 4), leaf(5, 4, seed=1)]),
    "einsum_own_letter": (lambda a, b: minidl.einsum("ij,k->i", a, b), [leaf(3, 4), leaf(2)]),
    "outer": (lambda a, b: minidl.outer(a, b), [leaf(3), leaf(4, seed=1)]),
    "meshgrid": (lambda a, b: minidl.stack(minidl.meshgrid(a, b, indexing="xy")),
                 [leaf(3), leaf(2, seed=1)]),
    "cat": (lambda a, b: minidl.cat([a, b], dim=1), [leaf(2, 3), leaf(2, 1, seed=1)]),
    "clip_reversed": (lambda x: x.clip(0.5, -0.5), [leaf(3, 4)]),
}


@pytest.mark.parametrize("name", GRADCHECKS)
def test_gradcheck(name: str) -> None:
    fn, inputs = GRADCHECKS[name]
    assert gradcheck(fn, *inputs)


# -- hypothesis: reductions and scans over shapes and axes ------------------------------
@st.composite
def shape_and_dim(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    return shape, draw(st.integers(-len(shape), len(shape) - 1))


@fast
@given(case=shape_and_dim(), keepdim=st.booleans(), correction=st.integers(0, 1))
def test_std_prod_norm_over_shapes(case, keepdim, correction):
    shape, dim = case
    x = Tensor(np.random.default_rng(len(shape)).standard_normal(shape), requires_grad=True,
               dtype=np.float64)
    if shape[dim] > correction:
        np.testing.assert_allclose(x.std(dim=dim, keepdim=keepdim, correction=correction).numpy(),
                                   np.std(x.numpy(), axis=dim, keepdims=keepdim, ddof=correction))
        assert gradcheck(lambda x: x.std(dim=dim, keepdim=keepdim, correction=correction), x)
    np.testing.assert_allclose(x.prod(dim=dim, keepdim=keepdim).numpy(),
                               np.prod(x.numpy(), axis=dim, keepdims=keepdim))
    assert gradcheck(lambda x: x.prod(dim=dim, keepdim=keepdim), x)
    np.testing.assert_allclose(x.norm(dim=dim).numpy(), np.linalg.norm(x.numpy(), axis=dim))
    assert gradcheck(lambda x: x.norm(p=3, dim=dim, keepdim=keepdim), x)


@fast
@given(case=shape_and_dim())
def test_scans_and_sort_over_shapes(case):
    shape, dim = case
    x = Tensor(np.random.default_rng(len(shape)).standard_normal(shape), requires_grad=True,
               dtype=np.float64)
    np.testing.assert_allclose(x.cumsum(dim).numpy(), np.cumsum(x.numpy(), axis=dim))
    np.testing.assert_allclose(x.cumprod(dim).numpy(), np.cumprod(x.numpy(), axis=dim))
    np.testing.assert_allclose(x.cummax(dim).values.numpy(), np.maximum.accumulate(x.numpy(), dim))
    np.testing.assert_allclose(x.logcumsumexp(dim).numpy(), np.logaddexp.accumulate(x.numpy(), dim))
    np.testing.assert_array_equal(x.sort(dim).values.numpy(), np.sort(x.numpy(), axis=dim))
    for op in (lambda x: x.cumprod(dim), lambda x: x.logcumsumexp(dim),
               lambda x: x.sort(dim, descending=True).values, lambda x: x.cummin(dim).values):
        assert gradcheck(op, x)


@st.composite
def einsum_case(draw):
    """Two operands over the letters a-d (a letter may repeat within one: a diagonal) and an
    output of distinct letters, explicit or implicit."""
    sizes = dict(zip("abcd", draw(st.lists(st.integers(1, 3), min_size=4, max_size=4))))
    terms = [draw(st.text("abcd", min_size=0, max_size=3)) for _ in range(2)]
    used = sorted(set("".join(terms)))
    output = "".join(draw(st.permutations(used))[:draw(st.integers(0, len(used)))])
    equation = ",".join(terms) + ("" if draw(st.booleans()) else "->" + output)
    return equation, [tuple(sizes[c] for c in t) for t in terms]


@fast
@given(case=einsum_case())
def test_einsum_matches_numpy_and_gradcheck(case):
    equation, shapes = case
    a, b = (leaf(*shape, seed=k) for k, shape in enumerate(shapes))
    np.testing.assert_allclose(minidl.einsum(equation, a, b).numpy(),
                               np.einsum(equation, a.numpy(), b.numpy()), atol=1e-12)
    assert gradcheck(lambda a, b: minidl.einsum(equation, a, b), a, b)


@fast
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3),
       reps=st.lists(st.integers(0, 2), min_size=3, max_size=4), shift=st.integers(-4, 4))
def test_flip_roll_repeat_over_shapes(shape, reps, shift):
    x = leaf(*shape)
    dims = tuple(range(len(shape)))
    np.testing.assert_array_equal(x.flip(dims).numpy(), np.flip(x.numpy(), dims))
    np.testing.assert_array_equal(x.roll(shift, 0).numpy(), np.roll(x.numpy(), shift, 0))
    np.testing.assert_array_equal(x.repeat(*reps).numpy(), np.tile(x.numpy(), reps))
    assert gradcheck(lambda x: x.repeat(*reps) * 1.5, x)
    assert gradcheck(lambda x: x.roll(shift).flip(0), x)


# -- PyTorch's rules ----------------------------------------------------------------
@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "logsumexp", "std", "prod",
                                "norm"])
def test_dim_keepdim_alias_axis_keepdims(op):
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3, 4)))
    fn = getattr(minidl, op)
    np.testing.assert_array_equal(fn(x, axis=1, keepdims=True).numpy() if op != "norm" else
                                  fn(x, 2, 1, True).numpy(),
                                  fn(x, dim=1, keepdim=True).values.numpy() if op in ("max", "min")
                                  else fn(x, dim=1, keepdim=True).numpy())
    with pytest.raises(TypeError, match="axis or dim"):
        fn(x, axis=1, dim=1)
    if op != "norm":
        assert fn(x, axis=1, keepdim=True).shape == (2, 1, 4)


@pytest.mark.parametrize("op", [minidl.sum, minidl.mean, minidl.max, minidl.min,
                                minidl.logsumexp])
@pytest.mark.parametrize("axis", [0, -1, (0,)])
def test_a_0d_tensor_reduces_over_axis_0_or_minus_1(op, axis):
    x = Tensor(2.5, requires_grad=True)
    out = op(x, axis)
    assert out.shape == () and out.item() == pytest.approx(op(x).item())
    out.backward()
    assert x.grad == pytest.approx(1.0)
    with pytest.raises(IndexError, match="out of range"):
        op(x, 1)


@pytest.mark.parametrize("op", [minidl.softmax, minidl.log_softmax])
def test_softmax_of_a_0d_tensor(op):
    out = op(Tensor(7.0), 0)
    assert out.shape == () and out.item() == (1.0 if op is minidl.softmax else 0.0)


@pytest.mark.parametrize("op", [minidl.var, minidl.std])
@pytest.mark.parametrize("shape, correction, expected", [
    ((1,), 1, np.nan), ((0,), 0, np.nan), ((2,), 3, np.inf)])
def test_no_degrees_of_freedom_give_nan_or_inf_with_a_warning(op, shape, correction, expected):
    x = Tensor(np.arange(shape[0], dtype=np.float32) * 3)
    with pytest.warns(RuntimeWarning, match="degrees of freedom"):
        out = op(x, correction=correction)
    np.testing.assert_array_equal(out.numpy(), expected)


def test_var_and_std_default_to_numpys_ddof_0_and_take_ddof_or_correction():
    x = Tensor([1.0, 2.0, 4.0])
    assert x.var().item() == pytest.approx(np.var([1, 2, 4]))
    assert x.std(correction=1).item() == pytest.approx(np.std([1, 2, 4], ddof=1))
    assert minidl.var(x, ddof=1).item() == x.var(correction=1).item()
    assert x.var(unbiased=True).item() == x.var(correction=1).item()
    assert x.std(unbiased=False).item() == x.std().item()
    with pytest.raises(TypeError, match="one of ddof, correction and unbiased"):
        x.var(ddof=1, correction=1)


def test_reversed_clip_bounds_give_max_everywhere():
    x = Tensor([-2.0, 0.0, 0.7, 3.0], requires_grad=True)
    out = x.clip(1.0, -1.0)
    np.testing.assert_array_equal(out.numpy(), [-1.0, -1.0, -1.0, -1.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, 0.0)


@pytest.mark.parametrize("axis", ["0", 1.0, True, (0, "1"), [0.0]])
def test_a_non_integer_axis_is_refused_by_name(axis):
    with pytest.raises(TypeError, match=f"axis must be an int.*{type(axis).__name__}"):
        Tensor([[1.0, 2.0]]).sum(axis=axis)


def test_max_min_median_with_dim_return_values_and_indices():
    x = Tensor([[1.0, 5.0, 5.0], [4.0, 2.0, 3.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.numpy(), [5.0, 4.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])   # the first maximum, as PyTorch
    values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [1, 0, 0]])   # the index alone
    assert isinstance(x.max(axis=1), Tensor) and isinstance(x.max(1), Tensor)
    assert x.median().item() == 3.0   # the lower of the two middles of 1 2 3 4 5 5
    assert np.isnan(Tensor([1.0, np.nan, 3.0]).median().item())


def test_sort_is_stable_and_puts_nan_last_or_first():
    x = Tensor([2.0, np.nan, 1.0, 2.0])
    np.testing.assert_array_equal(x.argsort().numpy(), [2, 0, 3, 1])
    np.testing.assert_array_equal(x.argsort(descending=True).numpy(), [1, 0, 3, 2])


def test_getitem_keeps_numpys_shape_rule_for_mixed_indices():
    x = Tensor(np.zeros((3, 4, 5)))
    assert x[0, :, [0, 1]].shape == (2, 4)   # PyTorch: (4, 2), see shape.py
    assert x[[0, 1], :, [1, 2]].shape == (2, 4)
    assert x[:, [0, 1], 0].shape == (3, 2)


def test_shape_ops_values():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    assert [p.shape for p in x.split([1, 2], dim=1)] == [(2, 1), (2, 2)]
    assert [p.shape for p in Tensor(np.zeros(5)).chunk(2)] == [(3,), (2,)]
    assert minidl.cat([x, x], axis=1).shape == minidl.cat([x, x], dim=1).shape == (2, 6)
    assert x.squeeze(0).shape == (2, 3) and x.unsqueeze(-1).shape == (2, 3, 1)
    np.testing.assert_array_equal(x.repeat_interleave(2).numpy(), np.repeat(np.arange(6.0), 2))
    np.testing.assert_array_equal(F.one_hot(Tensor([0, 2])).numpy(), [[1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(x.nonzero().numpy(), np.argwhere(x.numpy()))
    a, b = minidl.meshgrid(Tensor([1.0, 2.0]), Tensor([3.0, 4.0, 5.0]))
    assert a.shape == b.shape == (2, 3)


@pytest.mark.parametrize("op, error, pattern", [
    (lambda x: x.gather(1, Tensor([[4]])), RuntimeError, "index 4 is out of range"),
    (lambda x: x.gather(1, Tensor([[0.5]])), TypeError, "integers"),
    (lambda x: x.index_select(0, Tensor([[0]])), IndexError, "1-D"),
    (lambda x: x.masked_fill(Tensor([1, 0]), 0.0), RuntimeError, "bool"),
    (lambda x: x.masked_fill(Tensor(np.ones((4, 4), dtype=bool)), 0.0), RuntimeError, r"\(4, 4\)"),
    (lambda x: x.topk(9), RuntimeError, "k=9"),
    (lambda x: x.expand(5, 5), RuntimeError, "expand"),
    (lambda x: x.split([1, 2]), RuntimeError, "sections"),
    (lambda x: x.norm(p="nuc"), ValueError, "p must be"),
    (lambda x: minidl.einsum("ij,jk->ik", x, x), RuntimeError, "letter 'j'"),
    (lambda x: minidl.einsum("ijk", x), RuntimeError, "do not fit"),
    (lambda x: minidl.einsum("i,i,i,i", x, x, x, x), ValueError, "1 to 3"),
    (lambda x: x.diagonal(0, 1, 1), RuntimeError, "same axis"),
    (lambda x: F.one_hot(Tensor([3]), 2), IndexError, "class index 3.*num_classes=2"),
    (lambda x: x.argmax(dim=(0, 1)), TypeError, r"one int, not \(0, 1\)"),
    (lambda x: x.median(dim=(0, 1)), TypeError, "one int"),
    (lambda x: x.cummax(None), TypeError, "dim must be an int"),
    (lambda x: x.tril(0.5), TypeError, "diagonal must be an int, not 0.5"),
    (lambda x: x.sort(dim=(0, 1)), TypeError, r"sort: dim must be an int, not tuple \(0, 1\)"),
    (lambda x: x.flip(1.0), TypeError, "flip: dim must be an int, not float 1.0"),
    (lambda x: x.gather((1,), Tensor([[0]])), TypeError, "gather: dim must be an int"),
    (lambda x: x.scatter(0, Tensor([[0]]), 1.0, value=2.0), TypeError, "exactly one"),
])
def test_errors_name_the_problem(op, error, pattern):
    with pytest.raises(error, match=pattern):
        op(Tensor(np.ones((2, 3))))


# -- dtypes and argument checks found in review --------------------------------------
def test_joining_ops_give_an_int_tensor_the_float_tensors_dtype():
    ints, floats = minidl.tensor(np.arange(3)), minidl.tensor([1.0, 2.0])
    assert minidl.outer(ints, floats).dtype == np.float32
    assert minidl.einsum("i,j->ij", ints, floats).dtype == np.float32
    assert minidl.cat([ints, floats]).dtype == np.float32


def test_masked_fill_and_scatter_keep_the_tensors_dtype_as_pytorch():
    ints = minidl.tensor(np.arange(3))
    filled = ints.masked_fill(np.array([True, False, True]), 0.5)
    assert filled.dtype == np.int64 and filled.numpy().tolist() == [0, 1, 0]
    scattered = ints.scatter(0, np.array([1]), value=2.5)
    assert scattered.dtype == np.int64 and scattered.numpy().tolist() == [0, 2, 2]
    with pytest.raises(RuntimeError, match="src has dtype float64, the tensor float32"):
        minidl.tensor([1.0, 2.0]).scatter(0, np.array([0]), minidl.tensor([5.0], dtype=np.float64))


def test_roll_needs_dims_for_several_shifts_and_any_all_reduce_0d():
    with pytest.raises(RuntimeError, match="give dims as well"):
        minidl.tensor([1.0, 2.0]).roll((1,))
    assert minidl.tensor(3.0).any(dim=0).item() and minidl.tensor(0.0).all(dim=-1).item() is False
    with pytest.raises(TypeError, match="axis or dim, not both"):
        minidl.tensor([1, 0]).any(axis=0, dim=0)
