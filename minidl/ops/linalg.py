"""Products, norms and square matrices: einsum, outer, norm, normalize, meshgrid, dist,
renorm, det, inverse."""
from __future__ import annotations

import math
import numbers
import string
from collections import Counter
from typing import Any

import numpy as np

from ..tensor import Tensor, unbroadcast
from ._common import (Axis, _alias, _expand, _floating, _reduction_axes, _sequence_operands,
                      _tensor_arguments)
from .arithmetic import div, mul, sub
from .elementwise import clip, where
from .shape import expand, reshape

__all__ = ["einsum", "outer", "norm", "normalize", "meshgrid", "dist", "renorm"]


def _subscripts(equation: str, ndims: list[int]) -> tuple[list[str], str]:
    """The equation's input subscripts and output subscript, each axis one letter:
    ``...`` becomes letters the equation does not use (aligned from the right, as
    broadcasting aligns axes), and a missing ``->`` is numpy's implicit output (the
    ellipsis axes, then the letters used once, in alphabetical order)."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(f"einsum: equation {equation!r} has {len(terms)} operands, "
                         f"{len(ndims)} tensors were given")
    letters = set(string.ascii_letters)
    if set(equation) - letters - set(",->."):
        raise ValueError(f"einsum: equation {equation!r} may hold only letters, ',', '->', '...'")
    spare = [c for c in string.ascii_letters if c not in equation]
    widths = [n - len(t.replace("...", "")) if "..." in t else 0 for t, n in zip(terms, ndims)]
    ellipsis = "".join(spare[:max(widths, default=0)])
    terms = [t.replace("...", ellipsis[len(ellipsis) - w:]) for t, w in zip(terms, widths)]
    for term, n in zip(terms, ndims):
        if len(term) != n or set(term) - letters:
            raise RuntimeError(f"einsum: subscripts {term!r} do not fit a tensor of {n} dimensions "
                               f"in {equation!r}")
    if arrow:
        output = output.replace("...", ellipsis)
    else:
        counts = Counter("".join(terms))
        output = ellipsis + "".join(sorted(c for c in counts if counts[c] == 1 and
                                           c not in ellipsis))
    if set(output) - set("".join(terms)) or len(set(output)) != len(output):
        raise ValueError(f"einsum: output {output!r} must name each input letter at most once "
                         f"in {equation!r}")
    return terms, output


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation of up to three tensors (numpy's and PyTorch's equations, with
    ``...`` and size-1 axes that broadcast).

    The output is linear in each operand, so the gradient of operand k is another
    einsum: g contracted with the other operands, to operand k's letters. A letter
    that only operand k has is broadcast (its sum's derivative is 1); a letter it
    repeats (a diagonal, as in "ii->") gets g on that diagonal and 0 elsewhere."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not 1 <= len(operands) <= 3:
        raise ValueError(f"einsum: takes 1 to 3 operands, not {len(operands)}")
    tensors = _sequence_operands("einsum", operands)
    terms, output = _subscripts(equation, [t.ndim for t in tensors])
    sizes: dict[str, int] = {}
    for term, t in zip(terms, tensors):
        for letter, n in zip(term, t.shape):
            if sizes.get(letter, 1) not in (1, n) and n != 1:
                raise RuntimeError(f"einsum: letter {letter!r} has sizes {sizes[letter]} and {n} "
                                   f"in {equation!r}")
            sizes[letter] = n if sizes.get(letter, 1) == 1 else sizes[letter]
    arrays = [np.broadcast_to(t._data, [sizes[c] for c in term]) for term, t in zip(terms, tensors)]
    out = np.einsum(",".join(terms) + "->" + output, *arrays, optimize=len(arrays) > 2)

    def gradient(k: int, g: np.ndarray) -> np.ndarray:
        term = terms[k]
        unique = "".join(dict.fromkeys(term))
        others = [j for j in range(len(terms)) if j != k]
        reachable = set(output).union(*(terms[j] for j in others))
        kept = "".join(c for c in unique if c in reachable)
        spec = ",".join([output] + [terms[j] for j in others]) + "->" + kept
        grad = np.einsum(spec, g, *(arrays[j] for j in others), optimize=len(others) > 1)
        grad = np.broadcast_to(grad.reshape([sizes[c] if c in kept else 1 for c in unique]),
                               [sizes[c] for c in unique])
        if unique != term:
            full = np.zeros([sizes[c] for c in term], dtype=g.dtype)
            np.einsum(f"{term}->{unique}", full)[...] = grad   # a writable diagonal view
            grad = full
        return unbroadcast(grad, tensors[k].shape)
    return Tensor._make(out, tuple(tensors), lambda g: tuple(
        gradient(k, g) if t.requires_grad else None for k, t in enumerate(tensors)))


def outer(a: Any, b: Any) -> Tensor:
    """out[i, j] = a[i] b[j] for 1-D a and b;  the vjps are g @ b and g^T @ a."""
    a, b = _sequence_operands("outer", [a, b])
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"outer: needs two 1-D tensors, not shapes {a.shape} and {b.shape}")
    return Tensor._make(np.outer(a._data, b._data), (a, b), lambda g: (
        g @ b._data if a.requires_grad else None, g.T @ a._data if b.requires_grad else None))


def norm(x: Tensor, p: Any = "fro", axis: Axis = None, keepdims: bool = False, *,
         dim: Axis = None, keepdim: bool = False) -> Tensor:
    """The vector p-norm over axis (all axes if None): (sum |x_i|^p)^(1/p).

    p = 2 or "fro": sqrt(sum x_i^2), d/dx_i = x_i / norm (0 where the norm is 0);
    p = 1: sum |x_i|, d/dx_i = sign(x_i);  p = inf (-inf): max (min) |x_i|, the gradient
    sign(x_i) split among the k elements that tie for it;  any other p > 0:
    d/dx_i = x_i |x_i|^(p-2) / norm^(p-1) (0 where the norm is 0), negative p too, where a
    zero element makes the norm 0;  p = 0: the count of non-zero elements, d/dx_i = 0. As
    ``torch.norm``, a matrix gets the norm of its elements, never the spectral norm."""
    if not (p == "fro" or (isinstance(p, numbers.Real) and not isinstance(p, bool))):
        raise ValueError(f"norm: p must be 'fro' or a number (inf and -inf too), not {p!r}")
    axes = _reduction_axes("norm", _alias("norm", axis, dim), x.ndim)
    keepdims = keepdims or keepdim
    data = _floating(x._data)
    magnitude = np.abs(data)
    if p in ("fro", 2):
        out = np.sqrt(np.sum(data * data, axis=axes, keepdims=True))
        slope = lambda: np.divide(data, out, out=np.zeros_like(data), where=out != 0)  # noqa: E731
    elif p == 1:
        out = np.sum(magnitude, axis=axes, keepdims=True)
        slope = lambda: np.sign(data)  # noqa: E731
    elif p == 0:
        out = np.sum(data != 0, axis=axes, keepdims=True, dtype=data.dtype)
        slope = lambda: np.zeros_like(data)  # noqa: E731
    elif math.isinf(p):
        if any(x.shape[a] == 0 for a in axes):
            raise ValueError(f"norm: p={p} of a tensor of shape {x.shape} with no elements")
        out = (np.max if p > 0 else np.min)(magnitude, axis=axes, keepdims=True)

        def slope() -> np.ndarray:
            ties = magnitude == out
            return np.sign(data) * ties / np.sum(ties, axis=axes, keepdims=True, dtype=data.dtype)
    else:
        with np.errstate(divide="ignore"):   # 0 ** -p = inf: the norm is 0
            out = np.sum(magnitude ** p, axis=axes, keepdims=True) ** (1 / p)

        def slope() -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = data * magnitude ** (p - 2) / out ** (p - 1)
            return np.where(out == 0, 0, ratio)
    return Tensor._make(out if keepdims else np.squeeze(out, axis=axes), (x,),
                        lambda g: (_expand(g, axes, keepdims, x.shape) * slope(),))


def normalize(x: Tensor, p: Any = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(norm(x, p, dim), eps), PyTorch's ``F.normalize``; composed of norm, clip and
    division, so its gradient is theirs, as in PyTorch."""
    return x / clip(norm(x, p, dim=dim, keepdim=True), min=eps)


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors: output k holds tensor k's values along axis k,
    expanded over the others. ``indexing="xy"`` swaps the first two axes (numpy's default;
    PyTorch's and minidl's is "ij"). Each output is a reshape and an expand, so each
    tensor's gradient is its output's g summed over the other axes."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', not {indexing!r}")
    tensors = _sequence_operands("meshgrid", tensors)
    if any(t.ndim > 1 for t in tensors):
        raise RuntimeError(f"meshgrid: needs 0-d or 1-D tensors, not shapes "
                           f"{[t.shape for t in tensors]}")
    place = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        place[0], place[1] = 1, 0
    shape = [0] * len(tensors)
    for k, t in zip(place, tensors):
        shape[k] = t._data.size
    return tuple(expand(reshape(t, [-1 if a == k else 1 for a in range(len(shape))]), shape)
                 for k, t in zip(place, tensors))


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The p-norm of input - other (broadcast), of float tensors, as PyTorch's."""
    _tensor_arguments("dist", input=input, other=other)
    for name, t in (("input", input), ("other", other)):
        if t.dtype.kind != "f":
            raise RuntimeError(f"dist: expects floating point tensors, got {name} of dtype "
                               f"{t.dtype}")
    return norm(sub(input, other), p)


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice input.select(dim, i) whose p-norm exceeds maxnorm, scaled down to norm
    maxnorm: multiplied by maxnorm / (norm + 1e-7), as PyTorch's; the others unchanged.
    Composed of norm, where and division, so the gradient runs through the norm too."""
    _tensor_arguments("renorm", input=input)
    if input.dtype.kind != "f":
        raise RuntimeError(f"renorm: expects a floating point tensor, got dtype {input.dtype}")
    if input.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} "
                           f"dimensions")
    if not p > 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported, got p={p}")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    axis = _reduction_axes("renorm", dim, input.ndim)[0]
    others = tuple(a for a in range(input.ndim) if a != axis)
    norms = norm(input, p, dim=others, keepdim=True)
    scale = where(norms._data > maxnorm, div(maxnorm, norms + 1e-7), 1)
    return mul(input, scale)
