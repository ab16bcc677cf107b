"""The Transformer encoder: ``TransformerEncoderLayer`` and ``TransformerEncoder``.

One layer (Vaswani et al. 2017), post-norm by default:

    x = norm1(x + dropout1(self_attn(x, x, x)))
    x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))

and with ``norm_first`` (pre-norm, as in GPT-2):

    x = x + dropout1(self_attn(norm1(x)))
    x = x + dropout2(linear2(dropout(activation(linear1(norm2(x))))))

The submodules carry PyTorch's names (self_attn, linear1, dropout, linear2, norm1,
norm2, dropout1, dropout2), and the encoder's layers are ``layers.0``, ``layers.1``,
..., so a PyTorch state_dict loads. A decoder-only model (GPT) is this encoder
with the causal mask ``Transformer.generate_square_subsequent_mask(L)``.
"""
from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np

from ..tensor import Tensor
from .multihead_attention import MultiheadAttention
from .containers import ModuleList
from .functional import gelu, relu
from .layers import Dropout, Linear, _check_positive_int
from .module import Module
from .normalization import LayerNorm

__all__ = ["TransformerEncoderLayer", "TransformerEncoder", "Transformer"]

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": relu, "gelu": gelu}


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual connection and a
    LayerNorm: see the module docstring. ``activation`` is "relu", "gelu" or a
    callable (a Module or a function of one Tensor). A src of the wrong shape is
    refused by the first sublayer it meets, with PyTorch's exception type: norm1
    with ``norm_first`` (RuntimeError), else self_attn (InputAssertionError)."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable[[Tensor], Tensor] = "relu",
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype: Any = np.float32):
        super().__init__()
        _check_positive_int("dim_feedforward", dim_feedforward)
        if isinstance(activation, str):
            if activation not in ACTIVATIONS:
                raise RuntimeError(f"Invalid activation: {activation!r} (expected 'relu', "
                                   f"'gelu' or a callable)")
            activation = ACTIVATIONS[activation]
        elif not callable(activation):
            raise TypeError(f"Invalid activation: {activation!r} (expected 'relu', 'gelu' or "
                            f"a callable)")
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = activation

    def forward(self, src: Tensor, src_mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool = False) -> Tensor:
        if not isinstance(src, Tensor):
            raise TypeError(f"TransformerEncoderLayer: src must be a Tensor, got "
                            f"{type(src).__name__}")
        x = src   # of the wrong shape, the first sublayer refuses it, as in PyTorch
        if self.norm_first:
            x = x + self._attention_block(self.norm1(x), src_mask, src_key_padding_mask,
                                          is_causal)
            return x + self._feed_forward_block(self.norm2(x))
        x = self.norm1(x + self._attention_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._feed_forward_block(x))

    def _attention_block(self, x: Tensor, mask: Any, key_padding_mask: Any,
                         is_causal: bool) -> Tensor:
        out, _ = self.self_attn(x, x, x, key_padding_mask=key_padding_mask, need_weights=False,
                                attn_mask=mask, is_causal=is_causal)
        return self.dropout1(out)

    def _feed_forward_block(self, x: Tensor) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


def _is_causal_mask(mask: Any, length: int) -> bool:
    """Whether ``mask`` is the causal mask of ``length`` (bool True above the diagonal,
    or float -inf there and 0 elsewhere), as PyTorch's encoder detects it."""
    array = np.asarray(mask._data if isinstance(mask, Tensor) else mask)
    if array.shape != (length, length):
        return False
    above = ~np.tri(length, dtype=bool)
    if array.dtype == np.bool_:
        return bool(np.array_equal(array, above))
    return bool(np.array_equal(array, np.where(above, -np.inf, 0.0)))


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (``layers.0``, ...), applied in turn,
    then ``norm`` if given. ``forward(src, mask, src_key_padding_mask, is_causal)``
    passes the masks to every layer; ``is_causal=None`` detects a causal ``mask``."""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int,
                 norm: Module | None = None):
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"encoder_layer must be a Module, got {type(encoder_layer).__name__}")
        _check_positive_int("num_layers", num_layers)
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src: Tensor, mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool | None = None) -> Tensor:
        if is_causal is None:
            first = self.layers[0].self_attn.batch_first if isinstance(
                self.layers[0], TransformerEncoderLayer) else False
            length = src.shape[1 if first and src.ndim == 3 else 0]
            is_causal = mask is not None and _is_causal_mask(mask, length)
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=is_causal)
        return x if self.norm is None else self.norm(x)


class Transformer:
    """Only ``Transformer.generate_square_subsequent_mask``, PyTorch's helper for the
    causal mask; the encoder-decoder model itself is not in minidl."""

    def __init__(self, *args: Any, **kwargs: Any):
        raise NotImplementedError("minidl has no encoder-decoder Transformer: use "
                                  "TransformerEncoder (with the causal mask for a decoder-only "
                                  "model); only Transformer.generate_square_subsequent_mask exists")

    @staticmethod
    def generate_square_subsequent_mask(sz: int, dtype: Any = np.float32) -> Tensor:
        """(sz, sz) float mask: 0 on and below the diagonal, -inf above it, so query i
        attends to keys 0..i only."""
        _check_positive_int("sz", sz)
        return Tensor(np.where(np.tri(sz, dtype=bool), 0.0, -np.inf), dtype=dtype)
