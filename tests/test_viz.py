"""grad_fn names, next_functions, and the DOT text of minidl.viz.graph (no renderer needed);
rendering tests skip, saying why, where graphviz is not installed."""
from __future__ import annotations

import gc
import importlib.util
import re
import shutil
import weakref

import numpy as np
import pytest

import minidl.nn.functional as F
from minidl import nn, ops, viz
from minidl.ops import activations, unary
from minidl.grad_fn import AccumulateGrad, GradFn
from minidl import Tensor, no_grad


def leaf(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return Tensor(rng.random(shape) + 0.5, requires_grad=True, dtype=np.float64)


X, Y = leaf(3, 4), leaf(3, 4, seed=1)
CLASSES = np.array([0, 1, 3])

OPS = {
    "add": lambda: X + Y, "sub": lambda: 2 - X, "mul": lambda: X * 3, "div": lambda: X / Y,
    "pow": lambda: X ** 2, "neg": lambda: -X, "matmul": lambda: X @ Y.T,
    "exp": lambda: X.exp(), "log": lambda: X.log(), "sqrt": lambda: X.sqrt(),
    "abs": lambda: abs(X), "tanh": lambda: X.tanh(), "sigmoid": lambda: X.sigmoid(),
    "relu": lambda: X.relu(), "leaky_relu": lambda: ops.leaky_relu(X),
    "gelu": lambda: ops.gelu(X), "clip": lambda: X.clip(0.6, 0.9),
    "maximum": lambda: ops.maximum(X, Y), "minimum": lambda: ops.minimum(X, 1.0),
    "where": lambda: ops.where(X.numpy() > 1, X, Y),
    "sum": lambda: X.sum(), "mean": lambda: X.mean(axis=0), "max": lambda: X.max(axis=1),
    "min": lambda: X.min(), "var": lambda: X.var(),
    "reshape": lambda: X.reshape(12), "transpose": lambda: X.T, "getitem": lambda: X[0],
    "concatenate": lambda: ops.concatenate([X, Y]), "stack": lambda: ops.stack([X, Y]),
    "softmax": lambda: X.softmax(), "log_softmax": lambda: X.log_softmax(),
    "logsumexp": lambda: X.logsumexp(axis=1),
    "linear": lambda: F.linear(X, Y),
    "cross_entropy": lambda: F.cross_entropy(X, CLASSES, reduction="none"),
    "nll_loss": lambda: F.nll_loss(X, CLASSES, reduction="none"),
    "binary_cross_entropy_with_logits":
        lambda: F.binary_cross_entropy_with_logits(X, np.full((3, 4), 0.5), reduction="none"),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_names_its_grad_fn(name):
    out = OPS[name]()
    assert out.grad_fn.name == name
    assert f"grad_fn=<{name}>" in repr(out)


FIRST_OPS = {"add", "sub", "mul", "div", "pow", "neg", "matmul", "exp", "log", "sqrt", "abs",
             "tanh", "sigmoid", "relu", "leaky_relu", "gelu", "clip", "maximum", "minimum",
             "where", "sum", "mean", "max", "min", "var", "reshape", "transpose", "getitem",
             "concatenate", "stack", "softmax", "log_softmax", "logsumexp"}


def test_every_op_of_the_first_families_is_covered():
    assert FIRST_OPS <= set(ops.__all__) and FIRST_OPS <= set(OPS)


# ops built from another op show the op that recorded the graph
COMPOSED = {"relu6": "hardtanh", "softmin": "softmax"}


@pytest.mark.parametrize("name", [*unary.__all__, *activations.__all__])
def test_every_unary_op_and_activation_names_its_grad_fn(name):
    out = getattr(ops, name)(X + 1.0 if name == "acosh" else X * 0.5)   # inside each domain
    assert out.grad_fn.name == COMPOSED.get(name, name)


def test_composed_functions_show_their_last_op():
    assert F.mse_loss(X, Y).grad_fn.name == "mean"
    assert F.huber_loss(X, Y, reduction="none").grad_fn.name == "where"
    assert X.flatten().grad_fn.name == "reshape"


def test_leaves_have_no_grad_fn_and_keep_their_repr():
    assert X.grad_fn is None and "requires_grad=True" in repr(X)
    assert "grad_fn" not in repr(Tensor([1.0]) * 2)
    with no_grad():
        assert (X * 2).grad_fn is None


def test_next_functions_walk_down_to_the_leaves():
    b = Tensor([3.0, 4.0])                      # needs no grad
    a = Tensor([1.0, 2.0], requires_grad=True)
    out = (a * b).sum()
    (mul, index), = out.grad_fn.next_functions
    assert isinstance(mul, GradFn) and mul.name == "mul" and index == 0
    (acc, _), (none, _) = mul.next_functions
    assert isinstance(acc, AccumulateGrad) and acc.variable is a and acc.next_functions == ()
    assert none is None
    assert mul.inputs == (a, b)
    assert mul == out.grad_fn.next_functions[0][0] and len({mul, out.grad_fn}) == 2


def test_backward_frees_the_graph_but_keeps_the_name():
    out = (leaf(2) * 2).sum()
    out.backward()
    assert out.grad_fn.name == "sum" and out.grad_fn.freed
    assert out.grad_fn.next_functions == () and "grad_fn=<sum>" in repr(out)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        viz.graph(out)


# -- DOT text -----------------------------------------------------------------------------
def parse(dot):
    """{node id: label} and [(from, to)] from the DOT text graph() writes."""
    nodes = dict(re.findall(r'^\s+(\w+) \[label="(.*?)"', dot, flags=re.M))
    edges = re.findall(r"^\s+(\w+) -> (\w+)", dot, flags=re.M)
    return {k: v.replace("\\n", "\n") for k, v in nodes.items()}, edges


def labels(dot):
    nodes, edges = parse(dot)
    return sorted(nodes.values()), sorted((nodes[a].split("\n")[0], nodes[b].split("\n")[0])
                                          for a, b in edges)


def test_dot_of_a_small_expression():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    out = (a * b + a).sum()
    nodes, edges = labels(viz.graph(out, {"a": a, "b": b}))
    assert nodes == ["a\n(2,) float32", "add\n(2,) float32", "b\n(2,) float32",
                     "mul\n(2,) float32", "sum\n() float32"]
    assert edges == [("a", "add"), ("a", "mul"), ("add", "sum"), ("b", "mul"), ("mul", "add")]


def test_dot_shows_the_gradient_that_reached_each_node_after_backward():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    out = (a * b).sum()
    assert "|grad|" not in viz.graph(out)           # before backward: nothing to show
    out.backward(retain_graph=True)
    grads = dict(line.split("\n")[0::2] for line in parse(viz.graph(out, {"a": a, "b": b}))[0]
                 .values())
    assert grads == {"sum": "|grad| 1", "mul": f"|grad| {np.sqrt(2):.3g}",
                     "a": "|grad| 5", "b": f"|grad| {np.sqrt(5):.3g}"}
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])   # recomputing left .grad alone
    assert "|grad|" not in viz.graph(out, grads=False)


def test_dot_of_an_mlp_names_parameters_and_inputs():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    loss = nn.CrossEntropyLoss()(model(Tensor(np.ones((5, 4)))), np.array([0, 1, 2, 0, 1]))
    nodes, edges = labels(viz.graph(loss, model))
    titles = [label.split("\n")[0] for label in nodes]
    # cross_entropy takes its mean inside, as PyTorch's NllLossBackward0 does
    assert sorted(titles) == sorted(["cross_entropy", "linear", "relu", "linear",
                                     "input", "0.weight", "0.bias", "2.weight", "2.bias"])
    assert "0.weight\n(8, 4) float32" in nodes and "input\n(5, 4) float32" in nodes
    assert ("0.weight", "linear") in edges and ("relu", "linear") in edges and len(edges) == 8


def test_collapse_draws_one_node_per_module_call():
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    loss = nn.MSELoss()(model(Tensor(np.ones((5, 4)))), np.zeros((5, 3), np.float32))
    nodes, edges = parse(viz.graph(loss, model, collapse=True))
    titles = {key: label.split("\n")[0] for key, label in nodes.items()}
    assert sorted(titles.values()) == ["0: Linear", "1: Tanh", "2: Linear", "MSELoss", "input"]
    assert "0.weight, 0.bias" in nodes[next(k for k, t in titles.items() if t == "0: Linear")]
    chain = sorted((titles[a], titles[b]) for a, b in edges)
    assert chain == [("0: Linear", "1: Tanh"), ("1: Tanh", "2: Linear"),
                     ("2: Linear", "MSELoss"), ("input", "0: Linear")]


def test_collapse_keeps_tensors_from_outside_the_module_as_inputs():
    layer = nn.Linear(2, 2)
    extra = Tensor([1.0, 1.0], requires_grad=True)
    out = (layer(Tensor(np.ones((1, 2)))) * extra).sum()
    nodes = parse(viz.graph(out, collapse=True))[0]
    titles = sorted(label.split("\n")[0] for label in nodes.values())
    assert titles == ["Linear", "input", "leaf", "mul", "sum"]


def test_module_calls_keep_no_activation_alive():
    layer = nn.Linear(2, 2)
    x = Tensor(np.ones((1, 2)), requires_grad=True)
    hidden = x * 2
    out = layer(hidden)
    module, ids = out._module_call
    assert module is layer and ids == (id(hidden),)
    out.sum().backward()
    ref = weakref.ref(hidden)
    del hidden
    gc.collect()
    assert ref() is None


def test_max_nodes_says_what_it_cut():
    x = Tensor([1.0], requires_grad=True)
    out = x
    for _ in range(10):
        out = out * 2
    dot = viz.graph(out, max_nodes=4)
    nodes, edges = parse(dot)
    assert len(nodes) == 5 and "cut" in nodes
    # 10 mul, their 10 scalar constants and the leaf: 21 nodes, 4 drawn
    assert nodes["cut"].startswith("17 more nodes not drawn (max_nodes=4):")
    assert nodes["cut"].endswith("constant x9, mul x7, leaf x1")
    assert ("cut", "n3") in edges
    assert "cut" not in parse(viz.graph(out))[0]


@pytest.mark.parametrize("bad, message", [
    ({"max_nodes": 0}, "max_nodes"), ({"max_nodes": True}, "max_nodes"),
    ({"rankdir": "up"}, "rankdir")])
def test_bad_options_are_named(bad, message):
    with pytest.raises(ValueError, match=message):
        viz.graph(X * 2, **bad)


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="must be a Tensor"):
        viz.graph(np.ones(2))
    with pytest.raises(TypeError, match="model must be"):
        viz.graph(X * 2, model=5)
    with pytest.raises(ValueError, match=r"\.svg, \.png or \.pdf"):
        viz.render(X * 2, "graph.jpg")


# -- rendering ------------------------------------------------------------------------------
HAVE_GRAPHVIZ = importlib.util.find_spec("graphviz") is not None and shutil.which("dot")
needs_graphviz = pytest.mark.skipif(
    not HAVE_GRAPHVIZ, reason="rendering needs the graphviz Python package and the dot "
                              "program (pip install 'minidl[viz]', apt-get install graphviz)")


@needs_graphviz
@pytest.mark.parametrize("suffix, magic", [(".svg", b"<svg"), (".png", b"\x89PNG")])
def test_render_writes_a_picture(tmp_path, suffix, magic):
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    out = model(Tensor(np.ones((1, 2)))).sum()
    path = viz.render(out, tmp_path / f"graph{suffix}", model)
    data = open(path, "rb").read()
    assert magic in data[:400]
    assert [p.name for p in tmp_path.iterdir()] == [f"graph{suffix}"]   # no temporaries


def test_render_without_dot_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match=r"pip install 'minidl\[viz\]'.*graphviz"):
        viz.render(X * 2, tmp_path / "graph.svg")
    assert not any(tmp_path.iterdir())
