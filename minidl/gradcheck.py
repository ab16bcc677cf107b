"""Check an op's backward against finite differences."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .grad_mode import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with its finite-difference estimate."""


def _float64(value: Any) -> Any:
    """A float64 copy of a float Tensor or array (requires_grad kept); anything else as is."""
    if isinstance(value, Tensor):
        if value.dtype.kind != "f":
            return value
        return Tensor(np.array(value._data, dtype=np.float64), value.requires_grad, dtype=np.float64)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float64)
    return value


def gradcheck(fn: Callable[..., Tensor], *inputs: Any, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Compare the backward of ``fn`` with central differences, in float64.

    For a fixed random cotangent v of the output's shape, the scalar
    s(x) = sum(fn(x) * v) has the gradient that backward computes,
    ds/dx = v^T J_fn(x). Each element x_j of each input with requires_grad is
    then nudged by +-eps:

        numeric_j = (s(x + eps e_j) - s(x - eps e_j)) / (2 eps)

    and must match: |analytic_j - numeric_j| <= atol + rtol * |numeric_j|.
    Returns True, or raises GradcheckError naming the input index, the element
    index and both values.
    """
    if not eps > 0:
        raise ValueError(f"gradcheck: invalid eps: {eps}")
    if not (atol >= 0 and rtol >= 0):
        raise ValueError(f"gradcheck: invalid tolerance: atol={atol}, rtol={rtol}")
    inputs = tuple(_float64(x) for x in inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")

    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, not {type(out).__name__}")
    if out.dtype != np.float64:
        raise TypeError(f"gradcheck: fn returned a tensor of dtype {out.dtype}; finite "
                        f"differences need float64 all the way through")
    cotangent = np.random.default_rng(0).standard_normal(out.shape)
    if out.requires_grad:
        out.backward(cotangent)

    def scalar() -> float:
        with no_grad():
            return float(np.sum(fn(*inputs)._data * cotangent))

    for i in checked:
        x = inputs[i]
        analytic = x._grad if x._grad is not None else np.zeros(x.shape)
        for index in np.ndindex(*x.shape):
            original = x._data[index]
            x._data[index] = original + eps
            above = scalar()
            x._data[index] = original - eps
            below = scalar()
            x._data[index] = original
            numeric = (above - below) / (2 * eps)
            if not abs(analytic[index] - numeric) <= atol + rtol * abs(numeric):
                raise GradcheckError(
                    f"gradcheck: input {i}, element {index}: analytic gradient "
                    f"{analytic[index]:.8g} but numeric {numeric:.8g} "
                    f"(tolerance atol={atol} + rtol={rtol} * |numeric|)")
    return True
