"""Issue 17's corrections that need no PyTorch vectors: the modules' keyword names in
forward, the loss weights as buffers, gradchecks of the ops whose gradients changed,
and the exception types. The values are checked against PyTorch in test_ops2_torch.py
(ops3_vectors.npz)."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl import Tensor, gradcheck

MODULES = [cls for cls in vars(nn).values() if isinstance(cls, type) and
           issubclass(cls, nn.Module) and cls not in (nn.Module, nn.ModuleList, nn.ModuleDict)]
LOSSES = [cls for cls in MODULES if cls.__name__.endswith("Loss")]


@pytest.mark.parametrize("cls", MODULES, ids=lambda cls: cls.__name__)
def test_forward_takes_pytorchs_keyword_names(cls) -> None:
    """PyTorch's modules call their input ``input`` (and a loss's second ``target``), so
    ``model(input=x)`` works as in PyTorch."""
    names = list(inspect.signature(cls.forward).parameters)[1:]
    assert names == (["input", "target"] if cls in LOSSES else ["input"])


def test_linear_called_with_input_keyword() -> None:
    layer = nn.Linear(3, 2)
    x = minidl.randn(4, 3)
    np.testing.assert_array_equal(np.asarray(layer(input=x)), np.asarray(layer(x)))


@pytest.mark.parametrize("cls, names", [(nn.CrossEntropyLoss, ["weight"]),
                                        (nn.NLLLoss, ["weight"]), (nn.BCELoss, ["weight"]),
                                        (nn.BCEWithLogitsLoss, ["weight", "pos_weight"])])
def test_loss_weights_are_buffers_in_the_state_dict(cls, names: list) -> None:
    weights = {name: np.array([0.5, 1.0, 2.0], dtype=np.float32) for name in names}
    loss_fn = cls(**weights)
    state = loss_fn.state_dict()
    assert list(state) == names
    for name in names:
        np.testing.assert_array_equal(state[name], weights[name])
    assert loss_fn.double().state_dict()[names[0]].dtype == np.float64
    assert cls().state_dict() == {}      # a weight of None stays out, as in PyTorch
    fresh = cls(**{name: np.ones(3, np.float32) for name in names})
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh.state_dict()[names[0]], weights[names[0]])


def test_the_loaded_weight_is_the_one_used() -> None:
    logits, target = minidl.randn(4, 3), np.array([0, 1, 2, 1])
    weighted = nn.CrossEntropyLoss(weight=np.array([1.0, 2.0, 3.0], np.float32))
    plain = nn.CrossEntropyLoss(weight=np.ones(3, np.float32))
    plain.load_state_dict(weighted.state_dict())
    assert plain(logits, target).item() == weighted(logits, target).item()


@pytest.mark.parametrize("min_shape, max_shape", [((4,), (3, 1)), ((3, 4), None),
                                                  (None, (1, 4))])
def test_clamp_gradcheck_with_tensor_bounds(min_shape, max_shape) -> None:
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True, dtype=np.float64)
    bounds = [None if shape is None else
              Tensor(rng.standard_normal(shape), requires_grad=True, dtype=np.float64)
              for shape in (min_shape, max_shape)]
    given = [b for b in bounds if b is not None]

    def clamp(x, *given):
        items = iter(given)
        return minidl.clamp(x, *(None if b is None else next(items) for b in bounds))
    assert gradcheck(clamp, x, *given)


@pytest.mark.parametrize("p", [-1, -2.5, 0.5, 3])
def test_norm_gradcheck_any_p(p) -> None:
    x = Tensor(np.random.default_rng(1).standard_normal((3, 4)), requires_grad=True,
               dtype=np.float64)
    assert gradcheck(lambda x: x.norm(p=p, dim=1), x)


def test_cross_entropy_with_every_target_ignored_is_nan_with_zero_gradient() -> None:
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    loss = nn.functional.cross_entropy(x, np.full(3, -100))
    loss.backward()
    assert np.isnan(loss.item()) and not np.asarray(x.grad).any()


def test_gather_scatter_gradcheck_on_0d_tensors() -> None:
    x, src = (Tensor(np.float64(v), requires_grad=True, dtype=np.float64) for v in (2.0, 3.0))
    assert gradcheck(lambda x: x.gather(0, np.array(0)), x)
    assert gradcheck(lambda x, src: minidl.scatter_add(x, 0, np.array(0), src), x, src)
    assert gradcheck(lambda x: x.index_select(0, np.array([0])), x)


def test_masked_fill_gradcheck_with_a_larger_mask() -> None:
    x = Tensor(np.arange(4.0), requires_grad=True, dtype=np.float64)
    mask = np.array([[True, False, False, True], [False, False, True, False]])
    assert gradcheck(lambda x: x.masked_fill(mask, 0.5), x)


@pytest.mark.parametrize("dtype, expected", [
    (np.int64, [0, 1, 2, 3, 4]), (np.int32, [0, 1, 2, 3]), (np.uint8, [0, 1, 2, 3])])
def test_arange_integer_dtype_counts_as_pytorch(dtype, expected) -> None:
    """int64 counts in the truncated bounds, the other integer dtypes in the float ones."""
    out = minidl.arange(0.5, 5.7, 1.3, dtype=dtype)
    assert out.dtype == dtype and np.asarray(out).tolist() == expected


@pytest.mark.parametrize("op, error, pattern", [
    (lambda x: x.sum(dim=2), IndexError, "axis 2 is out of range"),
    (lambda x: x.transpose(0, 2), IndexError, "axis 2"),
    (lambda x: x + minidl.ones(3), RuntimeError, r"\(2, 2\) and \(3,\)"),
    (lambda x: x.reshape(3), RuntimeError, r"\(2, 2\).*\(3,\)"),
    (lambda x: x.long() ** -1, RuntimeError, "negative integer powers"),
    (lambda x: minidl.tensor([1, 2]).float().clamp(min="a"), TypeError, "'a'"),
    (lambda x: nn.functional.elu(minidl.tensor([1, 2])), NotImplementedError, "int64"),
])
def test_exceptions_have_pytorchs_types_and_name_the_value(op, error, pattern) -> None:
    with pytest.raises(error, match=pattern):
        op(minidl.ones(2, 2))
