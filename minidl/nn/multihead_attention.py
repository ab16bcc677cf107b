"""``MultiheadAttention``: project, split into heads, attend, merge, project.

The attention itself is ``scaled_dot_product_attention`` (attention.py), one
op with its own backward; this module adds PyTorch's parameters and masks.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops
from ..tensor import Tensor
from . import init
from .attention import merge_heads, scaled_dot_product_attention, split_heads
from .checks import InputAssertionError
from .functional import check_probability, dropout, linear, softmax
from .layers import Linear, _check_divisible
from .module import Module, Parameter

__all__ = ["MultiheadAttention"]


def _array(value: Any) -> np.ndarray:
    return np.asarray(value._data if isinstance(value, Tensor) else value)


def _additive_mask(mask: Any, dtype: np.dtype) -> np.ndarray:
    """MultiheadAttention's mask convention as a float mask to add: a bool mask is True
    where attention is NOT allowed (-inf there, 0 elsewhere), a float mask is added."""
    array = _array(mask)
    if array.dtype == np.bool_:
        return np.where(array, dtype.type(-np.inf), dtype.type(0))
    return array.astype(dtype, copy=False)


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al. 2017), PyTorch's parameters and layout.

    The inputs, (L, N, E) or with ``batch_first`` (N, L, E), or unbatched (L, E), are
    projected by ``in_proj_weight`` (3E, E) and ``in_proj_bias`` (3E,), the rows for
    q, k, v in that order, split into ``num_heads`` heads of E / H features, attended
    in each head (``scaled_dot_product_attention``), merged and projected by
    ``out_proj`` (a Linear(E, E)). Initialised as PyTorch: xavier_uniform_ on
    in_proj_weight, zero biases, Linear's init on out_proj.weight.

    ``forward`` returns (output, weights): the attention weights (N, L, S) averaged
    over the heads (or (N, H, L, S) without ``average_attn_weights``), after
    dropout as in PyTorch, or None when ``need_weights=False``, which takes the one
    fused op. Masks are PyTorch's: ``key_padding_mask`` (N, S) and ``attn_mask``
    (L, S) or (N * H, L, S), bool with True where attention is NOT allowed (the
    opposite of ``scaled_dot_product_attention``'s) or float to add; both are
    constants (no gradient). ``is_causal`` is a hint that ``attn_mask`` is the
    causal mask, which must be given too. Bad input raises PyTorch's exception types;
    where PyTorch asserts, an ``InputAssertionError`` (also a ValueError).
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 batch_first: bool = False, dtype: Any = np.float32):
        super().__init__()
        _check_divisible("embed_dim", embed_dim, "num_heads", num_heads, InputAssertionError)
        check_probability(dropout)
        self.embed_dim, self.num_heads, self.dropout = embed_dim, num_heads, dropout
        self.head_dim, self.batch_first = embed_dim // num_heads, bool(batch_first)
        self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=dtype))
        self.in_proj_bias = Parameter(np.zeros(3 * embed_dim, dtype=dtype)) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> None:
        """PyTorch's checks and exception types: an AssertionError (here an
        ``InputAssertionError``) for a wrong number of dimensions or embedding size of
        query, and key and value of different shapes; a RuntimeError for a key that its
        projection refuses."""
        layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
        if query.ndim not in (2, 3) or query.shape[-1] != self.embed_dim:
            raise InputAssertionError(f"MultiheadAttention: query must have shape {layout} or "
                                      f"(L, E) with E = embed_dim = {self.embed_dim}, got shape "
                                      f"{query.shape}")
        for name, t in (("key", key), ("value", value)):
            if t.ndim != query.ndim:
                raise InputAssertionError(f"MultiheadAttention: {name} of shape {t.shape} must "
                                          f"have as many dimensions as query of shape "
                                          f"{query.shape}")
        if key.shape != value.shape:
            raise InputAssertionError(f"MultiheadAttention: key of shape {key.shape} does not "
                                      f"match value of shape {value.shape}")
        batch_axis = 0 if self.batch_first else 1
        if key.shape[-1] != self.embed_dim or (
                query.ndim == 3 and key.shape[batch_axis] != query.shape[batch_axis]):
            raise RuntimeError(f"MultiheadAttention: key of shape {key.shape} does not match "
                               f"query of shape {query.shape} (same batch size and "
                               f"embed_dim = {self.embed_dim})")

    def _check_masks(self, query: Tensor, key: Tensor, key_padding_mask: Any, attn_mask: Any,
                     is_causal: bool) -> None:
        """PyTorch's checks and exception types: an AssertionError (here an
        ``InputAssertionError``) for a mask that is neither bool nor float, has the wrong
        number of dimensions, or is a key_padding_mask of the wrong shape; a RuntimeError
        for an attn_mask of the wrong shape, and for is_causal without attn_mask."""
        batched, batch_axis = query.ndim == 3, 0 if self.batch_first else 1
        batch = query.shape[batch_axis] if batched else 1
        sequence_axis = 1 - batch_axis if batched else 0   # unbatched: (L, E) either way
        length, source = query.shape[sequence_axis], key.shape[sequence_axis]
        for name, mask in (("key_padding_mask", key_padding_mask), ("attn_mask", attn_mask)):
            dtype = None if mask is None else _array(mask).dtype
            if dtype is not None and dtype != np.bool_ and dtype.kind != "f":
                raise InputAssertionError(f"MultiheadAttention: {name} must be bool or float, "
                                          f"got dtype {dtype}")
        if key_padding_mask is not None:
            got = _array(key_padding_mask).shape
            expected = (batch, source) if batched else (source,)
            if got != expected:
                raise InputAssertionError(f"MultiheadAttention: key_padding_mask must have shape "
                                          f"{expected}, got shape {got}")
        if attn_mask is not None:
            got, per_head = _array(attn_mask).shape, (batch * self.num_heads, length, source)
            expected = (length, source) if len(got) == 2 else per_head
            if len(got) not in (2, 3) or (not batched and len(got) == 3 and got != per_head):
                raise InputAssertionError(f"MultiheadAttention: attn_mask must have shape "
                                          f"{(length, source)} or {per_head}, got shape {got}")
            if got != expected:
                raise RuntimeError(f"MultiheadAttention: attn_mask must have shape {expected}, "
                                   f"got shape {got}")
        elif is_causal:
            raise RuntimeError("MultiheadAttention: is_causal=True is a hint that attn_mask is "
                               "the causal mask; give attn_mask too")

    def _mask(self, key_padding_mask: Any, attn_mask: Any, batch: int, length: int,
              source: int, dtype: np.dtype) -> np.ndarray | None:
        """Both masks, which ``_check_masks`` passed, as one float mask that
        broadcasts to the scores (N, H, L, S)."""
        mask = None
        if attn_mask is not None:
            mask = _additive_mask(attn_mask, dtype)
            if mask.ndim == 3:
                mask = mask.reshape(batch, self.num_heads, length, source)
        if key_padding_mask is not None:
            padding = _additive_mask(key_padding_mask, dtype)
            padding = padding.reshape(batch, 1, 1, source)
            mask = padding if mask is None else mask + padding
        return mask

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Any = None,
                need_weights: bool = True, attn_mask: Any = None,
                average_attn_weights: bool = True, is_causal: bool = False
                ) -> tuple[Tensor, Tensor | None]:
        self._check_inputs(query, key, value)
        self._check_masks(query, key, key_padding_mask, attn_mask, is_causal)
        batched, self_attention = query.ndim == 3, query is key and key is value
        if not batched:
            query, key, value = (ops.unsqueeze(t, 0 if self.batch_first else 1)
                                 for t in (query, key, value))
        batch_axis = 0 if self.batch_first else 1
        batch, length = query.shape[batch_axis], query.shape[1 - batch_axis]
        source = key.shape[1 - batch_axis]
        heads, first = self.num_heads, self.batch_first
        weight, bias = self.in_proj_weight, self.in_proj_bias
        if self_attention:
            projected = linear(query, weight, bias)
            q, k, v = (split_heads(projected, part, 3, heads, first) for part in range(3))
        else:
            e = self.embed_dim
            q, k, v = (split_heads(linear(x, weight[i * e:(i + 1) * e],
                                     None if bias is None else bias[i * e:(i + 1) * e]),
                              0, 1, heads, first)
                       for i, x in enumerate((query, key, value)))
        causal = is_causal and key_padding_mask is None and not need_weights
        mask = None if causal else self._mask(key_padding_mask, attn_mask, batch, length,
                                              source, q.dtype)
        p = self.dropout if self.training else 0.0
        if need_weights:
            scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) * (1.0 / math.sqrt(self.head_dim))
            weights = softmax(scores if mask is None else scores + mask, axis=-1)
            weights = dropout(weights, p)
            heads_out = ops.matmul(weights, v)
        else:
            heads_out = scaled_dot_product_attention(q, k, v, mask, p, is_causal=causal)
        out = self.out_proj(merge_heads(heads_out, first))
        if need_weights and average_attn_weights:
            weights = ops.mean(weights, axis=1)
        if not batched:
            out = ops.squeeze(out, batch_axis)
            weights = ops.squeeze(weights, 0) if need_weights else None
        return out, weights if need_weights else None

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}")
