"""Unary math: trigonometric and hyperbolic functions, the exp/log family, erf,
powers, and rounding (whose gradient is zero, as in PyTorch).

Integer and bool inputs give float32, except where PyTorch keeps the integer
dtype (``square``, ``sign`` and the rounding functions; ``square`` of bool is int64,
``sign`` of bool is bool).
"""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from ._common import _floating

__all__ = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
           "atanh", "exp2", "log2", "log10", "log1p", "expm1", "erf", "erfc", "erfinv", "lgamma",
           "digamma", "logit", "sinc", "nan_to_num", "rsqrt", "reciprocal", "square", "sign",
           "floor", "ceil", "trunc", "round", "frac"]


# -- trigonometric and hyperbolic -------------------------------------------------
def sin(x: Tensor) -> Tensor:
    """sin x;  d/dx = cos x."""
    data = _floating(x._data)
    return Tensor._make(np.sin(data), (x,), lambda g: (g * np.cos(data),))


def cos(x: Tensor) -> Tensor:
    """cos x;  d/dx = -sin x."""
    data = _floating(x._data)
    return Tensor._make(np.cos(data), (x,), lambda g: (-g * np.sin(data),))


def tan(x: Tensor) -> Tensor:
    """tan x;  d/dx = 1 + tan^2 x."""
    out = np.tan(_floating(x._data))
    return Tensor._make(out, (x,), lambda g: (g * (1 + out**2),))


def asin(x: Tensor) -> Tensor:
    """arcsin x;  d/dx = 1 / sqrt(1 - x^2)."""
    data = _floating(x._data)
    return Tensor._make(np.arcsin(data), (x,), lambda g: (g / np.sqrt(1 - data**2),))


def acos(x: Tensor) -> Tensor:
    """arccos x;  d/dx = -1 / sqrt(1 - x^2)."""
    data = _floating(x._data)
    return Tensor._make(np.arccos(data), (x,), lambda g: (-g / np.sqrt(1 - data**2),))


def atan(x: Tensor) -> Tensor:
    """arctan x;  d/dx = 1 / (1 + x^2)."""
    data = _floating(x._data)
    return Tensor._make(np.arctan(data), (x,), lambda g: (g / (1 + data**2),))


def sinh(x: Tensor) -> Tensor:
    """sinh x;  d/dx = cosh x."""
    data = _floating(x._data)
    return Tensor._make(np.sinh(data), (x,), lambda g: (g * np.cosh(data),))


def cosh(x: Tensor) -> Tensor:
    """cosh x;  d/dx = sinh x."""
    data = _floating(x._data)
    return Tensor._make(np.cosh(data), (x,), lambda g: (g * np.sinh(data),))


def asinh(x: Tensor) -> Tensor:
    """arsinh x;  d/dx = 1 / sqrt(x^2 + 1)."""
    data = _floating(x._data)
    return Tensor._make(np.arcsinh(data), (x,), lambda g: (g / np.sqrt(data**2 + 1),))


def acosh(x: Tensor) -> Tensor:
    """arcosh x (x >= 1);  d/dx = 1 / (sqrt(x - 1) sqrt(x + 1))."""
    data = _floating(x._data)
    return Tensor._make(np.arccosh(data), (x,),
                        lambda g: (g / (np.sqrt(data - 1) * np.sqrt(data + 1)),))


def atanh(x: Tensor) -> Tensor:
    """artanh x (|x| < 1);  d/dx = 1 / (1 - x^2)."""
    data = _floating(x._data)
    return Tensor._make(np.arctanh(data), (x,), lambda g: (g / (1 - data**2),))


# -- exponentials, logarithms, erf -------------------------------------------------
def exp2(x: Tensor) -> Tensor:
    """2^x;  d/dx = 2^x ln 2."""
    out = np.exp2(_floating(x._data))
    return Tensor._make(out, (x,), lambda g: (g * out * math.log(2),))


def log2(x: Tensor) -> Tensor:
    """log_2 x;  d/dx = 1 / (x ln 2)."""
    data = _floating(x._data)
    return Tensor._make(np.log2(data), (x,), lambda g: (g / (data * math.log(2)),))


def log10(x: Tensor) -> Tensor:
    """log_10 x;  d/dx = 1 / (x ln 10)."""
    data = _floating(x._data)
    return Tensor._make(np.log10(data), (x,), lambda g: (g / (data * math.log(10)),))


def log1p(x: Tensor) -> Tensor:
    """ln(1 + x), exact for tiny x;  d/dx = 1 / (1 + x)."""
    data = _floating(x._data)
    return Tensor._make(np.log1p(data), (x,), lambda g: (g / (1 + data),))


def expm1(x: Tensor) -> Tensor:
    """e^x - 1, exact for tiny x;  d/dx = e^x = out + 1."""
    out = np.expm1(_floating(x._data))
    return Tensor._make(out, (x,), lambda g: (g * (out + 1),))


def erf(x: Tensor) -> Tensor:
    """erf x = (2 / sqrt pi) int_0^x e^(-t^2) dt;  d/dx = (2 / sqrt pi) e^(-x^2)."""
    from scipy.special import erf as _erf  # a ufunc; scipy comes with scikit-learn
    data = _floating(x._data)
    return Tensor._make(_erf(data), (x,),
                        lambda g: (g * (2 / math.sqrt(math.pi)) * np.exp(-data**2),))


def erfc(x: Tensor) -> Tensor:
    """1 - erf x, exact for large x;  d/dx = -(2 / sqrt pi) e^(-x^2)."""
    from scipy.special import erfc as _erfc
    data = _floating(x._data)
    return Tensor._make(_erfc(data), (x,),
                        lambda g: (g * (-2 / math.sqrt(math.pi)) * np.exp(-data**2),))


def erfinv(x: Tensor) -> Tensor:
    """The inverse of erf on (-1, 1);  d/dx = (sqrt pi / 2) e^(erfinv(x)^2)."""
    from scipy.special import erfinv as _erfinv
    out = _erfinv(_floating(x._data))
    return Tensor._make(out, (x,), lambda g: (g * (math.sqrt(math.pi) / 2) * np.exp(out**2),))


def lgamma(x: Tensor) -> Tensor:
    """ln |Gamma(x)|;  d/dx = digamma(x)."""
    from scipy.special import gammaln, psi
    data = _floating(x._data)
    return Tensor._make(gammaln(data), (x,), lambda g: (g * psi(data),))


def digamma(x: Tensor) -> Tensor:
    """psi(x) = d/dx ln Gamma(x);  d/dx = polygamma(1, x). At 0 PyTorch gives -inf."""
    from scipy.special import polygamma, psi
    data = _floating(x._data)
    out = np.where(data == 0, -np.inf, psi(data)).astype(data.dtype)
    return Tensor._make(out, (x,), lambda g: (g * polygamma(1, data).astype(data.dtype),))


def logit(x: Tensor, eps: float | None = None) -> Tensor:
    """ln(x / (1 - x)), x first clamped to [eps, 1 - eps] if eps is given;
    d/dx = 1 / (x (1 - x)), 0 outside [eps, 1 - eps] (PyTorch's)."""
    data = _floating(x._data)
    z = data if eps is None else np.clip(data, eps, 1 - eps)
    with np.errstate(divide="ignore"):
        out = np.log(z / (1 - z))

    def backward(g: np.ndarray):
        slope = 1 / (z * (1 - z))
        if eps is not None:
            slope = np.where((data < eps) | (data > 1 - eps), 0, slope)
        return (g * slope.astype(data.dtype),)
    return Tensor._make(out.astype(data.dtype, copy=False), (x,), backward)


def sinc(x: Tensor) -> Tensor:
    """sin(pi x) / (pi x), 1 at 0;  d/dx = (cos(pi x) - sinc x) / x, 0 at 0."""
    data = _floating(x._data)
    out = np.sinc(data)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(data == 0, 0, (np.cos(np.pi * data) - out) / data).astype(data.dtype)
    return Tensor._make(out, (x,), lambda g: (g * slope,))


def nan_to_num(x: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """x with NaN, +inf and -inf replaced (by 0 and the dtype's largest and smallest finite
    values unless given);  d/dx = 1 where x is finite, else 0."""
    out = np.nan_to_num(x._data, nan=nan, posinf=posinf, neginf=neginf)
    if x.dtype.kind != "f":
        return _flat(x, out)
    finite = np.isfinite(x._data)
    return Tensor._make(out, (x,), lambda g: (g * finite,))


# -- powers ------------------------------------------------------------------------
def rsqrt(x: Tensor) -> Tensor:
    """1 / sqrt x;  d/dx = -x^(-3/2) / 2 = -out^3 / 2."""
    out = 1 / np.sqrt(_floating(x._data))
    return Tensor._make(out, (x,), lambda g: (-0.5 * g * out**3,))


def reciprocal(x: Tensor) -> Tensor:
    """1 / x;  d/dx = -1 / x^2 = -out^2."""
    out = 1 / _floating(x._data)
    return Tensor._make(out, (x,), lambda g: (-g * out**2,))


def square(x: Tensor) -> Tensor:
    """x^2;  d/dx = 2 x. A bool x gives int64, as PyTorch's."""
    data = x._data.astype(np.int64) if x.dtype == np.bool_ else x._data
    return Tensor._make(np.square(data), (x,), lambda g: (2 * g * x._data,))


# -- sign and rounding: piecewise constant, zero gradient --------------------------
def _flat(x: Tensor, out: np.ndarray) -> Tensor:
    """An op whose output is piecewise constant in x: d/dx = 0 (PyTorch's choice too)."""
    return Tensor._make(out, (x,), lambda g: (np.zeros_like(g),))


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of x (a bool x is its own sign);  d/dx = 0."""
    return _flat(x, x._data.copy() if x.dtype == np.bool_ else np.sign(x._data))


def floor(x: Tensor) -> Tensor:
    """The largest integer <= x;  d/dx = 0."""
    return _flat(x, np.floor(x._data) if x.dtype.kind == "f" else x._data.copy())


def ceil(x: Tensor) -> Tensor:
    """The smallest integer >= x;  d/dx = 0."""
    return _flat(x, np.ceil(x._data) if x.dtype.kind == "f" else x._data.copy())


def trunc(x: Tensor) -> Tensor:
    """x rounded toward zero;  d/dx = 0."""
    return _flat(x, np.trunc(x._data) if x.dtype.kind == "f" else x._data.copy())


def frac(x: Tensor) -> Tensor:
    """x - trunc(x), the part after the point with x's sign;  d/dx = 1."""
    return Tensor._make(x._data - np.trunc(x._data), (x,), lambda g: (g,))


def round(x: Tensor, decimals: int = 0) -> Tensor:
    """x rounded to ``decimals`` places, halves to even (as PyTorch and numpy);  d/dx = 0."""
    return _flat(x, np.round(x._data, decimals) if x.dtype.kind == "f" else x._data.copy())
