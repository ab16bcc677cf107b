"""minidl.special, PyTorch's torch.special: special functions with gradients.

Most are minidl's ops under torch.special's names (``expit`` is ``sigmoid``,
``gammaln`` is ``lgamma``, ``psi`` is ``digamma``, ...). The rest are new ops here,
each a value from scipy.special and the closure of its derivative:

    entr(x)          -x ln x (0 at 0, -inf below);          d/dx = -(ln x + 1)
    ndtr(x)          Phi(x), the standard normal CDF;       d/dx = phi(x) = e^(-x^2/2) / sqrt(2 pi)
    log_ndtr(x)      ln Phi(x), exact far in the left tail;  d/dx = phi(x) / Phi(x)
    ndtri(p)         Phi^-1(p);                             d/dp = 1 / phi(ndtri(p))
    erfcx(x)         e^(x^2) erfc(x);                       d/dx = 2 x erfcx(x) - 2 / sqrt(pi)
    xlog1py(x, y)    x ln(1 + y), 0 where x = 0;           d/dx = ln(1 + y), d/dy = x / (1 + y)
    i0, i0e, i1, i1e modified Bessel functions of the first kind (e: times e^-|x|);
                     i0' = i1, i1' = i0 - i1 / x
    polygamma(n, x)  the n-th derivative of digamma;       d/dx = polygamma(n + 1, x)
    multigammaln(a, p)  ln of the multivariate gamma function, a sum of lgamma's
    gammainc(a, x), gammaincc(a, x)  regularized incomplete gamma functions; d/dx only
                     (PyTorch has no derivative in a either)

Not here (PyTorch has them, minidl does not): the Bessel functions j0, j1, y0, y1,
the modified ones of the second kind and the scaled ones, the Airy function, the
spherical Bessel j0, zeta, and the orthogonal polynomials (Chebyshev, Hermite,
Laguerre, Legendre).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .ops import (digamma, erf, erfc, erfinv, exp2, expm1, lgamma, log1p, log_softmax,
                  logit, logsumexp, round, sigmoid, sinc, softmax, xlogy)
from .ops._common import _floating, _operands
from .ops.binary import _float_operands
from .ops.reductions import sum as _sum
from .ops.shape import stack
from .tensor import Tensor, unbroadcast

__all__ = ["entr", "ndtr", "log_ndtr", "ndtri", "erfcx", "xlog1py", "i0", "i0e", "i1", "i1e",
           "polygamma", "multigammaln", "gammainc", "gammaincc", "expit", "gammaln", "psi",
           "digamma", "erf", "erfc", "erfinv", "exp2", "expm1", "log1p", "logit", "logsumexp",
           "softmax", "log_softmax", "round", "sinc", "xlogy"]

expit = sigmoid
gammaln = lgamma
psi = digamma

_SQRT_2PI = math.sqrt(2 * math.pi)


def _scipy() -> Any:
    """scipy.special, imported at first use, as unary.py's erf does (it takes 0.1 s)."""
    import scipy.special
    return scipy.special


def _float_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _unary(x: Any, value: np.ndarray, slope: Any) -> Tensor:
    """An elementwise op of x with ``value`` and the derivative ``slope()`` (called in
    the backward only), both in x's float dtype; a slope too large for it is inf."""
    x = _float_tensor(x)
    dtype = _floating(x._data).dtype

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        with np.errstate(over="ignore"):
            return (g * np.asarray(slope(), dtype),)
    return Tensor._make(np.asarray(value, dtype), (x,), backward)


def entr(x: Any) -> Tensor:
    """-x ln x for x > 0, 0 at 0, -inf for x < 0;  d/dx = -(ln x + 1)."""
    x = _float_tensor(x)
    data = _floating(x._data)

    def slope() -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return -(np.log(data) + 1)
    return _unary(x, _scipy().entr(data), slope)


def ndtr(x: Any) -> Tensor:
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2;  d/dx = e^(-x^2/2) / sqrt(2 pi)."""
    x = _float_tensor(x)
    data = _floating(x._data)
    return _unary(x, _scipy().ndtr(data), lambda: np.exp(-data**2 / 2) / _SQRT_2PI)


def log_ndtr(x: Any) -> Tensor:
    """ln Phi(x);  d/dx = phi(x) / Phi(x) = e^(-x^2/2 - ln Phi(x)) / sqrt(2 pi)."""
    x = _float_tensor(x)
    data = _floating(x._data)
    out = _scipy().log_ndtr(data)
    return _unary(x, out, lambda: np.exp(-data**2 / 2 - out) / _SQRT_2PI)


def ndtri(p: Any) -> Tensor:
    """Phi^-1(p), the standard normal quantile;  d/dp = sqrt(2 pi) e^(ndtri(p)^2 / 2)."""
    p = _float_tensor(p)
    out = _scipy().ndtri(_floating(p._data))
    return _unary(p, out, lambda: _SQRT_2PI * np.exp(out**2 / 2))


def erfcx(x: Any) -> Tensor:
    """e^(x^2) erfc(x), the scaled complementary error function;
    d/dx = 2 x erfcx(x) - 2 / sqrt(pi)."""
    x = _float_tensor(x)
    data = _floating(x._data)
    out = _scipy().erfcx(data)
    return _unary(x, out, lambda: 2 * data * out - 2 / math.sqrt(math.pi))


def i0(x: Any) -> Tensor:
    """I_0(x), the modified Bessel function of order 0;  d/dx = I_1(x)."""
    x = _float_tensor(x)
    data = _floating(x._data)
    return _unary(x, _scipy().i0(data), lambda: _scipy().i1(data))


def i0e(x: Any) -> Tensor:
    """e^-|x| I_0(x);  d/dx = i1e(x) - sign(x) i0e(x)."""
    x = _float_tensor(x)
    data = _floating(x._data)
    out = _scipy().i0e(data)
    return _unary(x, out, lambda: _scipy().i1e(data) - np.sign(data) * out)


def _i1_over_x(data: np.ndarray, scaled: np.ndarray) -> np.ndarray:
    """I_1(x) / x (times the same scale as ``scaled``), 1/2 at 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(data == 0, 0.5, scaled / data)


def i1(x: Any) -> Tensor:
    """I_1(x), the modified Bessel function of order 1;  d/dx = I_0(x) - I_1(x) / x
    (1/2 at 0)."""
    x = _float_tensor(x)
    data = _floating(x._data)
    out = _scipy().i1(data)
    return _unary(x, out, lambda: _scipy().i0(data) - _i1_over_x(data, out))


def i1e(x: Any) -> Tensor:
    """e^-|x| I_1(x);  d/dx = i0e(x) - i1e(x) (sign(x) + 1 / x) (1/2 at 0)."""
    x = _float_tensor(x)
    data = _floating(x._data)
    out = _scipy().i1e(data)
    return _unary(x, out,
                  lambda: _scipy().i0e(data) - np.sign(data) * out - _i1_over_x(data, out))


def xlog1py(x: Any, y: Any) -> Tensor:
    """x ln(1 + y), and 0 where x = 0 (unless y is NaN);
    d/dx = ln(1 + y) (0 where x = 0 and y <= -1), d/dy = x / (1 + y)."""
    x, y = _float_operands(*_operands(x, y))
    a, b = x._data, y._data
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(_scipy().xlog1py(a, b), a.dtype)

    def backward(g: np.ndarray):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (unbroadcast(g * np.where((a == 0) & (b <= -1), 0, np.log1p(b)), a.shape)
                    if x.requires_grad else None,
                    unbroadcast(g * a / (1 + b), b.shape) if y.requires_grad else None)
    return Tensor._make(out, (x, y), backward)


def polygamma(n: int, x: Any) -> Tensor:
    """psi^(n)(x), the n-th derivative of digamma (n = 0 is digamma);
    d/dx = polygamma(n + 1, x)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n, got n={n!r}")
    x = _float_tensor(x)
    data = _floating(x._data)
    return _unary(x, _scipy().polygamma(n, data), lambda: _scipy().polygamma(n + 1, data))


def multigammaln(a: Any, p: int) -> Tensor:
    """ln Gamma_p(a) = p (p - 1) / 4 ln pi + sum_{i=0}^{p-1} lgamma(a - i / 2);
    every element of a must exceed (p - 1) / 2."""
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
        raise RuntimeError(f"p has to be greater than or equal to 1, got p={p!r}")
    a = _float_tensor(a)
    if not (a._data > (p - 1) / 2).all():
        raise RuntimeError(f"All elements must be greater than (p-1)/2 = {(p - 1) / 2}")
    terms = stack([lgamma(a - i / 2) for i in range(p)], -1)
    return _sum(terms, -1) + p * (p - 1) / 4 * math.log(math.pi)


def _incomplete_gamma(a: Any, x: Any, function: np.ufunc, torch_name: str,
                      sign: int) -> Tensor:
    """P or Q (``function``) of a and x, with d/dx = sign * x^(a-1) e^-x / Gamma(a)."""
    a, x = _float_operands(*_operands(a, x))
    s, t = a._data, x._data
    out = np.asarray(function(s, t), s.dtype)

    def backward(g: np.ndarray):
        if a.requires_grad:
            raise NotImplementedError(f"the derivative for '{torch_name}: input' is not "
                                      "implemented.")
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            density = np.exp((s - 1) * np.log(t) - t - _scipy().gammaln(s))
        return None, unbroadcast(sign * g * np.where(t > 0, density, 0), t.shape)
    return Tensor._make(out, (a, x), backward)


def gammainc(a: Any, x: Any) -> Tensor:
    """P(a, x) = int_0^x t^(a-1) e^-t dt / Gamma(a), the regularized lower incomplete
    gamma function;  d/dx = x^(a-1) e^-x / Gamma(a); no derivative in a."""
    return _incomplete_gamma(a, x, _scipy().gammainc, "igamma", 1)


def gammaincc(a: Any, x: Any) -> Tensor:
    """Q(a, x) = 1 - P(a, x);  d/dx = -x^(a-1) e^-x / Gamma(a); no derivative in a."""
    return _incomplete_gamma(a, x, _scipy().gammaincc, "igammac", -1)
