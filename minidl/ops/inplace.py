"""In-place ops: ``x += y``, ``x[i] = v``, ``x.add_(y)``, ``x.zero_()``, ``p.data.normal_()``.

An in-place op writes into the tensor's own array, which may be a view into an
optimizer's flat buffer or another tensor's memory: whoever shares the memory
sees the new values. Each write advances the storage's version counter
(``Tensor._version``, see tensor.py).

Outside a recorded graph (under ``no_grad``, or when nothing involved requires
grad) that is all. Inside one, the op is recorded as PyTorch records it:

- on a leaf that requires grad it raises: its ``.grad`` would describe values
  it no longer holds;
- on any other tensor ``x``, the out-of-place op runs on a snapshot ``x_old``
  (the graph node ``x`` was, with a copy of its values), its result is written
  into ``x``'s array, and ``x`` becomes the result's node:

      x.mul_(2)    is    x_old = snapshot(x);  x <- mul(x_old, 2), in x's own array

- on a view ``v`` of a base ``b`` (``v = b[0]``, ``b.view(...)``), the base's
  node is replaced too, by ``copy_slices``: ``b_new`` equals ``b_old`` outside
  the view's region and the op's result inside it, and its backward splits the
  gradient the same way (PyTorch's CopySlices). A ``.data`` or ``detach()``
  alias is no differentiable view: the write reaches the base's memory and its
  version counter, not its graph, as in PyTorch.

The engine refuses to differentiate through values that changed after an op
read them (see ``Tensor.backward``), so an in-place op never yields a wrong
gradient: at worst a RuntimeError that names the op.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..grad_mode import is_grad_enabled, no_grad
from ..random import generator as numpy_generator
from ..tensor import Tensor, unbroadcast
from . import arithmetic, indexing
from .shape import _plain_index

__all__ = ["inplace", "in_place", "setitem", "index_put", "copy", "fill"]


# -- the mechanism --------------------------------------------------------------
def inplace(target: Tensor, op: str, compute: Callable[[Tensor], Tensor],
            inputs: Sequence[Any] = (), casting: str = "same_kind") -> Tensor:
    """Write ``compute(target)`` into ``target``'s array and return ``target``.

    ``compute`` is the out-of-place op; ``inputs`` are its other operands (to
    know whether the graph must record the write). ``casting`` is numpy's rule
    for storing the result in ``target``'s dtype: "same_kind" for arithmetic
    (PyTorch refuses to store a float result in an integer tensor), "unsafe" for
    copy_, fill_ and ``t[i] = v``, which convert as PyTorch's do.
    """
    recording = is_grad_enabled() and (
        target._requires_grad or any(isinstance(a, Tensor) and a._requires_grad for a in inputs))
    if not recording:
        with no_grad():
            result = compute(target)
        _store(target, op, result._data, casting)
        target._written()
        return target
    if target._base is not None and not target._detached:
        return _inplace_on_view(target, op, compute, casting)
    if target._requires_grad and target.is_leaf:
        raise RuntimeError(
            f"{op}: a leaf Variable that requires grad is being used in an in-place operation "
            f"(a tensor of shape {target.shape} made with requires_grad=True, such as a "
            f"Parameter). Update it inside `with minidl.no_grad():`, or work on a clone().")
    old = target._snapshot()
    result = compute(old)
    _store(target, op, result._data, casting)
    target._written()
    target._rebase(result)
    _follow_base(target)
    return target


def in_place(function: Callable[..., Tensor], target: Tensor, *args: Any, **kwargs: Any
             ) -> Tensor:
    """``function(target, ...)`` written into target's own array and returned as
    target: what PyTorch's ``inplace=True`` flags (``F.relu(x, inplace=True)``,
    ``nn.ReLU(inplace=True)``) do."""
    name = f"{function.__name__.lstrip('_')}_"
    return inplace(target, name, lambda old: function(old, *args, **kwargs),
                   (*args, *kwargs.values()))


def _store(target: Tensor, op: str, values: np.ndarray, casting: str) -> None:
    """Copy ``values`` into ``target``'s array; RuntimeError, before writing
    anything, for another shape or a dtype it cannot take."""
    if values.shape != target.shape:
        raise RuntimeError(f"{op}: output with shape {target.shape} doesn't match the "
                           f"broadcast shape {values.shape}")
    if not np.can_cast(values.dtype, target.dtype, casting):
        raise RuntimeError(f"{op}: result type {values.dtype} can't be cast to the desired "
                           f"output type {target.dtype}")
    np.copyto(target._data, values, casting="unsafe")


class _Region:
    """Where a view lies in its base's memory, to find the same region in any
    C-contiguous array of the base's shape (a gradient, a copy of the base)."""

    def __init__(self, op: str, base: np.ndarray, view: np.ndarray):
        if not base.flags.c_contiguous:
            raise RuntimeError(f"{op}: an in-place op on a view of a non-contiguous tensor "
                               f"inside a graph is not supported; apply it to a clone()")
        self.offset = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        self.shape, self.strides = view.shape, view.strides

    def of(self, array: np.ndarray) -> np.ndarray:
        """The region of ``array`` (C-contiguous, the base's shape and dtype)."""
        return np.ndarray(self.shape, array.dtype, buffer=array, offset=self.offset,
                          strides=self.strides)


def view_region(base: Tensor, region: _Region) -> Tensor:
    """The region of ``base`` as a tensor;  the gradient is g placed in the region."""
    def backward(g: np.ndarray):
        grad = np.zeros(base.shape, g.dtype)
        region.of(grad)[...] = g
        return (grad,)
    return Tensor._make(region.of(np.ascontiguousarray(base._data)), (base,), backward)


def copy_slices(base: Tensor, values: Tensor, region: _Region) -> Tensor:
    """``base`` with its region replaced by ``values``;  the gradient of base is g
    with the region zeroed, that of values is g's region."""
    out = np.array(base._data, order="C")
    region.of(out)[...] = values._data

    def backward(g: np.ndarray):
        g = np.array(g, order="C")
        inside = region.of(g).copy()
        region.of(g)[...] = 0
        return g, inside
    return Tensor._make(out, (base, values), backward)


def _inplace_on_view(view: Tensor, op: str, compute: Callable[[Tensor], Tensor],
                     casting: str) -> Tensor:
    """An in-place op on a view inside a recorded graph: the base's graph node
    becomes copy_slices(base_old, result), and the view a view of the new base."""
    base = view._base
    if base._requires_grad and base.is_leaf:
        raise RuntimeError(
            f"{op}: a view of a leaf Variable that requires grad is being used in an in-place "
            f"operation (the base has shape {base.shape}). Update it inside "
            f"`with minidl.no_grad():`, or work on a clone().")
    region = _Region(op, base._data, view._data)
    old_base = base._snapshot()
    result = compute(view_region(old_base, region))
    _store(view, op, result._data, casting)
    view._written()
    base._rebase(copy_slices(old_base, result, region))
    _follow_base(base)
    return view


def _follow_base(base: Tensor) -> None:
    """After ``base`` took a new place in the graph, each of its views becomes a
    view of the new base (PyTorch regenerates a view's grad_fn the same way).
    The views of a non-contiguous base keep their old place: an op that uses one
    is refused at backward, as the base changed after the view was taken."""
    if not base._data.flags.c_contiguous:
        return
    for view in base._live_views():
        view._rebase(view_region(base, _Region("view", base._data, view._data)))


# -- the ops that only in-place forms need ------------------------------------------
def _operand(value: Any) -> Tensor:
    """A value to write as a Tensor, keeping its dtype (it is cast to the target's)."""
    if isinstance(value, Tensor):
        return value
    array = np.asarray(value)
    return Tensor(array, dtype=array.dtype)


def index_put(x: Tensor, index: Any, value: Any) -> Tensor:
    """A copy of x with ``out[index] = value`` (value broadcast, cast to x's dtype);
    the gradient is g with the written places zeroed for x, g's places (summed back
    to value's shape) for value."""
    index = _plain_index(index)
    value = _operand(value)
    out = x._data.copy()
    try:
        out[index] = value._data
    except ValueError:
        raise RuntimeError(f"setitem: a value of shape {value.shape} cannot be assigned to "
                           f"x[{index!r}] of shape {np.shape(x._data[index])}") from None

    def backward(g: np.ndarray):
        grad_x = None
        if x.requires_grad:
            grad_x = g.copy()
            grad_x[index] = 0
        grad_value = None
        if value.requires_grad:
            grad_value = unbroadcast(np.asarray(g[index]), value.shape).astype(value.dtype)
        return grad_x, grad_value
    return Tensor._make(out, (x, value), backward)


def copy(x: Tensor, src: Any) -> Tensor:
    """src broadcast to x's shape, in x's dtype (x's values are not read);
    the gradient goes to src, summed back to its shape; x's is zero."""
    src = _operand(src)
    try:
        out = np.broadcast_to(src._data, x.shape).astype(x.dtype)
    except ValueError:
        raise RuntimeError(f"copy_: the source of shape {src.shape} does not broadcast to "
                           f"the tensor's shape {x.shape}") from None
    return Tensor._make(out, (x, src), lambda g: (
        np.zeros_like(g) if x.requires_grad else None,
        unbroadcast(g, src.shape).astype(src.dtype) if src.requires_grad else None))


def fill(x: Tensor, value: Any) -> Tensor:
    """x's shape filled with one value (a number or a one-element tensor);
    the gradient of a tensor value is the sum of g; x's is zero."""
    value = _operand(value)
    if value.size != 1:
        raise RuntimeError(f"fill_: value must be a number or a one-element tensor, got a "
                           f"tensor of shape {value.shape}")
    out = np.full(x.shape, value._data.reshape(()), dtype=x.dtype)
    return Tensor._make(out, (x, value), lambda g: (
        np.zeros_like(g) if x.requires_grad else None,
        np.sum(g).reshape(value.shape).astype(value.dtype) if value.requires_grad else None))


def setitem(x: Tensor, index: Any, value: Any) -> None:
    """``x[index] = value``: index_put written into x. Python runs ``x[i] += y``
    as ``v = x[i]; v += y; x[i] = v``: the last step stores a view's own memory
    into itself, which is nothing to do."""
    if isinstance(value, Tensor) and _is_region(value._data, x._data, _plain_index(index)):
        return
    inplace(x, "setitem", lambda old: index_put(old, index, value), (value,), casting="unsafe")


def _is_region(array: np.ndarray, base: np.ndarray, index: Any) -> bool:
    """Whether ``array`` is exactly the memory that ``base[index]`` views."""
    if array.base is None:
        return False
    try:
        region = base[index]
    except (IndexError, ValueError, TypeError):
        return False
    return (region.__array_interface__["data"] == array.__array_interface__["data"]
            and region.shape == array.shape and region.strides == array.strides)


# -- the Tensor methods -----------------------------------------------------------
def _ufunc_inplace(name: str, ufunc: np.ufunc, op: Callable[[Any, Any], Tensor]
                   ) -> Callable[..., Tensor]:
    """``x.add_(y)`` and ``x += y``: outside a graph, one numpy call into x's array."""
    def method(self: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
        if alpha != 1:
            other = arithmetic.mul(other, alpha)
        if is_grad_enabled() and (self._requires_grad or
                                  isinstance(other, Tensor) and other._requires_grad):
            return inplace(self, name, lambda old: op(old, other), (other,))
        operand = other._data if isinstance(other, Tensor) else other
        try:
            ufunc(self._data, operand, out=self._data, casting="same_kind")
        except (TypeError, ValueError):   # numpy's casting or broadcasting error
            result = op(Tensor(self._data, dtype=self.dtype), other)
            _store(self, name, result._data, "same_kind")   # raises PyTorch's error
        self._written()
        return self
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In place: self = self {ufunc.__name__} other (times alpha), as {op.__name__}."
    return method


def _method(name: str, op: Callable[..., Tensor], casting: str = "same_kind"
            ) -> Callable[..., Tensor]:
    """``x.name_(*args)``: ``op(x, *args)`` written into x."""
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return inplace(self, name, lambda old: op(old, *args, **kwargs),
                       (*args, *kwargs.values()), casting)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In place: self = {op.__name__}(self, ...)."
    return method


def _random_method(name: str, draw: Callable[..., np.ndarray]) -> Callable[..., Tensor]:
    """``x.normal_(...)`` and the like: x filled with draws from minidl's generator
    (or ``generator=``), in x's dtype."""
    def method(self: Tensor, *args: Any, generator: Any = None) -> Tensor:
        if self.dtype.kind != "f":
            raise RuntimeError(f"{name}: expected a floating-point tensor, got {self.dtype}")
        rng = numpy_generator(generator)
        values = draw(rng, self.shape, *args)
        return inplace(self, name, lambda old: copy(old, values), (), casting="unsafe")
    method.__name__ = method.__qualname__ = name
    method.__doc__ = draw.__doc__
    return method


def _normal(rng: np.random.Generator, shape: tuple, mean: float = 0.0, std: float = 1.0):
    """normal_(mean=0, std=1): draws from N(mean, std^2)."""
    if std < 0:
        raise RuntimeError(f"normal_: expects std >= 0.0, but found std {std}")
    return rng.normal(mean, std, shape)


def _uniform(rng: np.random.Generator, shape: tuple, low: float = 0.0, high: float = 1.0):
    """uniform_(from=0, to=1): draws from U[from, to)."""
    if low > high:
        raise RuntimeError(f"uniform_: expects from <= to, but found from={low} > to={high}")
    return rng.uniform(low, high, shape)


def _bernoulli(rng: np.random.Generator, shape: tuple, p: float = 0.5):
    """bernoulli_(p=0.5): 1 with probability p, else 0."""
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_: expects 0 <= p <= 1, but found p={p}")
    return rng.random(shape) < p


def _exponential(rng: np.random.Generator, shape: tuple, lambd: float = 1.0):
    """exponential_(lambd=1): draws with density lambd e^(-lambd x)."""
    if lambd <= 0:
        raise RuntimeError(f"exponential_: expects lambda > 0.0, but found lambda={lambd}")
    return rng.exponential(1.0 / lambd, shape)


def _random(self: Tensor, *bounds: int, to: int | None = None, generator: Any = None) -> Tensor:
    """random_(from=0, to=None): integers drawn uniformly from [from, to - 1], in place;
    random_(to) from [0, to - 1]; random_() from [0, 2^mantissa digits] for a float
    tensor (2^24 for float32) and [0, the dtype's max] for an integer one."""
    if len(bounds) > 2 or (to is not None and len(bounds) == 2):
        raise TypeError(f"random_(): takes from and to, got {bounds} and to={to!r}")
    for value in (*bounds, to):
        if value is not None and (isinstance(value, bool)
                                  or not isinstance(value, (int, np.integer))):
            raise TypeError(f"random_(): from and to must be ints, got {bounds} and to={to!r}")
    if len(bounds) == 2:
        low, high = bounds
    elif len(bounds) == 1:
        low, high = (0, bounds[0]) if to is None else (bounds[0], to)
    else:
        low, high = 0, to
    dtype = self.dtype
    if dtype.kind == "f":
        top = 2 ** (np.finfo(dtype).nmant + 1)   # every whole number up to it is exact
    else:
        top = 1 if dtype.kind == "b" else int(np.iinfo(dtype).max)
        bottom = 0 if dtype.kind == "b" else int(np.iinfo(dtype).min)
        if low < bottom:
            raise RuntimeError(f"random_: from={low} is out of bounds for {dtype}")
        if high is not None and high - 1 > top:
            raise RuntimeError(f"random_: to - 1 = {high - 1} is out of bounds for {dtype}")
    high = top + 1 if high is None else high
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    values = numpy_generator(generator).integers(low, high - 1, self.shape, endpoint=True)
    return inplace(self, "random_", lambda old: copy(old, values), (), casting="unsafe")


def _zero(self: Tensor) -> Tensor:
    """Fill with zeros, in place."""
    return inplace(self, "zero_", lambda old: fill(old, 0), (), casting="unsafe")


def _fill(self: Tensor, value: Any) -> Tensor:
    """Fill with one value (a number or a one-element tensor), in place."""
    return inplace(self, "fill_", lambda old: fill(old, value), (value,), casting="unsafe")


def _copy(self: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """Copy src (broadcast, converted to this tensor's dtype) into this tensor."""
    return inplace(self, "copy_", lambda old: copy(old, src), (src,), casting="unsafe")


# x.name_(...) is op name(x, ...) written into x, for each of these ops that
# minidl has (found by name in the op modules when the methods are bound).
_IN_PLACE_FORMS = (
    "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "neg", "sin", "cos", "tan", "asin",
    "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "exp2", "log2", "log10", "log1p",
    "expm1", "erf", "erfinv", "rsqrt", "reciprocal", "square", "sign", "floor", "ceil", "trunc",
    "round", "frac", "logit", "nan_to_num", "leaky_relu", "hardtanh", "relu6", "elu", "selu",
    "celu", "silu", "mish", "hardsigmoid", "hardswish", "pow", "clip", "clamp_min", "clamp_max",
    "fmod", "remainder", "floor_divide", "lerp", "copysign", "hypot", "atan2", "xlogy",
    "float_power", "addcmul", "addcdiv", "masked_fill", "masked_scatter", "scatter_add",
    "index_fill", "index_add", "index_copy", "tril", "triu",
    # and those a PyTorch tutorial reaches for (nsgaps)
    "digamma", "lgamma", "erfc", "sinc", "heaviside", "renorm", "addmv", "addmm", "baddbmm",
    "put", "scatter_reduce", "cumsum", "cumprod", "eq", "ne", "lt", "le", "gt", "ge",
    "logical_not", "logical_and", "logical_or", "logical_xor", "bitwise_not", "bitwise_and",
    "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift")
# The in-place methods that PyTorch also has as functions (``torch.relu_(x)``,
# ``torch.zero_(x)``): minidl's ops/__init__.py exports them under the same names.
FUNCTIONS = (
    "abs_", "acos_", "acosh_", "addmv_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "celu_",
    "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_", "detach_", "erf_", "erfc_",
    "exp2_", "exp_", "expm1_", "fill_", "floor_", "frac_", "log10_", "log1p_", "log2_", "log_",
    "logit_", "nan_to_num_", "neg_", "reciprocal_", "relu_", "round_", "rsqrt_", "selu_",
    "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_",
    "xlogy_", "zero_")
_ARITHMETIC = {"add_": (np.add, arithmetic.add), "sub_": (np.subtract, arithmetic.sub),
               "mul_": (np.multiply, arithmetic.mul), "div_": (np.true_divide, arithmetic.div)}
_OPERATORS = {"__iadd__": "add_", "__isub__": "sub_", "__imul__": "mul_",
              "__itruediv__": "div_", "__ipow__": "pow_", "__ifloordiv__": "floor_divide_",
              "__imod__": "remainder_"}


def _scatter(self: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
             reduce: str | None = None) -> Tensor:
    """scatter_(dim, index, src or value): out[..., index[i], ...] = src[i] in place."""
    if reduce is not None:
        raise NotImplementedError("scatter_(reduce=...) is not supported; use scatter_add_")
    return inplace(self, "scatter_", lambda old: indexing.scatter(old, dim, index, src,
                                                                   value=value),
                   (src, value), casting="unsafe")


def install(op_modules: Sequence[Any]) -> None:
    """Bind the in-place methods and operators to Tensor; ``op_modules`` are
    searched, in order, for the op behind each name of ``_IN_PLACE_FORMS``."""
    for name in _IN_PLACE_FORMS:
        op = next((getattr(m, name) for m in op_modules if name in getattr(m, "__all__", ())),
                  None)
        if op is not None:
            setattr(Tensor, name + "_", _method(name + "_", op))
    Tensor.clamp_ = Tensor.clip_
    for name, (ufunc, op) in _ARITHMETIC.items():
        setattr(Tensor, name, _ufunc_inplace(name, ufunc, op))
    Tensor.true_divide_ = Tensor.div_
    Tensor.multiply_ = Tensor.mul_
    Tensor.subtract_ = Tensor.sub_
    for dunder, name in _OPERATORS.items():
        setattr(Tensor, dunder, getattr(Tensor, name))
    Tensor.zero_, Tensor.fill_, Tensor.copy_, Tensor.scatter_ = _zero, _fill, _copy, _scatter
    Tensor.__setitem__ = setitem
    Tensor.random_ = _random
    for name, draw in (("normal_", _normal), ("uniform_", _uniform),
                       ("bernoulli_", _bernoulli), ("exponential_", _exponential)):
        setattr(Tensor, name, _random_method(name, draw))
