"""ops1's part of issue 12 on its own terms: float64 gradchecks of every differentiable
op, PyTorch's dtype rules, bool tensors, creation, casts, activation Modules, and the
loss options against their closed forms. (Values against PyTorch: test_ops1_vs_torch.py.)
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl import Tensor, gradcheck


def leaf(array) -> Tensor:
    return Tensor(np.array(array, dtype=np.float64), requires_grad=True, dtype=np.float64)


def data(shape, low=-2.0, high=2.0, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(low, high, shape)


def away_from(x: np.ndarray, points, gap: float = 0.05) -> np.ndarray:
    """x moved off the kinks at ``points``, where finite differences straddle two pieces."""
    for p in points:
        near = np.abs(x - p) < gap
        x = np.where(near, p + np.where(x >= p, gap, -gap), x)
    return x


# -- gradchecks: every differentiable op of this part, in float64 ----------------------
UNARY = {  # name: (function, low, high, kinks)
    "sin": (minidl.sin, -3, 3, ()), "cos": (minidl.cos, -3, 3, ()),
    "tan": (minidl.tan, -1.2, 1.2, ()), "asin": (minidl.asin, -0.9, 0.9, ()),
    "acos": (minidl.acos, -0.9, 0.9, ()), "atan": (minidl.atan, -3, 3, ()),
    "sinh": (minidl.sinh, -2, 2, ()), "cosh": (minidl.cosh, -2, 2, ()),
    "asinh": (minidl.asinh, -3, 3, ()), "acosh": (minidl.acosh, 1.2, 3, ()),
    "atanh": (minidl.atanh, -0.9, 0.9, ()), "exp2": (minidl.exp2, -2, 2, ()),
    "log2": (minidl.log2, 0.3, 3, ()), "log10": (minidl.log10, 0.3, 3, ()),
    "log1p": (minidl.log1p, -0.7, 2, ()), "expm1": (minidl.expm1, -2, 2, ()),
    "erf": (minidl.erf, -2, 2, ()), "rsqrt": (minidl.rsqrt, 0.3, 3, ()),
    "reciprocal": (minidl.reciprocal, 0.3, 3, ()), "square": (minidl.square, -2, 2, ()),
    "sign": (minidl.sign, -2, 2, (0,)), "floor": (minidl.floor, -2, 2, (-1, 0, 1)),
    "ceil": (minidl.ceil, -2, 2, (-1, 0, 1)), "trunc": (minidl.trunc, -2, 2, (-1, 0, 1)),
    "round": (minidl.round, -2, 2, (-1.5, -0.5, 0.5, 1.5)),
    "elu": (lambda x: minidl.elu(x, 0.7), -3, 3, (0,)),
    "celu": (lambda x: minidl.celu(x, 1.5), -3, 3, (0,)), "selu": (minidl.selu, -3, 3, (0,)),
    "silu": (minidl.silu, -5, 5, ()), "mish": (minidl.mish, -5, 5, ()),
    "softplus": (lambda x: minidl.softplus(x, beta=2, threshold=4), -4, 4, (2,)),
    "softsign": (minidl.softsign, -3, 3, (0,)),
    "hardtanh": (lambda x: minidl.hardtanh(x, -0.5, 1.5), -3, 3, (-0.5, 1.5)),
    "relu6": (minidl.relu6, -2, 8, (0, 6)), "hardsigmoid": (minidl.hardsigmoid, -5, 5, (-3, 3)),
    "hardswish": (minidl.hardswish, -5, 5, (-3, 3)), "logsigmoid": (minidl.logsigmoid, -5, 5, ()),
    "softmin": (lambda x: minidl.softmin(x, 0), -2, 2, ()),
    "to_float32": (lambda x: x.to(np.float32).double(), -2, 2, ()),
}


@pytest.mark.parametrize("name", UNARY)
def test_unary_gradcheck(name):
    fn, low, high, kinks = UNARY[name]
    x = away_from(data((2, 3), low, high), kinks)
    # Through float32 finite differences need a wide step: float32 rounds at 1e-7.
    eps = 1e-2 if name == "to_float32" else 1e-6
    assert gradcheck(fn, leaf(x), eps=eps)


BINARY = {  # name: (function, domain of a, domain of b)
    "pow": (minidl.pow, (0.5, 2), (-2, 2)),
    "rpow": (lambda a, b: a ** b, (0.5, 2), (-2, 2)),
    "lerp": (lambda a, b: minidl.lerp(a, b, 0.3), (-2, 2), (-2, 2)),
    "logaddexp": (minidl.logaddexp, (-3, 3), (-3, 3)),
    "copysign": (minidl.copysign, (0.3, 2), (0.3, 2)),
    "fmod": (minidl.fmod, (-3, 3), (0.7, 1.3)),
    "remainder": (minidl.remainder, (-3, 3), (0.7, 1.3)),
    "div_floor": (lambda a, b: minidl.div(a, b, rounding_mode="floor"), (-3, 3), (0.7, 1.3)),
    "div_trunc": (lambda a, b: minidl.div(a, b, rounding_mode="trunc"), (-3, 3), (0.7, 1.3)),
}


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 1), (3,)), ((), (2,))])
def test_binary_gradcheck_with_broadcasting(name, shapes):
    fn, (a_low, a_high), (b_low, b_high) = BINARY[name]
    a, b = data(shapes[0], a_low, a_high, 1), data(shapes[1], b_low, b_high, 2)
    if name in ("fmod", "remainder", "div_floor", "div_trunc"):
        # Keep a / b away from integers, where the quotient jumps.
        a = b * away_from(a / b, np.arange(-5, 6), 0.1) if a.shape == np.broadcast(a, b).shape \
            else a
    assert gradcheck(fn, leaf(a), leaf(b))


def test_lerp_gradcheck_with_a_tensor_weight():
    assert gradcheck(minidl.lerp, leaf(data((2, 3))), leaf(data((3,), seed=1)),
                     leaf(data((2, 1), 0, 1, seed=2)))


def test_pow_at_zero_base_follows_pytorch():
    x, p = leaf([0.0, 0.0, 2.0]), leaf([2.0, 0.0, 0.0])
    (x ** p).backward(np.ones(3))
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])  # 2 * 0^1, and p = 0 gives 0
    np.testing.assert_array_equal(p.grad, [0.0, 0.0, math.log(2.0)])  # 0 where x = 0


def test_rounding_ops_have_zero_gradient():
    x = leaf([-1.5, -0.2, 0.5, 2.7])
    for op in (minidl.sign, minidl.floor, minidl.ceil, minidl.trunc, minidl.round):
        x.grad = None
        op(x).sum().backward()
        np.testing.assert_array_equal(x.grad, np.zeros(4))
    np.testing.assert_array_equal(minidl.round(Tensor([0.5, 1.5, 2.5, -0.5])).numpy(),
                                  [0.0, 2.0, 2.0, -0.0])  # halves to even, as PyTorch


# -- PyTorch's dtype rules ------------------------------------------------------------
@pytest.mark.parametrize("make, dtype", [
    (lambda: minidl.tensor(1) + 0.5, np.float32),
    (lambda: 0.5 + minidl.tensor(1), np.float32),
    (lambda: minidl.tensor([1, 2]) / 2, np.float32),
    (lambda: minidl.tensor([1, 2]) / minidl.tensor([2, 4]), np.float32),
    (lambda: minidl.maximum(minidl.tensor([1, 2]), 1.2), np.float32),
    (lambda: minidl.tensor([True, False]) * 1.5, np.float32),
    (lambda: minidl.tensor([1, 2]) * minidl.tensor([1.0], dtype=np.float64), np.float64),
    (lambda: minidl.tensor([1, 2]) + minidl.tensor([1.0]), np.float32),
    (lambda: minidl.tensor([1, 2]) + 1, np.int64),
    (lambda: minidl.tensor([1, 2]) // 2, np.int64),
    (lambda: minidl.tensor([5, -5]) % 3, np.int64),
    (lambda: minidl.tensor([1, 2]) ** 2, np.int64),
    (lambda: minidl.tensor([1, 2]) ** 0.5, np.float32),
    (lambda: 2 ** minidl.tensor([1.0, 2.0]), np.float32),
    (lambda: minidl.sin(minidl.tensor([1, 2])), np.float32),
    (lambda: minidl.square(minidl.tensor([1, 2])), np.int64),
    (lambda: minidl.copysign(minidl.tensor([1, 2]), -1), np.float32),
])
def test_dtype_rules_follow_pytorch(make, dtype):
    assert make().dtype == dtype


def test_integer_values_of_the_promoted_ops():
    np.testing.assert_allclose((minidl.tensor([1, 2]) / 2).numpy(), [0.5, 1.0])
    np.testing.assert_array_equal((minidl.tensor([7, -7]) // 2).numpy(), [3, -4])
    np.testing.assert_array_equal(minidl.div(minidl.tensor([7, -7]), 2, rounding_mode="trunc")
                                  .data, [3, -3])
    np.testing.assert_array_equal(minidl.fmod(minidl.tensor([7, -7]), 3).numpy(), [1, -1])
    np.testing.assert_array_equal((minidl.tensor([7, -7]) % 3).numpy(), [1, 2])


def test_integer_division_by_zero_raises():
    for op in (lambda a, b: a // b, lambda a, b: a % b, minidl.fmod):
        with pytest.raises(ZeroDivisionError, match="integer division by zero"):
            op(minidl.tensor([1, 2]), minidl.tensor([1, 0]))


def test_div_rejects_an_unknown_rounding_mode():
    with pytest.raises(ValueError, match="rounding_mode.*'round'"):
        minidl.div(Tensor([1.0]), 2, rounding_mode="round")


# -- comparisons, logic, bool ----------------------------------------------------------
def test_one_element_tensors_have_a_truth_value():
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 3.0])
    assert a[0] == b[0]
    assert not (a[1] == b[1])
    assert bool(Tensor([[0.5]])) and not bool(Tensor(0))
    with pytest.raises(RuntimeError, match="ambiguous.*any.*all"):
        bool(a == b)
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(Tensor(np.zeros(0)))


def test_operators_on_bool_and_int_tensors():
    t, f = Tensor([True, True, False]), Tensor([True, False, False])
    assert (~t).numpy().tolist() == [False, False, True]
    assert (t & f).numpy().tolist() == [True, False, False]
    assert (t | f).numpy().tolist() == [True, True, False]
    assert (t ^ f).numpy().tolist() == [False, True, False]
    assert (True & f).numpy().tolist() == [True, False, False]
    assert (~Tensor([0, 5])).numpy().tolist() == [-1, -6]
    assert (Tensor([6]) & 3).numpy().tolist() == [2] and (3 | Tensor([4])).numpy().tolist() == [7]
    with pytest.raises(TypeError, match="bool and integer.*float32"):
        ~Tensor([1.0])
    with pytest.raises(TypeError, match="bool and integer.*float32"):
        Tensor([1.0]) & Tensor([True])


def test_logic_results_never_require_grad():
    x = leaf([0.0, np.nan, np.inf, 1.0])
    for out in (x > 0, x == x, minidl.isnan(x), minidl.isinf(x), minidl.isfinite(x),
                minidl.isclose(x, 1.0), minidl.logical_not(x), minidl.logical_and(x, x),
                minidl.any(x > 0), minidl.all(x > 0, axis=0)):
        assert out.dtype == bool and not out.requires_grad
    assert minidl.isnan(x).numpy().tolist() == [False, True, False, False]
    assert minidl.isclose(x, x, equal_nan=True).numpy().tolist() == [True, True, True, True]


def test_any_and_all_take_dim_and_keepdim():
    x = Tensor([[0, 1], [0, 0]])
    assert minidl.any(x).item() is True and minidl.all(x).item() is False
    assert x.any(dim=1).numpy().tolist() == [True, False]
    assert x.all(axis=0, keepdims=True).shape == (1, 2)
    assert minidl.any(x, dim=0, keepdim=True).numpy().tolist() == [[False, True]]
    assert minidl.all(Tensor(np.zeros((0, 3)))).item() is True


def test_comparison_with_an_unusable_operand_is_false_not_an_error():
    assert (Tensor([1.0]) == "a") is False and (Tensor([1.0]) != None) is True  # noqa: E711


# -- creation ----------------------------------------------------------------------------
def test_creation_functions_follow_pytorch():
    assert minidl.arange(4).numpy().tolist() == [0, 1, 2, 3] and minidl.arange(4).dtype == np.int64
    assert minidl.arange(1, 2, 0.25).numpy().tolist() == [1.0, 1.25, 1.5, 1.75]
    assert minidl.arange(1, 2, 0.25).dtype == np.float32
    assert minidl.arange(5, 0, -2).numpy().tolist() == [5, 3, 1]
    assert minidl.linspace(0, 1, 5).numpy().tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    np.testing.assert_array_equal(minidl.eye(2, 3).numpy(), [[1, 0, 0], [0, 1, 0]])
    assert minidl.full((2, 2), 7).dtype == np.int64
    assert minidl.full((2,), 1.5).dtype == np.float32
    assert minidl.full((2,), True).dtype == bool
    assert minidl.empty(2, 3).shape == (2, 3) and minidl.empty((4,)).dtype == np.float32
    x = Tensor(np.ones((2, 3)), dtype=np.float64)
    for like in (minidl.zeros_like(x), minidl.ones_like(x), minidl.full_like(x, 3),
                 minidl.rand_like(x), minidl.randn_like(x)):
        assert like.shape == (2, 3) and like.dtype == np.float64
    assert minidl.zeros_like(x, dtype=np.int32).dtype == np.int32
    assert minidl.ones_like(x, requires_grad=True).requires_grad


def test_random_creation_is_seeded():
    def draw():
        minidl.manual_seed(3)
        x = Tensor(np.zeros(4))
        return [minidl.randint(0, 10, (5,)).numpy(), minidl.randint(5, (2, 2)).numpy(),
                minidl.rand_like(x).numpy(), minidl.randn_like(x).numpy()]
    first, second = draw(), draw()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert first[0].dtype == np.int64 and ((0 <= first[0]) & (first[0] < 10)).all()
    assert ((0 <= first[1]) & (first[1] < 5)).all()


def test_from_numpy_shares_memory_and_keeps_dtype():
    array = np.zeros(3)
    t = minidl.from_numpy(array)
    array[0] = 5.0
    t.data[1] = 7.0
    assert t.dtype == np.float64 and t.numpy().tolist() == [5.0, 7.0, 0.0]
    assert array.tolist() == [5.0, 7.0, 0.0]
    with pytest.raises(TypeError, match="numpy array.*list"):
        minidl.from_numpy([1.0])


@pytest.mark.parametrize("call, pattern", [
    (lambda: minidl.arange(0, 5, 0), "step must be nonzero"),
    (lambda: minidl.linspace(0, 1, -1), "steps.*-1"),
    (lambda: minidl.randint(5, 5, (2,)), "high must be greater than low.*low=5, high=5"),
])
def test_creation_errors_name_the_argument(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


# -- casts -------------------------------------------------------------------------------
def test_casts_and_their_gradients():
    x = Tensor([1.7, -2.5], requires_grad=True)
    assert x.float() is x and x.to(np.float32) is x and x.to("cpu") is x
    y = x.double()
    assert y.dtype == np.float64 and y.requires_grad
    (y * Tensor([2.0, 3.0], dtype=np.float64)).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.numpy().tolist() == [2.0, 3.0]
    assert x.long().numpy().tolist() == [1, -2] and not x.long().requires_grad
    assert x.int().dtype == np.int32 and x.half().dtype == np.float16
    assert x.bool().numpy().tolist() == [True, True] and Tensor([0.0]).bool().item() is False
    assert x.type() == "float32" and x.type(np.float64).dtype == np.float64
    assert x.astype("int64").dtype == np.int64 and Tensor([1, 0]).to(float).dtype == np.float64


def test_cast_to_a_non_dtype_is_named():
    with pytest.raises(TypeError, match="'gpu' is not a dtype"):
        Tensor([1.0]).to("gpu")
    with pytest.raises(TypeError, match="complex128"):
        Tensor([1.0]).to(np.complex128)


# -- activation Modules ------------------------------------------------------------------
@pytest.mark.parametrize("module, function", [
    (nn.ELU(alpha=0.5), lambda x: F.elu(x, 0.5)), (nn.CELU(2.0), lambda x: F.celu(x, 2.0)),
    (nn.SELU(), F.selu), (nn.SiLU(), F.silu), (nn.Mish(), F.mish),
    (nn.Softplus(beta=2, threshold=3), lambda x: F.softplus(x, 2, 3)),
    (nn.Softsign(), F.softsign), (nn.Hardtanh(-2, 3), lambda x: F.hardtanh(x, -2, 3)),
    (nn.ReLU6(), F.relu6), (nn.Hardsigmoid(), F.hardsigmoid), (nn.Hardswish(), F.hardswish),
    (nn.LogSigmoid(), F.logsigmoid), (nn.Softmin(dim=0), lambda x: F.softmin(x, 0)),
    (nn.GELU(approximate="tanh"), lambda x: F.gelu(x, approximate="tanh")),
])
def test_activation_modules_call_their_functions(module, function):
    x = Tensor(data((3, 4), -5, 5))
    np.testing.assert_array_equal(module(x).numpy(), function(x).numpy())
    assert list(module.parameters()) == []


def test_activation_module_reprs_and_bad_settings():
    assert repr(nn.ELU(0.5)) == "ELU(alpha=0.5)"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert repr(nn.Softmin(1)) == "Softmin(dim=1)" and repr(nn.SiLU()) == "SiLU()"
    with pytest.raises(ValueError, match="alpha.*'a'"):
        nn.ELU("a")
    with pytest.raises(ValueError, match="beta"):
        nn.Softplus(beta=0)
    with pytest.raises(ValueError, match="min_val 2.*max_val 1"):
        nn.Hardtanh(2, 1)


def test_activation_closed_forms():
    x = np.array([-4.0, -1.0, 0.5, 4.0])
    t = Tensor(x, dtype=np.float64)
    np.testing.assert_allclose(F.selu(t).numpy(), 1.0507009873554805 * np.where(
        x > 0, x, 1.6732632423543772 * np.expm1(x)))
    np.testing.assert_allclose(F.mish(t).numpy(), x * np.tanh(np.log1p(np.exp(x))))
    np.testing.assert_allclose(F.hardswish(t).numpy(), x * np.clip(x + 3, 0, 6) / 6)
    np.testing.assert_allclose(F.logsigmoid(t).numpy(), -np.log1p(np.exp(-x)))
    np.testing.assert_allclose(F.softplus(Tensor([1000.0, -1000.0])).numpy(), [1000.0, 0.0])
    np.testing.assert_allclose(F.softmin(t.reshape(2, 2), dim=0).numpy(),
                               F.softmax(-t.reshape(2, 2), axis=0).numpy())


# -- losses: closed forms ---------------------------------------------------------------
LOGITS = data((4, 3), seed=5)
CLASSES = np.array([0, 2, 1, 2])


def _log_softmax(x, axis=-1):
    x = x - x.max(axis=axis, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


def test_cross_entropy_weight_and_ignore_index():
    w = np.array([0.5, 2.0, 1.0])
    targets = np.array([0, 2, -100, 2])
    logp = _log_softmax(LOGITS)
    kept = [0, 1, 3]
    per_sample = -w[targets[kept]] * logp[kept, targets[kept]]
    loss = F.cross_entropy(leaf(LOGITS), targets, weight=w)
    np.testing.assert_allclose(loss.numpy(), per_sample.sum() / w[targets[kept]].sum())
    none = F.cross_entropy(leaf(LOGITS), targets, "none", weight=w)
    np.testing.assert_allclose(none.numpy(), [per_sample[0], per_sample[1], 0.0, per_sample[2]])
    assert gradcheck(lambda x: F.cross_entropy(x, targets, weight=w, label_smoothing=0.2),
                     leaf(LOGITS))


def test_cross_entropy_label_smoothing_is_a_mixed_target():
    eps = 0.3
    smoothed = (1 - eps) * np.eye(3)[CLASSES] + eps / 3
    expected = -(smoothed * _log_softmax(LOGITS)).sum(axis=1).mean()
    np.testing.assert_allclose(F.cross_entropy(leaf(LOGITS), CLASSES, label_smoothing=eps).numpy(),
                               expected)
    np.testing.assert_allclose(F.cross_entropy(leaf(LOGITS), smoothed).numpy(), expected)


def test_cross_entropy_probability_targets_and_their_gradient():
    target = leaf(np.random.default_rng(0).dirichlet(np.ones(3), 4))
    assert gradcheck(lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1), leaf(LOGITS),
                     target)


def test_class_losses_on_spatial_inputs_match_the_flattened_rows():
    x = data((2, 3, 2, 2), seed=7)
    t = np.random.default_rng(7).integers(0, 3, (2, 2, 2))
    rows, row_targets = np.moveaxis(x, 1, -1).reshape(-1, 3), t.reshape(-1)
    for fn in (F.cross_entropy, F.nll_loss):
        spatial = fn(leaf(x), t, "none")
        assert spatial.shape == (2, 2, 2)
        np.testing.assert_allclose(spatial.numpy().reshape(-1), fn(leaf(rows), row_targets,
                                                                "none").numpy())
        assert gradcheck(lambda x: fn(x, t, weight=[1.0, 2.0, 0.5], ignore_index=1), leaf(x))


def test_nll_loss_weight_and_unbatched_input():
    w = np.array([1.0, 3.0, 0.5])
    loss = F.nll_loss(leaf(LOGITS), CLASSES, weight=w)
    np.testing.assert_allclose(loss.numpy(), -(w[CLASSES] * LOGITS[range(4), CLASSES]).sum()
                               / w[CLASSES].sum())
    single = F.nll_loss(leaf(LOGITS[0]), np.array(2))
    assert single.shape == () and single.item() == -LOGITS[0, 2]


def test_every_target_ignored_gives_nan_mean_as_pytorch():
    with np.errstate(invalid="ignore"):
        loss = F.cross_entropy(leaf(LOGITS), np.full(4, 2), ignore_index=2)
    assert np.isnan(loss.item())


def test_loss_option_errors_name_the_value():
    with pytest.raises(ValueError, match="weight must have shape \\(3,\\).*\\(2,\\)"):
        F.cross_entropy(leaf(LOGITS), CLASSES, weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="label_smoothing.*1.5"):
        F.cross_entropy(leaf(LOGITS), CLASSES, label_smoothing=1.5)
    with pytest.raises(ValueError, match="ignore_index \\(0\\).*probability"):
        F.cross_entropy(leaf(LOGITS), np.full((4, 3), 1 / 3), ignore_index=0)
    with pytest.raises(ValueError, match="target\\[1, 0\\] = 5 is out of range"):
        F.nll_loss(leaf(data((2, 3, 2))), np.array([[0, 1], [5, 1]]))
    with pytest.raises(ValueError, match="input\\[0, 1\\] = 1.5 is out of range"):
        F.binary_cross_entropy(leaf([[0.5, 1.5]]), [[1.0, 0.0]])


def test_binary_cross_entropy_on_probabilities():
    p = np.array([0.1, 0.6, 0.0, 1.0])
    y = np.array([0.0, 1.0, 0.0, 1.0])
    loss = F.binary_cross_entropy(leaf(p), y, "none")
    np.testing.assert_allclose(loss.numpy(), [-math.log(0.9), -math.log(0.6), 0.0, 0.0])
    # log clamped at -100: a certain wrong answer costs 100, not inf.
    np.testing.assert_allclose(F.binary_cross_entropy(leaf([0.0]), [1.0]).item(), 100.0)
    assert gradcheck(lambda x, t: F.binary_cross_entropy(x, t, weight=[2.0, 0.5]),
                     leaf([[0.2, 0.7], [0.4, 0.9]]), leaf([[0.1, 0.9], [0.3, 0.5]]))
    assert isinstance(nn.BCELoss(reduction="sum"), nn.Module)


def test_bce_with_logits_pos_weight_is_a_weighted_positive_term():
    x, y, pw = LOGITS, np.random.default_rng(1).uniform(0, 1, (4, 3)), np.array([1.0, 2.0, 3.0])
    log_s, log_1ms = -np.log1p(np.exp(-x)), -np.log1p(np.exp(x))
    expected = -(pw * y * log_s + (1 - y) * log_1ms)
    loss = nn.BCEWithLogitsLoss(reduction="none", pos_weight=pw)(leaf(x), y)
    np.testing.assert_allclose(loss.numpy(), expected)
    plain = F.binary_cross_entropy_with_logits(leaf(x), y, "none")
    ones = F.binary_cross_entropy_with_logits(leaf(x), y, "none", pos_weight=np.ones(3))
    np.testing.assert_allclose(ones.numpy(), plain.numpy())
    assert gradcheck(lambda x, t: F.binary_cross_entropy_with_logits(
        x, t, weight=[0.5, 1.0, 2.0], pos_weight=pw), leaf(x), leaf(y))


def test_loss_modules_take_the_options():
    x = leaf(LOGITS)
    module = nn.CrossEntropyLoss(weight=[1.0, 2.0, 3.0], ignore_index=1, label_smoothing=0.1)
    np.testing.assert_allclose(module(x, CLASSES).numpy(), F.cross_entropy(
        x, CLASSES, weight=[1.0, 2.0, 3.0], ignore_index=1, label_smoothing=0.1).numpy())
    np.testing.assert_allclose(nn.NLLLoss(weight=[1.0, 2.0, 3.0], reduction="sum")(x, CLASSES).numpy(),
                               F.nll_loss(x, CLASSES, "sum", weight=[1.0, 2.0, 3.0]).numpy())
