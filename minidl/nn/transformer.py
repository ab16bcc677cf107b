"""The Transformer: ``TransformerEncoderLayer``, ``TransformerEncoder``,
``TransformerDecoderLayer``, ``TransformerDecoder`` and ``Transformer``.

One layer (Vaswani et al. 2017), post-norm by default:

    x = norm1(x + dropout1(self_attn(x, x, x)))
    x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))

and with ``norm_first`` (pre-norm, as in GPT-2):

    x = x + dropout1(self_attn(norm1(x)))
    x = x + dropout2(linear2(dropout(activation(linear1(norm2(x))))))

A decoder layer puts attention to the encoder's output, ``memory``, between the two:

    x = norm1(x + dropout1(self_attn(x, x, x)))
    x = norm2(x + dropout2(multihead_attn(x, memory, memory)))
    x = norm3(x + dropout3(linear2(dropout(activation(linear1(x))))))

(pre-norm alike with ``norm_first``). ``Transformer`` is an encoder of
``num_encoder_layers`` and a decoder of ``num_decoder_layers``, each ending in a
LayerNorm, its weight matrices initialised by ``xavier_uniform_``; ``forward(src, tgt)``
encodes src into memory and decodes tgt against it.

The submodules carry PyTorch's names (self_attn, multihead_attn, linear1, dropout,
linear2, norm1, norm2, norm3, dropout1, dropout2, dropout3), and the stacks' layers are
``layers.0``, ``layers.1``, ..., so a PyTorch state_dict loads. A decoder-only model
(GPT) is the encoder with the causal mask ``Transformer.generate_square_subsequent_mask(L)``.
"""
from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np

from ..tensor import Tensor
from . import init
from .multihead_attention import MultiheadAttention
from .containers import ModuleList
from .functional import gelu, relu
from .layers import Dropout, Linear, _check_positive_int
from .module import Module
from .normalization import LayerNorm

__all__ = ["TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
           "TransformerDecoder", "Transformer"]

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": relu, "gelu": gelu}


def _activation(activation: Any) -> Callable[[Tensor], Tensor]:
    """"relu", "gelu" or a callable (a Module or a function of one Tensor) as a callable."""
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:   # PyTorch's type: a RuntimeError
            raise RuntimeError(f"Invalid activation: {activation!r} (expected 'relu', 'gelu' "
                               f"or a callable)")
        return ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError(f"Invalid activation: {activation!r} (expected 'relu', 'gelu' or "
                        f"a callable)")
    return activation


def _add_sublayers(layer: Module, attentions: tuple[str, ...], norms: int, d_model: int,
                   nhead: int, dim_feedforward: int, dropout: float, activation: Any,
                   layer_norm_eps: float, batch_first: bool, norm_first: bool, bias: bool,
                   dtype: Any) -> None:
    """Give an encoder or decoder layer its submodules, in PyTorch's order (which is its
    state_dict's): the attentions, linear1, dropout, linear2, ``norms`` LayerNorms
    norm1, norm2, ..., as many Dropouts dropout1, dropout2, ..., and the activation."""
    _check_positive_int("dim_feedforward", dim_feedforward)
    activation = _activation(activation)
    for name in attentions:
        setattr(layer, name, MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                batch_first=batch_first, dtype=dtype))
    layer.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
    layer.dropout = Dropout(dropout)
    layer.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
    layer.norm_first = bool(norm_first)
    for k in range(1, norms + 1):
        setattr(layer, f"norm{k}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias,
                                             dtype=dtype))
    for k in range(1, norms + 1):
        setattr(layer, f"dropout{k}", Dropout(dropout))
    layer.activation = activation


def _check_tensor(layer: str, name: str, value: Any) -> None:
    """A Tensor; one of the wrong shape is refused by the first sublayer it meets, with
    PyTorch's exception type (a LayerNorm's RuntimeError, an attention's
    InputAssertionError, a projection's RuntimeError)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{layer}: {name} must be a Tensor, got {type(value).__name__}")


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
        _add_sublayers(self, ("self_attn",), 2, d_model, nhead, dim_feedforward, dropout,
                       activation, layer_norm_eps, batch_first, norm_first, bias, dtype)

    def forward(self, src: Tensor, src_mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool = False) -> Tensor:
        _check_tensor("TransformerEncoderLayer", "src", src)
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


def _detect_causal(layers: ModuleList, x: Tensor, mask: Any, is_causal: bool | None) -> bool:
    """``is_causal``, or for None whether ``mask`` is the causal mask of x's sequence
    length (axis 1 of batch-first batched input, else axis 0)."""
    if is_causal is not None:
        return is_causal
    first = getattr(getattr(layers[0], "self_attn", None), "batch_first", False)
    length = x.shape[1 if first and x.ndim == 3 else 0]
    return mask is not None and _is_causal_mask(mask, length)


def _stack(layer: Module, num_layers: int, what: str) -> ModuleList:
    """``num_layers`` independent copies of ``layer``."""
    if not isinstance(layer, Module):
        raise TypeError(f"{what} must be a Module, got {type(layer).__name__}")
    _check_positive_int("num_layers", num_layers)
    return ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (``layers.0``, ...), applied in turn,
    then ``norm`` if given. ``forward(src, mask, src_key_padding_mask, is_causal)``
    passes the masks to every layer; ``is_causal=None`` detects a causal ``mask``.
    ``enable_nested_tensor`` and ``mask_check`` are accepted for PyTorch's sake (minidl
    has no nested tensors)."""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int,
                 norm: Module | None = None, enable_nested_tensor: bool = True,
                 mask_check: bool = True):
        super().__init__()
        self.layers = _stack(encoder_layer, num_layers, "encoder_layer")
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src: Tensor, mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool | None = None) -> Tensor:
        is_causal = _detect_causal(self.layers, src, mask, is_causal)
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=is_causal)
        return x if self.norm is None else self.norm(x)


class TransformerDecoderLayer(Module):
    """Self-attention, attention to ``memory`` and a feed-forward block, each with a
    residual connection and a LayerNorm: see the module docstring. ``activation`` is
    "relu", "gelu" or a callable."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable[[Tensor], Tensor] = "relu",
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype: Any = np.float32):
        super().__init__()
        _add_sublayers(self, ("self_attn", "multihead_attn"), 3, d_model, nhead,
                       dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
                       norm_first, bias, dtype)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Any = None,
                memory_mask: Any = None, tgt_key_padding_mask: Any = None,
                memory_key_padding_mask: Any = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        for name, value in (("tgt", tgt), ("memory", memory)):
            _check_tensor("TransformerDecoderLayer", name, value)
        x = tgt
        if self.norm_first:
            x = x + self._self_attention_block(self.norm1(x), tgt_mask, tgt_key_padding_mask,
                                               tgt_is_causal)
            x = x + self._memory_attention_block(self.norm2(x), memory, memory_mask,
                                                 memory_key_padding_mask, memory_is_causal)
            return x + self._feed_forward_block(self.norm3(x))
        x = self.norm1(x + self._self_attention_block(x, tgt_mask, tgt_key_padding_mask,
                                                      tgt_is_causal))
        x = self.norm2(x + self._memory_attention_block(x, memory, memory_mask,
                                                        memory_key_padding_mask,
                                                        memory_is_causal))
        return self.norm3(x + self._feed_forward_block(x))

    def _self_attention_block(self, x: Tensor, mask: Any, key_padding_mask: Any,
                              is_causal: bool) -> Tensor:
        out, _ = self.self_attn(x, x, x, key_padding_mask=key_padding_mask, need_weights=False,
                                attn_mask=mask, is_causal=is_causal)
        return self.dropout1(out)

    def _memory_attention_block(self, x: Tensor, memory: Tensor, mask: Any,
                                key_padding_mask: Any, is_causal: bool) -> Tensor:
        out, _ = self.multihead_attn(x, memory, memory, key_padding_mask=key_padding_mask,
                                     need_weights=False, attn_mask=mask, is_causal=is_causal)
        return self.dropout2(out)

    def _feed_forward_block(self, x: Tensor) -> Tensor:
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` (``layers.0``, ...), applied in turn to
    tgt, each attending to ``memory``, then ``norm`` if given; ``tgt_is_causal=None``
    detects a causal ``tgt_mask``."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int,
                 norm: Module | None = None):
        super().__init__()
        self.layers = _stack(decoder_layer, num_layers, "decoder_layer")
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Any = None,
                memory_mask: Any = None, tgt_key_padding_mask: Any = None,
                memory_key_padding_mask: Any = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        tgt_is_causal = _detect_causal(self.layers, tgt, tgt_mask, tgt_is_causal)
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return x if self.norm is None else self.norm(x)


class Transformer(Module):
    """The encoder-decoder Transformer (Vaswani et al. 2017): see the module docstring.
    ``custom_encoder`` and ``custom_decoder`` replace the stacks it would build."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable[[Tensor], Tensor] = "relu",
                 custom_encoder: Module | None = None, custom_decoder: Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype: Any = np.float32):
        super().__init__()
        settings = dict(dim_feedforward=dim_feedforward, dropout=dropout,
                        activation=activation, layer_norm_eps=layer_norm_eps,
                        batch_first=batch_first, norm_first=norm_first, bias=bias, dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(d_model, nhead, **settings), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(d_model, nhead, **settings), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        for parameter in self.parameters():
            if parameter.ndim > 1:
                init.xavier_uniform_(parameter)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Any = None, tgt_mask: Any = None,
                memory_mask: Any = None, src_key_padding_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        batch_axis = 0 if self.batch_first else 1
        if src.ndim == 3 and (tgt.ndim != 3 or src.shape[batch_axis] != tgt.shape[batch_axis]):
            raise RuntimeError(f"the batch number of src and tgt must be equal, got src of "
                               f"shape {src.shape} and tgt of shape {tgt.shape} "
                               f"(batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"the feature number of src and tgt must be equal to d_model "
                               f"= {self.d_model}, got src of shape {src.shape} and tgt of "
                               f"shape {tgt.shape}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, dtype: Any = np.float32) -> Tensor:
        """(sz, sz) float mask: 0 on and below the diagonal, -inf above it, so query i
        attends to keys 0..i only."""
        _check_positive_int("sz", sz)
        return Tensor(np.where(np.tri(sz, dtype=bool), 0.0, -np.inf), dtype=dtype)
