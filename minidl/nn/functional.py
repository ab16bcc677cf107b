"""The layers' computations as plain functions: ``import minidl.nn.functional as F``.

The activations and the softmax family come from ``minidl.ops``; ``linear``,
``bilinear``, ``dropout``, ``gumbel_softmax`` and the normalisations (``batch_norm``,
``layer_norm``, ``instance_norm``, ``local_response_norm``) are written here from ops;
the losses, convolutions, pooling, resampling, distances, channel dropout and the
activations with parameters are written beside their Modules in their own files, which
import nothing from the layers. Modules in ``layers.py`` and ``normalization.py`` hold
parameters and call these: imports run from the Modules to ``functional``, never back.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import numpy as np

from .. import ops
from ..ops import gelu, log_softmax, logsumexp, normalize, one_hot, sigmoid, softmax, tanh
from ..ops.activations import *  # noqa: F403  (softplus, softsign, logsigmoid, ...)
from ..ops.activations import __all__ as _activations
from ..ops.inplace import in_place
from ..random import generator
from ..tensor import Tensor
from .checks import check_probability
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cosine_embedding_loss,
                     cross_entropy, gaussian_nll_loss, hinge_embedding_loss, huber_loss, kl_div,
                     l1_loss, margin_ranking_loss, mse_loss, multi_margin_loss,
                     multilabel_margin_loss, multilabel_soft_margin_loss, nll_loss,
                     poisson_nll_loss, smooth_l1_loss, soft_margin_loss, triplet_margin_loss)

__all__ = ["in_place", "relu", "leaky_relu", "tanh", "sigmoid", "gelu", "softmax", "log_softmax",
           "logsumexp", "linear", "dropout", "batch_norm", "mse_loss", "l1_loss",
           "huber_loss", "cross_entropy", "nll_loss", "binary_cross_entropy_with_logits"]
__all__ += _activations + ["binary_cross_entropy", "normalize", "one_hot", "instance_norm",
                           "local_response_norm", "smooth_l1_loss", "kl_div",
                           "poisson_nll_loss", "gaussian_nll_loss", "margin_ranking_loss",
                           "hinge_embedding_loss", "cosine_embedding_loss", "triplet_margin_loss",
                           "multilabel_soft_margin_loss", "multilabel_margin_loss",
                           "multi_margin_loss", "soft_margin_loss", "bilinear", "gumbel_softmax"]


# The activations that PyTorch's functional API gives an ``inplace`` flag.
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0)."""
    return in_place(ops.relu, input) if inplace else ops.relu(input)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6)."""
    return in_place(ops.relu6, input) if inplace else ops.relu6(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope x."""
    if inplace:
        return in_place(ops.leaky_relu, input, negative_slope)
    return ops.leaky_relu(input, negative_slope)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """x clipped to [min_val, max_val]."""
    if inplace:
        return in_place(ops.hardtanh, input, min_val, max_val)
    return ops.hardtanh(input, min_val, max_val)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha (e^x - 1) otherwise."""
    return in_place(ops.elu, input, alpha) if inplace else ops.elu(input, alpha)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha (e^(x/alpha) - 1) otherwise."""
    return in_place(ops.celu, input, alpha) if inplace else ops.celu(input, alpha)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants."""
    return in_place(ops.selu, input) if inplace else ops.selu(input)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x sigmoid(x)."""
    return in_place(ops.silu, input) if inplace else ops.silu(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x tanh(softplus(x))."""
    return in_place(ops.mish, input) if inplace else ops.mish(input)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6."""
    return in_place(ops.hardsigmoid, input) if inplace else ops.hardsigmoid(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x relu6(x + 3) / 6."""
    return in_place(ops.hardswish, input) if inplace else ops.hardswish(input)


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
    return Tensor._make(out if x.ndim == 2 else out.reshape(*x.shape[:-1], n_out), parents,
                        backward)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None
             ) -> Tensor:
    """y[..., o] = sum_{i, j} x1[..., i] W[o, i, j] x2[..., j] + b[o], for x1 (..., in1),
    x2 (..., in2) with the same leading axes, W (out, in1, in2). With the rows n of the
    leading axes and g = dL/dy (n, out), each gradient is the same sum without its factor:

        dL/dx1[n, i] = sum_{o, j} g[n, o] W[o, i, j] x2[n, j]
        dL/dx2[n, j] = sum_{o, i} g[n, o] W[o, i, j] x1[n, i]
        dL/dW[o, i, j] = sum_n g[n, o] x1[n, i] x2[n, j],     dL/db = sum_n g[n, o]
    """
    x1, x2 = (x if isinstance(x, Tensor) and x.dtype.kind == "f" else
              Tensor(x, dtype=weight.dtype) for x in (input1, input2))
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must have shape (out, in1, in2), got shape "
                           f"{weight.shape}")
    n_out, n_in1, n_in2 = weight.shape
    if x1.ndim == 0 or x1.shape[:-1] != x2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input1 of shape {x1.shape} and input2 of shape "
                           f"{x2.shape} must have the same leading (batch) dimensions")
    for name, x, size in (("input1", x1, n_in1), ("input2", x2, n_in2)):
        if x.shape[-1] != size:
            raise RuntimeError(f"bilinear(): {name} of shape {x.shape} does not match weight "
                               f"of shape {weight.shape}: its last dimension must be {size}")
    if bias is not None and bias.shape != (n_out,):
        raise RuntimeError(f"bilinear(): bias must have shape ({n_out},), got shape "
                           f"{bias.shape}")
    rows1, rows2, w = x1._data.reshape(-1, n_in1), x2._data.reshape(-1, n_in2), weight._data
    out = np.einsum("ni,oij,nj->no", rows1, w, rows2, optimize=True)
    if bias is not None:
        out += bias._data

    def backward(g: np.ndarray):
        g = g.reshape(-1, n_out)
        grads = (np.einsum("no,oij,nj->ni", g, w, rows2, optimize=True).reshape(x1.shape)
                 if x1.requires_grad else None,
                 np.einsum("no,oij,ni->nj", g, w, rows1, optimize=True).reshape(x2.shape)
                 if x2.requires_grad else None,
                 np.einsum("no,ni,nj->oij", g, rows1, rows2, optimize=True)
                 if weight.requires_grad else None)
        return grads if bias is None else grads + (g.sum(axis=0) if bias.requires_grad
                                                   else None,)
    parents = (x1, x2, weight) if bias is None else (x1, x2, weight, bias)
    return Tensor._make(out.reshape(*x1.shape[:-1], n_out), parents, backward)


def dropout(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout: zero each element with probability p, scale the rest.

        y = x * m / (1 - p),   m ~ Bernoulli(1 - p) elementwise,   so E[y] = x

    The mask comes from minidl's seeded generator; dy/dx = m / (1 - p). When
    not ``training`` (or p = 0) it is the identity; p = 1 zeros everything.
    ``inplace`` writes y into x's own array.
    """
    check_probability(p)
    if not training or p == 0:
        return x
    if inplace:
        return in_place(dropout, x, p, training)
    if p == 1:
        scale = np.zeros(x.shape, dtype=x.dtype)
    else:
        keep = generator().random(x.shape) >= p
        scale = keep.astype(x.dtype) / np.asarray(1.0 - p, dtype=x.dtype)
    return x * Tensor(scale, dtype=x.dtype)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A sample from the Gumbel-softmax distribution (Jang et al. 2016), a differentiable
    stand-in for a categorical draw from softmax(logits):

        y = softmax((logits + G) / tau),   G = -log(E), E ~ Exponential(1) elementwise

    E from minidl's global generator. With ``hard`` the forward value is the one-hot
    argmax of y, the gradient y's (straight through: y_hard - detach(y) + y). ``eps`` is
    deprecated and unused, as in PyTorch."""
    if eps != 1e-10:
        warnings.warn("gumbel_softmax: `eps` parameter is deprecated and has no effect.",
                      UserWarning, stacklevel=2)
    x = logits if isinstance(logits, Tensor) else Tensor(logits)
    gumbels = -np.log(generator().exponential(size=x.shape)).astype(x.dtype)
    y_soft = softmax((x + Tensor(gumbels, dtype=x.dtype)) / tau, axis=dim)
    if not hard:
        return y_soft
    choice = np.argmax(y_soft._data, axis=dim)
    y_hard = np.zeros_like(y_soft._data)
    np.put_along_axis(y_hard, np.expand_dims(choice, dim), 1, axis=dim)
    return Tensor(y_hard - y_soft._data, dtype=x.dtype) + y_soft


def standardize(x: Tensor, axes: tuple[int, ...], eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """(x - mean) / sqrt(var + eps) over ``axes``, with that mean and the biased var (kept
    dimensions): the step every normalisation shares, the graph running through all three."""
    mean = ops.mean(x, axis=axes, keepdims=True)
    centered = x - mean
    var = ops.mean(centered * centered, axis=axes, keepdims=True)
    return centered / ops.sqrt(var + eps), mean, var


def check_batch_statistics(x: Any) -> None:
    """ValueError unless non-empty (N, C, *) input (a Tensor or an array) has at least 2
    values per channel, which training needs for a batch variance (an empty input is never
    refused)."""
    shape = np.shape(x._data if isinstance(x, Tensor) else x)
    if 0 < math.prod(shape) < 2 * shape[1]:
        raise ValueError(f"batch_norm in training needs more than 1 value per channel, "
                         f"got input of shape {shape}")


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
    if x._data.size == 0:   # an empty batch: the empty result, running statistics unchanged
        normalized = x
    elif training:
        check_batch_statistics(x)
        n = x._data.size // channels
        normalized, mean, var = standardize(x, axes, eps)
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


def as_normalized_shape(value: Any) -> tuple[int, ...]:
    """LayerNorm's ``normalized_shape``, an int or a non-empty sequence of positive ints,
    as a tuple."""
    shape = (value,) if isinstance(value, (int, np.integer)) else tuple(value)
    if not shape or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1
                        for n in shape):
        raise ValueError(f"Invalid normalized_shape: {value!r} (needs a positive int or a "
                         f"non-empty tuple of them)")
    return tuple(int(n) for n in shape)


def _check_normalized(op: str, x: Tensor, shape: tuple[int, ...],
                      **params: Tensor | None) -> None:
    """x must end in ``shape`` (normalized_shape) and each parameter given have that shape:
    a RuntimeError otherwise, as PyTorch's."""
    if x.shape[max(x.ndim - len(shape), 0):] != shape:
        raise RuntimeError(f"{op}: input of shape {x.shape} does not end in "
                           f"normalized_shape {shape}")
    for name, value in params.items():
        if value is not None and value.shape != shape:
            raise RuntimeError(f"{op}: {name} must have shape {shape} (normalized_shape), got "
                               f"shape {value.shape}")


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise each sample over its last len(normalized_shape) dimensions:

        y = (x - mean) / sqrt(var + eps) * weight + bias

    with mean and the biased var over those dimensions, weight and bias of shape
    ``normalized_shape``. It is one op (a Transformer runs it twice a layer), whose
    backward, with x^ the normalised x, r = 1 / sqrt(var + eps), g^ = g * weight
    and means over the normalised values, is

        dL/dx = r * (g^ - mean(g^) - x^ * mean(g^ x^))
        dL/dweight = sum of g x^ over the other axes,   dL/dbias = sum of g
    """
    shape = as_normalized_shape(normalized_shape)
    x = input if isinstance(input, Tensor) and input.dtype.kind == "f" else Tensor(input)
    _check_normalized("layer_norm", x, shape, weight=weight, bias=bias)
    rows = x._data.reshape(-1, math.prod(shape))      # one row per normalised group
    average = np.full(rows.shape[1], 1 / rows.shape[1], dtype=rows.dtype)

    def row_means(a: np.ndarray) -> np.ndarray:      # a BLAS matrix-vector product: much
        return (a @ average)[:, None]                # faster than a.mean(axis=1) on short rows
    centered = rows - row_means(rows)
    inverse_std = 1 / np.sqrt(row_means(centered * centered) + x.dtype.type(eps))
    normalized = centered * inverse_std
    scale = None if weight is None else weight._data.reshape(-1)
    out = normalized if scale is None else normalized * scale
    if bias is not None:
        out += bias._data.reshape(-1)

    def backward(g: np.ndarray):
        g = g.reshape(rows.shape)
        g_normalized = g if scale is None else g * scale
        grad_x = inverse_std * (g_normalized - row_means(g_normalized)
                                - normalized * row_means(g_normalized * normalized))
        ones = np.ones(rows.shape[0], dtype=g.dtype)
        grads = [grad_x.reshape(x.shape) if x.requires_grad else None]
        if weight is not None:
            grads.append((ones @ (g * normalized)).reshape(shape) if weight.requires_grad
                         else None)
        if bias is not None:
            grads.append((ones @ g).reshape(shape) if bias.requires_grad else None)
        return tuple(grads)
    parents = (x,) + tuple(p for p in (weight, bias) if p is not None)
    return Tensor._make(out.reshape(x.shape), parents, backward)


def rms_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """Root-mean-square normalisation over the last len(normalized_shape) dimensions
    (Zhang & Sennrich 2019), LayerNorm without the centring and the bias:

        y = x / sqrt(mean(x^2) + eps) * weight

    eps=None is the machine epsilon of x's dtype, as in PyTorch."""
    shape = as_normalized_shape(normalized_shape)
    x = input if isinstance(input, Tensor) and input.dtype.kind == "f" else Tensor(input)
    if x.ndim < len(shape):   # PyTorch's one ValueError here, before its RuntimeErrors
        raise ValueError(f"rms_norm: input of shape {x.shape} has fewer dimensions than "
                         f"normalized_shape {shape}")
    _check_normalized("rms_norm", x, shape, weight=weight)
    eps = float(np.finfo(x.dtype).eps) if eps is None else eps
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    y = x * ops.rsqrt(ops.mean(x * x, axis=axes, keepdims=True) + eps)
    return y if weight is None else y * weight


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Group normalisation (Wu & He 2018) of (N, C, *) input: the C channels fall into
    ``num_groups`` groups of C / G, and each sample's group is normalised over its
    channels and positions, then each channel c gets its own affine map:

        y = (x - mean_group) / sqrt(var_group + eps) * weight_c + bias_c

    (var biased). G = 1 is LayerNorm over (C, *); G = C is InstanceNorm."""
    x = input if isinstance(input, Tensor) and input.dtype.kind == "f" else Tensor(input)
    if x.ndim < 2:
        raise RuntimeError(f"group_norm: input must have shape (N, C, *), got shape "
                           f"{x.shape}")
    channels = x.shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)):
        raise TypeError(f"group_norm: num_groups={num_groups!r} must be an int")
    if num_groups < 1:
        raise ValueError(f"group_norm: num_groups={num_groups!r} must be a positive int")
    if channels % num_groups:
        raise RuntimeError(f"group_norm: num_groups={num_groups} must divide the {channels} "
                           f"channels of input of shape {x.shape}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and value.shape != (channels,):
            raise RuntimeError(f"group_norm: {name} must have shape ({channels},) for input "
                               f"of shape {x.shape}, got shape {value.shape}")
    grouped = ops.reshape(x, (x.shape[0], num_groups, -1))
    centered = grouped - ops.mean(grouped, axis=2, keepdims=True)
    var = ops.mean(centered * centered, axis=2, keepdims=True)
    y = ops.reshape(centered / ops.sqrt(var + eps), x.shape)
    per_channel = (channels,) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * ops.reshape(weight, per_channel)
    if bias is not None:
        y = y + ops.reshape(bias, per_channel)
    return y


def instance_norm(input: Tensor, running_mean: np.ndarray | None = None,
                  running_var: np.ndarray | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample of x (N, C, *) over its positions:

        y[n, c] = (x[n, c] - mean_nc) / sqrt(var_nc + eps) * weight_c + bias_c

    (var biased), the graph running through mean and var. Running statistics, when
    given, move toward the batch's average instance statistics in place:

        running_mean = (1 - momentum) running_mean + momentum mean_n(mean_nc)
        running_var  = (1 - momentum) running_var  + momentum mean_n(var_nc m / (m - 1))

    for m positions. Without ``use_input_stats`` the running statistics normalise
    instead, as ``batch_norm`` outside training.
    """
    x = input if isinstance(input, Tensor) and input.dtype.kind == "f" else Tensor(input)
    if x.ndim < 3:
        raise ValueError(f"instance_norm expects input of shape (N, C, *), got shape {x.shape}")
    if not use_input_stats:
        return batch_norm(x, running_mean, running_var, weight, bias, False, momentum, eps)
    positions = math.prod(x.shape[2:])
    if positions <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, "
                         f"got input of shape {x.shape}")
    channels = x.shape[1]
    axes = tuple(range(2, x.ndim))
    y, mean, var = standardize(x, axes, eps)
    if running_mean is not None:
        running_mean *= 1.0 - momentum
        running_mean += momentum * mean._data.reshape(-1, channels).mean(axis=0)
    if running_var is not None:
        unbiased = var._data.reshape(-1, channels) * (positions / (positions - 1))
        running_var *= 1.0 - momentum
        running_var += momentum * unbiased.mean(axis=0)
    shape = (1, channels) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * ops.reshape(weight, shape)
    if bias is not None:
        y = y + ops.reshape(bias, shape)
    return y


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Each channel c of x (N, C, *) divided by the energy of its neighbours:

        y[n, c] = x[n, c] / (k + alpha / size * sum_{c'} x[n, c']^2) ** beta

    over c' from c - size // 2 to c + (size - 1) // 2 (channels past the edges count 0).
    """
    x = input if isinstance(input, Tensor) and input.dtype.kind == "f" else Tensor(input)
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: expected input of shape (N, C, *) with at "
                         f"least 3 dimensions, got shape {x.shape}")
    channels = x.shape[1]
    squares = pad(x * x, [0, 0] * (x.ndim - 2) + [size // 2, (size - 1) // 2])
    energy = squares[:, 0:channels]
    for offset in range(1, size):
        energy = energy + squares[:, offset:offset + channels]
    return x / (energy * (alpha / size) + k) ** beta


# Written beside their Modules, in files that import nothing from the layers.
from .activation import (glu, hardshrink, prelu, rrelu, softshrink, tanhshrink,  # noqa: E402
                         threshold)
from .conv import conv1d, conv2d, pad  # noqa: E402
from .conv_transpose import conv_transpose1d, conv_transpose2d  # noqa: E402
from .embedding import embedding  # noqa: E402
from .resampling import (fold, interpolate, pixel_shuffle, pixel_unshuffle,  # noqa: E402
                         unfold, upsample)
from .adaptive_pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d,  # noqa: E402
                               adaptive_max_pool1d, adaptive_max_pool2d)
from .pooling import (avg_pool1d, avg_pool2d, max_pool1d, max_pool2d, max_unpool1d,  # noqa: E402
                      max_unpool2d)

__all__ += ["conv1d", "conv2d", "pad", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
            "adaptive_avg_pool2d", "layer_norm", "embedding", "max_unpool1d", "max_unpool2d",
            "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d",
            "conv_transpose1d", "conv_transpose2d", "interpolate", "upsample",
            "pixel_shuffle", "pixel_unshuffle", "unfold", "fold", "glu", "hardshrink",
            "prelu", "rrelu", "softshrink", "tanhshrink", "threshold"]

from .attention import scaled_dot_product_attention  # noqa: E402

__all__ += ["scaled_dot_product_attention", "rms_norm", "group_norm"]

from .distance import cosine_similarity, pairwise_distance, pdist  # noqa: E402
from .dropout import (alpha_dropout, dropout1d, dropout2d, dropout3d,  # noqa: E402
                      feature_alpha_dropout)
from .pooling import lp_pool1d, lp_pool2d  # noqa: E402
from .resampling import channel_shuffle  # noqa: E402

__all__ += ["cosine_similarity", "pairwise_distance", "pdist", "dropout1d", "dropout2d",
            "dropout3d", "alpha_dropout", "feature_alpha_dropout", "lp_pool1d", "lp_pool2d",
            "channel_shuffle"]


# PyTorch's aliases: the pooling functions that always return (values, indices), and the
# in-place forms of the activations (each its function with ``inplace=True``).
def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``max_pool1d(..., return_indices=True)``, whatever ``return_indices`` says."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``max_pool2d(..., return_indices=True)``, whatever ``return_indices`` says."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool1d(..., return_indices=True)``."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool2d(..., return_indices=True)``."""
    return adaptive_max_pool2d(input, output_size, True)


def relu_(input: Tensor) -> Tensor:
    """``relu(input, inplace=True)``."""
    return relu(input, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``elu(input, alpha, inplace=True)``."""
    return elu(input, alpha, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``leaky_relu(input, negative_slope, inplace=True)``."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """``hardtanh(input, min_val, max_val, inplace=True)``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def selu_(input: Tensor) -> Tensor:
    """``selu(input, inplace=True)``."""
    return selu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``celu(input, alpha, inplace=True)``."""
    return celu(input, alpha, inplace=True)


_threshold = threshold   # the function, which threshold_'s argument of that name hides


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """``threshold(input, threshold, value, inplace=True)``."""
    return _threshold(input, threshold, value, inplace=True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """``rrelu(input, lower, upper, training, inplace=True)``."""
    return rrelu(input, lower, upper, training, inplace=True)


__all__ += ["max_pool1d_with_indices", "max_pool2d_with_indices",
            "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices", "relu_",
            "elu_", "leaky_relu_", "hardtanh_", "selu_", "celu_", "threshold_", "rrelu_"]
