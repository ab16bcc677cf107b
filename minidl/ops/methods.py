"""The ops bound to Tensor as methods and operators (``x.sum()``, ``a + b``, ``a < b``)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..tensor import Tensor
from . import elementwise, reductions, shape, softmax
from ._common import _broadcasting, _operands
from .arithmetic import add, div, matmul, mul, neg, pow, sub
from .elementwise import abs
from .shape import getitem, transpose


def _reflected(op: Callable[[Any, Any], Tensor]) -> Callable[[Tensor, Any], Tensor]:
    def reflected(self: Tensor, other: Any) -> Tensor:
        return op(other, self)
    reflected.__doc__ = f"other {op.__name__} self"
    return reflected


def _rpow(self: Tensor, base: Any) -> Tensor:
    raise TypeError(f"pow: a Tensor exponent is not supported ({base!r} ** tensor); "
                    f"write exp(log(base) * tensor) instead")


def _comparison(compare: np.ufunc) -> Callable[[Tensor, Any], Tensor]:
    """A comparison operator: a bool Tensor that never requires grad."""
    def comparison(self: Tensor, other: Any) -> Tensor:
        try:
            a, b = _operands(self, other)
        except TypeError:
            return NotImplemented
        return Tensor(_broadcasting(compare.__name__, compare, a.data, b.data))
    return comparison


_METHODS = {
    elementwise: ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "clip"),
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
Tensor.__pow__, Tensor.__rpow__ = pow, _rpow
Tensor.__neg__ = neg
Tensor.__abs__ = abs
Tensor.__getitem__ = getitem
Tensor.__lt__, Tensor.__le__ = _comparison(np.less), _comparison(np.less_equal)
Tensor.__gt__, Tensor.__ge__ = _comparison(np.greater), _comparison(np.greater_equal)
Tensor.__eq__, Tensor.__ne__ = _comparison(np.equal), _comparison(np.not_equal)
Tensor.__hash__ = object.__hash__  # tensors are dict keys and set members by identity

# -- reductions, scans, shape and indexing ops that PyTorch has as Tensor methods --
from . import indexing, linalg, scans  # noqa: E402

_TORCH_METHODS = {
    reductions: ("std", "prod", "argmax", "argmin", "median"),
    scans: ("cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "sort", "argsort", "topk"),
    shape: ("view", "permute", "swapaxes", "squeeze", "unsqueeze", "unflatten", "expand", "flip",
            "roll", "repeat", "repeat_interleave", "split", "chunk", "tril", "triu", "diagonal",
            "diag"),
    indexing: ("gather", "scatter", "scatter_add", "take_along_dim", "index_select",
               "masked_fill", "masked_select", "nonzero"),
    linalg: ("norm", "outer"),
}
for _module, _names in _TORCH_METHODS.items():
    for _name in _names:
        setattr(Tensor, _name, getattr(_module, _name))
Tensor.expand_as = lambda self, other: shape.expand(self, other.shape)
Tensor.view_as = lambda self, other: shape.reshape(self, other.shape)
