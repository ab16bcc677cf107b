"""Gradient clipping, with PyTorch's ``torch.nn.utils`` semantics (and, from
``convert_parameters``, a model's parameters as one vector and back; from
``parametrize`` and ``parametrizations``, tensors computed from others: weight
norm, spectral norm, orthogonal matrices; the old hook forms in ``weight_norm``
and ``spectral_norm``).

``clip_grad_norm_`` rescales all gradients together so that their joint
p-norm, the norm of the vector of every gradient element, is at most
``max_norm``:

    total = ||(||g_1||_p, ..., ||g_n||_p)||_p          (max_i ||g_i||_inf for p = inf)
    g_i  <- g_i * min(max_norm / (total + 1e-6), 1)

``clip_grad_value_`` clamps every gradient element into [-clip_value, clip_value].
``clip_grad_norm_`` is ``get_total_norm`` of the grads (the joint norm of any
tensors) followed by ``clip_grads_with_norm_`` (the scaling, given the total).

Both work on the grads as flat arrays. The parameters of an optimizer's param
group live in one flat grad buffer (``minidl.optim.flat``): when the given
parameters include a whole group and every one of them holds a grad, that
group's buffer is clipped as one array, in one pass, instead of tensor by tensor.
"""
from __future__ import annotations

import math
import warnings
from typing import Iterable

import numpy as np

from ...optim.flat import FlatGroup
from ...tensor import Tensor
from .convert_parameters import parameters_to_vector, vector_to_parameters
from . import parametrizations, parametrize
from .spectral_norm import remove_spectral_norm, spectral_norm
from .weight_norm import remove_weight_norm, weight_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grad_norm", "get_total_norm",
           "clip_grads_with_norm_", "parameters_to_vector", "vector_to_parameters",
           "parametrize", "parametrizations", "weight_norm", "remove_weight_norm",
           "spectral_norm", "remove_spectral_norm"]

Parameters = Tensor | Iterable[Tensor]


def _grad_arrays(parameters: Parameters) -> list[np.ndarray]:
    """The grads of ``parameters`` (those that hold one) as few arrays as possible.

    A FlatGroup's whole grad buffer replaces its params' grads when all of them
    are given and hold a grad; only then is the buffer exactly their grads (a
    param whose grad is None may leave stale values in its slice).
    """
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for param in params:
        if not isinstance(param, Tensor):
            raise TypeError(f"parameters must be Tensors, got a {type(param).__name__}")
    with_grad = list({id(p): p for p in params if p._grad is not None}.values())
    given: dict[int, int] = {}   # id(group) -> how many of its params are given
    for param in with_grad:
        if isinstance(param._owner, FlatGroup):
            given[id(param._owner)] = given.get(id(param._owner), 0) + 1
    arrays: list[np.ndarray] = []
    done: set[int] = set()
    for param in with_grad:
        group = param._owner
        whole = None
        if isinstance(group, FlatGroup) and given[id(group)] == len(group.params):
            whole = group.complete_grad()
        if whole is None:
            arrays.append(param._grad)
        elif id(group) not in done:
            done.add(id(group))
            arrays.append(whole)
    return arrays


def _check_number(value: object, name: str, positive: bool = False) -> float:
    """A real number >= 0 (> 0 if ``positive``; inf allowed) as a float, else
    ValueError naming it."""
    real = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))
    if not real or not (value > 0 if positive else value >= 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"Invalid {name}: {value!r} (expected a number {bound})")
    return float(value)


def _check_foreach(foreach: object) -> None:
    if foreach is not None and not isinstance(foreach, bool):
        raise ValueError(f"Invalid foreach: {foreach!r} (expected None, True or False)")


def _norm(array: np.ndarray, p: float) -> float:
    """||array||_p in one pass (sum of squares by BLAS for p = 2), as a float."""
    flat = array.reshape(-1)
    if p == 2:
        return math.sqrt(float(np.dot(flat, flat)))
    if flat.size == 0:
        return 0.0
    if p == math.inf:
        return float(max(flat.max(), -flat.min()))
    if p == 1:
        return float(np.abs(flat).sum())
    return float((np.abs(flat) ** p).sum()) ** (1 / p)


def _total_norm(arrays: list[np.ndarray], norm_type: float | str,
                error_if_nonfinite: bool) -> float:
    """The joint p-norm of ``arrays`` (0 for none); RuntimeError when it is
    non-finite and ``error_if_nonfinite``."""
    p = _check_number(math.inf if norm_type == "inf" else norm_type, "norm_type", positive=True)
    norms = [_norm(array, p) for array in arrays]
    total = 0.0 if not norms else norms[0] if len(norms) == 1 else _norm(np.array(norms), p)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {p} for gradients from `parameters` is non-finite, so "
            f"it cannot be clipped. To disable this error and scale the gradients by the "
            f"non-finite norm anyway, set `error_if_nonfinite=False`")
    return total


def _scale(arrays: list[np.ndarray], max_norm: float, total: float) -> None:
    """Multiply ``arrays`` in place by min(max_norm / (total + 1e-6), 1)."""
    coefficient = max_norm / (total + 1e-6)
    if coefficient < 1 or math.isnan(coefficient):
        with np.errstate(invalid="ignore"):   # inf * 0 is NaN, as in PyTorch
            for array in arrays:
                array *= array.dtype.type(coefficient)


def get_total_norm(tensors: Parameters, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """The joint p-norm of ``tensors`` (say, ``[p.grad for p in params]``) as a 0-d
    Tensor of their dtype: the p-norm of their p-norms (``tensor(0.)`` for none)."""
    _check_foreach(foreach)
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for tensor in tensors:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"tensors must be Tensors, got a {type(tensor).__name__}")
    arrays = [tensor._data for tensor in tensors]
    total = _total_norm(arrays, norm_type, error_if_nonfinite)
    return Tensor(total, dtype=arrays[0].dtype) if arrays else Tensor(0.0)


def clip_grads_with_norm_(parameters: Parameters, max_norm: float, total_norm: Tensor | float,
                          foreach: bool | None = None) -> None:
    """Scale the grads of ``parameters`` in place by min(max_norm / (total_norm + 1e-6), 1),
    ``total_norm`` given (from ``get_total_norm``, perhaps over several models)."""
    max_norm = _check_number(max_norm, "max_norm")
    _check_foreach(foreach)
    total = total_norm.item() if isinstance(total_norm, Tensor) else total_norm
    if isinstance(total, bool) or not isinstance(total, (int, float, np.integer, np.floating)):
        raise TypeError(f"Invalid total_norm: {total_norm!r} (expected a number or a "
                        f"one-element Tensor)")
    _scale(_grad_arrays(parameters), max_norm, float(total))


def clip_grad_norm_(parameters: Parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale the grads of ``parameters`` in place so that their joint p-norm is
    at most ``max_norm``; return the joint norm before clipping (a 0-d Tensor).

        total = ||(||g_1||_p, ..., ||g_n||_p)||_p,   p = norm_type (inf: max |g|)
        g_i  <- g_i * min(max_norm / (total + 1e-6), 1)

    Parameters without a grad are skipped; with none at all the result is
    ``tensor(0.)``. A non-finite total raises RuntimeError when
    ``error_if_nonfinite``, else scales the grads by it, as PyTorch does (a NaN
    total makes every grad NaN). ``norm_type`` is a number > 0, ``math.inf``
    or ``"inf"`` (PyTorch also takes 0 and negative orders). A parameter given
    twice counts once. ``foreach`` is accepted for
    PyTorch compatibility: the grads of a whole optimizer param group are
    always clipped as one flat array.
    """
    max_norm = _check_number(max_norm, "max_norm")
    _check_foreach(foreach)
    arrays = _grad_arrays(parameters)
    total = _total_norm(arrays, norm_type, error_if_nonfinite)
    if not arrays:
        return Tensor(0.0)
    _scale(arrays, max_norm, total)
    return Tensor(total, dtype=arrays[0].dtype)


def clip_grad_norm(parameters: Parameters, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """``clip_grad_norm_`` under its old name, with PyTorch's FutureWarning."""
    warnings.warn("`minidl.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`minidl.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: Parameters, clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every grad element of ``parameters`` into [-clip_value, clip_value],
    in place; parameters without a grad are skipped."""
    clip_value = _check_number(clip_value, "clip_value")
    _check_foreach(foreach)
    for array in _grad_arrays(parameters):
        np.clip(array, -clip_value, clip_value, out=array)
