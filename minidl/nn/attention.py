"""Attention: ``scaled_dot_product_attention``, and the head splitting that
``MultiheadAttention`` (multihead_attention.py) uses around it.

For queries q (..., L, E), keys k (..., S, E) and values v (..., S, Ev):

    s = q k^T * scale + mask        scale = 1 / sqrt(E) unless given
    p = softmax(s) along S          (each query's weights over the keys)
    y = p v                         (..., L, Ev)

A bool mask keeps the scores where it is True and sets the others to -inf
(``is_causal`` keeps key j <= query i); a float mask is added. A query whose
keys are all masked gets p = 0 and y = 0, as in PyTorch. With dropout, p
is multiplied by a Bernoulli(1 - dropout_p) mask over 1 - dropout_p before y.

``scaled_dot_product_attention`` is one op, not seven, with its own backward
(g = dL/dy, p' the dropped-out p, and m its mask over 1 - dropout_p):

    dv = p'^T g
    dp = (g v^T) * m
    ds = p * (dp - sum_S(dp * p))   (the softmax's vjp; also dL/d float mask)
    dq = ds k * scale,   dk = ds^T q * scale

All products are batched BLAS matmuls (``np.matmul``). ``MultiheadAttention``
projects its inputs, splits them into heads (``split_heads``: strided views, one
node each), calls it, and merges the heads (``merge_heads``).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops
from ..random import generator
from ..tensor import Tensor, unbroadcast
from .checks import check_probability

__all__ = ["scaled_dot_product_attention", "split_heads", "merge_heads"]


def _swap(array: np.ndarray) -> np.ndarray:
    """The last two axes exchanged: a transposed view of each matrix of a batch."""
    return np.swapaxes(array, -1, -2)


def _row_sums(array: np.ndarray) -> np.ndarray:
    """Sums along the last axis, kept as an axis of 1: one BLAS matrix-vector product,
    several times faster than ``np.sum(axis=-1)`` on rows as short as attention's."""
    ones = np.ones(array.shape[-1], dtype=array.dtype)
    rows = array.reshape(math.prod(array.shape[:-1]), array.shape[-1])
    return (rows @ ones).reshape(*array.shape[:-1], 1)


def _float_tensor(name: str, value: Any) -> Tensor:
    """query, key or value: a Tensor (TypeError otherwise) of a float dtype and at least
    two dimensions (RuntimeError otherwise, as PyTorch's)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"scaled_dot_product_attention: {name} must be a Tensor, got "
                        f"{type(value).__name__}")
    if value.dtype.kind != "f":
        raise RuntimeError(f"scaled_dot_product_attention: {name} must be a float Tensor, got "
                           f"dtype {value.dtype}")
    if value.ndim < 2:
        raise RuntimeError(f"scaled_dot_product_attention: {name} must have shape (..., "
                           f"length, features), got shape {value.shape}")
    return value


def _broadcasts(shape: tuple[int, ...], to: tuple[int, ...]) -> bool:
    """Whether an array of ``shape`` broadcasts to ``to`` without growing it."""
    return len(shape) <= len(to) and all(n in (1, m) for n, m in zip(shape[::-1], to[::-1]))


def _mask_tensor(name: str, mask: Any, dtype: np.dtype) -> Tensor:
    """A bool or float mask as a Tensor; a float mask takes the attention's dtype."""
    if not isinstance(mask, Tensor):
        mask = Tensor(np.asarray(mask), dtype=np.asarray(mask).dtype)
    if mask.dtype == np.bool_:
        return mask
    if mask.dtype.kind != "f":
        raise RuntimeError(f"scaled_dot_product_attention: {name} must be bool or float, got "
                           f"dtype {mask.dtype}")
    return mask if mask.dtype == dtype else ops.to(mask, dtype)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Any = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None) -> Tensor:
    """softmax(q k^T * scale + mask) v over the last two axes: see the module docstring.

    Leading (batch, head) axes broadcast. ``attn_mask`` broadcasts to (..., L, S):
    bool (True takes part) or float (added, and differentiable). ``dropout_p`` drops
    attention weights always, as PyTorch's does: pass 0 in evaluation. query, key and
    value are Tensors of one float dtype; shapes, dtypes and masks that do not fit
    raise a RuntimeError, as in PyTorch."""
    q, k, v = (_float_tensor(n, t) for n, t in (("query", query), ("key", key), ("value", value)))
    check_probability(dropout_p, "dropout_p", RuntimeError)
    if not q.dtype == k.dtype == v.dtype:
        raise RuntimeError(f"scaled_dot_product_attention: query, key and value must have the "
                           f"same dtype, got {q.dtype}, {k.dtype} and {v.dtype}")
    if k.shape[-1] != q.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: query {q.shape}, key {k.shape} and "
                           f"value {v.shape} must have shapes (..., L, E), (..., S, E), "
                           f"(..., S, Ev)")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise RuntimeError(f"scaled_dot_product_attention: the leading dimensions of query "
                           f"{q.shape}, key {k.shape} and value {v.shape} do not "
                           f"broadcast") from None
    dtype = q.dtype
    length, source = q.shape[-2], k.shape[-2]
    scores_shape = (*batch, length, source)
    mask = None if attn_mask is None else _mask_tensor("attn_mask", attn_mask, dtype)
    if mask is not None:
        if is_causal:
            raise RuntimeError("scaled_dot_product_attention: give attn_mask or is_causal=True, "
                               "not both")
        if not _broadcasts(mask.shape, scores_shape):
            raise RuntimeError(f"scaled_dot_product_attention: attn_mask of shape "
                               f"{mask.shape} does not broadcast to the scores' shape "
                               f"{scores_shape} (..., L, S)")
    float_mask = mask is not None and mask.dtype != np.bool_
    factor = dtype.type(1.0 / math.sqrt(q.shape[-1]) if scale is None else scale)
    scores = np.matmul(q._data, _swap(k._data))
    scores *= factor
    if is_causal:
        scores += np.where(np.tri(length, source, dtype=bool), dtype.type(0), -np.inf)
    elif float_mask:
        scores += mask._data
    elif mask is not None:
        scores = np.where(mask._data, scores, dtype.type(-np.inf))
    peak = np.max(scores, axis=-1, keepdims=True, initial=-np.inf)
    scores -= np.where(np.isfinite(peak), peak, 0)
    weights = np.exp(scores, out=scores)
    total = _row_sums(weights)
    weights /= np.where(total > 0, total, 1)    # a query that sees no key gets y = 0
    kept = weights
    if dropout_p > 0:
        keep = (generator().random(weights.shape) >= dropout_p).astype(dtype)
        keep /= dtype.type(1.0 - dropout_p) if dropout_p < 1 else dtype.type(1.0)
        kept = weights * keep
    out = np.matmul(kept, v._data)

    def backward(g: np.ndarray):
        grad_v = unbroadcast(np.matmul(_swap(kept), g), v.shape) if v.requires_grad else None
        d_weights = np.matmul(g, _swap(v._data))
        if dropout_p > 0:
            d_weights *= keep
        d_scores = weights * (d_weights - _row_sums(d_weights * weights))
        grads = [None, None, grad_v]
        if float_mask:
            grads.append(unbroadcast(d_scores, mask.shape) if mask.requires_grad else None)
        d_scores = d_scores * factor          # not in place: the mask's gradient may be it
        if q.requires_grad:
            grads[0] = unbroadcast(np.matmul(d_scores, k._data), q.shape)
        if k.requires_grad:
            grads[1] = unbroadcast(np.matmul(_swap(d_scores), q._data), k.shape)
        return tuple(grads)
    parents = (q, k, v, mask) if float_mask else (q, k, v)
    return Tensor._make(out, parents, backward)


def split_heads(x: Tensor, part: int, parts: int, num_heads: int, batch_first: bool) -> Tensor:
    """Chunk ``part`` of ``parts`` along the last axis of x, (L, N, parts * E) or, batch
    first, (N, L, parts * E), as heads (N, H, L, E / H): one node, a strided view, whose
    gradient goes back into that chunk alone."""
    rows, columns, width = x.shape[0], x.shape[1], x.shape[2] // parts
    order = (0, 2, 1, 3) if batch_first else (1, 2, 0, 3)
    blocks = x._data.reshape(rows, columns, parts, num_heads, width // num_heads)

    def backward(g: np.ndarray):
        grad = np.zeros(blocks.shape, dtype=g.dtype)
        grad[:, :, part] = g.transpose(np.argsort(order))
        return (grad.reshape(x.shape),)
    return Tensor._make(blocks[:, :, part].transpose(order), (x,), backward)


def merge_heads(x: Tensor, batch_first: bool) -> Tensor:
    """Heads (N, H, L, D) side by side again: (L, N, H * D), or (N, L, H * D) batch first."""
    batch, heads, length, width = x.shape
    order = (0, 2, 1, 3) if batch_first else (2, 0, 1, 3)
    merged = x._data.transpose(order).reshape(*np.take(x.shape, order[:2]), heads * width)
    return Tensor._make(merged, (x,), lambda g: (
        g.reshape(*np.take(x.shape, order)).transpose(np.argsort(order)),))
