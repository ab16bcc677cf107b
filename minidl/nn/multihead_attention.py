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
from .functional import check_probability, dropout, linear, softmax
from .layers import Linear, _check_divisible
from .module import Module, Parameter

__all__ = ["MultiheadAttention"]


def _additive_mask(name: str, mask: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """MultiheadAttention's mask convention as a float mask to add: a bool mask is True
    where attention is NOT allowed (-inf there, 0 elsewhere), a float mask is added."""
    array = np.asarray(mask._data if isinstance(mask, Tensor) else mask)
    if array.dtype != np.bool_ and array.dtype.kind != "f":
        raise TypeError(f"MultiheadAttention: {name} must be bool or float, got dtype "
                        f"{array.dtype}")
    if array.shape != shape:
        raise ValueError(f"MultiheadAttention: {name} must have shape {shape}, got shape "
                         f"{array.shape}")
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
    causal mask, which must be given too.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 batch_first: bool = False, dtype: Any = np.float32):
        super().__init__()
        _check_divisible("embed_dim", embed_dim, "num_heads", num_heads)
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
        if query.ndim not in (2, 3) or query.shape[-1] != self.embed_dim:
            layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
            raise ValueError(f"MultiheadAttention: query must have shape {layout} or (L, E) "
                             f"with E = embed_dim = {self.embed_dim}, got shape {query.shape}")
        for name, t in (("key", key), ("value", value)):
            source_axis = 1 if self.batch_first and query.ndim == 3 else 0
            if t.ndim != query.ndim or t.shape[-1] != self.embed_dim or (
                    query.ndim == 3 and t.shape[1 - source_axis] != query.shape[1 - source_axis]):
                raise ValueError(f"MultiheadAttention: {name} of shape {t.shape} does not match "
                                 f"query of shape {query.shape} (same batch size and "
                                 f"embed_dim = {self.embed_dim})")
        if key.shape != value.shape:
            raise ValueError(f"MultiheadAttention: key of shape {key.shape} does not match "
                             f"value of shape {value.shape}")

    def _mask(self, key_padding_mask: Any, attn_mask: Any, batch: int, length: int,
              source: int, batched: bool, dtype: np.dtype) -> np.ndarray | None:
        """Both masks as one float mask that broadcasts to the scores (N, H, L, S)."""
        mask = None
        if attn_mask is not None:
            ndim = np.ndim(attn_mask._data if isinstance(attn_mask, Tensor) else attn_mask)
            per_head = (batch * self.num_heads if batched else self.num_heads, length, source)
            shape = per_head if ndim == 3 else (length, source)
            mask = _additive_mask("attn_mask", attn_mask, shape, dtype)
            mask = mask.reshape(batch, self.num_heads, length, source) if ndim == 3 else mask
        if key_padding_mask is not None:
            shape = (batch, source) if batched else (source,)
            padding = _additive_mask("key_padding_mask", key_padding_mask, shape, dtype)
            padding = padding.reshape(batch, 1, 1, source)
            mask = padding if mask is None else mask + padding
        return mask

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Any = None,
                need_weights: bool = True, attn_mask: Any = None,
                average_attn_weights: bool = True, is_causal: bool = False
                ) -> tuple[Tensor, Tensor | None]:
        self._check_inputs(query, key, value)
        if is_causal and attn_mask is None:
            raise ValueError("MultiheadAttention: is_causal=True is a hint that attn_mask is "
                             "the causal mask; give attn_mask too")
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
                                              source, batched, q.dtype)
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
