"""Generate tests/data/module_hook_vectors.npz with torch (run by hand, needs torch).

    python tests/data/make_module_hook_vectors.py

``record`` builds the same small model on torch or on minidl (Linear, Tanh,
Linear, no biases, fixed weights), registers a full backward pre-hook and a full
backward hook on each layer, which log what they see, and one on the whole
Sequential that doubles its grad_input; then it runs one backward of
sum(model(x) ** 2), with x requiring grad or not. tests/test_module_hooks.py
replays it on minidl. Keys, for ``<req>`` in ``x_grad`` / ``x_no_grad``:
``<req>_order`` (one row per hook call: kind 0 pre-hook / 1 hook, layer index),
``<req>_call<k>_<j>`` (the j-th gradient the k-th call saw; absent when None),
``<req>_x`` (x.grad) and ``<req>_w0`` (the first weight's grad).
"""
from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

RNG = np.random.default_rng(0)
W1 = RNG.standard_normal((4, 3)).astype(np.float32)
W2 = RNG.standard_normal((2, 4)).astype(np.float32)
X = RNG.standard_normal((5, 3)).astype(np.float32)


def record(lib: ModuleType, requires_grad: bool) -> dict[str, np.ndarray]:
    """Run the hooked backward on ``lib`` (torch or minidl) and return its log."""
    nn = lib.nn
    model = nn.Sequential(nn.Linear(3, 4, bias=False), nn.Tanh(), nn.Linear(4, 2, bias=False))
    with lib.no_grad():
        model[0].weight.copy_(lib.tensor(W1))
        model[2].weight.copy_(lib.tensor(W2))
    calls: list[tuple[int, int, list[Any]]] = []

    def grads(gs: tuple) -> list[Any]:
        return [None if g is None else np.array(g.detach().numpy()) for g in gs]

    for i, layer in enumerate(model):
        layer.register_full_backward_pre_hook(
            lambda module, grad_output, i=i: calls.append((0, i, grads(grad_output))))
        layer.register_full_backward_hook(
            lambda module, grad_input, grad_output, i=i: calls.append((1, i, grads(grad_input))))
    model.register_full_backward_hook(
        lambda module, grad_input, grad_output:
        None if grad_input[0] is None else (grad_input[0] * 2,))
    x = lib.tensor(X, requires_grad=requires_grad)
    (model(x) ** 2).sum().backward()
    name = "x_grad" if requires_grad else "x_no_grad"
    out = {f"{name}_order": np.array([(kind, i) for kind, i, _ in calls]),
           f"{name}_w0": np.array(model[0].weight.grad.numpy())}
    if requires_grad:
        out[f"{name}_x"] = np.array(x.grad.numpy())
    for k, (_, _, seen) in enumerate(calls):
        for j, g in enumerate(seen):
            if g is not None:
                out[f"{name}_call{k}_{j}"] = g
    return out


def main() -> None:
    import warnings

    import torch

    out: dict[str, np.ndarray] = {}
    with warnings.catch_warnings():   # torch warns that the hooks fire without input grads
        warnings.simplefilter("ignore", UserWarning)
        for requires_grad in (True, False):
            out.update(record(torch, requires_grad))
    path = Path(__file__).with_name("module_hook_vectors.npz")
    np.savez(path, **out)
    print(f"wrote {path} with torch {torch.__version__}")


if __name__ == "__main__":
    main()
