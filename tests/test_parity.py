"""Issue 17's corrections that need no PyTorch vectors: the modules' keyword names in
forward, the loss weights as buffers, gradchecks of the ops whose gradients changed,
and the exception types. The values are checked against PyTorch in test_ops2_torch.py
(ops3_vectors.npz)."""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl import Tensor, gradcheck

TORCH_FORWARD_NAMES = json.loads((Path(__file__).parent / "data" /
                                  "torch_forward_names.json").read_text())
MODULES = [cls for name, cls in vars(nn).items() if isinstance(cls, type) and
           issubclass(cls, nn.Module) and name in TORCH_FORWARD_NAMES and
           name not in ("Module", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
                        "LazyLinear")]   # whose forward is no call, or that minidl refuses


@pytest.mark.parametrize("cls", MODULES, ids=lambda cls: cls.__name__)
def test_forward_takes_pytorchs_keyword_names(cls) -> None:
    """Every module that PyTorch has too takes its forward's arguments under PyTorch's
    names (tests/data/torch_forward_names.json), so ``model(input=x)`` works."""
    assert list(inspect.signature(cls.forward).parameters)[1:] == \
        TORCH_FORWARD_NAMES[cls.__name__]


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


def _leaf(seed: int, shape: tuple, low: float = -2.0, high: float = 2.0) -> Tensor:
    values = np.random.default_rng(seed).uniform(low, high, shape)
    return Tensor(values, requires_grad=True, dtype=np.float64)


GRADCHECKS = {   # issue 17's differentiable ops: (function, input shapes, value range)
    "erfc": (minidl.erfc, [(3, 4)], (-2, 2)),
    "erfinv": (minidl.erfinv, [(3, 4)], (-0.9, 0.9)),
    "lgamma": (minidl.lgamma, [(3, 4)], (0.2, 3)),
    "digamma": (minidl.digamma, [(3, 4)], (0.2, 3)),
    "logit": (lambda x: minidl.logit(x, eps=0.1), [(3, 4)], (0.15, 0.85)),
    "sinc": (minidl.sinc, [(3, 4)], (-2, 2)),
    "nan_to_num": (minidl.nan_to_num, [(3, 4)], (-2, 2)),
    "frac": (minidl.frac, [(3, 4)], (0.1, 0.9)),
    "atan2": (minidl.atan2, [(3, 4), (4,)], (0.5, 2)),
    "hypot": (minidl.hypot, [(3, 4), (3, 1)], (0.5, 2)),
    "xlogy": (minidl.xlogy, [(3, 4), (3, 4)], (0.5, 2)),
    "fmax": (minidl.fmax, [(3, 4), (3, 4)], (-2, 2)),
    "fmin": (minidl.fmin, [(3, 4), (4,)], (-2, 2)),
    "float_power": (minidl.float_power, [(3, 4), (3, 4)], (0.5, 2)),
    "addcmul": (lambda a, b, c: minidl.addcmul(a, b, c, value=0.5), [(3, 4), (4,), (3, 1)],
                (-2, 2)),
    "addcdiv": (lambda a, b, c: minidl.addcdiv(a, b, c, value=2), [(3, 4), (3, 4), (3, 4)],
                (0.5, 2)),
    "amax": (lambda x: minidl.amax(x, dim=1), [(3, 4)], (-2, 2)),
    "aminmax": (lambda x: minidl.aminmax(x, dim=0).max * 2 + minidl.aminmax(x, dim=0).min,
                [(3, 4)], (-2, 2)),
    "nansum": (lambda x: minidl.nansum(x, dim=0), [(3, 4)], (-2, 2)),
    "nanmean": (lambda x: minidl.nanmean(x, dim=1), [(3, 4)], (-2, 2)),
    "var_mean": (lambda x: minidl.var_mean(x, dim=1)[0] + minidl.var_mean(x, dim=1)[1],
                 [(3, 4)], (-2, 2)),
    "std_mean": (lambda x: minidl.std_mean(x)[0], [(3, 4)], (-2, 2)),
    "quantile": (lambda x: minidl.quantile(x, 0.3, dim=1), [(3, 5)], (-2, 2)),
    "nanquantile": (lambda x: minidl.nanquantile(x, Tensor([0.2, 0.7]), dim=0), [(5, 3)],
                    (-2, 2)),
    "mode": (lambda x: minidl.mode(x, 1).values, [(3, 5)], (-2, 2)),   # distinct: the min
    "kthvalue": (lambda x: minidl.kthvalue(x, 2, 1).values, [(3, 5)], (-2, 2)),
    "diff": (lambda x, y: minidl.diff(x, n=2, dim=0, append=y), [(3, 4), (1, 4)], (-2, 2)),
    "cov": (lambda x: minidl.cov(x, aweights=np.array([1.0, 2, 1, 3])), [(2, 4)], (-2, 2)),
    "corrcoef": (minidl.corrcoef, [(3, 5)], (-2, 2)),
    "mm": (minidl.mm, [(3, 4), (4, 2)], (-2, 2)),
    "bmm": (minidl.bmm, [(2, 3, 4), (2, 4, 2)], (-2, 2)),
    "mv": (minidl.mv, [(3, 4), (4,)], (-2, 2)),
    "dot": (minidl.dot, [(4,), (4,)], (-2, 2)),
    "addmm": (lambda a, b, c: minidl.addmm(a, b, c, beta=0.5, alpha=2),
              [(2,), (3, 4), (4, 2)], (-2, 2)),
    "baddbmm": (minidl.baddbmm, [(2, 3, 2), (2, 3, 4), (2, 4, 2)], (-2, 2)),
    "kron": (minidl.kron, [(2, 3), (2,)], (-2, 2)),
    "tensordot": (lambda a, b: minidl.tensordot(a, b, dims=([1, 0], [0, 2])),
                  [(2, 3, 4), (3, 5, 2)], (-2, 2)),
    "trace": (minidl.trace, [(3, 4)], (-2, 2)),
    "cross": (lambda a, b: minidl.cross(a, b, dim=1), [(4, 3), (1, 3)], (-2, 2)),
    "cdist": (lambda a, b: minidl.cdist(a, b, p=1.5), [(3, 4), (2, 4)], (-2, 2)),
    "movedim": (lambda x: minidl.movedim(x, (0, 1), (2, 0)), [(2, 3, 4)], (-2, 2)),
    "t": (minidl.t, [(3, 4)], (-2, 2)),
    "narrow": (lambda x: minidl.narrow(x, 1, 1, 2), [(3, 4)], (-2, 2)),
    "unbind": (lambda x: minidl.unbind(x, 1)[2] * 3, [(3, 4)], (-2, 2)),
    "unfold": (lambda x: x.unfold(1, 3, 1), [(3, 5)], (-2, 2)),
    "tile": (lambda x: minidl.tile(x, (2, 1, 2)), [(3, 4)], (-2, 2)),
    "tensor_split": (lambda x: minidl.tensor_split(x, 3, dim=1)[0], [(3, 7)], (-2, 2)),
    "rot90": (lambda x: minidl.rot90(x, 3, (0, 2)), [(2, 3, 4)], (-2, 2)),
    "hstack": (lambda a, b: minidl.hstack([a, b]), [(3, 2), (3, 4)], (-2, 2)),
    "dstack": (lambda a, b: minidl.dstack([a, b]), [(4,), (1, 4)], (-2, 2)),
    "column_stack": (lambda a, b: minidl.column_stack([a, b]), [(3,), (3, 2)], (-2, 2)),
    "broadcast_tensors": (lambda a, b: minidl.broadcast_tensors(a, b)[0], [(3, 1), (4,)],
                          (-2, 2)),
    "diag_embed": (lambda x: minidl.diag_embed(x, -1, 0, 2), [(2, 3)], (-2, 2)),
    "diagflat": (lambda x: minidl.diagflat(x, 1), [(2, 2)], (-2, 2)),
    "index_add": (lambda x, s: x.index_add(1, np.array([0, 2, 0]), s, alpha=2),
                  [(2, 4), (2, 3)], (-2, 2)),
    "index_copy": (lambda x, s: x.index_copy(1, np.array([3, 0, 1]), s), [(2, 4), (2, 3)],
                   (-2, 2)),
    "index_fill": (lambda x, v: minidl.index_fill(x, 1, np.array([1, 1, 3]), v), [(3, 4), ()],
                   (-2, 2)),
    "scatter_reduce_mean": (lambda x, s: x.scatter_reduce(1, np.array([[0, 2, 0], [1, 1, 3]]), s,
                                                          "mean"), [(2, 4), (2, 3)], (-2, 2)),
    "scatter_reduce_amax": (lambda x, s: x.scatter_reduce(1, np.array([[0, 2, 0], [1, 1, 3]]), s,
                                                          "amax", include_self=False),
                            [(2, 4), (2, 3)], (-2, 2)),
    "scatter_reduce_prod": (lambda x, s: x.scatter_reduce(0, np.array([[0, 2], [0, 0]]), s,
                                                          "prod"), [(3, 2), (2, 2)], (0.5, 2)),
    "masked_scatter": (lambda x, s: x.masked_scatter(np.array([[True, False], [True, True]]), s),
                       [(2,), (5,)], (-2, 2)),
    "take": (lambda x: minidl.take(x, np.array([[0, -1], [3, 3]])), [(2, 3)], (-2, 2)),
}


@pytest.mark.parametrize("name", GRADCHECKS)
def test_gradcheck_of_the_new_ops(name: str) -> None:
    fn, shapes, (low, high) = GRADCHECKS[name]
    inputs = [_leaf(seed, shape, low, high) for seed, shape in enumerate(shapes)]
    assert gradcheck(fn, *inputs)


@pytest.mark.parametrize("op, shape", [(minidl.hstack, (2, 3)), (minidl.vstack, (1, 3)),
                                       (minidl.dstack, (1, 3, 1)), (minidl.column_stack, (3, 1))])
def test_stacking_one_tensor(op, shape) -> None:
    x = minidl.ones(2, 3) if op is minidl.hstack else minidl.ones(3)
    assert op([x]).shape == shape


def test_scatter_reduce_argument_accumulates_as_pytorchs() -> None:
    x = minidl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    src = minidl.tensor([2.0, 3.0])
    np.testing.assert_array_equal(np.asarray(x.scatter(0, np.array([0, 0]), src, reduce="add")),
                                  [6.0, 2.0, 3.0])
    product = x.scatter(0, np.array([0, 0]), src, reduce="multiply")
    np.testing.assert_array_equal(np.asarray(product), [6.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="derivative of reduce='multiply'"):
        product.sum().backward()
    with pytest.raises(RuntimeError, match="'add' or 'multiply'"):
        x.scatter(0, np.array([0]), src, reduce="mean")
