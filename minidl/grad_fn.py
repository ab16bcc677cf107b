"""The graph made visible: ``Tensor.grad_fn`` names the op that made a tensor.

Every op defines its backward closure inside the op function (see ``ops/``),
so the closure's ``__qualname__`` already names the op: ``mul.<locals>.backward``
and ``exp.<locals>.<lambda>`` give ``mul`` and ``exp``. ``Tensor._make`` keeps
that string on the output (one attribute store; the closure itself is freed
by ``backward()``, the name stays) and ``grad_fn.name`` cuts it when asked, so
no op needs to name itself. A closure written in a shared helper (a name
starting with ``_``, as ``_select`` for ``maximum`` and ``minimum``) is named
when it is made, after the first caller up the stack whose name does not start
with ``_``: the public op.

Walk the graph as in PyTorch:

    loss.grad_fn                       <GradFn mean>
    loss.grad_fn.next_functions        ((<GradFn mul>, 0),)
    ... down to the leaves             ((<AccumulateGrad shape=(3, 2)>, 0), ...)

A leaf that requires grad appears as ``AccumulateGrad`` (its ``variable`` is
the leaf); an input that needs no gradient appears as ``None``.
"""
from __future__ import annotations

import sys
from typing import Any

__all__ = ["GradFn", "AccumulateGrad", "op_name", "public_caller"]


def op_name(qualname: str) -> str:
    """The op named by a backward closure's ``__qualname__``: the function it was made in."""
    return qualname.split(".<locals>.")[0]


def public_caller() -> str:
    """For a closure made in a shared helper: the first caller of ``Tensor._make``
    up the stack whose name does not start with ``_`` (the public op)."""
    frame = sys._getframe(2)   # 0: here, 1: Tensor._make, 2: the helper
    while frame is not None and frame.f_code.co_name.startswith("_"):
        frame = frame.f_back
    return "op" if frame is None else frame.f_code.co_name


class GradFn:
    """The op that made a tensor: its ``name``, its ``inputs`` and where they came from.

    ``next_functions`` has one ``(node, 0)`` pair per input, as in PyTorch:
    ``GradFn`` for an input made by an op, ``AccumulateGrad`` for a leaf that
    requires grad, ``None`` for an input that needs no gradient. After a
    ``backward()`` without ``retain_graph`` the graph is freed: the name stays,
    ``inputs`` and ``next_functions`` are empty and ``freed`` is True.
    """

    __slots__ = ("output",)

    def __init__(self, output: Any) -> None:
        self.output = output

    @property
    def name(self) -> str:
        return op_name(self.output._grad_fn_name)

    @property
    def freed(self) -> bool:
        return self.output._freed

    @property
    def inputs(self) -> tuple[Any, ...]:
        """The tensors the op read, in argument order."""
        return self.output._parents

    @property
    def next_functions(self) -> tuple[tuple[GradFn | AccumulateGrad | None, int], ...]:
        return tuple((node_of(tensor), 0) for tensor in self.inputs)

    def __eq__(self, other: object) -> bool:
        return type(other) is GradFn and other.output is self.output

    def __hash__(self) -> int:
        return hash(id(self.output))

    def __repr__(self) -> str:
        return f"<GradFn {self.name}{' (freed)' if self.freed else ''}>"


class AccumulateGrad:
    """Where the gradient of a leaf that requires grad ends: added to ``variable.grad``."""

    __slots__ = ("variable",)
    name = "AccumulateGrad"
    next_functions: tuple = ()

    def __init__(self, variable: Any) -> None:
        self.variable = variable

    def __eq__(self, other: object) -> bool:
        return type(other) is AccumulateGrad and other.variable is self.variable

    def __hash__(self) -> int:
        return hash(id(self.variable))

    def __repr__(self) -> str:
        return f"<AccumulateGrad shape={self.variable.shape}>"


def node_of(tensor: Any) -> GradFn | AccumulateGrad | None:
    """The graph node a tensor stands for as an input: its op, its leaf, or None."""
    if not tensor.requires_grad:
        return None
    if tensor.grad_fn is not None:
        return tensor.grad_fn
    return AccumulateGrad(tensor)
