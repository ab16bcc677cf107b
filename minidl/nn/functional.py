"""The layers' computations as plain functions: ``import minidl.nn.functional as F``.

The activations and the softmax family come from ``minidl.ops``; ``linear``,
``dropout`` and ``batch_norm`` are written here from ops, and the losses live
in ``losses.py``. Modules in ``layers.py`` hold parameters and call these.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import ops
from ..ops import (gelu, leaky_relu, log_softmax, logsumexp, normalize, one_hot, relu, sigmoid,
                   softmax, tanh)
from ..ops.activations import *  # noqa: F403  (elu, selu, silu, softplus, ...)
from ..ops.activations import __all__ as _activations
from ..random import generator
from ..tensor import Tensor
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     huber_loss, l1_loss, mse_loss, nll_loss)

__all__ = ["relu", "leaky_relu", "tanh", "sigmoid", "gelu", "softmax", "log_softmax",
           "logsumexp", "linear", "dropout", "batch_norm", "mse_loss", "l1_loss",
           "huber_loss", "cross_entropy", "nll_loss", "binary_cross_entropy_with_logits"]
__all__ += _activations + ["binary_cross_entropy", "normalize", "one_hot"]


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, for x of shape (..., in), W of shape (out, in), b of shape (out,).

    One fused op rather than transpose, matmul and add: with the leading axes
    of x flattened into rows (x is (n, in), g = dL/dy is (n, out)),

        dL/dx = g W,    dL/dW = g^T x,    dL/db = sum of g over the rows.

    Input that is not a float Tensor (an array, integer data) takes W's dtype.
    """
    if not isinstance(x, Tensor) or x.dtype.kind != "f":
        x = Tensor(x, dtype=weight.dtype)
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must have shape (out, in), got shape {weight.shape}")
    n_out, n_in = weight.shape
    if x.ndim == 0 or x.shape[-1] != n_in:
        raise ValueError(f"linear: input of shape {x.shape} does not match weight of shape "
                         f"{weight.shape}: the input's last dimension must be {n_in}")
    if bias is not None and bias.shape != (n_out,):
        raise ValueError(f"linear: bias must have shape ({n_out},) for weight of shape "
                         f"{weight.shape}, got shape {bias.shape}")
    rows = x._data.reshape(-1, n_in)
    out = rows @ weight._data.T
    if bias is not None:
        out += bias._data

    def backward(g: np.ndarray):
        g = g.reshape(-1, n_out)
        grad_x = (g @ weight._data).reshape(x.shape) if x.requires_grad else None
        grad_weight = g.T @ rows if weight.requires_grad else None
        if bias is None:
            return grad_x, grad_weight
        return grad_x, grad_weight, g.sum(axis=0) if bias.requires_grad else None
    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor._make(out.reshape(*x.shape[:-1], n_out), parents, backward)


def check_probability(p: float) -> None:
    """Dropout's p must be a number in [0, 1]."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"Invalid dropout probability: p={p!r} (needs 0 <= p <= 1)")


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: zero each element with probability p, scale the rest.

        y = x * m / (1 - p),   m ~ Bernoulli(1 - p) elementwise,   so E[y] = x

    The mask comes from minidl's seeded generator; dy/dx = m / (1 - p). When
    not ``training`` (or p = 0) it is the identity; p = 1 zeros everything.
    """
    check_probability(p)
    if not training or p == 0:
        return x
    if p == 1:
        scale = np.zeros(x.shape, dtype=x.dtype)
    else:
        keep = generator().random(x.shape) >= p
        scale = keep.astype(x.dtype) / np.asarray(1.0 - p, dtype=x.dtype)
    return x * Tensor(scale, dtype=x.dtype)


def check_batch_statistics(x: Tensor) -> None:
    """ValueError unless non-empty (N, C, *) input has at least 2 values per channel,
    which training needs for a batch variance (an empty input is never refused)."""
    if 0 < x.size < 2 * x.shape[1]:
        raise ValueError(f"batch_norm in training needs more than 1 value per channel, "
                         f"got input of shape {x.shape}")


def batch_norm(x: Tensor, running_mean: np.ndarray | None, running_var: np.ndarray | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel c (axis 1 of x, shape (N, C), (N, C, L) or (N, C, H, W)):

        y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c

    In training mean_c and var_c are the batch's, over the n = N (* L or * H W) values
    of the channel (var biased, divided by n), and the graph runs through
    them. Running statistics, when given, move toward the batch's in place:

        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var  = (1 - momentum) * running_var  + momentum * var * n / (n - 1)

    (the unbiased variance). Otherwise the running statistics are used as
    constants. An empty x (N = 0, or an empty spatial dim) gives the empty
    result and leaves the running statistics as they were, as in PyTorch.
    """
    if not isinstance(x, Tensor) or x.dtype.kind != "f":
        x = Tensor(x, dtype=None if weight is None else weight.dtype)
    if x.ndim < 2:
        raise ValueError(f"batch_norm expects input of shape (N, C, *), got shape {x.shape}")
    channels = x.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):
        if value is not None and value.shape != (channels,):
            raise ValueError(f"batch_norm: {name} must have shape ({channels},) for input "
                             f"of shape {x.shape}, got shape {value.shape}")
    axes = (0, *range(2, x.ndim))
    shape = (1, channels) + (1,) * (x.ndim - 2)
    if x.size == 0:   # an empty batch: the empty result, running statistics unchanged
        normalized = x
    elif training:
        check_batch_statistics(x)
        n = x.size // channels
        mean = ops.mean(x, axis=axes, keepdims=True)
        centered = x - mean
        var = ops.mean(centered * centered, axis=axes, keepdims=True)
        normalized = centered / ops.sqrt(var + eps)
        if running_mean is not None:
            running_mean *= 1.0 - momentum
            running_mean += momentum * mean._data.reshape(channels)
        if running_var is not None:
            running_var *= 1.0 - momentum
            running_var += momentum * var._data.reshape(channels) * (n / (n - 1))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm outside training needs running_mean and running_var")
        center = Tensor(running_mean.reshape(shape), dtype=x.dtype)
        inverse_std = Tensor(1.0 / np.sqrt(running_var.reshape(shape) + eps), dtype=x.dtype)
        normalized = (x - center) * inverse_std
    if weight is not None:
        normalized = normalized * ops.reshape(weight, shape)
    if bias is not None:
        normalized = normalized + ops.reshape(bias, shape)
    return normalized


# Convolution, pooling, normalisation and embedding: written in their own files.
from .conv import conv1d, conv2d, pad  # noqa: E402
from .embedding import embedding  # noqa: E402
from .normalization import layer_norm  # noqa: E402
from .pooling import (adaptive_avg_pool2d, avg_pool1d, avg_pool2d, max_pool1d,  # noqa: E402
                      max_pool2d)

__all__ += ["conv1d", "conv2d", "pad", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
            "adaptive_avg_pool2d", "layer_norm", "embedding"]
