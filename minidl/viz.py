"""Draw the graph behind a tensor: ``graph(t)`` gives DOT text, ``render`` a picture.

    loss = loss_fn(model(X), y)
    loss.backward(retain_graph=True)
    print(minidl.viz.graph(loss, model))           # DOT text: no extra install
    minidl.viz.render(loss, "graph.svg", model)    # needs graphviz (see render)

Each op is a box: its name (``t.grad_fn.name``), the shape and dtype of its
output. Leaves are ellipses: parameters (blue) named as in ``model.named_parameters()``
when a model is given (``0.weight``), other inputs grey. Edges run the way the
data flows, from each input to the op that reads it; the gradient flows back
along them. After ``backward(retain_graph=True)`` every node also shows
``|grad|``, the norm of d t / d node: the gradient that reached it. Non-leaf
tensors keep no gradient, so ``graph`` recomputes them by running the retained
backward closures once more from ``t`` (seeded with ones, as ``t.backward()``
for a one-element ``t``); leaves' ``.grad`` is left untouched.

Large graphs: ``collapse=True`` draws each call of a Module without
sub-modules (Linear, ReLU, a loss) as one node, and ``max_nodes`` caps the
drawing, with a final node that says how many nodes and which ops it cut.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from typing import Any, Iterable, Mapping

import numpy as np

from .tensor import Tensor

__all__ = ["graph", "render", "RENDER_HELP"]

RENDER_HELP = ("rendering a graph needs the graphviz Python package and the dot program: "
               "pip install 'minidl[viz]' and install your system's graphviz package "
               "(apt-get install graphviz, brew install graphviz, conda install graphviz); "
               "minidl.viz.graph(t) gives the DOT text without them")

_STYLE = {
    "op": 'shape=box, style="rounded,filled", fillcolor="#fff2cc"',
    "module": 'shape=box3d, style=filled, fillcolor="#d9ead3"',
    "parameter": 'shape=ellipse, style=filled, fillcolor="#cfe2f3"',
    "leaf": 'shape=ellipse, style=filled, fillcolor="#eeeeee"',
    "cut": 'shape=note, style=filled, fillcolor="#f4cccc"',
}


def graph(t: Tensor, model: Any = None, *, collapse: bool = False, max_nodes: int = 200,
          grads: bool | None = None, rankdir: str = "LR") -> str:
    """The graph of everything ``t`` depends on, as DOT text.

    ``model``: a Module (or a mapping name -> Tensor) whose parameter names
    label the leaves. ``collapse``: one node per call of a Module without
    sub-modules. ``max_nodes``: draw at most this many nodes (>= 1); the rest
    are counted in one "not drawn" node. ``grads``: show ``|grad|`` on each
    node; by default (None) shown when some leaf of the graph has a ``.grad``,
    that is after a backward. ``rankdir``: "LR" (left to right) or "TB".
    """
    if not isinstance(t, Tensor):
        raise TypeError(f"graph: t must be a Tensor, not {type(t).__name__}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"graph: Invalid max_nodes: {max_nodes!r} (needs an int >= 1)")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"graph: Invalid rankdir: {rankdir!r} (expected 'LR', 'TB', 'RL' or 'BT')")
    if t.grad_fn is not None and t.grad_fn.freed:
        raise RuntimeError("graph: the graph behind this tensor was freed by backward(); "
                           "call backward(retain_graph=True), or draw the graph before backward")
    names = _parameter_names(model)
    modules = {id(m): name for name, m in model.named_modules()} \
        if hasattr(model, "named_modules") else {}
    nodes, edges = _collapsed(t) if collapse else _plain(t)
    if grads is None:
        grads = any(node.is_leaf and node.grad is not None for node in t._topological_order())
    reached = _gradients_reaching(t) if grads and t.requires_grad else {}
    return _dot(nodes, edges, names, modules, reached, max_nodes, rankdir)


def render(t: Tensor | str, path: str | os.PathLike, model: Any = None, **options: Any) -> str:
    """Draw ``graph(t, model, **options)`` (or DOT text ``t``) into ``path``.

    The format comes from the suffix: .svg, .png or .pdf. Needs the graphviz
    Python package and its ``dot`` program; without them raises RuntimeError
    saying what to install. The file is written atomically. Returns the path.
    """
    path = os.fspath(path)
    fmt = os.path.splitext(path)[1].lstrip(".").lower()
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(f"render: Invalid path {path!r}: its suffix must be .svg, .png or .pdf")
    dot = t if isinstance(t, str) else graph(t, model, **options)
    try:
        import graphviz
    except ImportError:
        raise RuntimeError(RENDER_HELP + " (the graphviz Python package is missing)") from None
    if shutil.which("dot") is None:
        raise RuntimeError(RENDER_HELP + " (the dot program is not on PATH)")
    picture = graphviz.Source(dot).pipe(format=fmt)
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".graph-", suffix="." + fmt)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(picture)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path


# -- walking the graph -----------------------------------------------------------------
class _Node:
    """One drawn node: a tensor (an op's output or a leaf), or a collapsed Module call."""

    def __init__(self, tensor: Tensor, module: Any = None, absorbed: Iterable[Tensor] = ()):
        self.tensor, self.module, self.absorbed = tensor, module, list(absorbed)


def _plain(t: Tensor) -> tuple[list[_Node], list[tuple[int, int]]]:
    """Every tensor reachable from t through ``grad_fn.inputs``, breadth first from t,
    and the edges (input index, output index) between them."""
    index = {id(t): 0}
    nodes, edges = [_Node(t)], []
    for node in nodes:                 # grows while it is walked: breadth first
        for parent in _inputs(node.tensor):
            if id(parent) not in index:
                index[id(parent)] = len(nodes)
                nodes.append(_Node(parent))
            edges.append((index[id(parent)], index[id(node.tensor)]))
    return nodes, edges


def _collapsed(t: Tensor) -> tuple[list[_Node], list[tuple[int, int]]]:
    """As ``_plain``, with the tensors computed inside each call of a Module without
    sub-modules drawn as one node standing for the call's output."""
    index = {id(t): 0}
    nodes, edges = [_Node(t)], []
    for position, node in enumerate(nodes):
        call = _module_call(node.tensor)
        if call is None:
            boundary = _inputs(node.tensor)
        else:
            node.module = call[0]
            boundary = _inside_call(node, set(call[1]))
        for parent in boundary:
            if id(parent) not in index:
                index[id(parent)] = len(nodes)
                nodes.append(_Node(parent))
            edges.append((index[id(parent)], position))
    return nodes, edges


def _inside_call(node: _Node, input_ids: set[int]) -> list[Tensor]:
    """Walk down from a Module call's output: absorb what the call computed, and
    return the tensors where the call began (its inputs, another call's output)."""
    boundary: list[Tensor] = []
    seen = {id(node.tensor)}
    stack = list(_inputs(node.tensor))
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        starts_here = id(tensor) in input_ids or _module_call(tensor) is not None
        if starts_here or (tensor.is_leaf and not _belongs_to(tensor, node.module)
                           and tensor.requires_grad):
            boundary.append(tensor)
        else:
            node.absorbed.append(tensor)
            stack.extend(_inputs(tensor))
    return boundary


def _belongs_to(tensor: Tensor, module: Any) -> bool:
    return any(p is tensor for p in module.parameters())


def _module_call(tensor: Tensor) -> tuple[Any, tuple[int, ...]] | None:
    """(module, input ids) of a leaf-module call that made ``tensor``, if one did."""
    call = tensor.__dict__.get("_module_call")
    if call is None or next(iter(call[0].children()), None) is not None:
        return None
    return call


def _inputs(tensor: Tensor) -> tuple[Tensor, ...]:
    return () if tensor.grad_fn is None else tensor.grad_fn.inputs


def _parameter_names(model: Any) -> dict[int, str]:
    if model is None:
        return {}
    if isinstance(model, Mapping):
        items = model.items()
    elif hasattr(model, "named_parameters"):
        items = model.named_parameters()
    else:
        raise TypeError(f"graph: model must be a Module or a mapping of names to tensors, "
                        f"not {type(model).__name__}")
    return {id(tensor): name for name, tensor in items}


def _gradients_reaching(t: Tensor) -> dict[int, np.ndarray]:
    """d t / d node for every node of t's graph, by running its backward closures
    again (the graph must be retained); seeded with ones of t's shape."""
    reached = {id(t): np.ones_like(t._data)}
    for node in reversed(t._topological_order()):
        g = reached.get(id(node))
        if g is None or node._backward is None:
            continue
        for parent, parent_grad in zip(node._parents, node._backward(g)):
            if parent_grad is None or not parent.requires_grad:
                continue
            key = id(parent)
            reached[key] = reached[key] + parent_grad if key in reached else parent_grad
    return reached


# -- DOT text ----------------------------------------------------------------------------
def _dot(nodes: list[_Node], edges: list[tuple[int, int]], names: dict[int, str],
         modules: dict[int, str], reached: dict[int, np.ndarray], max_nodes: int,
         rankdir: str) -> str:
    drawn = nodes[:max_nodes]
    lines = ["digraph minidl {", f"  rankdir={rankdir};",
             '  node [fontname="Helvetica", fontsize=10];']
    for i, node in enumerate(drawn):
        kind, label = _describe(node, names, modules, reached)
        lines.append(f'  n{i} [label="{_escape(label)}", {_STYLE[kind]}];')
    lines += [f"  n{a} -> n{b};" for a, b in edges if a < max_nodes and b < max_nodes]
    cut = nodes[max_nodes:]
    if cut:
        ops = Counter(_describe(n, {}, {}, {})[1].split("\n")[0] for n in cut)
        listed = ", ".join(f"{op} x{count}" for op, count in ops.most_common())
        label = (f"{len(cut)} more nodes not drawn (max_nodes={max_nodes}):\\n"
                 + _escape(listed))
        lines.append(f"  // cut: {len(cut)} nodes not drawn, max_nodes={max_nodes}: {listed}")
        lines.append(f'  cut [label="{label}", {_STYLE["cut"]}];')
        frontier = sorted({b for a, b in edges if a >= max_nodes and b < max_nodes})
        lines += [f"  cut -> n{b} [style=dashed];" for b in frontier]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _describe(node: _Node, names: dict[int, str], modules: dict[int, str],
              reached: dict[int, np.ndarray]) -> tuple[str, str]:
    """The node's kind (a key of _STYLE) and its label lines."""
    tensor = node.tensor
    shape = f"{tuple(tensor.shape)} {tensor.dtype}"
    if node.module is not None:
        kind = "module"
        title = type(node.module).__name__
        if modules.get(id(node.module)):
            title = f"{modules[id(node.module)]}: {title}"
        absorbed = {id(t) for t in node.absorbed}
        owned = [name for key, name in names.items() if key in absorbed]
        if owned:
            title += "\n" + ", ".join(owned)
    elif tensor.grad_fn is not None:
        kind, title = "op", tensor.grad_fn.name
    elif id(tensor) in names:
        kind, title = "parameter", names[id(tensor)]
    else:
        kind = "parameter" if tensor.requires_grad else "leaf"
        title = "leaf" if tensor.requires_grad else ("constant" if tensor.ndim == 0 else "input")
    lines = [title, shape]
    if id(tensor) in reached:
        lines.append(f"|grad| {float(np.linalg.norm(reached[id(tensor)])):.3g}")
    return kind, "\n".join(lines)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
