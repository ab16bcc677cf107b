"""Recurrent layers: RNN, LSTM, GRU and their one-step cells, as PyTorch's.

Each layer k and direction runs over the whole sequence in one call of the
kernels (``minidl.kernels.nn.rnn_cpu``: one BLAS matmul projects every step's
input, one njit loop steps the recurrence with the gate math fused, and the
backward is BPTT over the gates it kept); the cell equations are in
``minidl.kernels.nn.rnn_reference``. The gates are stacked in PyTorch's order,
i, f, g, o for the LSTM and r, z, n for the GRU, in the parameters

    weight_ih_l{k}[_reverse]   (G H, I) for k = 0, (G H, D H) above
    weight_hh_l{k}[_reverse]   (G H, H)
    bias_ih_l{k}[_reverse], bias_hh_l{k}[_reverse]   (G H,)

all drawn from U(-1/sqrt(H), 1/sqrt(H)), so a torch module's state_dict loads
as it is. Layer k + 1 reads the outputs of layer k's D directions side by
side, after dropout (in training, between layers only).

``forward(input, hx=None)`` takes input (T, B, I) ((B, T, I) with
``batch_first``), unbatched (T, I), or a ``nn.utils.rnn.PackedSequence``, and
returns (output, h_n), (output, (h_n, c_n)) for the LSTM: output (T, B, D H)
(packed for packed input), h_n and c_n (num_layers D, B, H) ((num_layers D, H)
unbatched). Padded batches go through pack_padded_sequence, as in PyTorch code,
rather than a lengths argument: the same code then runs on both frameworks,
and each sequence's reverse direction starts at its own end. Bad input raises
PyTorch's exception types (tests/test_sequence_errors.py).
"""
from __future__ import annotations

import functools
import math
import numbers
import warnings
from typing import Any

import numpy as np

from .. import ops
from ..kernels.nn.rnn_reference import GATES   # plain numpy: numba stays unloaded
from ..tensor import Tensor
from ..threads import match_new_blas
from . import init
from .conv import as_float_input
from .functional import check_probability, dropout
from .module import Module, Parameter
from .utils.rnn import PackedSequence, gather_rows, packed_positions, scatter_rows

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]



@functools.cache
def _kernels() -> Any:
    """``minidl.kernels.nn.rnn_cpu``, imported on first use (it loads numba, and scipy's
    BLAS, which then takes numpy's BLAS thread count)."""
    from ..kernels.nn import rnn_cpu
    match_new_blas()
    return rnn_cpu


def _part(whole: Tensor, index: Any) -> Tensor:
    """whole[index] (basic indexing); its gradient is g placed into zeros."""
    def backward(g: np.ndarray):
        grad = np.zeros_like(whole._data)
        grad[index] = g
        return (grad,)
    return Tensor._make(whole._data[index], (whole,), backward)


def recurrence(mode: str, x: Tensor, h0: Tensor, c0: Tensor | None, weights: list,
               batch_sizes: np.ndarray, reverse: bool) -> tuple[Tensor, Tensor, Tensor | None]:
    """One layer and direction over x (T, B, I) from h0 (B, H): (y (T, B, H), h_n, c_n).

    ``weights`` = [w_ih, w_hh, b_ih, b_hh], the biases None without bias. The kernel
    returns y, h_n and c_n, which are stored as one array (T + 1 or T + 2, B, H), the
    node of the graph, and handed out as slices of it.
    """
    w_ih, w_hh, b_ih, b_hh = weights
    zeros = np.zeros(w_ih.shape[0], x.dtype)
    y, h_n, c_n, context = _kernels().forward(
        mode, np.ascontiguousarray(x._data), np.ascontiguousarray(h0._data),
        None if c0 is None else np.ascontiguousarray(c0._data), w_ih._data, w_hh._data,
        zeros if b_ih is None else b_ih._data, zeros if b_hh is None else b_hh._data,
        batch_sizes, reverse)
    steps = y.shape[0]
    states = [h_n[None]] if c_n is None else [h_n[None], c_n[None]]
    inputs = [x, h0, c0, w_ih, w_hh, b_ih, b_hh]
    present = [t is not None for t in inputs]

    def backward(g: np.ndarray):
        grads = _kernels().backward(g[:steps], g[steps], None if c0 is None else g[steps + 1],
                                    context, x.requires_grad)   # no dL/dx where x needs none
        return tuple(grad for grad, kept in zip(grads, present) if kept)
    whole = Tensor._make(np.concatenate([y, *states]), tuple(t for t in inputs if t is not None),
                         backward)
    return (_part(whole, np.s_[:steps]), _part(whole, steps),
            None if c0 is None else _part(whole, steps + 1))


def _check_size(name: str, value: Any) -> int:
    """A positive int: TypeError for another type, ValueError below 1, as PyTorch's."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"Invalid {name}: {value!r} (needs a positive int)")
    if value < 1:
        raise ValueError(f"Invalid {name}: {value!r} (needs a positive int)")
    return int(value)


def _float_input(module: str, name: str, value: Any, weight: Tensor,
                 error: type[Exception]) -> Tensor:
    """``value`` as a float Tensor of the weights' dtype (``as_float_input``). A float
    Tensor of another dtype is refused with ``error``, PyTorch's type for ``name``: a
    ValueError for a layer's input, a RuntimeError for its states and a cell's arguments."""
    if isinstance(value, Tensor) and value.dtype.kind == "f" and value.dtype != weight.dtype:
        raise error(f"{module}: {name} of dtype {value.dtype} does not match the weights' "
                    f"dtype {weight.dtype}; convert {name} with .to({weight.dtype}) or the "
                    f"model with .to({value.dtype})")
    return as_float_input(module, value, weight)


def _check_hx(module: str, hx: Any, lstm: bool) -> None:
    """An LSTM's hx is a pair (h_0, c_0), the others' one state: TypeError for the other
    kind, RuntimeError for a tuple of another length ("lstm expects two hidden states")."""
    if isinstance(hx, (tuple, list)) != lstm:
        expected = "a tuple (h_0, c_0)" if lstm else "a Tensor (a tuple is the LSTM's)"
        raise TypeError(f"{module}: hx must be {expected}, got {type(hx).__name__}")
    if lstm and len(hx) != 2:
        raise RuntimeError(f"{module}: hx must be a tuple (h_0, c_0) of two hidden states, got "
                           f"{len(hx)}")


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Invalid {name}: {value!r} (needs True or False)")
    return bool(value)


class RNNBase(Module):
    """The stacked, optionally bidirectional recurrent layer behind RNN, LSTM and GRU."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, dtype: Any = np.float32):
        super().__init__()
        self.mode = mode
        self.input_size = _check_size("input_size", input_size)
        self.hidden_size = _check_size("hidden_size", hidden_size)
        self.num_layers = _check_size("num_layers", num_layers)
        self.bias = _check_flag("bias", bias)
        self.batch_first = _check_flag("batch_first", batch_first)
        self.bidirectional = _check_flag("bidirectional", bidirectional)
        check_probability(dropout)
        if dropout > 0 and self.num_layers == 1:
            warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={self.num_layers}", UserWarning,
                          stacklevel=3)
        self.dropout = float(dropout)
        directions = 2 if self.bidirectional else 1
        width = GATES[mode] * self.hidden_size
        self._flat_names: list[list[str]] = []
        for layer in range(self.num_layers):
            features = self.input_size if layer == 0 else self.hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                names = [f"weight_ih_l{layer}{suffix}", f"weight_hh_l{layer}{suffix}"]
                shapes = [(width, features), (width, self.hidden_size)]
                if self.bias:
                    names += [f"bias_ih_l{layer}{suffix}", f"bias_hh_l{layer}{suffix}"]
                    shapes += [(width,), (width,)]
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(np.empty(shape, dtype=dtype)))
                self._flat_names.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            init.uniform_(parameter, -bound, bound)

    def _dtype_source(self) -> Tensor:
        """A parameter, whose dtype the inputs must have: read without computing a
        parametrized weight, which is computed at each read."""
        return next(self.parameters())

    def _weights(self, index: int) -> list:
        """[w_ih, w_hh, b_ih, b_hh] of layer-direction ``index`` (biases None without bias)."""
        found = [getattr(self, name) for name in self._flat_names[index]]
        return found if self.bias else found + [None, None]

    def _states(self, hx: Any, batch: int, dtype: np.dtype, batched: bool,
                order: np.ndarray | None) -> list[Tensor | None]:
        """h0 (and c0) as (L D, B, H) Tensors, zeros when hx is None."""
        count = self.num_layers * (2 if self.bidirectional else 1)
        shape = (count, batch, self.hidden_size)
        lstm = self.mode == "LSTM"
        if hx is None:
            zeros = Tensor(np.zeros(shape, dtype), dtype=dtype)
            return [zeros, zeros] if lstm else [zeros, None]
        _check_hx(type(self).__name__, hx, lstm)
        states = list(hx) if lstm else [hx, None]
        expected = shape if batched else (count, self.hidden_size)
        for k, state in enumerate(states):
            if state is None:
                continue
            name = ("h_0", "c_0")[k]
            state = _float_input(type(self).__name__, name, state, self._dtype_source(),
                                 RuntimeError)
            if state.shape != expected:
                raise RuntimeError(f"{type(self).__name__}: expected {name} of shape {expected} "
                                   f"(num_layers * num_directions, batch, hidden_size), got "
                                   f"{state.shape}")
            if not batched:
                state = ops.reshape(state, shape)
            elif order is not None:
                state = gather_rows(state, np.s_[:, order])
            states[k] = state
        return states

    def _check_input_size(self, x: Tensor) -> None:
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"{type(self).__name__}: input.size(-1) must be equal to "
                               f"input_size {self.input_size}, got input of shape {x.shape}")

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        name = type(self).__name__
        packed = isinstance(input, PackedSequence)
        order = unorder = None
        if packed:
            batch_sizes = np.asarray(input.batch_sizes._data, dtype=np.int64)
            data = _float_input(name, "input", input.data, self._dtype_source(), ValueError)
            self._check_input_size(data)
            steps, batch = len(batch_sizes), int(batch_sizes[0])
            if input.sorted_indices is not None:
                order = np.asarray(input.sorted_indices._data)
                unorder = np.asarray(input.unsorted_indices._data)
            positions = packed_positions(batch_sizes)
            x = scatter_rows(data, positions, (steps, batch, data.shape[-1]))
            batched = True
        else:
            x = _float_input(name, "input", input, self._dtype_source(), ValueError)
            if x.ndim not in (2, 3):
                raise ValueError(f"{name}: expected input of 2 (unbatched) or 3 dimensions, got "
                                 f"shape {x.shape}")
            self._check_input_size(x)
            batched = x.ndim == 3
            if not batched:
                x = ops.reshape(x, (x.shape[0], 1, x.shape[1]))
            elif self.batch_first:
                x = ops.swapaxes(x, 0, 1)
            steps, batch = x.shape[0], x.shape[1]
            batch_sizes = np.full(steps, batch, np.int64)
        h0, c0 = self._states(hx, batch, x.dtype, batched, order)
        output, h_n, c_n = self._run(x, h0, c0, batch_sizes)
        if unorder is not None:
            h_n = gather_rows(h_n, np.s_[:, unorder])
            c_n = None if c_n is None else gather_rows(c_n, np.s_[:, unorder])
        if packed:
            output = PackedSequence(gather_rows(output, positions), input.batch_sizes,
                                    input.sorted_indices, input.unsorted_indices)
        elif not batched:
            output = ops.reshape(output, (steps, output.shape[-1]))
            h_n = ops.reshape(h_n, (h_n.shape[0], self.hidden_size))
            c_n = None if c_n is None else ops.reshape(c_n, h_n.shape)
        elif self.batch_first:
            output = ops.swapaxes(output, 0, 1)
        return (output, (h_n, c_n)) if self.mode == "LSTM" else (output, h_n)

    def _run(self, x: Tensor, h0: Tensor, c0: Tensor | None, batch_sizes: np.ndarray):
        """The layers and directions over time-major x: (output, h_n, c_n)."""
        directions = 2 if self.bidirectional else 1
        last_h, last_c = [], []
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                y, h, c = recurrence(self.mode, layer_input, _part(h0, index),
                                     None if c0 is None else _part(c0, index),
                                     self._weights(index), batch_sizes, direction == 1)
                outputs.append(y)
                last_h.append(h)
                last_c.append(c)
            layer_input = outputs[0] if directions == 1 else ops.concatenate(outputs, axis=2)
            if layer < self.num_layers - 1:
                layer_input = dropout(layer_input, self.dropout, self.training)
        return (layer_input, ops.stack(last_h),
                None if c0 is None else ops.stack(last_c))

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False),
                              ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text


class RNN(RNNBase):
    """h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (``nonlinearity="relu"``: relu)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, dtype: Any = np.float32):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity {nonlinearity!r}: choose 'tanh' or 'relu'")
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o; c_t = f c_{t-1} + i g, h_t = o tanh(c_t)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype: Any = np.float32):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype)


class GRU(RNNBase):
    """Gated recurrent unit: gates r, z, n; h_t = (1 - z) n + z h_{t-1}."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype: Any = np.float32):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype)


class RNNCellBase(Module):
    """One step of a recurrent layer: parameters weight_ih, weight_hh, bias_ih, bias_hh."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool = True,
                 dtype: Any = np.float32):
        super().__init__()
        self.mode = mode
        self.input_size = _check_size("input_size", input_size)
        self.hidden_size = _check_size("hidden_size", hidden_size)
        self.bias = _check_flag("bias", bias)
        width = GATES[mode] * self.hidden_size
        self.weight_ih = Parameter(np.empty((width, self.input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((width, self.hidden_size), dtype=dtype))
        self.bias_ih = Parameter(np.empty(width, dtype=dtype)) if self.bias else None
        self.bias_hh = Parameter(np.empty(width, dtype=dtype)) if self.bias else None
        RNNBase.reset_parameters(self)

    def forward(self, input: Any, hx: Any = None) -> Any:
        name = type(self).__name__
        # each read once: a parametrized weight is computed at each read
        weights = [self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh]
        x = _float_input(name, "input", input, weights[0], RuntimeError)
        if x.ndim not in (1, 2):
            raise ValueError(f"{name}: expected input of 1 (unbatched) or 2 dimensions, got "
                             f"shape {x.shape}")
        RNNBase._check_input_size(self, x)
        batched = x.ndim == 2
        batch = x.shape[0] if batched else 1
        shape = (batch, self.hidden_size)
        lstm = self.mode == "LSTM"
        if hx is None:
            states = [Tensor(np.zeros(shape, x.dtype), dtype=x.dtype)] * (2 if lstm else 1)
        else:
            _check_hx(name, hx, lstm)
            names = ("h_0", "c_0") if lstm else ("hx",)
            states = [_float_input(name, n, s, weights[0], RuntimeError)
                      for n, s in zip(names, hx if lstm else [hx])]
            for state_name, state in zip(names, states):
                if state.shape != shape[2 - x.ndim:]:
                    raise RuntimeError(f"{name}: expected {state_name} of shape "
                                       f"{shape[2 - x.ndim:]} for input of shape {x.shape}, "
                                       f"got {state.shape}")
            states = [ops.reshape(s, shape) for s in states]
        _, h, c = recurrence(self.mode, ops.reshape(x, (1, batch, self.input_size)), states[0],
                             states[1] if lstm else None, weights, np.ones(1, np.int64) * batch,
                             False)
        if not batched:
            h = ops.reshape(h, (self.hidden_size,))
            c = None if c is None else ops.reshape(c, (self.hidden_size,))
        return (h, c) if lstm else h

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (``nonlinearity="relu"``: relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", dtype: Any = np.float32):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity {nonlinearity!r}: choose 'tanh' or 'relu'")
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, bias, dtype)
        self.nonlinearity = nonlinearity


class LSTMCell(RNNCellBase):
    """One LSTM step: forward(input, (h, c)) returns (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 dtype: Any = np.float32):
        super().__init__("LSTM", input_size, hidden_size, bias, dtype)


class GRUCell(RNNCellBase):
    """One GRU step: forward(input, h) returns h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 dtype: Any = np.float32):
        super().__init__("GRU", input_size, hidden_size, bias, dtype)
