"""``Function``: an op written by the user, as PyTorch's ``torch.autograd.Function``.

    class Cube(minidl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_output):
            x, = ctx.saved_tensors
            return grad_output * 3 * x ** 2

    y = Cube.apply(x)

``apply`` runs ``forward`` under ``no_grad`` and, when an input requires grad,
makes its result a node of the graph whose closure calls ``backward`` (also
under ``no_grad``) and hands back one gradient per input of ``forward``, as
every built-in op's closure does. The newer form, ``forward(*args)`` with a
separate ``setup_context(ctx, inputs, output)``, works too.

A forward with several differentiable outputs (a tuple) gets one hidden node
behind them all (``ops._common._several_outputs``, as ``linalg.svd``'s U, S,
Vh): the engine runs it after every output's closure, so ``backward`` runs
once, with one gradient per output (zeros for an output nothing used, or None
after ``ctx.set_materialize_grads(False)``).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..grad_mode import is_grad_enabled, no_grad
from ..ops._common import _several_outputs
from ..tensor import Tensor, unbroadcast

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """What ``forward`` leaves for ``backward``: ``save_for_backward(*tensors)``
    and ``saved_tensors``, ``needs_input_grad`` (a bool per input of forward),
    and any attribute set on it (``ctx.scale = 2``)."""

    def __init__(self, needs_input_grad: tuple[bool, ...]):
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self._saved: tuple[Tensor | None, ...] = ()
        self._saved_versions: tuple[int, ...] = ()
        self._non_differentiable: set[int] = set()

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep tensors for ``backward``; an in-place write to one of them before
        ``backward`` reads it makes ``saved_tensors`` raise, as in PyTorch."""
        for i, tensor in enumerate(tensors):
            if tensor is not None and not isinstance(tensor, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument "
                                f"{i} is of type {type(tensor).__name__}")
        self._saved = tensors
        self._saved_versions = tuple(0 if t is None else t._version for t in tensors)

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        for i, (tensor, version) in enumerate(zip(self._saved, self._saved_versions)):
            if tensor is not None and tensor._version != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: saved tensor {i} of shape {list(tensor.shape)} "
                    f"is at version {tensor._version}; expected version {version} instead.")
        return self._saved

    def mark_non_differentiable(self, *outputs: Tensor) -> None:
        """These outputs of ``forward`` get no gradient (and do not require grad)."""
        self._non_differentiable.update(id(output) for output in outputs)

    def set_materialize_grads(self, value: bool) -> None:
        """False: ``backward`` gets None, not zeros, for an output nothing used."""
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors: Tensor) -> None:
        raise NotImplementedError("mark_dirty: minidl's custom Functions cannot write into "
                                  "their inputs; return a new tensor from forward instead")


class Function:
    """Subclass it with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``
    (see the module's docstring); call ``YourFunction.apply(*args)``."""

    @staticmethod
    def forward(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output: Any) -> None:
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Tensor | None) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method "
                                  "for your custom autograd.Function to use it with "
                                  "backward mode AD.")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """forward's result; a node of the graph when an input requires grad."""
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        with no_grad():
            if cls.setup_context is Function.setup_context:   # forward(ctx, ...)
                output = cls.forward(ctx, *args, **kwargs)
            else:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
        if not (is_grad_enabled() and any(ctx.needs_input_grad)):
            return output
        return _connect(cls, ctx, args, output)


def once_differentiable(backward: Callable) -> Callable:
    """PyTorch's marker for a backward that cannot be differentiated again; every
    minidl backward is such (no ``create_graph``), so it returns ``backward``."""
    return backward


def _connect(cls: type[Function], ctx: FunctionCtx, args: tuple, output: Any) -> Any:
    """``output`` with its differentiable tensors made nodes of the graph."""
    outputs = output if isinstance(output, tuple) else (output,)
    chosen = [i for i, out in enumerate(outputs) if isinstance(out, Tensor)
              and out.dtype.kind == "f" and id(out) not in ctx._non_differentiable]
    if not chosen:
        return output
    parents = tuple(a for a in args if isinstance(a, Tensor))
    name = f"{cls.__name__}Backward"
    backward = _backward_closure(cls, ctx, args, outputs, chosen, name)
    if len(chosen) == 1:
        def one_output(g: np.ndarray) -> tuple:
            return backward([g])
        one_output.__qualname__ = name        # what grad_fn shows: <CubeBackward>
        nodes = [Tensor._make(outputs[chosen[0]]._data, parents, one_output)]
    else:
        nodes = _several_outputs([outputs[i]._data for i in chosen], parents, backward, name)
    made = list(outputs)
    for i, node in zip(chosen, nodes):
        if node._base is None:   # not a view of an input: forward's output's own storage
            node._version_box = outputs[i]._version_counter()
        made[i] = node
    return tuple(made) if isinstance(output, tuple) else made[0]


def _backward_closure(cls: type[Function], ctx: FunctionCtx, args: tuple, outputs: tuple,
                      chosen: list[int], name: str) -> Callable:
    """The closure the engine calls: the gradients of the ``chosen`` (differentiable)
    outputs in; ``cls.backward`` called with one gradient per output of forward, as
    PyTorch's (zeros for a tensor output without one, None for any other output,
    or None for both after ``set_materialize_grads(False)``); one gradient per
    tensor input of forward out, each of its input's shape."""

    def run(grads: list[np.ndarray | None]) -> tuple:
        given = dict(zip(chosen, grads))
        grad_tensors = [Tensor(given[i], dtype=given[i].dtype) if given.get(i) is not None
                        else Tensor(np.zeros_like(out._data))
                        if isinstance(out, Tensor) and ctx.materialize_grads else None
                        for i, out in enumerate(outputs)]
        with no_grad():
            result = cls.backward(ctx, *grad_tensors)
        result = result if isinstance(result, tuple) else (result,)
        if len(result) > len(args) and all(g is None for g in result[len(args):]):
            result = result[:len(args)]
        if len(result) != len(args):
            raise RuntimeError(f"function {name} returned an incorrect number of gradients "
                               f"(expected {len(args)}, got {len(result)})")
        return tuple(_input_grad(name, i, arg, g) for i, (arg, g) in enumerate(zip(args, result))
                     if isinstance(arg, Tensor) or _no_grad_for(name, i, g))
    return run


def _no_grad_for(name: str, index: int, grad: Any) -> bool:
    """A non-tensor input of forward must get None (and is then skipped)."""
    if grad is not None:
        raise RuntimeError(f"function {name} returned a gradient different than None at "
                           f"position {index + 1}, but the corresponding forward input was "
                           f"not a Tensor")
    return False


def _input_grad(name: str, index: int, arg: Tensor, grad: Any) -> np.ndarray | None:
    """``grad`` as an array of ``arg``'s shape and dtype (summed over broadcast axes)."""
    if grad is None or not arg.requires_grad:
        return None
    grad = np.asarray(grad._data if isinstance(grad, Tensor) else grad, dtype=arg.dtype)
    if grad.shape != arg.shape:
        if not _expands_to(arg.shape, grad.shape):
            raise RuntimeError(f"Function {name} returned an invalid gradient at index "
                               f"{index} - got {list(grad.shape)} but expected shape "
                               f"compatible with {list(arg.shape)}")
        grad = unbroadcast(grad, arg.shape)
    return grad


def _expands_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether ``shape`` broadcasts to ``target`` (so a gradient of ``target``'s
    shape sums back to ``shape``)."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False
