"""Bad input to the recurrent, attention and normalisation layers of issue 18: each
case is one call that PyTorch refuses, written once for both libraries.

A case's ``build(lib)`` makes the module (None for a constructor or a function) and
``call(lib, module)`` makes the refused call; ``lib`` is ``torch`` or ``minidl``, whose
``nn``, ``nn.functional``, ``nn.utils.rnn`` and ``from_numpy`` are the same API.
``words`` are what minidl's message must contain: the argument's name and the shapes
or values. make_sequence_errors.py runs the cases on torch and stores the exception
class each raised (sequence_errors.json); tests/test_sequence_errors.py runs them on
minidl and expects that class.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np


class Case(NamedTuple):
    name: str
    build: Callable[[Any], Any] | None
    call: Callable[[Any, Any], Any]
    words: tuple[str, ...]


def x(*shape: int, dtype: Any = np.float32) -> np.ndarray:
    """An input of ``shape`` (values do not matter to a refusal)."""
    return np.linspace(-1.0, 1.0, int(np.prod(shape))).reshape(shape).astype(dtype)


def t(lib: Any, *shape: int, dtype: Any = np.float32) -> Any:
    return lib.from_numpy(x(*shape, dtype=dtype))


def mask(lib: Any, *shape: int, dtype: Any = bool) -> Any:
    return lib.from_numpy(np.zeros(shape, dtype=dtype))


def pack(lib: Any, *args: Any, **kwargs: Any) -> Any:
    return lib.nn.utils.rnn.pack_padded_sequence(*args, **kwargs)


def sdpa(lib: Any, q: tuple, k: tuple, v: tuple, **kwargs: Any) -> Any:
    return lib.nn.functional.scaled_dot_product_attention(t(lib, *q), t(lib, *k), t(lib, *v),
                                                          **kwargs)


def mha(lib: Any) -> Any:
    return lib.nn.MultiheadAttention(8, 2)


def self_attend(lib: Any, module: Any, shape: tuple = (3, 2, 8), **kwargs: Any) -> Any:
    return module(t(lib, *shape), t(lib, *shape), t(lib, *shape), **kwargs)


def encoder_layer(lib: Any, **kwargs: Any) -> Any:
    return lib.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, **kwargs)


def encoder(lib: Any) -> Any:
    return lib.nn.TransformerEncoder(encoder_layer(lib), 2, enable_nested_tensor=False) \
        if lib.__name__ == "torch" else lib.nn.TransformerEncoder(encoder_layer(lib), 2)


CASES = [
    # -- RNN, LSTM, GRU --------------------------------------------------------------
    Case("rnn_hidden_size_0", None, lambda L, m: L.nn.LSTM(3, 0), ("hidden_size", "0")),
    Case("rnn_num_layers_0", None, lambda L, m: L.nn.GRU(3, 4, num_layers=0),
         ("num_layers", "0")),
    Case("rnn_hidden_size_float", None, lambda L, m: L.nn.RNN(3, 2.5), ("hidden_size", "2.5")),
    Case("rnn_dropout", None, lambda L, m: L.nn.GRU(3, 4, dropout=1.5), ("dropout", "1.5")),
    Case("rnn_nonlinearity", None, lambda L, m: L.nn.RNN(3, 4, nonlinearity="sigmoid"),
         ("nonlinearity", "sigmoid")),
    Case("rnn_input_4d", lambda L: L.nn.GRU(3, 4), lambda L, m: m(t(L, 5, 2, 3, 1)),
         ("input", "(5, 2, 3, 1)")),
    Case("rnn_input_1d", lambda L: L.nn.RNN(3, 4), lambda L, m: m(t(L, 3)),
         ("input", "(3,)")),
    Case("rnn_input_size", lambda L: L.nn.LSTM(3, 4), lambda L, m: m(t(L, 5, 2, 2)),
         ("input_size", "3", "(5, 2, 2)")),
    Case("rnn_input_size_unbatched", lambda L: L.nn.GRU(3, 4),
         lambda L, m: m(t(L, 5, 2)), ("input_size", "3", "(5, 2)")),
    Case("rnn_h0_layers", lambda L: L.nn.RNN(3, 4, num_layers=2),
         lambda L, m: m(t(L, 5, 2, 3), t(L, 1, 2, 4)), ("h_0", "(2, 2, 4)", "(1, 2, 4)")),
    Case("rnn_h0_batch", lambda L: L.nn.GRU(3, 4),
         lambda L, m: m(t(L, 5, 2, 3), t(L, 1, 3, 4)), ("h_0", "(1, 2, 4)", "(1, 3, 4)")),
    Case("rnn_h0_unbatched_3d", lambda L: L.nn.RNN(3, 4),
         lambda L, m: m(t(L, 5, 3), t(L, 1, 1, 4)), ("h_0", "(1, 4)", "(1, 1, 4)")),
    Case("rnn_h0_batched_2d", lambda L: L.nn.GRU(3, 4),
         lambda L, m: m(t(L, 5, 2, 3), t(L, 1, 4)), ("h_0", "(1, 2, 4)", "(1, 4)")),
    Case("lstm_c0_shape", lambda L: L.nn.LSTM(3, 4),
         lambda L, m: m(t(L, 5, 2, 3), (t(L, 1, 2, 4), t(L, 1, 3, 4))),
         ("c_0", "(1, 2, 4)", "(1, 3, 4)")),
    Case("lstm_hx_not_tuple", lambda L: L.nn.LSTM(3, 4),
         lambda L, m: m(t(L, 5, 2, 3), t(L, 1, 2, 4)), ("hx", "(h_0, c_0)")),
    Case("lstm_hx_three", lambda L: L.nn.LSTM(3, 4),
         lambda L, m: m(t(L, 5, 2, 3), (t(L, 1, 2, 4),) * 3), ("hx", "(h_0, c_0)", "3")),
    Case("gru_hx_tuple", lambda L: L.nn.GRU(3, 4),
         lambda L, m: m(t(L, 5, 2, 3), (t(L, 1, 2, 4), t(L, 1, 2, 4))), ("hx", "Tensor", "tuple")),
    Case("rnn_input_dtype", lambda L: L.nn.GRU(3, 4),
         lambda L, m: m(t(L, 5, 2, 3, dtype=np.float64)), ("float32", "float64")),
    Case("rnn_h0_dtype", lambda L: L.nn.RNN(3, 4),
         lambda L, m: m(t(L, 5, 2, 3), t(L, 1, 2, 4, dtype=np.float64)),
         ("float32", "float64")),
    Case("rnn_packed_input_size", lambda L: L.nn.LSTM(3, 4),
         lambda L, m: m(pack(L, t(L, 4, 2, 2), [4, 2])),
         ("input_size", "3", "(6, 2)")),
    # -- RNNCell, LSTMCell, GRUCell ------------------------------------------------------
    Case("cell_hidden_size_0", None, lambda L, m: L.nn.GRUCell(3, 0), ("hidden_size", "0")),
    Case("cell_nonlinearity", None, lambda L, m: L.nn.RNNCell(3, 4, nonlinearity="sigmoid"),
         ("nonlinearity", "sigmoid")),
    Case("cell_input_3d", lambda L: L.nn.RNNCell(3, 4), lambda L, m: m(t(L, 2, 2, 3)),
         ("input", "(2, 2, 3)")),
    Case("cell_input_size", lambda L: L.nn.GRUCell(3, 4), lambda L, m: m(t(L, 2, 5)),
         ("input_size", "3", "(2, 5)")),
    Case("cell_input_size_unbatched", lambda L: L.nn.LSTMCell(3, 4), lambda L, m: m(t(L, 5)),
         ("input_size", "3", "(5,)")),
    Case("cell_hx_batch", lambda L: L.nn.GRUCell(3, 4),
         lambda L, m: m(t(L, 2, 3), t(L, 3, 4)), ("hx", "(2, 4)", "(3, 4)")),
    Case("cell_hx_hidden", lambda L: L.nn.RNNCell(3, 4),
         lambda L, m: m(t(L, 2, 3), t(L, 2, 5)), ("hx", "(2, 4)", "(2, 5)")),
    Case("lstm_cell_cx", lambda L: L.nn.LSTMCell(3, 4),
         lambda L, m: m(t(L, 2, 3), (t(L, 2, 4), t(L, 3, 4))), ("c_0", "(2, 4)", "(3, 4)")),
    Case("gru_cell_hx_tuple", lambda L: L.nn.GRUCell(3, 4),
         lambda L, m: m(t(L, 2, 3), (t(L, 2, 4),)), ("hx", "Tensor", "tuple")),
    Case("lstm_cell_hx_tensor", lambda L: L.nn.LSTMCell(3, 4),
         lambda L, m: m(t(L, 2, 3), t(L, 2, 4)), ("hx", "(h_0, c_0)", "Tensor")),
    Case("cell_hx_unbatched", lambda L: L.nn.GRUCell(3, 4),
         lambda L, m: m(t(L, 3), t(L, 1, 4)), ("hx", "(4,)", "(1, 4)")),
    Case("cell_input_dtype", lambda L: L.nn.LSTMCell(3, 4),
         lambda L, m: m(t(L, 2, 3, dtype=np.float64)), ("float32", "float64")),
    # -- pack_padded_sequence, pad_packed_sequence ---------------------------------------
    Case("pack_unsorted", None, lambda L, m: pack(L, t(L, 4, 2, 1), [2, 3]),
         ("lengths", "[2, 3]", "enforce_sorted")),
    Case("pack_too_long", None, lambda L, m: pack(L, t(L, 4, 2, 1), [5, 3]),
         ("lengths", "[5, 3]", "4")),
    Case("pack_zero_length", None, lambda L, m: pack(L, t(L, 4, 2, 1), [3, 0]),
         ("lengths", "[3, 0]")),
    Case("pack_lengths_count", None, lambda L, m: pack(L, t(L, 4, 2, 1), [3, 2, 1]),
         ("lengths", "3", "batch", "2")),
    Case("pack_lengths_count_batch_first", None,
         lambda L, m: pack(L, t(L, 2, 4, 1), [3], batch_first=True),
         ("lengths", "1", "batch", "2")),
    Case("pack_lengths_2d", None, lambda L, m: pack(L, t(L, 4, 2, 1), [[3], [2]]),
         ("lengths", "[[3], [2]]")),
    Case("pack_lengths_float", None, lambda L, m: pack(L, t(L, 4, 2, 1), [3.0, 2.0]),
         ("lengths", "float64")),
    Case("pack_input_1d", None, lambda L, m: pack(L, t(L, 4), [3]), ("input", "(4,)")),
    Case("pad_total_length", None,
         lambda L, m: L.nn.utils.rnn.pad_packed_sequence(pack(L, t(L, 4, 2, 1), [4, 2]),
                                                          total_length=3),
         ("total_length", "3", "4")),
    # -- scaled_dot_product_attention ----------------------------------------------------
    Case("sdpa_features", None, lambda L, m: sdpa(L, (2, 3, 4), (2, 5, 3), (2, 5, 4)),
         ("query", "key", "(2, 3, 4)", "(2, 5, 3)")),
    Case("sdpa_source", None, lambda L, m: sdpa(L, (2, 3, 4), (2, 5, 4), (2, 6, 4)),
         ("key", "value", "(2, 5, 4)", "(2, 6, 4)")),
    Case("sdpa_batch", None, lambda L, m: sdpa(L, (2, 3, 4), (3, 5, 4), (3, 5, 4)),
         ("(2, 3, 4)", "(3, 5, 4)")),
    Case("sdpa_mask_shape", None,
         lambda L, m: sdpa(L, (2, 3, 4), (2, 5, 4), (2, 5, 4), attn_mask=mask(L, 3, 4)),
         ("attn_mask", "(3, 4)", "(2, 3, 5)")),
    Case("sdpa_mask_dtype", None,
         lambda L, m: sdpa(L, (2, 3, 4), (2, 3, 4), (2, 3, 4),
                           attn_mask=mask(L, 3, 3, dtype=np.int32)), ("attn_mask", "int32")),
    Case("sdpa_mask_and_causal", None,
         lambda L, m: sdpa(L, (2, 3, 4), (2, 3, 4), (2, 3, 4), attn_mask=mask(L, 3, 3),
                           is_causal=True), ("attn_mask", "is_causal")),
    Case("sdpa_query_1d", None, lambda L, m: sdpa(L, (4,), (2, 4), (2, 4)), ("query", "(4,)")),
    Case("sdpa_query_array", None,
         lambda L, m: L.nn.functional.scaled_dot_product_attention(x(2, 3), t(L, 2, 3),
                                                                   t(L, 2, 3)),
         ("query", "Tensor", "ndarray")),
    Case("sdpa_dropout", None, lambda L, m: sdpa(L, (2, 3), (2, 3), (2, 3), dropout_p=1.5),
         ("dropout_p", "1.5")),
    Case("sdpa_query_int", None,
         lambda L, m: L.nn.functional.scaled_dot_product_attention(
             t(L, 2, 3, dtype=np.int64), t(L, 2, 3), t(L, 2, 3)), ("query", "int64")),
    Case("sdpa_dtypes", None,
         lambda L, m: L.nn.functional.scaled_dot_product_attention(
             t(L, 2, 3), t(L, 2, 3, dtype=np.float64), t(L, 2, 3)),
         ("query", "key", "float32", "float64")),
    # -- MultiheadAttention --------------------------------------------------------------
    Case("mha_divisible", None, lambda L, m: L.nn.MultiheadAttention(8, 3),
         ("embed_dim", "num_heads", "8", "3")),
    Case("mha_embed_dim_0", None, lambda L, m: L.nn.MultiheadAttention(0, 2),
         ("embed_dim", "0")),
    Case("mha_num_heads_0", None, lambda L, m: L.nn.MultiheadAttention(8, 0),
         ("num_heads", "0")),
    Case("mha_dropout", None, lambda L, m: L.nn.MultiheadAttention(8, 2, dropout=1.5),
         ("dropout", "1.5")),
    Case("mha_query_4d", mha, lambda L, m: self_attend(L, m, (3, 2, 1, 8)),
         ("query", "(3, 2, 1, 8)")),
    Case("mha_query_embed_dim", mha, lambda L, m: self_attend(L, m, (3, 2, 6)),
         ("query", "embed_dim", "8", "(3, 2, 6)")),
    Case("mha_key_batch", mha,
         lambda L, m: m(t(L, 3, 2, 8), t(L, 4, 3, 8), t(L, 4, 3, 8)),
         ("key", "(4, 3, 8)", "(3, 2, 8)")),
    Case("mha_key_value", mha,
         lambda L, m: m(t(L, 3, 2, 8), t(L, 4, 2, 8), t(L, 5, 2, 8)),
         ("key", "value", "(4, 2, 8)", "(5, 2, 8)")),
    Case("mha_key_ndim", mha,
         lambda L, m: m(t(L, 3, 2, 8), t(L, 4, 8), t(L, 4, 8)),
         ("key", "(4, 8)", "(3, 2, 8)")),
    Case("mha_key_embed_dim", mha,
         lambda L, m: m(t(L, 3, 2, 8), t(L, 4, 2, 6), t(L, 4, 2, 6)),
         ("key", "(4, 2, 6)", "embed_dim = 8")),
    Case("mha_padding_shape", mha,
         lambda L, m: self_attend(L, m, key_padding_mask=mask(L, 3, 3)),
         ("key_padding_mask", "(2, 3)", "(3, 3)")),
    Case("mha_padding_dtype", mha,
         lambda L, m: self_attend(L, m, key_padding_mask=mask(L, 2, 3, dtype=np.int64)),
         ("key_padding_mask", "int64")),
    Case("mha_mask_2d_shape", mha,
         lambda L, m: self_attend(L, m, attn_mask=mask(L, 3, 4, dtype=np.float32)),
         ("attn_mask", "(3, 3)", "(3, 4)")),
    Case("mha_mask_3d_shape", mha,
         lambda L, m: self_attend(L, m, attn_mask=mask(L, 2, 3, 3)),
         ("attn_mask", "(4, 3, 3)", "(2, 3, 3)")),
    Case("mha_unbatched_padding_2d", mha,
         lambda L, m: self_attend(L, m, (3, 8), key_padding_mask=mask(L, 1, 3)),
         ("key_padding_mask", "(3,)", "(1, 3)")),
    Case("mha_unbatched_mask_3d", mha,
         lambda L, m: self_attend(L, m, (3, 8), attn_mask=mask(L, 1, 3, 3)),
         ("attn_mask", "(2, 3, 3)", "(1, 3, 3)")),
    Case("mha_unbatched_mask_2d", mha,
         lambda L, m: self_attend(L, m, (3, 8), attn_mask=mask(L, 3, 2)),
         ("attn_mask", "(3, 3)", "(3, 2)")),
    Case("mha_mask_4d", mha, lambda L, m: self_attend(L, m, attn_mask=mask(L, 2, 2, 3, 3)),
         ("attn_mask", "(2, 2, 3, 3)")),
    Case("mha_mask_dtype", mha,
         lambda L, m: self_attend(L, m, attn_mask=mask(L, 3, 3, dtype=np.int64)),
         ("attn_mask", "int64")),
    Case("mha_causal_without_mask", mha, lambda L, m: self_attend(L, m, is_causal=True),
         ("is_causal", "attn_mask")),
    # -- TransformerEncoderLayer, TransformerEncoder ------------------------------------
    Case("encoder_layer_divisible", None, lambda L, m: L.nn.TransformerEncoderLayer(8, 3),
         ("embed_dim", "num_heads", "8", "3")),
    Case("encoder_layer_activation", None,
         lambda L, m: L.nn.TransformerEncoderLayer(8, 2, activation="tanh"),
         ("activation", "tanh")),
    Case("encoder_layer_d_model", encoder_layer, lambda L, m: m(t(L, 3, 2, 6)),
         ("embed_dim", "8", "(3, 2, 6)")),
    Case("encoder_layer_d_model_norm_first", lambda L: encoder_layer(L, norm_first=True),
         lambda L, m: m(t(L, 3, 2, 6)), ("normalized_shape", "(8,)", "(3, 2, 6)")),
    Case("encoder_layer_src_array", encoder_layer, lambda L, m: m(x(3, 2, 8)),
         ("src", "Tensor", "ndarray")),
    Case("encoder_layer_src_4d", encoder_layer, lambda L, m: m(t(L, 3, 2, 1, 8)),
         ("(3, 2, 1, 8)",)),
    Case("encoder_layer_src_mask", encoder_layer,
         lambda L, m: m(t(L, 3, 2, 8), src_mask=mask(L, 3, 4)),
         ("attn_mask", "(3, 3)", "(3, 4)")),
    Case("encoder_layer_padding", encoder_layer,
         lambda L, m: m(t(L, 3, 2, 8), src_key_padding_mask=mask(L, 3, 3)),
         ("key_padding_mask", "(2, 3)", "(3, 3)")),
    Case("encoder_layer_causal_without_mask", encoder_layer,
         lambda L, m: m(t(L, 3, 2, 8), is_causal=True), ("is_causal", "mask")),
    Case("encoder_src_mask", encoder, lambda L, m: m(t(L, 3, 2, 8), mask=mask(L, 2, 2)),
         ("mask", "(3, 3)", "(2, 2)")),
    Case("encoder_padding", encoder,
         lambda L, m: m(t(L, 3, 2, 8), src_key_padding_mask=mask(L, 2, 4)),
         ("key_padding_mask", "(2, 3)", "(2, 4)")),
    Case("encoder_padding_dtype", encoder,
         lambda L, m: m(t(L, 3, 2, 8), src_key_padding_mask=mask(L, 2, 3, dtype=np.int64)),
         ("key_padding_mask", "int64")),
    Case("encoder_causal_without_mask", encoder,
         lambda L, m: m(t(L, 3, 2, 8), is_causal=True), ("is_causal", "mask")),
    # -- RMSNorm, GroupNorm --------------------------------------------------------------
    Case("rms_norm_shape", lambda L: L.nn.RMSNorm(2), lambda L, m: m(t(L, 2, 3)),
         ("normalized_shape", "(2,)", "(2, 3)")),
    Case("rms_norm_shape_2d", lambda L: L.nn.RMSNorm((3, 4)), lambda L, m: m(t(L, 2, 4, 3)),
         ("normalized_shape", "(3, 4)", "(2, 4, 3)")),
    Case("rms_norm_fewer_dims", lambda L: L.nn.RMSNorm((2, 3)), lambda L, m: m(t(L, 3)),
         ("normalized_shape", "(2, 3)", "(3,)")),
    Case("rms_norm_weight", None,
         lambda L, m: L.nn.functional.rms_norm(t(L, 2, 3), (3,), t(L, 2)),
         ("weight", "(3,)", "(2,)")),
    Case("layer_norm_shape", lambda L: L.nn.LayerNorm(3), lambda L, m: m(t(L, 2, 2)),
         ("normalized_shape", "(3,)", "(2, 2)")),
    Case("layer_norm_weight", None,
         lambda L, m: L.nn.functional.layer_norm(t(L, 2, 3), (3,), t(L, 2)),
         ("weight", "(3,)", "(2,)")),
    Case("rms_norm_functional", None,
         lambda L, m: L.nn.functional.rms_norm(t(L, 2, 3), (2,)),
         ("normalized_shape", "(2,)", "(2, 3)")),
    Case("group_norm_divisible", None, lambda L, m: L.nn.GroupNorm(3, 4),
         ("num_channels", "num_groups", "4", "3")),
    Case("group_norm_groups_0", None, lambda L, m: L.nn.GroupNorm(0, 4), ("num_groups", "0")),
    Case("group_norm_channels", lambda L: L.nn.GroupNorm(2, 4), lambda L, m: m(t(L, 2, 6, 3)),
         ("weight", "(4,)", "(2, 6, 3)")),
    Case("group_norm_channels_indivisible", lambda L: L.nn.GroupNorm(2, 4),
         lambda L, m: m(t(L, 2, 5, 3)), ("num_groups", "2", "(2, 5, 3)")),
    Case("group_norm_input_1d", lambda L: L.nn.GroupNorm(2, 4), lambda L, m: m(t(L, 4)),
         ("(4,)",)),
    Case("group_norm_functional", None,
         lambda L, m: L.nn.functional.group_norm(t(L, 2, 5, 3), 2),
         ("num_groups", "2", "(2, 5, 3)")),
    Case("group_norm_functional_float_groups", None,
         lambda L, m: L.nn.functional.group_norm(t(L, 2, 4, 3), 2.0), ("num_groups", "2.0")),
]
