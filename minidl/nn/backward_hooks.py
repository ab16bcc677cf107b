"""A Module's full backward hooks, as PyTorch's ``register_full_backward_hook``
and ``register_full_backward_pre_hook``, made of tensor hooks.

For one call ``y = module(x)``, PyTorch's hooks see

    grad_output = (dL/dy,)      grad_input = (dL/dx,)

where dL/dx counts only the paths through this call (not other uses of x).
Two identity nodes, one on each side of ``forward``, give exactly these:

    x -> x_in = identity(x) -> forward -> forward hooks -> y -> y_out = identity(y)

The gradient that reaches ``y_out`` is dL/dy: a tensor hook on it runs the
backward pre-hooks (each may replace grad_output) and keeps the result. The
gradient that reaches ``x_in`` is the sum over the paths inside forward, dL/dx:
a tensor hook on it runs the backward hooks with the kept grad_output (each
may replace grad_input). When x needs no gradient there is no dL/dx; the
backward hooks then run right after the pre-hooks with ``grad_input = (None,)``,
and may only return None, as in PyTorch.

minidl supports the common case: a call with one Tensor positional argument
returning one Tensor. Any other call of a module with backward hooks raises
NotImplementedError naming what it got (PyTorch handles tuples of tensors),
except under ``no_grad``, where a call of any form runs and records nothing.
When neither x nor the module's parameters need a gradient, nothing is recorded
and no hook runs either. An in-place op on the module's input inside forward (a
leading ``inplace=True`` layer), or on its output afterwards, makes the backward
raise RuntimeError, where PyTorch raises at the op.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable

import numpy as np

from ..tensor import Tensor


def _identity(x: Tensor, hook: Callable[[Tensor], Tensor]) -> Tensor:
    """x as a new graph node on the same memory (a view of x), whose backward
    passes g on, with ``hook`` on its gradient. The hook refuses to run once an
    in-place op has made the node something else (PyTorch refuses that op)."""
    def BackwardHookFunctionBackward(g: np.ndarray) -> tuple[np.ndarray]:
        return (g,)
    node = Tensor._make(x._data, (x,), BackwardHookFunctionBackward)
    node_ref = weakref.ref(node)

    def checked(grad: Tensor) -> Tensor:
        alive = node_ref()
        if alive is not None and alive._backward is not BackwardHookFunctionBackward:
            raise RuntimeError("a module with full backward hooks had its input or output "
                               "modified in place (an inplace=True layer, out.relu_()); "
                               "PyTorch refuses this too: use the out-of-place op")
        return hook(grad)
    node.register_hook(checked)
    return node


class BackwardHookCall:
    """The hooks of one call of ``module`` on ``args`` (see the module docstring)."""

    def __init__(self, module: Any, args: tuple):
        if len(args) != 1 or not isinstance(args[0], Tensor):
            kinds = ", ".join(type(arg).__name__ for arg in args) or "no arguments"
            raise NotImplementedError(
                f"{type(module).__name__} has full backward hooks, which minidl supports "
                f"for a call with one Tensor argument and a Tensor result; it got {kinds}")
        self.module, self.args = module, args
        self.grad_output: tuple[Tensor | None, ...] = (None,)

    def inputs(self) -> tuple:
        """The arguments for forward: x behind an identity node when x needs grad."""
        x = self.args[0]
        if not x.requires_grad:
            return self.args
        x_in = _identity(x, self._on_input_grad)
        self.has_input_grad = True
        return (x_in,)

    def output(self, y: Any) -> Any:
        """forward's result behind an identity node whose grad runs the hooks."""
        if not isinstance(y, Tensor):
            raise NotImplementedError(
                f"{type(self.module).__name__} has full backward hooks, which minidl "
                f"supports for a module returning one Tensor; it returned a "
                f"{type(y).__name__}")
        if not y.requires_grad:
            return y
        return _identity(y, self._on_output_grad)

    has_input_grad = False

    def _on_output_grad(self, grad: Tensor) -> Tensor:
        grad_output: tuple = (grad,)
        for hook in list(self.module._backward_pre_hooks.values()):
            result = hook(self.module, grad_output)
            if result is not None:
                grad_output = _checked(result, grad_output, "grad_output")
        self.grad_output = grad_output
        if not self.has_input_grad:
            for hook in list(self.module._backward_hooks.values()):
                result = hook(self.module, (None,), grad_output)
                if result is not None and any(g is not None for g in _as_tuple(result)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
        return _or_zeros(grad_output[0], grad)

    def _on_input_grad(self, grad: Tensor) -> Tensor:
        grad_input: tuple = (grad,)
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = _checked(result, grad_input, "grad_input")
        return _or_zeros(grad_input[0], grad)


def _or_zeros(replacement: Any, grad: Tensor) -> Any:
    """A hook's None gradient is a zero one (None would keep the old gradient)."""
    return np.zeros_like(grad._data) if replacement is None else replacement


def _as_tuple(value: Any) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _checked(result: Any, old: tuple, name: str) -> tuple:
    """A hook's replacement: a tuple of as many gradients as ``old``."""
    result = _as_tuple(result)
    if len(result) != len(old):
        raise RuntimeError(f"Backward hook returned an invalid number of {name}, got "
                           f"{len(result)}, but expected {len(old)}")
    return result
