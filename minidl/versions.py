"""Version counters: how the engine knows that an op's inputs changed after it ran.

A tensor and its views share one ``Version``: ``count`` is the number of
in-place writes into their storage (PyTorch's ``t._version``), ``at`` the
engine clock at the last one. The clock ticks at every write; each op output
remembers the clock when it was made (``Tensor._made_at``). So at backward,
``parent's version.at > node's made_at`` means an input was written after the
op read it, and the engine refuses instead of computing a wrong gradient.
"""
from __future__ import annotations

import itertools
from typing import Any

from .grad_fn import op_name

__all__ = ["Version", "Clock", "bump", "OUTPUT_FREE_OPS", "check_unchanged"]


class Version:
    """The version counter that a tensor shares with its views (one storage)."""

    __slots__ = ("count", "at")

    def __init__(self) -> None:
        self.count = 0
        self.at = 0


class Clock:
    """The engine's logical clock: it ticks at every in-place write (``next`` of an
    itertools.count is atomic, so two threads writing at once never share a tick)."""
    now = 0
    ticks = itertools.count(1)


def bump(version: Version) -> None:
    """Count one in-place write into the storage that ``version`` counts."""
    Clock.now = version.at = next(Clock.ticks)
    version.count += 1


# The ops whose backward never reads their own output array: an in-place write
# into their output (``out += residual``, ``x.relu_()`` after a linear layer)
# leaves their gradient right. Any other op's output, once overwritten, makes
# backward refuse, as PyTorch does for the outputs that its ops save.
OUTPUT_FREE_OPS = frozenset({
    "add", "sub", "mul", "div", "neg", "matmul", "linear", "conv1d", "conv2d", "max_pool1d",
    "max_pool2d", "avg_pool1d", "avg_pool2d", "sum", "mean", "getitem", "reshape", "view",
    "transpose", "swapaxes", "permute", "flatten", "squeeze", "unsqueeze", "expand", "cat",
    "concatenate", "stack", "index_put", "fill", "copy", "view_region", "copy_slices", "clone",
    "relu", "leaky_relu", "relu6", "hardtanh", "elu", "celu", "selu", "gelu", "silu", "mish",
    "softplus", "softsign", "sigmoid", "hardsigmoid", "hardswish", "log", "abs"})


def check_unchanged(node: Any) -> None:
    """RuntimeError when the storage of an input of ``node``'s op, or the op's own
    output that its backward reads, was written in place after the op ran: its
    backward would read values that the op did not see; and when an input was cut
    by ``detach_()`` after the op ran: the gradient could not pass it. (``Tensor.backward`` asks
    only when the clock moved since the op ran, one comparison per node.)"""
    name = op_name(node._grad_fn_name)
    for parent in node._parents:
        if parent._cut_at > node._made_at:
            raise RuntimeError(
                f"an input of shape {parent.shape} of {name} was cut from the graph by "
                f"detach_() after {name} read it: in minidl a tensor is its own graph node, "
                f"so the gradient could no longer reach what made it. Use detach(), which "
                f"makes a new tensor, or call detach_() after backward().")
        box = parent._version_box
        if box is not None and box.at > node._made_at:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified "
                f"by an inplace operation: an input of shape {parent.shape} of {name} is "
                f"at version {box.count}, written after {name} read it. Change a clone() "
                f"of it instead, or change it only after backward().")
    box = node._version_box
    written = node._overwritten or (box is not None and box.at > node._made_at)
    if written and name not in OUTPUT_FREE_OPS:
        raise RuntimeError(
            f"one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: the output of {name} (shape {node.shape}), which {name}'s "
            f"backward reads, was overwritten after {name} made it. Use the out-of-place op "
            f"(e.g. y = y * 2, not y.mul_(2)) or clone() the tensor before changing it.")
