"""Compiled forms: each traced op as a forward and a backward on preallocated buffers.

A form reads and writes the plan's buffer table by slot number: ``v[slot]`` is
a value (an input, a parameter's array, an op's output buffer) and ``g[slot]``
the gradient buffer of that value. Each form repeats the numpy calls of the
eager op (``nn/functional.py``, ``nn/losses.py``) with ``out=`` arguments, so a
replayed step computes what the eager step computes, without allocating,
dispatching or walking a graph:

    linear          y = x W^T + b            gx = g W,  gW = g^T x,  gb = sum_rows g
    relu            y = max(x, 0), m = x > 0 gx = g m
    cross_entropy   l = mean_i(log sum_k e^(s_ik) - s_i,t_i),  s = x - max_k x
                    gx = (softmax(x) - onehot(t)) / N

``build(record, slots)`` returns the form of one ``OpRecord``, or raises
``Unsupported`` naming what the form cannot hold.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .trace import OpRecord


class Unsupported(Exception):
    """The traced call has no compiled form; the message says why."""


class Form:
    """One op of a plan: ``inputs`` and ``output`` are slots; ``needs[i]`` says
    whether the backward computes the gradient of input i."""
    kind = ""
    inputs: tuple[int, ...] = ()
    output = -1
    needs: tuple[bool, ...] = ()

    def holds(self, v: list) -> bool:
        """Whether this call's values take the path this form was traced on."""
        return True

    def forward(self, v: list) -> None:
        raise NotImplementedError

    def backward(self, v: list, g: list) -> None:
        raise NotImplementedError

    def describe(self, name: Any) -> tuple[str, str]:
        """(forward line, backward line) for ``plan`` text; ``name(slot)`` names a slot."""
        raise NotImplementedError


def _float_tensor(value: Any, what: str) -> Tensor:
    if not isinstance(value, Tensor) or value.dtype.kind != "f":
        raise Unsupported(f"{what} is not a float Tensor")
    return value


class Linear(Form):
    kind = "linear"

    def __init__(self, record: OpRecord, slots: Any):
        args = record.args
        weight = _float_tensor(args["weight"], "linear's weight")
        x = args["input"] if "input" in args else args["x"]
        x_array = x._data if isinstance(x, Tensor) else np.asarray(x)
        if x_array.ndim != 2:
            raise Unsupported(f"linear on an input of {x_array.ndim} dimensions (the compiled "
                              f"form takes (N, in))")
        # Eager linear casts input that is not a float Tensor to the weight's dtype.
        self.cast = None if isinstance(x, Tensor) and x.dtype.kind == "f" else weight.dtype
        self.has_bias = args["bias"] is not None
        parents = [x, weight] + ([args["bias"]] if self.has_bias else [])
        self.inputs = tuple(slots.slot(t) for t in parents)
        self.output = slots.output(record.output)
        self.needs = tuple(slots.needs_grad(s) for s in self.inputs)

    def _rows(self, v: list) -> np.ndarray:
        x = v[self.inputs[0]]
        return x if self.cast is None else np.asarray(x, dtype=self.cast)

    def forward(self, v: list) -> None:
        out = v[self.output]
        np.matmul(self._rows(v), v[self.inputs[1]].T, out=out)
        if self.has_bias:
            out += v[self.inputs[2]]

    def backward(self, v: list, g: list) -> None:
        grad = g[self.output]
        if self.needs[0]:
            np.matmul(grad, v[self.inputs[1]], out=g[self.inputs[0]])
        if self.needs[1]:
            np.matmul(grad.T, self._rows(v), out=g[self.inputs[1]])
        if self.has_bias and self.needs[2]:
            np.sum(grad, axis=0, out=g[self.inputs[2]])

    def describe(self, name: Any) -> tuple[str, str]:
        x, w = name(self.inputs[0]), name(self.inputs[1])
        bias = f" + {name(self.inputs[2])}" if self.has_bias else ""
        out = name(self.output)
        forward = f"{out} = {x} @ {w}.T{bias}   (one BLAS gemm into {out}, bias added in place)"
        parts = []
        if self.needs[0]:
            parts.append(f"d{x} = d{out} @ {w}")
        if self.needs[1]:
            parts.append(f"d{w} = d{out}.T @ {x}")
        if self.has_bias and self.needs[2]:
            parts.append(f"d{name(self.inputs[2])} = sum of d{out}'s rows")
        return forward, ";  ".join(parts)


class ReLU(Form):
    kind = "relu"

    def __init__(self, record: OpRecord, slots: Any):
        x = _float_tensor(record.args["x"], "relu's input")
        self.inputs = (slots.slot(x),)
        self.output = slots.output(record.output)
        self.needs = (slots.needs_grad(self.inputs[0]),)
        self.zeros = np.zeros(x.shape, x.dtype)     # numpy's SIMD loop: max against an array
        self.mask = np.empty(x.shape, bool)

    def forward(self, v: list) -> None:
        x = v[self.inputs[0]]
        np.greater(x, 0, out=self.mask)
        np.maximum(x, self.zeros, out=v[self.output])

    def backward(self, v: list, g: list) -> None:
        if self.needs[0]:
            np.multiply(g[self.output], self.mask, out=g[self.inputs[0]])

    def describe(self, name: Any) -> tuple[str, str]:
        x, out = name(self.inputs[0]), name(self.output)
        return (f"{out} = max({x}, 0); mask = {x} > 0",
                f"d{x} = d{out} * mask" if self.needs[0] else "")


class CrossEntropy(Form):
    """The sparse path of ``cross_entropy``: integer classes, no weight, no
    smoothing, every target a class (a batch holding ``ignore_index`` or an
    out-of-range class runs eagerly: ``holds``)."""
    kind = "cross_entropy"

    def __init__(self, record: OpRecord, slots: Any):
        args = record.args
        x = _float_tensor(args["input"], "cross_entropy's input")
        target = args["target"]
        classes = target._data if isinstance(target, Tensor) else np.asarray(target)
        if x.ndim != 2 or classes.ndim != 1 or classes.dtype.kind not in "iu":
            raise Unsupported("cross_entropy's compiled form takes logits (N, C) and integer "
                              "classes (N,)")
        if args["weight"] is not None or args["label_smoothing"]:
            raise Unsupported("cross_entropy with weight or label_smoothing")
        if args["reduction"] not in ("mean", "sum"):
            raise Unsupported(f"cross_entropy with reduction={args['reduction']!r}")
        self.inputs = (slots.slot(x), slots.slot(target))
        self.output = slots.output(record.output)
        self.needs = (slots.needs_grad(self.inputs[0]), False)
        n, self.n_classes = x.shape
        self.divisor = n if args["reduction"] == "mean" else 1
        self.rows = np.arange(n)
        self.top = np.empty((n, 1), x.dtype)
        self.shifted = np.empty(x.shape, x.dtype)
        self.exps = np.empty(x.shape, x.dtype)
        self.totals = np.empty((n, 1), x.dtype)

    def holds(self, v: list) -> bool:
        classes = v[self.inputs[1]]
        return len(classes) == 0 or (classes.min() >= 0 and classes.max() < self.n_classes)

    def forward(self, v: list) -> None:
        x, classes = v[self.inputs[0]], v[self.inputs[1]]
        np.max(x, axis=1, keepdims=True, out=self.top)
        np.subtract(x, self.top, out=self.shifted)
        np.exp(self.shifted, out=self.exps)
        np.sum(self.exps, axis=1, keepdims=True, out=self.totals)
        losses = np.log(self.totals[:, 0]) - self.shifted[self.rows, classes]
        v[self.output][()] = losses.sum() / self.divisor

    def backward(self, v: list, g: list) -> None:
        if not self.needs[0]:
            return
        grad = g[self.inputs[0]]
        np.divide(self.exps, self.totals, out=grad)
        grad[self.rows, v[self.inputs[1]]] -= 1.0
        grad *= g[self.output] / self.divisor

    def describe(self, name: Any) -> tuple[str, str]:
        x, t, out = name(self.inputs[0]), name(self.inputs[1]), name(self.output)
        mean = "mean" if self.divisor != 1 else "sum"
        return (f"{out} = {mean} of logsumexp({x}) - {x}[row, {t}]   (shifted by the row max; "
                f"exps kept)",
                f"d{x} = (exps / row sums - onehot({t})) * d{out}" + (
                    f" / {self.divisor}" if self.divisor != 1 else "") if self.needs[0] else "")


FORMS = {"linear": Linear, "relu": ReLU, "cross_entropy": CrossEntropy}


def build(record: OpRecord, slots: Any) -> Form:
    """The compiled form of one recorded call."""
    return FORMS[record.kind](record, slots)
