"""Parity with PyTorch in float64: outputs and every gradient of the new layers match
vectors that tests/data/make_conv_vectors.py generated with torch 2.13.0 (the suite
does not need torch). Max-pool ties and NaNs, "same" padding with an even kernel, the
padding modes and the running statistics of BatchNorm2d are among the cases.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F

VECTORS = np.load(Path(__file__).parent / "data" / "torch_conv_vectors.npz")
CASES = json.loads(str(VECTORS["cases"]))


def stored(number: int) -> dict[str, np.ndarray]:
    prefix = f"{number}/"
    return {key[len(prefix):]: VECTORS[key] for key in VECTORS.files if key.startswith(prefix)}


def leaf(array: np.ndarray) -> minidl.Tensor:
    return minidl.Tensor(array.copy(), requires_grad=True, dtype=np.float64)


def replay(kind: str, settings: dict, v: dict[str, np.ndarray]
           ) -> tuple[minidl.Tensor, dict[str, minidl.Tensor]]:
    """minidl's output for a stored case, and the tensors whose gradients torch stored."""
    x = leaf(v["x"]) if "x" in v else None
    if kind in ("conv2d", "conv1d"):
        w, b = leaf(v["w"]), leaf(v["b"])
        return getattr(F, kind)(x, w, b, **settings), {"x": x, "w": w, "b": b}
    if kind == "conv2d_mode":
        layer = nn.Conv2d(x.shape[1], v["w"].shape[0], v["w"].shape[2:], dtype=np.float64,
                          **settings)
        layer.weight.data, layer.bias.data = v["w"].copy(), v["b"].copy()
        return layer(x), {"x": x, "w": layer.weight, "b": layer.bias}
    if kind in ("max_pool2d", "max_pool2d_ties", "max_pool2d_nan", "avg_pool2d", "max_pool1d",
                "avg_pool1d", "adaptive_avg_pool2d"):
        return getattr(F, kind.removesuffix("_ties").removesuffix("_nan"))(x, **settings), {"x": x}
    if kind == "layer_norm":
        w, b = leaf(v["w"]), leaf(v["b"])
        return F.layer_norm(x, settings["normalized_shape"], w, b), {"x": x, "w": w, "b": b}
    if kind == "embedding":
        w = leaf(v["w"])
        return F.embedding(v["index"], w, settings["padding_idx"]), {"w": w}
    if kind == "pad":
        return F.pad(x, **settings), {"x": x}
    raise ValueError(kind)


@pytest.mark.parametrize("number", [i for i, c in enumerate(CASES) if c["kind"] != "batch_norm2d"],
                         ids=lambda i: f"{CASES[i]['kind']}-{i}")
def test_matches_torch(number):
    case, v = CASES[number], stored(number)
    y, inputs = replay(case["kind"], case["settings"], v)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), v["y"], rtol=1e-10, atol=1e-12)
    y.backward(v["g"])
    for name, tensor in inputs.items():
        np.testing.assert_allclose(tensor.grad, v[f"grad_{name}"], rtol=1e-10, atol=1e-12,
                                   err_msg=f"gradient of {name}")


def test_batch_norm2d_matches_torch_in_training_and_eval():
    number = next(i for i, c in enumerate(CASES) if c["kind"] == "batch_norm2d")
    settings, v = CASES[number]["settings"], stored(number)
    layer = nn.BatchNorm2d(v["x"].shape[1], dtype=np.float64, **settings)
    layer.weight.data, layer.bias.data = v["w"].copy(), v["b"].copy()
    # the running statistics after torch's first training step, then a second step
    layer.running_mean[...] = v["running_mean_before"]
    layer.running_var[...] = v["running_var_before"]
    layer.num_batches_tracked[...] = 1
    x = leaf(v["x"])
    y = layer(x)
    np.testing.assert_allclose(y.numpy(), v["y"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.running_mean, v["running_mean"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.running_var, v["running_var"], rtol=1e-10, atol=1e-12)
    y.backward(v["g"])
    for name, tensor in (("x", x), ("w", layer.weight), ("b", layer.bias)):
        np.testing.assert_allclose(tensor.grad, v[f"grad_{name}"], rtol=1e-10, atol=1e-12)
    layer.eval()
    np.testing.assert_allclose(layer(v["x"]).numpy(), v["eval_y"], rtol=1e-10, atol=1e-12)
