"""``minidl.autograd``: PyTorch's ``torch.autograd`` on minidl's engine.

- ``Function``: an op written by the user, its forward and its backward, as
  ``torch.autograd.Function`` (``function.py``).
- ``grad(outputs, inputs)``: the gradients of ``outputs`` with respect to
  ``inputs``, returned instead of accumulated into any ``.grad``.
- ``backward(tensors, grad_tensors)``: ``Tensor.backward`` from several roots
  at once, their gradients summed, as ``torch.autograd.backward``.
- ``gradcheck(func, inputs)``: ``minidl.gradcheck`` with PyTorch's signature.

All of them walk the graph with ``minidl.tensor.run_backward``, the engine that
``Tensor.backward`` uses. The gradients are numpy arrays inside the engine, so
no gradient has a graph of its own: ``create_graph=True`` (second derivatives)
is refused.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..gradcheck import GradcheckError, gradcheck as _gradcheck
from ..tensor import (Tensor, accumulate_backward, as_tensors, refuse_create_graph,
                      root_gradient, run_backward)
from .function import Function, FunctionCtx, once_differentiable

__all__ = ["Function", "FunctionCtx", "once_differentiable", "grad", "backward", "gradcheck"]

Gradients = Tensor | Sequence[Tensor | None] | None


def _root_gradients(roots: list[Tensor], gradients: Gradients, name: str) -> list[np.ndarray]:
    """One d loss / d root per root: from ``gradients`` (None entries: 1 for a
    one-element root), each checked against its root's shape."""
    if gradients is None or isinstance(gradients, Tensor):
        gradients = [gradients] * len(roots) if gradients is None else [gradients]
    gradients = list(gradients)
    if len(gradients) != len(roots):
        raise RuntimeError(f"{name} has {len(gradients)} entries but there are "
                           f"{len(roots)} tensors to differentiate")
    return [root_gradient(root, gradient, f"{name}[{i}]")
            for i, (root, gradient) in enumerate(zip(roots, gradients))]


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Gradients = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False
         ) -> tuple[Tensor | None, ...]:
    """(d outputs / d input for each input), weighted by ``grad_outputs``:

        grad_i = sum_k grad_outputs_k^T  d outputs_k / d inputs_i

    No ``.grad`` changes. An input the outputs do not depend on raises, unless
    ``allow_unused`` (then its entry is None) or ``materialize_grads`` (zeros).
    Unless ``retain_graph``, the graph is freed, as by ``backward()``.
    """
    refuse_create_graph(create_graph)
    if is_grads_batched:
        raise NotImplementedError("is_grads_batched=True: minidl has no vmap; "
                                  "call grad once per row of grad_outputs")
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    roots, inputs = as_tensors("outputs", outputs), as_tensors("inputs", inputs)
    for i, tensor in enumerate(inputs):
        if not tensor.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors does not require grad "
                               f"(inputs[{i}], shape {tensor.shape})")
    found = run_backward(roots, _root_gradients(roots, grad_outputs, "grad_outputs"),
                         bool(retain_graph), inputs)
    results: list[Tensor | None] = []
    for tensor in inputs:
        if id(tensor) in found:
            results.append(Tensor(np.array(found[id(tensor)]), dtype=tensor.dtype))
        elif materialize_grads:
            results.append(Tensor(np.zeros_like(tensor._data)))
        elif allow_unused:
            results.append(None)
        else:
            raise RuntimeError("One of the differentiated Tensors appears to not have been "
                               "used in the graph. Set allow_unused=True if this is the "
                               "desired behavior.")
    return tuple(results)


def backward(tensors: Tensor | Sequence[Tensor], grad_tensors: Gradients = None,
             retain_graph: bool | None = None, create_graph: bool = False,
             inputs: Tensor | Sequence[Tensor] | None = None) -> None:
    """``Tensor.backward`` from every tensor of ``tensors`` in one pass: each leaf's
    ``.grad`` gains sum_k grad_tensors_k^T d tensors_k / d leaf."""
    roots = as_tensors("tensors", tensors)
    accumulate_backward(roots, _root_gradients(roots, grad_tensors, "grad_tensors"),
                        retain_graph, create_graph, inputs)


def gradcheck(func: Callable[..., Tensor], inputs: Any, *, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """``torch.autograd.gradcheck(func, inputs)``: ``minidl.gradcheck(func, *inputs)``
    (central differences in float64 against the backward closures). With
    ``raise_exception=False`` a mismatch returns False instead of raising."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    try:
        return _gradcheck(func, *inputs, eps=eps, atol=atol, rtol=rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
