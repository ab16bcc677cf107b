"""The differentiable ops on Tensors.

Every op follows one pattern: compute the output array, define the closure
``backward(g)`` that turns ``g = dL/d out`` into one gradient per input (the
vector-Jacobian product, summed back to the input's shape by ``unbroadcast``),
and return ``Tensor._make(out, inputs, backward)``. A gradient is computed only
for the inputs that need one; the others get ``None``.

Non-Tensor operands (Python scalars, numpy arrays) mix freely on either side of
a binary op. Next to a float Tensor they take its dtype, so float32 stays
float32; next to an integer Tensor numpy's promotion rules apply.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Sequence

import numpy as np

from .tensor import Tensor, unbroadcast

__all__ = [
    "add", "sub", "mul", "div", "pow", "neg", "matmul",
    "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "leaky_relu", "gelu",
    "clip", "maximum", "minimum", "where",
    "sum", "mean", "max", "min", "var",
    "reshape", "transpose", "flatten", "getitem", "concatenate", "stack",
    "softmax", "log_softmax", "logsumexp",
]

Axis = int | Sequence[int] | None


# -- helpers -----------------------------------------------------------------
def _constant(value: Any, like: np.dtype) -> Tensor:
    """A non-Tensor operand as a constant Tensor, in the float dtype ``like``."""
    if isinstance(value, Tensor):
        return value
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"cannot use {type(value).__name__} {value!r} as a Tensor operand")
    if like.kind == "f":
        array = array.astype(like, copy=False)
    return Tensor(array, dtype=array.dtype)


def _operands(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as Tensors; at least one already is."""
    if isinstance(a, Tensor):
        return a, _constant(b, a.dtype)
    if isinstance(b, Tensor):
        return _constant(a, b.dtype), b
    a = Tensor(a)
    return a, _constant(b, a.dtype)


def _sequence_operands(op: str, items: Sequence[Any]) -> list[Tensor]:
    """The items of concatenate/stack as Tensors; non-Tensors take the first Tensor's dtype."""
    items = list(items)
    if not items:
        raise ValueError(f"{op}: needs at least one tensor, got an empty sequence")
    first = next((t for t in items if isinstance(t, Tensor)), None)
    like = (first if first is not None else Tensor(items[0])).dtype
    return [_constant(t, like) for t in items]


def _broadcasting(op: str, fn: Callable[..., np.ndarray], *arrays: np.ndarray) -> np.ndarray:
    """``fn(*arrays)``, with numpy's broadcasting error turned into one naming the shapes."""
    try:
        return fn(*arrays)
    except ValueError:
        listed = " and ".join(str(a.shape) for a in arrays)
        raise ValueError(f"{op}: shapes {listed} do not broadcast together") from None


def _float_dtype(array: np.ndarray) -> np.dtype:
    """The dtype of a float result from ``array``: its own if float, else float32."""
    return array.dtype if array.dtype.kind == "f" else np.dtype(np.float32)


def _floating(array: np.ndarray) -> np.ndarray:
    """Integer and bool data become float32; float data keeps its dtype."""
    return array.astype(_float_dtype(array), copy=False)


def _axes(op: str, axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple, negatives allowed) as sorted axes >= 0."""
    if axis is None:
        return tuple(range(ndim))
    requested = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in requested:
        if not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a} is out of range for a tensor of {ndim} dimensions")
    axes = sorted(int(a) % ndim for a in requested)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: axis {axis} names the same dimension twice")
    return tuple(axes)


def _expand(g: np.ndarray, axes: tuple[int, ...], keepdims: bool,
            shape: tuple[int, ...]) -> np.ndarray:
    """Broadcast the gradient of a reduction over ``axes`` back to ``shape``."""
    return np.broadcast_to(g if keepdims else np.expand_dims(g, axes), shape)


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    return math.prod(shape[a] for a in axes)


# -- arithmetic ----------------------------------------------------------------
def add(a: Any, b: Any) -> Tensor:
    """a + b;  d/da = 1, d/db = 1."""
    a, b = _operands(a, b)

    def backward(g: np.ndarray):
        return (unbroadcast(g, a.shape) if a.requires_grad else None,
                unbroadcast(g, b.shape) if b.requires_grad else None)
    return Tensor._make(_broadcasting("add", np.add, a.data, b.data), (a, b), backward)


def sub(a: Any, b: Any) -> Tensor:
    """a - b;  d/da = 1, d/db = -1."""
    a, b = _operands(a, b)

    def backward(g: np.ndarray):
        return (unbroadcast(g, a.shape) if a.requires_grad else None,
                unbroadcast(-g, b.shape) if b.requires_grad else None)
    return Tensor._make(_broadcasting("sub", np.subtract, a.data, b.data), (a, b), backward)


def mul(a: Any, b: Any) -> Tensor:
    """a * b;  d/da = b, d/db = a."""
    a, b = _operands(a, b)

    def backward(g: np.ndarray):
        return (unbroadcast(g * b.data, a.shape) if a.requires_grad else None,
                unbroadcast(g * a.data, b.shape) if b.requires_grad else None)
    return Tensor._make(_broadcasting("mul", np.multiply, a.data, b.data), (a, b), backward)


def div(a: Any, b: Any) -> Tensor:
    """a / b;  d/da = 1 / b, d/db = -a / b^2."""
    a, b = _operands(a, b)

    def backward(g: np.ndarray):
        return (unbroadcast(g / b.data, a.shape) if a.requires_grad else None,
                unbroadcast(-g * a.data / b.data**2, b.shape) if b.requires_grad else None)
    return Tensor._make(_broadcasting("div", np.divide, a.data, b.data), (a, b), backward)


def pow(x: Tensor, exponent: float) -> Tensor:
    """x ** p for a scalar p;  d/dx = p x^(p-1)."""
    if isinstance(exponent, Tensor) or not isinstance(exponent, numbers.Real):
        raise TypeError(f"pow: the exponent must be a real scalar, not {type(exponent).__name__}")
    p = int(exponent) if isinstance(exponent, numbers.Integral) else float(exponent)
    x = _constant(x, np.dtype(np.float32))

    def backward(g: np.ndarray):
        return (g * p * x.data ** (p - 1) if p != 0 else np.zeros_like(g),)
    return Tensor._make(x.data**p, (x,), backward)


def neg(x: Tensor) -> Tensor:
    """-x;  d/dx = -1."""
    return Tensor._make(-x.data, (x,), lambda g: (-g,))


def matmul(a: Any, b: Any) -> Tensor:
    """a @ b with numpy's rules (1-D operands, batch broadcasting);
    d/da = g @ b^T, d/db = a^T @ g (transposing the last two axes)."""
    a, b = _operands(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands need at least one dimension, "
                         f"got shapes {a.shape} and {b.shape}")
    # A 1-D operand is a row (left) or a column (right) whose extra axis drops out of the result.
    a2 = a.data[None, :] if a.ndim == 1 else a.data
    b2 = b.data[:, None] if b.ndim == 1 else b.data
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not match: "
                         f"inner dimensions {a2.shape[-1]} and {b2.shape[-2]} differ")
    try:
        np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not match: "
                         f"their batch dimensions do not broadcast") from None
    out2 = a2 @ b2
    # Drop the axes that the 1-D operands gained above.
    out_shape = out2.shape[:-2] + (out2.shape[-2:-1] if a.ndim > 1 else ()) \
        + (out2.shape[-1:] if b.ndim > 1 else ())

    def backward(g: np.ndarray):
        g2 = g.reshape(out2.shape)
        grad_a = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape) \
            if a.requires_grad else None
        grad_b = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape) \
            if b.requires_grad else None
        return grad_a, grad_b
    return Tensor._make(out2.reshape(out_shape), (a, b), backward)


# -- elementwise ---------------------------------------------------------------
def exp(x: Tensor) -> Tensor:
    """e^x;  d/dx = e^x."""
    out = np.exp(_floating(x.data))
    return Tensor._make(out, (x,), lambda g: (g * out,))


def log(x: Tensor) -> Tensor:
    """ln x;  d/dx = 1 / x."""
    data = _floating(x.data)
    return Tensor._make(np.log(data), (x,), lambda g: (g / data,))


def sqrt(x: Tensor) -> Tensor:
    """sqrt(x);  d/dx = 1 / (2 sqrt(x))."""
    out = np.sqrt(_floating(x.data))
    return Tensor._make(out, (x,), lambda g: (g / (2 * out),))


def abs(x: Tensor) -> Tensor:
    """|x|;  d/dx = sign(x) (0 at x = 0)."""
    return Tensor._make(np.abs(x.data), (x,), lambda g: (g * np.sign(x.data),))


def tanh(x: Tensor) -> Tensor:
    """tanh x;  d/dx = 1 - tanh^2 x."""
    out = np.tanh(_floating(x.data))
    return Tensor._make(out, (x,), lambda g: (g * (1 - out**2),))


def sigmoid(x: Tensor) -> Tensor:
    """s(x) = 1 / (1 + e^-x);  d/dx = s (1 - s) = e / (1 + e)^2 with e = e^-|x|.

    Stable for large |x|: as e = e^-|x| <= 1, s = 1 / (1 + e) for x >= 0 and
    e / (1 + e) for x < 0 never overflow, and the derivative written in e keeps
    its precision on both tails (1 - s would round to 0 for large x)."""
    data = _floating(x.data)
    e = np.exp(-np.abs(data))
    out = np.where(data >= 0, 1, e) / (1 + e)
    return Tensor._make(out, (x,), lambda g: (g * e / (1 + e) ** 2,))


def relu(x: Tensor) -> Tensor:
    """max(x, 0);  d/dx = 1 if x > 0 else 0."""
    positive = x.data > 0
    return Tensor._make(np.maximum(x.data, 0), (x,), lambda g: (g * positive,))


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x if x > 0 else a x;  d/dx = 1 if x > 0 else a (a = negative_slope)."""
    data = _floating(x.data)
    slope = np.where(data > 0, 1, negative_slope).astype(data.dtype)
    return Tensor._make(data * slope, (x,), lambda g: (g * slope,))


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x), Phi the standard normal CDF;  d/dx = Phi(x) + x phi(x).

    ``approximate="none"``: Phi(x) = (1 + erf(x / sqrt 2)) / 2, phi(x) = e^(-x^2/2) / sqrt(2 pi).
    ``approximate="tanh"``: Phi(x) ~ (1 + t) / 2 with t = tanh(u),
    u = sqrt(2/pi) (x + 0.044715 x^3),
    so d/dx = (1 + t) / 2 + x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2."""
    data = _floating(x.data)
    if approximate == "none":
        from scipy.special import erf  # a ufunc; scipy comes with scikit-learn, loaded on first use
        cdf = (1 + erf(data / math.sqrt(2))) / 2

        def slope() -> np.ndarray:
            return cdf + data * np.exp(-data**2 / 2) / math.sqrt(2 * math.pi)
    elif approximate == "tanh":
        t = np.tanh(_SQRT_2_OVER_PI * (data + 0.044715 * data**3))
        cdf = (1 + t) / 2

        def slope() -> np.ndarray:
            return cdf + data * (1 - t**2) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * data**2) / 2
    else:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Tensor._make(data * cdf, (x,), lambda g: (g * slope(),))


def clip(x: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """x limited to [min, max];  d/dx = 1 where min <= x <= max (clip left x as is), else 0."""
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    low, high = (None if bound is None else _constant(bound, x.dtype).data for bound in (min, max))
    if low is not None and high is not None and np.any(low > high):
        raise ValueError(f"clip: min {min} is greater than max {max}")
    out = np.clip(x.data, low, high)
    return Tensor._make(out, (x,), lambda g: (unbroadcast(g * (out == x.data), x.shape),))


def _select(op: str, a: Any, b: Any, pick: np.ufunc) -> Tensor:
    """maximum/minimum: the winner of each pair gets the gradient, a tie splits it."""
    a, b = _operands(a, b)
    out = _broadcasting(op, pick, a.data, b.data)

    def backward(g: np.ndarray):
        share_a = np.where(a.data == b.data, 0.5, a.data == out).astype(_float_dtype(out))
        return (unbroadcast(g * share_a, a.shape) if a.requires_grad else None,
                unbroadcast(g * (1 - share_a), b.shape) if b.requires_grad else None)
    return Tensor._make(out, (a, b), backward)


def maximum(a: Any, b: Any) -> Tensor:
    """max(a, b) elementwise;  d/da = 1 where a > b, 1/2 where a = b, else 0."""
    return _select("maximum", a, b, np.maximum)


def minimum(a: Any, b: Any) -> Tensor:
    """min(a, b) elementwise;  d/da = 1 where a < b, 1/2 where a = b, else 0."""
    return _select("minimum", a, b, np.minimum)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """a where condition else b;  d/da = condition, d/db = not condition."""
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition)
    if cond.dtype != bool:
        raise TypeError(f"where: condition must be a bool tensor or array, not dtype {cond.dtype}")
    a, b = _operands(a, b)
    out = _broadcasting("where", np.where, cond, a.data, b.data)

    def backward(g: np.ndarray):
        return (unbroadcast(np.where(cond, g, 0), a.shape) if a.requires_grad else None,
                unbroadcast(np.where(cond, 0, g), b.shape) if b.requires_grad else None)
    return Tensor._make(out, (a, b), backward)


# -- reductions ----------------------------------------------------------------
def sum(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """sum of x over axis;  d/dx_i = 1."""
    axes = _axes("sum", axis, x.ndim)
    return Tensor._make(np.sum(x.data, axis=axes, keepdims=keepdims), (x,),
                        lambda g: (_expand(g, axes, keepdims, x.shape),))


def mean(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """sum of x over axis / n, n the count of summed elements;  d/dx_i = 1 / n."""
    axes = _axes("mean", axis, x.ndim)
    data = _floating(x.data)
    n = _count(x.shape, axes)
    return Tensor._make(np.sum(data, axis=axes, keepdims=keepdims) / n, (x,),
                        lambda g: (_expand(g / n, axes, keepdims, x.shape),))


def _extreme(op: str, reduce: Callable, x: Tensor, axis: Axis, keepdims: bool) -> Tensor:
    """max/min: the gradient is split evenly among the elements that tie for the extreme."""
    axes = _axes(op, axis, x.ndim)
    if any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"{op}: a tensor of shape {x.shape} has no elements "
                         f"to reduce over axis {axis}")
    extreme = reduce(x.data, axis=axes, keepdims=True)

    def backward(g: np.ndarray):
        winners = x.data == extreme
        share = winners / np.sum(winners, axis=axes, keepdims=True, dtype=_float_dtype(x.data))
        return (_expand(g, axes, keepdims, x.shape) * share,)
    return Tensor._make(extreme if keepdims else np.squeeze(extreme, axis=axes), (x,), backward)


def max(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """max of x over axis;  d/dx_i = 1 / k for each of the k elements that equal the max, else 0."""
    return _extreme("max", np.max, x, axis, keepdims)


def min(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """min of x over axis;  d/dx_i = 1 / k for each of the k elements that equal the min, else 0."""
    return _extreme("min", np.min, x, axis, keepdims)


def var(x: Tensor, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """sum (x_i - mean)^2 / (n - ddof) over axis;  d/dx_i = 2 (x_i - mean) / (n - ddof).

    numpy's convention: ``ddof=0`` (the default) is the biased, population
    variance; ``ddof=1`` the unbiased sample variance (torch's default)."""
    axes = _axes("var", axis, x.ndim)
    n = _count(x.shape, axes)
    if n - ddof <= 0:
        raise ValueError(f"var: ddof={ddof} leaves no degrees of freedom for {n} elements")
    data = _floating(x.data)
    centred = data - np.mean(data, axis=axes, keepdims=True)
    out = np.sum(centred**2, axis=axes, keepdims=keepdims) / (n - ddof)
    return Tensor._make(out, (x,), lambda g: (
        _expand(g, axes, keepdims, x.shape) * centred * (2 / (n - ddof)),))


# -- shape -----------------------------------------------------------------------
def _shape_arg(shape: tuple) -> tuple[int, ...]:
    """Accept ``f(x, 2, 3)`` and ``f(x, (2, 3))`` alike."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def reshape(x: Tensor, *shape: int) -> Tensor:
    """x with a new shape (one entry may be -1);  the gradient is g reshaped back."""
    shape = _shape_arg(shape)
    try:
        out = x.data.reshape(shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"into shape {shape}") from None
    return Tensor._make(out, (x,), lambda g: (g.reshape(x.shape),))


def transpose(x: Tensor, *axes: int) -> Tensor:
    """x with its axes permuted (reversed when none are given);  the gradient is g
    permuted by the inverse permutation. As numpy's ``transpose``, ``axes`` is the
    new order of all the axes, not two axes to swap (torch's ``transpose(0, 1)``)."""
    axes = _shape_arg(axes)
    if not axes:   # all axes reversed: its own inverse
        return Tensor._make(x.data.T, (x,), lambda g: (g.T,))
    if len(_axes("transpose", axes, x.ndim)) != x.ndim:
        raise ValueError(f"transpose: axes {axes} are not a permutation of the {x.ndim} "
                         f"axes of shape {x.shape}")
    axes = tuple(int(a) % x.ndim for a in axes)
    inverse = tuple(np.argsort(axes))
    return Tensor._make(x.data.transpose(axes), (x,), lambda g: (g.transpose(inverse),))


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dimensions start_dim..end_dim (inclusive) merged into one, as torch.flatten."""
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = _axes("flatten", start_dim, x.ndim)[0], _axes("flatten", end_dim, x.ndim)[0]
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                         f"for shape {x.shape}")
    return reshape(x, x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:])


def _plain_index(index: Any) -> Any:
    """Tensors inside an index (masks, integer arrays) as their numpy arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    return index


def getitem(x: Tensor, index: Any) -> Tensor:
    """x[index] with numpy's indexing (ints, slices, None, ..., bool masks, integer
    arrays);  the gradient scatters g back, adding up repeated indices (np.add.at)."""
    index = _plain_index(index)
    out = x.data[index]

    def backward(g: np.ndarray):
        grad = np.zeros_like(x.data)
        np.add.at(grad, index, g)
        return (grad,)
    return Tensor._make(out, (x,), backward)


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """The tensors joined along an existing axis;  each gets its slice of g."""
    tensors = _sequence_operands("concatenate", tensors)
    axis = _axes("concatenate", axis, tensors[0].ndim)[0]
    shapes = [t.shape for t in tensors]
    if len({s[:axis] + s[axis + 1:] for s in shapes}) > 1 or len({len(s) for s in shapes}) > 1:
        raise ValueError(f"concatenate: shapes {shapes} differ outside axis {axis}")
    ends = np.cumsum([s[axis] for s in shapes])[:-1]
    return Tensor._make(np.concatenate([t.data for t in tensors], axis=axis), tuple(tensors),
                        lambda g: tuple(np.split(g, ends, axis=axis)))


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """The tensors joined along a new axis;  each gets its slice g[..., i, ...]."""
    tensors = _sequence_operands("stack", tensors)
    shapes = [t.shape for t in tensors]
    if any(s != shapes[0] for s in shapes):
        raise ValueError(f"stack: all shapes must be equal, got {shapes}")
    axis = _axes("stack", axis, tensors[0].ndim + 1)[0]
    return Tensor._make(np.stack([t.data for t in tensors], axis=axis), tuple(tensors),
                        lambda g: tuple(np.moveaxis(g, axis, 0)))


# -- softmax family ------------------------------------------------------------
def _exponentials(x: Tensor, axes: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """x - c, e = e^(x - c), total = sum of e over axes, and c = max(x) over axes.

    c is taken as 0 where the max is infinite. Every e^(x_i - c) <= 1, so nothing
    overflows, and the shift cancels out of the three ops that share this:
    softmax = e / total, log_softmax = (x - c) - log total, logsumexp = log total + c."""
    data = _floating(x.data)
    peak = np.max(data, axis=axes, keepdims=True, initial=-np.inf)
    peak = np.where(np.isfinite(peak), peak, 0)
    shifted = data - peak
    e = np.exp(shifted)
    return shifted, e, np.sum(e, axis=axes, keepdims=True), peak


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """y_i = e^(x_i) / sum_j e^(x_j) along axis;  the vjp is y * (g - sum_j g_j y_j)."""
    axes = _axes("softmax", axis, x.ndim)
    _, e, total, _ = _exponentials(x, axes)
    out = e / total
    return Tensor._make(out, (x,),
                        lambda g: (out * (g - np.sum(g * out, axis=axes, keepdims=True)),))


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """y_i = x_i - log sum_j e^(x_j) along axis;  the vjp is g - softmax(x) * sum_j g_j."""
    axes = _axes("log_softmax", axis, x.ndim)
    shifted, e, total, _ = _exponentials(x, axes)
    return Tensor._make(shifted - np.log(total), (x,), lambda g: (
        g - e / total * np.sum(g, axis=axes, keepdims=True),))


def logsumexp(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log sum_i e^(x_i) over axis;  d/dx_i = softmax(x)_i."""
    axes = _axes("logsumexp", axis, x.ndim)
    _, e, total, peak = _exponentials(x, axes)
    out = np.log(total) + peak
    return Tensor._make(out if keepdims else np.squeeze(out, axis=axes), (x,),
                        lambda g: (_expand(g, axes, keepdims, x.shape) * (e / total),))


# -- Tensor methods and operators ------------------------------------------------
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


for _name in ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "clip", "sum", "mean",
              "max", "min", "var", "reshape", "transpose", "flatten", "softmax", "log_softmax",
              "logsumexp"):
    setattr(Tensor, _name, globals()[_name])

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
