"""The ops bound to Tensor as methods and operators (``x.sum()``, ``a + b``, ``a < b``)."""
from __future__ import annotations

from typing import Any, Callable

from ..tensor import Tensor
from . import (activations, arithmetic, binary, casts, elementwise, indexed, indexing, inplace,
               linalg, logic, matrix, rearrange, reductions, scans, shape, softmax, statistics,
               tensor_api, unary)
from ._common import _constant
from .arithmetic import add, div, matmul, mul, neg, pow, sub
from .elementwise import abs
from .shape import getitem, transpose


def _reflected(op: Callable[[Any, Any], Tensor]) -> Callable[[Tensor, Any], Tensor]:
    def reflected(self: Tensor, other: Any) -> Tensor:
        return op(other, self)
    reflected.__doc__ = f"other {op.__name__} self"
    return reflected


_METHODS = {
    elementwise: ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "clip", "clamp",
                  "clamp_min", "clamp_max"),
    reductions: ("sum", "mean", "max", "min", "var"),
    shape: ("reshape", "transpose", "flatten"),
    softmax: ("softmax", "log_softmax", "logsumexp"),
}
for _module, _names in _METHODS.items():
    for _name in _names:
        setattr(Tensor, _name, getattr(_module, _name))

Tensor.T = property(transpose, doc="The tensor with its axes reversed (numpy's .T).")
Tensor.__add__, Tensor.__radd__ = add, _reflected(add)
Tensor.__sub__, Tensor.__rsub__ = sub, _reflected(sub)
Tensor.__mul__, Tensor.__rmul__ = mul, _reflected(mul)
Tensor.__truediv__, Tensor.__rtruediv__ = div, _reflected(div)
Tensor.__matmul__, Tensor.__rmatmul__ = matmul, _reflected(matmul)
Tensor.__pow__, Tensor.__rpow__ = pow, _reflected(pow)
Tensor.__neg__ = neg
Tensor.__abs__ = abs
Tensor.__getitem__ = getitem
Tensor.__hash__ = object.__hash__  # tensors are dict keys and set members by identity


# -- math, activations, logic and casts (issue 12, ops1) --------------------------
def _operator(op: Callable[[Any, Any], Tensor]) -> Callable[[Tensor, Any], Tensor]:
    """A binary operator: NotImplemented for an operand that cannot be a Tensor
    (so ``x == None`` is False), the op otherwise."""
    def operator(self: Tensor, other: Any) -> Tensor:
        try:
            _constant(other, self.dtype)
        except TypeError:
            return NotImplemented
        return op(self, other)
    operator.__doc__ = op.__doc__
    return operator


def _bool(self: Tensor) -> bool:
    """The truth of a one-element tensor (``if x > 0:``, ``assert a[0] == b[0]``)."""
    if self._data.size != 1:
        raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                           f"(shape {self.shape}): use .any() or .all()")
    return bool(self._data.item())


_MORE_METHODS = {
    unary: unary.__all__,
    binary: ("floor_divide", "remainder", "fmod", "lerp", "logaddexp", "copysign", "atan2",
             "hypot", "xlogy", "fmax", "fmin"),
    logic: logic.__all__,
    casts: ("float", "double", "half", "int", "long", "bool", "type"),
    arithmetic: ("add", "sub", "mul", "div", "pow", "neg", "matmul", "float_power", "addcmul",
                 "addcdiv"),
}
for _module, _names in _MORE_METHODS.items():
    for _name in _names:
        setattr(Tensor, _name, getattr(_module, _name))
Tensor.astype = casts.to
Tensor.__bool__ = _bool
Tensor.__floordiv__, Tensor.__rfloordiv__ = binary.floor_divide, _reflected(binary.floor_divide)
Tensor.__mod__, Tensor.__rmod__ = binary.remainder, _reflected(binary.remainder)
Tensor.__lt__, Tensor.__le__ = _operator(logic.lt), _operator(logic.le)
Tensor.__gt__, Tensor.__ge__ = _operator(logic.gt), _operator(logic.ge)
Tensor.__eq__, Tensor.__ne__ = _operator(logic.eq), _operator(logic.ne)
Tensor.__invert__ = logic.bitwise_not
Tensor.__and__, Tensor.__rand__ = logic.bitwise_and, _reflected(logic.bitwise_and)
Tensor.__or__, Tensor.__ror__ = logic.bitwise_or, _reflected(logic.bitwise_or)
Tensor.__xor__, Tensor.__rxor__ = logic.bitwise_xor, _reflected(logic.bitwise_xor)
Tensor.__lshift__ = logic.bitwise_left_shift
Tensor.__rlshift__ = _reflected(logic.bitwise_left_shift)
Tensor.__rshift__ = logic.bitwise_right_shift
Tensor.__rrshift__ = _reflected(logic.bitwise_right_shift)


# -- reductions, scans, shape and indexing ops that PyTorch has as Tensor methods --
_TORCH_METHODS = {
    reductions: ("std", "prod", "argmax", "argmin", "median", "amax", "amin", "aminmax",
                 "count_nonzero", "nansum", "nanmean"),
    scans: ("cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "sort", "argsort", "topk"),
    shape: ("view", "permute", "swapaxes", "squeeze", "unsqueeze", "unflatten", "expand", "flip",
            "roll", "repeat", "repeat_interleave", "split", "chunk", "tril", "triu", "diagonal",
            "diag", "movedim", "t", "ravel"),
    indexing: ("gather", "scatter", "scatter_add", "take_along_dim", "index_select",
               "masked_fill", "masked_select", "nonzero"),
    linalg: ("norm", "outer"),
    statistics: ("quantile", "nanquantile", "mode", "kthvalue", "diff", "cov", "corrcoef",
                 "bincount", "histc"),
    rearrange: ("narrow", "select", "unbind", "unfold", "tile", "tensor_split", "hsplit", "vsplit",
                "rot90", "fliplr", "flipud", "broadcast_to", "diag_embed", "diagflat"),
    indexed: ("index_add", "index_copy", "index_fill", "scatter_reduce", "masked_scatter", "take",
              "argwhere", "unique"),
    matrix: ("mm", "bmm", "mv", "dot", "addmm", "baddbmm", "kron", "trace", "cross"),
}
for _module, _names in _TORCH_METHODS.items():
    for _name in _names:
        setattr(Tensor, _name, getattr(_module, _name))


# -- the methods a PyTorch tutorial reaches for (nsgaps): x.where(cond, y), x.det(), ...
_GAP_METHODS = {
    elementwise: ("maximum", "minimum"),
    linalg: ("dist", "renorm"),     # det, inverse, ...: minidl/linalg/torch_names.py
    binary: ("heaviside",),
    matrix: ("inner", "addmv"),
    reductions: ("sum_to_size",),
    shape: ("split_with_sizes",),
    rearrange: ("dsplit",),
    indexed: ("put",),
}
for _module, _names in _GAP_METHODS.items():
    for _name in _names:
        setattr(Tensor, _name, getattr(_module, _name))


def _where(self: Tensor, condition: Any, y: Any) -> Tensor:
    """self where condition else y (``where(condition, self, y)``)."""
    return elementwise.where(condition, self, y)


Tensor.where = _where


# -- PyTorch's names for what minidl has: size(), dim(), clone(), new_zeros, to(device) ...
tensor_api.bind()


# -- in-place forms: x.add_(y), x += y, x[i] = v, x.zero_(), ... (inplace.py) ---------
inplace.install((elementwise, unary, arithmetic, binary, activations, indexing, indexed, shape,
                 rearrange, linalg, matrix, logic, scans))
