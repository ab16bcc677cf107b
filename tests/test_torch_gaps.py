"""The torch.* functions and Tensor methods that PyTorch tutorials reach for (nsgaps):
retain_grad, detach_, Size, finfo/iinfo, dtype promotion, the global RNG state,
random_, as_tensor, and a gradcheck for every differentiable op added. Values and
refusals against PyTorch are in tests/test_ops2_torch.py (ops4_vectors.npz, written by
tests/data/make_ops4_vectors.py); the promotion tables come from the same file. The
expected values written out here are PyTorch 2.13's."""
from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.nn.functional as F
from minidl import Tensor, gradcheck

VECTORS = np.load(Path(__file__).parent / "data" / "ops4_vectors.npz")
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def leaf(*shape: int, seed: int = 0) -> Tensor:
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True,
                  dtype=np.float64)


# -- retain_grad: a non-leaf keeps its gradient (makemore part 4 reads logits.grad) -------
def test_retain_grad_keeps_the_gradient_of_a_non_leaf() -> None:
    x = leaf(4, 3)
    target = minidl.tensor([0, 2, 1, 2])
    logits = x * 2
    logits.retain_grad()
    F.cross_entropy(logits, target).backward()
    probabilities = np.exp(2 * x._data) / np.exp(2 * x._data).sum(1, keepdims=True)
    expected = (probabilities - np.eye(3)[[0, 2, 1, 2]]) / 4
    np.testing.assert_allclose(logits.grad.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), 2 * expected, rtol=1e-12)
    assert logits.retains_grad and not x.retains_grad


def test_retained_gradients_add_up_over_backward_calls_after_the_hooks() -> None:
    x = leaf(3)
    hidden = x * 2
    hidden.register_hook(lambda g: g * 10)
    hidden.retain_grad()
    loss = (hidden * hidden).sum()
    loss.backward(retain_graph=True)
    np.testing.assert_allclose(hidden.grad.numpy(), 10 * 2 * hidden._data)
    loss.backward()
    np.testing.assert_allclose(hidden.grad.numpy(), 2 * 10 * 2 * hidden._data)


def test_retain_grad_on_a_leaf_does_nothing_and_without_grad_raises() -> None:
    x = leaf(3)
    x.retain_grad()
    assert not x.retains_grad
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        minidl.ones(3).retain_grad()
    with minidl.no_grad():
        made = x * 2
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        made.retain_grad()


def test_reading_the_grad_of_a_non_leaf_that_keeps_none_warns() -> None:
    x = leaf(3)
    hidden = x * 2
    hidden.sum().backward()
    with pytest.warns(UserWarning, match="not a leaf"):
        assert hidden.grad is None


# -- detach_ ----------------------------------------------------------------------------
def test_detach_in_place_makes_a_leaf_outside_the_graph() -> None:
    x = leaf(3)
    hidden = x * 2
    assert hidden.detach_() is hidden
    assert hidden.is_leaf and not hidden.requires_grad and hidden.grad_fn is None
    assert x.detach().detach_() is not None and x.data.detach_() is not None


def test_a_backward_through_an_op_that_read_a_tensor_later_detached_raises() -> None:
    """PyTorch keeps such paths (a.grad = [6, 6] below); minidl's node is the tensor, so
    the path is gone: backward says so rather than leave a.grad None. After backward,
    as in truncated backpropagation through time, detach_() loses nothing."""
    a = leaf(2)
    hidden = a * 2
    out = hidden * 3
    hidden.detach_()
    with pytest.raises(RuntimeError, match="cut from the graph by detach_"):
        out.sum().backward()
    assert a.grad is None
    state = a * 2
    (state * 3).sum().backward()
    state.detach_()
    (state * a).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 6 + state.numpy())


def test_detach_in_place_refuses_a_view_as_pytorch() -> None:
    x = leaf(3)
    for view in (x[:2], (x * 2)[1:], minidl.ones(3)[:2]):
        with pytest.raises(RuntimeError, match="Can't detach views in-place"):
            view.detach_()
    assert x.requires_grad


# -- Size -------------------------------------------------------------------------------
def test_size_is_a_tuple_of_ints_with_numel_as_torchs() -> None:
    size = minidl.Size([2, 3, 4])
    assert size == (2, 3, 4) and isinstance(size, tuple) and size.numel() == 24
    assert repr(size) == "minidl.Size([2, 3, 4])" and minidl.Size().numel() == 1
    for result in (size[1:], size + (5,), (1,) + size, size * 2):
        assert type(result) is minidl.Size
    assert size[1:] == (3, 4) and (1,) + size == (1, 2, 3, 4)
    assert minidl.Size([minidl.tensor(3), np.int64(2)]) == (3, 2)
    with pytest.raises(TypeError, match=r"item 1 is 'float'"):
        minidl.Size([2, 2.5])
    assert pickle.loads(pickle.dumps(size)) == size


def test_size_method_returns_a_size_and_shape_stays_numpys_tuple() -> None:
    x = minidl.ones(2, 3)
    assert type(x.size()) is minidl.Size and x.size() == (2, 3) and x.size(-1) == 3
    assert type(x.shape) is tuple and x.shape == x.size()


# -- finfo, iinfo, default dtype --------------------------------------------------------
@pytest.mark.parametrize("dtype, expected", [
    (minidl.float32, dict(bits=32, eps=1.1920928955078125e-07, max=3.4028234663852886e+38,
                          tiny=1.1754943508222875e-38, resolution=1e-06)),
    (minidl.float64, dict(bits=64, eps=2.220446049250313e-16, max=1.7976931348623157e+308,
                          tiny=2.2250738585072014e-308, resolution=1e-15)),
    (minidl.float16, dict(bits=16, eps=0.0009765625, max=65504.0, tiny=6.103515625e-05,
                          resolution=0.001)),
])
def test_finfo_gives_torchs_attributes(dtype, expected: dict) -> None:
    info = minidl.finfo(dtype)
    for name, value in expected.items():
        assert getattr(info, name) == value, name
    assert info.min == -info.max and info.smallest_normal == info.tiny
    assert info.dtype == np.dtype(dtype).name


def test_finfo_and_iinfo_print_and_refuse_as_torchs() -> None:
    assert repr(minidl.finfo()) == (
        "finfo(resolution=1e-06, min=-3.40282e+38, max=3.40282e+38, eps=1.19209e-07, "
        "smallest_normal=1.17549e-38, tiny=1.17549e-38, dtype=float32)")
    assert repr(minidl.iinfo(minidl.int8)) == "iinfo(min=-128, max=127, dtype=int8)"
    assert (minidl.iinfo(minidl.uint8).min, minidl.iinfo(minidl.uint8).max) == (0, 255)
    info = minidl.iinfo(minidl.int64)
    assert (info.bits, info.min, info.max, info.dtype) == (64, -2**63, 2**63 - 1, "int64")
    for bad in (lambda: minidl.finfo(minidl.int32), lambda: minidl.iinfo(minidl.float32),
                lambda: minidl.iinfo(minidl.bool), lambda: minidl.finfo("float32")):
        with pytest.raises(TypeError):
            bad()
    assert minidl.get_default_dtype() is minidl.float32
    assert not hasattr(minidl, "set_default_dtype")


# -- promotion: PyTorch's tables ---------------------------------------------------------
def test_promote_types_and_can_cast_match_torch() -> None:
    for i, a in enumerate(DTYPES):
        for j, b in enumerate(DTYPES):
            ta, tb = getattr(minidl, a), getattr(minidl, b)
            assert np.dtype(minidl.promote_types(ta, tb)).name == VECTORS["promote"][i, j], (a, b)
            assert minidl.can_cast(ta, tb) == VECTORS["can_cast"][i, j], (a, b)


def test_result_type_matches_torch() -> None:
    operands = {"tensor": lambda d: minidl.ones(2, dtype=getattr(minidl, d)),
                "scalar_tensor": lambda d: minidl.tensor(1, dtype=getattr(minidl, d)),
                "number": lambda text: {"True": True, "2": 2, "2.5": 2.5}[text]}
    expected = json.loads(str(VECTORS["result"]))
    assert len(expected) == 2 * 9 * (2 * 9 + 3)
    for key, name in expected.items():
        (ka, a), (kb, b) = (part.split(":") for part in key.split("/"))
        result = minidl.result_type(operands[ka](a), operands[kb](b))
        assert np.dtype(result).name == name, key


def test_dtype_functions_refuse_what_is_no_dtype() -> None:
    with pytest.raises(TypeError, match="'type2'"):
        minidl.promote_types(minidl.float32, "float32")
    with pytest.raises(TypeError, match="'to'"):
        minidl.can_cast(minidl.float32, 3)
    with pytest.raises(TypeError, match="'other'"):
        minidl.result_type(minidl.ones(1), "a")


# -- the global generator's state, seed, random_ -----------------------------------------
def test_rng_state_round_trips_and_seed_reseeds() -> None:
    minidl.manual_seed(3)
    state = minidl.get_rng_state()
    assert state.dtype == np.uint8 and state.ndim == 1
    first = minidl.rand(4).numpy().copy()
    minidl.set_rng_state(state)
    np.testing.assert_array_equal(minidl.rand(4).numpy(), first)
    seed = minidl.seed()
    assert isinstance(seed, int) and minidl.initial_seed() == seed
    with pytest.raises(RuntimeError, match="new_state"):
        minidl.set_rng_state(minidl.zeros(3, dtype=minidl.uint8))


@pytest.mark.parametrize("dtype, args, low, high", [
    (minidl.float32, (5,), 0, 4), (minidl.float32, (2, 4), 2, 3), (minidl.int64, (-3, 3), -3, 2),
    (minidl.int8, (), 0, 127), (minidl.uint8, (), 0, 255), (minidl.bool, (), 0, 1),
    (minidl.float32, (), 0, 2**24), (minidl.float64, (), 0, 2**53)])
def test_random_draws_whole_numbers_in_torchs_ranges(dtype, args, low, high) -> None:
    x = minidl.zeros(4000, dtype=dtype).random_(*args, generator=minidl.Generator().manual_seed(0))
    values = x.numpy().astype(np.float64)
    assert x.dtype == dtype and np.all(values == np.round(values))
    assert values.min() >= low and values.max() <= high
    if high - low < 300:
        assert values.min() == low and values.max() == high
    else:   # 4000 draws all in the lower half of the range: probability 2^-4000
        assert values.max() > high / 2


def test_random_refuses_bounds_as_torch() -> None:
    with pytest.raises(RuntimeError, match="'from' to be less than 'to'"):
        minidl.zeros(3).random_(4, 2)
    with pytest.raises(RuntimeError, match="out of bounds for uint8"):
        minidl.zeros(3, dtype=minidl.uint8).random_(300)
    with pytest.raises(RuntimeError, match="out of bounds for uint8"):
        minidl.zeros(3, dtype=minidl.uint8).random_(-1, 3)
    x = minidl.zeros(3)
    with pytest.raises(RuntimeError):
        x.random_(4, 2)
    for bounds, to in (((0.5, 3), None), ((2.0,), None), ((True,), None), ((), 2.5)):
        with pytest.raises(TypeError, match="from and to must be ints"):   # as torch's
            x.random_(*bounds, to=to)
    assert x._version == 0 and x.tolist() == [0.0, 0.0, 0.0]


# -- creation ----------------------------------------------------------------------------
def test_as_tensor_shares_memory_where_it_can() -> None:
    array = np.arange(3.0)
    shared = minidl.as_tensor(array)
    array[0] = 5
    assert shared.dtype == np.float64 and shared.numpy()[0] == 5
    x = minidl.ones(2)
    assert minidl.as_tensor(x) is x and minidl.as_tensor(x, dtype=minidl.float32) is x
    assert minidl.as_tensor(array, dtype=minidl.float32).dtype == np.float32
    assert minidl.as_tensor([1, 2]).dtype == np.int64


def test_creation_refuses_sizes_that_are_no_ints_as_torch() -> None:
    """torch 2.13: tril_indices(2.5, 3) and logspace(0, 1, 2.0) raise TypeError."""
    for make, argument in ((lambda: minidl.tril_indices(2.5, 3), "'row'"),
                           (lambda: minidl.triu_indices(2, 3.0), "'col'"),
                           (lambda: minidl.tril_indices(2, 3, 0.5), "'offset'"),
                           (lambda: minidl.logspace(0, 1, 2.0), "'steps'")):
        with pytest.raises(TypeError, match=argument):
            make()
    assert minidl.triu_indices(2, 3, -1).tolist() == [[0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2]]


def test_empty_like_keeps_shape_and_dtype() -> None:
    x = minidl.ones(2, 3, dtype=minidl.int32)
    assert minidl.empty_like(x).shape == (2, 3) and minidl.empty_like(x).dtype == np.int32
    assert minidl.empty_like(x, dtype=minidl.float64).dtype == np.float64
    assert minidl.empty_like(minidl.ones(2), requires_grad=True).requires_grad


def test_contiguous_copies_only_what_is_not_contiguous() -> None:
    x = leaf(3, 4)
    assert x.contiguous() is x
    y = x.t().contiguous()
    assert y.is_contiguous() and y.stride() == (3, 1) and y.storage_offset() == 0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 4)))


# -- gradients: every differentiable op added --------------------------------------------
@pytest.mark.parametrize("call, argument", [
    (lambda: minidl.put([1.0], minidl.tensor([0]), minidl.tensor([1.0])), "'input' (position 1)"),
    (lambda: minidl.put(minidl.ones(2), [0], minidl.tensor([1.0])), "'index' (position 2)"),
    (lambda: minidl.put(minidl.ones(2), minidl.tensor([0]), 1.0), "'source' (position 3)"),
    (lambda: minidl.renorm([[1.0]], 2, 0, 1.0), "'input' (position 1)"),
    (lambda: minidl.sum_to_size([1.0, 2.0], 1), "'input' (position 1)"),
    (lambda: minidl.trapezoid([1.0, 2.0]), "'y' (position 1)"),
    (lambda: minidl.trapezoid(minidl.ones(2), [1.0, 2.0]), "'x' (position 2)"),
    (lambda: minidl.cumulative_trapezoid([1.0, 2.0]), "'y' (position 1)"),
    (lambda: minidl.split_with_sizes([1.0, 2.0], [1, 1]), "'input' (position 1)"),
    (lambda: minidl.dsplit([[[1.0]]], 1), "'input' (position 1)"),
    (lambda: minidl.heaviside(minidl.ones(2), 0.5), "'values' (position 2)"),
    (lambda: minidl.dist([1.0], minidl.ones(1)), "'input' (position 1)"),
    (lambda: minidl.allclose(minidl.ones(1), [1.0]), "'other' (position 2)"),
    (lambda: minidl.numel([1.0]), "'input' (position 1)"),
    (lambda: minidl.clone([1.0]), "'input' (position 1)"),
])
def test_functions_refuse_what_is_no_tensor_as_torch(call, argument) -> None:
    """torch 2.13's TypeError naming the argument (an AttributeError of a list before)."""
    with pytest.raises(TypeError, match=re.escape(f"argument {argument} must be Tensor, not")):
        call()


def test_heaviside_has_no_gradient_as_in_pytorch() -> None:
    out = minidl.heaviside(leaf(3), minidl.tensor([0.5], dtype=minidl.float64))
    with pytest.raises(RuntimeError, match="derivative for 'heaviside' is not implemented"):
        out.sum().backward()


GRADCHECKS = {
    "trapezoid": (lambda y: minidl.trapezoid(y, dim=0), [(4, 3)]),
    "trapezoid_x": (lambda y, x: minidl.trapezoid(y, x), [(3, 5), (5,)]),
    "trapezoid_x_nd": (lambda y, x: minidl.trapezoid(y, x, dim=0), [(3, 5), (3, 5)]),
    "cumulative_trapezoid": (lambda y, x: minidl.cumulative_trapezoid(y, x), [(2, 5), (5,)]),
    "cumulative_trapezoid_dx": (lambda y: minidl.cumulative_trapezoid(y, dx=0.3), [(5,)]),
    "inner": (minidl.inner, [(2, 3), (4, 3)]),
    "inner_0d": (minidl.inner, [(), (2, 3)]),
    "dist": (minidl.dist, [(3, 4), (4,)]),
    "dist_p3": (lambda a, b: a.dist(b, 3), [(3, 4), (3, 4)]),
    "addmv": (lambda v, m, w: v.addmv(m, w, beta=0.5, alpha=2), [(3,), (3, 4), (4,)]),
    "renorm": (lambda x: minidl.renorm(x, 2, 0, 1.0), [(3, 4)]),
    "renorm_p1": (lambda x: x.renorm(1, 1, 1.5), [(3, 4)]),
    "det": (minidl.det, [(3, 3)]),
    "det_batch": (lambda a: a.det(), [(2, 4, 4)]),
    "det_singular": (lambda a, b: minidl.det(a @ b), [(3, 2), (2, 3)]),
    "inverse": (minidl.inverse, [(2, 3, 3)]),
    "block_diag": (lambda a, b, c: minidl.block_diag(a, b, c), [(2, 3), (), (2,)]),
    "cartesian_prod": (minidl.cartesian_prod, [(2,), (3,), (2,)]),
    "combinations": (lambda x: minidl.combinations(x, 3), [(5,)]),
    "combinations_replacement": (lambda x: minidl.combinations(x, 2, True), [(3,)]),
    "vander": (lambda x: minidl.vander(x, 4), [(3,)]),
    "split_with_sizes": (lambda x: minidl.cat(minidl.split_with_sizes(x, [1, 2], 1)[::-1], 1),
                         [(2, 3)]),
    "dsplit": (lambda x: minidl.cat(x.dsplit([1, 3])[::-1], 2), [(2, 2, 4)]),
    "sum_to_size": (lambda x: x.sum_to_size(2, 1, 4), [(3, 2, 3, 4)]),
    "where_method": (lambda x, y: x.where(x._data > 0, y), [(3, 4), (4,)]),
}


@pytest.mark.parametrize("name", GRADCHECKS)
def test_gradcheck(name: str) -> None:
    fn, shapes = GRADCHECKS[name]
    inputs = [leaf(*shape, seed=k) for k, shape in enumerate(shapes)]
    assert gradcheck(fn, *inputs)


def test_vander_gradient_through_zeros() -> None:
    x = Tensor([0.0, 1.5, -2.0], requires_grad=True, dtype=np.float64)
    assert gradcheck(lambda x: minidl.vander(x, 4, increasing=True), x)


@pytest.mark.parametrize("accumulate", [False, True])
def test_put_gradcheck(accumulate: bool) -> None:
    index = minidl.tensor([0, -1, 5, 2] if not accumulate else [0, 0, 5, -7])
    assert gradcheck(lambda x, s: x.put(index, s, accumulate=accumulate), leaf(3, 4),
                     leaf(2, 2, seed=1))


# -- the names themselves ---------------------------------------------------------------
TOP_LEVEL = """allclose equal numel is_tensor is_floating_point is_complex clone detach as_tensor
empty_like logspace get_default_dtype finfo iinfo Size result_type promote_types can_cast seed
get_rng_state set_rng_state tril_indices triu_indices block_diag cartesian_prod combinations
heaviside trapezoid trapz cumulative_trapezoid inner dist addmv det inverse vander renorm
split_with_sizes dsplit put relu_ zero_ fill_ detach_ addmv_ xlogy_ sinc_""".split()
METHODS = """allclose equal is_contiguous retain_grad retains_grad element_size nbytes itemsize
stride storage_offset where maximum minimum det inverse detach_ random_ sum_to_size put put_
inner dist addmv addmv_ renorm renorm_ heaviside heaviside_ split_with_sizes dsplit is_complex
addmm_ baddbmm_ cumsum_ cumprod_ digamma_ lgamma_ erfc_ sinc_ eq_ ne_ lt_ le_ gt_ ge_
logical_and_ logical_or_ logical_xor_ logical_not_ bitwise_and_ bitwise_or_ bitwise_xor_
bitwise_not_ bitwise_left_shift_ bitwise_right_shift_ scatter_reduce_""".split()


def test_the_names_torch_scripts_reach_for_exist() -> None:
    x = minidl.ones(2)
    assert [name for name in TOP_LEVEL if not hasattr(minidl, name)] == []
    assert [name for name in METHODS if not hasattr(x, name)] == []


def test_in_place_functions_write_into_their_argument() -> None:
    x = minidl.tensor([-1.0, 2.0])
    assert minidl.relu_(x) is x and x.tolist() == [0.0, 2.0]
    assert minidl.fill_(x, 3) is x and x.tolist() == [3.0, 3.0] and x._version == 2


def test_sum_to_size_sums_integers_in_int64_and_returns_a_tensor_of_that_size_itself():
    """torch 2.13: integer and bool tensors sum to int64 (300 uint8 ones: 300, not 44
    wrapped around), and a size equal to the tensor's returns the tensor itself."""
    ones = minidl.ones(2, 300, dtype=minidl.uint8)
    total = ones.sum_to_size(1, 1)
    assert total.dtype == np.int64 and total.tolist() == [[600]]
    assert minidl.ones(2, 3, dtype=minidl.int32).sum_to_size(3).dtype == np.int64
    for x in (minidl.ones(2, 3, dtype=minidl.bool), leaf(2, 3)):
        assert x.sum_to_size(2, 3) is x


def test_a_comparison_in_place_on_a_graph_node_leaves_it_outside_the_graph() -> None:
    hidden = leaf(3) * 2
    assert hidden.eq_(minidl.zeros(3, dtype=minidl.float64)) is hidden
    assert hidden.tolist() == [0.0, 0.0, 0.0] and not hidden.requires_grad


def test_a_parameter_in_an_optimizers_flat_buffer_starts_its_own_storage() -> None:
    layer = minidl.nn.Linear(3, 2)
    minidl.optim.SGD(layer.parameters(), lr=0.1)
    assert layer.bias.storage_offset() == 0 and layer.weight.stride() == (3, 1)
    assert layer.weight[1].storage_offset() == 3 and layer.weight.t().stride() == (1, 3)
