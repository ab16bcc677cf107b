"""The recurrent layers in minidl: gradchecks in float64 (hypothesis draws the sizes),
packing and dropout between layers. Parity with PyTorch's numbers is in
test_rnn_torch.py, its exception types for bad input in test_sequence_errors.py.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minidl
import minidl.nn as nn
from minidl.nn.rnn import recurrence
from minidl.nn.utils.rnn import (PackedSequence, pack_padded_sequence, pack_sequence,
                                 pad_packed_sequence, pad_sequence)

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def leaf(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> minidl.Tensor:
    return minidl.Tensor(rng.standard_normal(shape) * scale, requires_grad=True,
                         dtype=np.float64)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(list(GATES)), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3),
       st.integers(1, 4), st.booleans(), st.booleans(), st.integers(0, 2**16))
def test_recurrence_gradcheck(mode, steps, batch, features, hidden, reverse, packed, seed):
    rng = np.random.default_rng(seed)
    width = GATES[mode] * hidden
    x, h0 = leaf(rng, steps, batch, features), leaf(rng, batch, hidden)
    c0 = leaf(rng, batch, hidden) if mode == "LSTM" else None
    weights = [leaf(rng, width, features, scale=0.6), leaf(rng, width, hidden, scale=0.6),
               leaf(rng, width), leaf(rng, width)]
    batch_sizes = np.full(steps, batch)
    if packed:   # the last sequence stops after one step
        batch_sizes[1:] = max(batch - 1, 1)

    def run(x, h0, *rest):
        c = rest[0] if mode == "LSTM" else None
        y, h, c_n = recurrence(mode, x, h0, c, list(rest[-4:]), batch_sizes, reverse)
        total = y.sum() + (h * h).sum()
        return total if c_n is None else total + (c_n * 3).sum()
    inputs = [x, h0] + ([c0] if c0 is not None else []) + weights
    assert minidl.gradcheck(run, *inputs)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_stacked_bidirectional_layer_gradcheck(kind):
    rng = np.random.default_rng(0)
    minidl.manual_seed(0)
    layer = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True, batch_first=True,
                              dtype=np.float64)
    x, h0 = leaf(rng, 2, 5, 3), leaf(rng, 4, 2, 4)

    def run(x, h0, *c0):
        output, states = layer(x, (h0, c0[0]) if c0 else h0)
        h_n = states[0] if kind == "LSTM" else states
        return (output * output).sum() + h_n.sum()
    inputs = [x, h0] + ([leaf(rng, 4, 2, 4)] if kind == "LSTM" else [])
    assert minidl.gradcheck(run, *inputs)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_gradcheck(kind):
    rng = np.random.default_rng(1)
    cell = getattr(nn, kind)(3, 4, dtype=np.float64)
    lstm = kind == "LSTMCell"

    def run(x, h, *c):
        out = cell(x, (h, c[0]) if lstm else h)
        return (out[0] * out[1]).sum() if lstm else (out * out).sum()
    assert minidl.gradcheck(run, leaf(rng, 2, 3), leaf(rng, 2, 4),
                            *([leaf(rng, 2, 4)] if lstm else []))


def test_packed_gradcheck_and_equals_each_sequence_alone():
    """A packed batch gives each sequence what running it alone gives, both directions."""
    rng = np.random.default_rng(2)
    minidl.manual_seed(2)
    gru = nn.GRU(3, 4, bidirectional=True, dtype=np.float64)
    x = leaf(rng, 5, 3, 3)
    lengths = [2, 5, 3]
    output, h_n = gru(pack_padded_sequence(x, lengths, enforce_sorted=False))
    padded, got_lengths = pad_packed_sequence(output)
    assert np.asarray(got_lengths).tolist() == lengths
    for b, length in enumerate(lengths):
        alone, h_alone = gru(minidl.Tensor(np.asarray(x)[:length, b], dtype=np.float64))
        np.testing.assert_allclose(np.asarray(padded)[:length, b], np.asarray(alone),
                                   rtol=1e-12)
        np.testing.assert_array_equal(np.asarray(padded)[length:, b], 0)
        np.testing.assert_allclose(np.asarray(h_n)[:, b], np.asarray(h_alone), rtol=1e-12)

    def run(x):
        out, h = gru(pack_padded_sequence(x, lengths, enforce_sorted=False))
        return (pad_packed_sequence(out)[0] ** 2).sum() + h.sum()
    assert minidl.gradcheck(run, x)


def test_pack_and_pad_helpers():
    a, b = minidl.Tensor(np.arange(6.0).reshape(3, 2)), minidl.Tensor(np.ones((1, 2)))
    padded = pad_sequence([a, b], batch_first=True, padding_value=-1)
    assert padded.shape == (2, 3, 2)
    np.testing.assert_array_equal(np.asarray(padded)[1, 1:], -1)
    packed = pack_sequence([a, b])
    assert isinstance(packed, PackedSequence)
    assert np.asarray(packed.batch_sizes).tolist() == [2, 1, 1]
    np.testing.assert_array_equal(np.asarray(packed.data), [[0, 1], [1, 1], [2, 3], [4, 5]])
    again, lengths = pad_packed_sequence(packed, batch_first=True, total_length=4)
    assert again.shape == (2, 4, 2) and np.asarray(lengths).tolist() == [3, 1]


def test_dropout_between_layers_only_in_training():
    minidl.manual_seed(3)
    lstm = nn.LSTM(2, 8, num_layers=2, dropout=0.5)
    x = np.random.default_rng(3).standard_normal((4, 3, 2)).astype(np.float32)
    first, second = lstm(x)[0], lstm(x)[0]
    assert not np.allclose(np.asarray(first), np.asarray(second))   # fresh masks
    lstm.eval()
    np.testing.assert_array_equal(np.asarray(lstm(x)[0]), np.asarray(lstm(x)[0]))
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        one_layer = nn.LSTM(2, 8, dropout=0.5)   # nothing between layers: no dropout
    np.testing.assert_array_equal(np.asarray(one_layer(x)[0]), np.asarray(one_layer(x)[0]))


def test_parameters_names_shapes_and_init():
    minidl.manual_seed(0)
    gru = nn.GRU(3, 16, num_layers=2, bidirectional=True)
    shapes = {name: p.shape for name, p in gru.named_parameters()}
    assert list(shapes)[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert shapes["weight_ih_l1_reverse"] == (48, 32) and shapes["bias_hh_l1"] == (48,)
    values = np.concatenate([np.asarray(p).ravel() for p in gru.parameters()])
    assert values.dtype == np.float32
    assert np.abs(values).max() <= 0.25 and np.abs(values).max() > 0.24   # U(-1/4, 1/4)
    assert [n for n, _ in nn.LSTM(2, 3, bias=False).named_parameters()] == \
        ["weight_ih_l0", "weight_hh_l0"]


def test_unbatched_and_batch_first_shapes():
    lstm = nn.LSTM(3, 4, num_layers=2, batch_first=True)
    out, (h, c) = lstm(np.zeros((5, 3), np.float32))
    assert out.shape == (5, 4) and h.shape == (2, 4) and c.shape == (2, 4)
    out, (h, c) = lstm(np.zeros((2, 5, 3), np.float32))
    assert out.shape == (2, 5, 4) and h.shape == (2, 2, 4)
    assert nn.GRUCell(3, 4)(np.zeros(3, np.float32)).shape == (4,)
