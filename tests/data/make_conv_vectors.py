"""Generate tests/data/torch_conv_vectors.npz: outputs and gradients of PyTorch's
convolution, pooling, normalisation, embedding and pad, in float64.

Each case stores its inputs, a cotangent g, torch's output y = f(inputs) and
the gradients of sum(y * g); the settings are in CASES (JSON, key "cases"), so
the test replays them without torch:

    python tests/data/make_conv_vectors.py      # needs torch (2.13.0, CPU)
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

OUT = Path(__file__).parent / "torch_conv_vectors.npz"

CASES = [
    # kind, settings, input shape (and weight shape for convolutions)
    ("conv2d", {"stride": 1, "padding": 1}, [2, 3, 6, 5], [4, 3, 3, 3]),
    ("conv2d", {"stride": [2, 1], "padding": [0, 2], "dilation": [1, 2]}, [2, 4, 7, 6],
     [6, 2, 2, 3], {"groups": 2}),
    ("conv2d", {"padding": "same", "dilation": 2}, [1, 2, 5, 6], [3, 2, 2, 3]),
    ("conv2d", {"padding": "valid"}, [3, 1, 4, 4], [2, 1, 4, 4]),
    ("conv2d", {"stride": 2, "padding": 0}, [1, 3, 5, 5], [3, 1, 1, 1], {"groups": 3}),
    ("conv2d_mode", {"padding": 1, "padding_mode": "reflect"}, [2, 2, 5, 4], [3, 2, 3, 3]),
    ("conv2d_mode", {"padding": [2, 1], "padding_mode": "replicate"}, [1, 2, 4, 4],
     [2, 2, 3, 2]),
    ("conv2d_mode", {"padding": "same", "padding_mode": "circular"}, [2, 1, 5, 5],
     [2, 1, 4, 3]),
    ("conv1d", {"stride": 2, "padding": 1}, [2, 3, 9], [4, 3, 3]),
    ("conv1d", {"padding": "same", "dilation": 3, "groups": 2}, [1, 4, 8], [2, 2, 2]),
    ("max_pool2d", {"kernel_size": 2}, [2, 3, 6, 6]),
    ("max_pool2d", {"kernel_size": [3, 2], "stride": [2, 1], "padding": 1}, [2, 2, 7, 5]),
    ("max_pool2d_ties", {"kernel_size": 3, "stride": 1, "padding": 1}, [1, 2, 5, 5]),
    ("avg_pool2d", {"kernel_size": 2}, [2, 3, 6, 6]),
    ("avg_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, [2, 2, 7, 6]),
    ("max_pool1d", {"kernel_size": 3, "stride": 2, "padding": 1}, [2, 3, 9]),
    ("avg_pool1d", {"kernel_size": 2}, [2, 3, 9]),
    ("adaptive_avg_pool2d", {"output_size": 1}, [2, 3, 5, 4]),
    ("adaptive_avg_pool2d", {"output_size": [3, 2]}, [2, 3, 7, 5]),
    ("batch_norm2d", {"momentum": 0.1, "eps": 1e-5}, [4, 3, 3, 2]),
    ("layer_norm", {"normalized_shape": [3, 4]}, [2, 5, 3, 4]),
    ("layer_norm", {"normalized_shape": [6]}, [4, 6]),
    ("embedding", {"num_embeddings": 7, "padding_idx": 2}, [3, 5]),
    ("pad", {"pad": [1, 2, 2, 1], "mode": "reflect"}, [2, 3, 4, 5]),
    ("pad", {"pad": [2, 0, 1, 3], "mode": "replicate"}, [2, 3, 4, 5]),
    ("pad", {"pad": [3, 1], "mode": "circular"}, [2, 3, 4]),
    ("pad", {"pad": [1, 1, 0, 2], "mode": "constant", "value": 0.5}, [2, 4, 3]),
    # last, so that the cases above keep their random inputs
    ("max_pool2d_nan", {"kernel_size": 2}, [2, 3, 6, 6]),
    ("max_pool2d_nan", {"kernel_size": [2, 3], "stride": 1, "padding": 1}, [1, 2, 5, 6]),
]


def run(kind: str, settings: dict, shape: list, rng: np.random.Generator, extra: dict,
        weight_shape: list | None) -> dict[str, np.ndarray]:
    """Inputs, g, y and gradients of one case, as numpy arrays."""
    x = torch.tensor(rng.standard_normal(shape), requires_grad=True)
    arrays: dict[str, torch.Tensor] = {"x": x}
    if kind.startswith("conv"):
        w = torch.tensor(rng.standard_normal(weight_shape), requires_grad=True)
        b = torch.tensor(rng.standard_normal(weight_shape[0]), requires_grad=True)
        arrays.update(w=w, b=b)
        if kind == "conv2d_mode":
            layer = torch.nn.Conv2d(shape[1], weight_shape[0], weight_shape[2:], **settings,
                                    dtype=torch.float64)
            with torch.no_grad():
                layer.weight.copy_(w)
                layer.bias.copy_(b)
            y = layer(x)
            layer_weight, layer_bias = layer.weight, layer.bias
        else:
            conv = F.conv2d if kind == "conv2d" else F.conv1d
            y = conv(x, w, b, **settings, **extra)
    elif kind == "max_pool2d_ties":
        with torch.no_grad():
            x.copy_(torch.tensor(np.round(rng.standard_normal(shape))))   # many equal values
        y = F.max_pool2d(x, **settings)
    elif kind == "max_pool2d_nan":   # ties and NaNs, some windows with two: the last NaN wins
        values = np.round(rng.standard_normal(shape))
        values[rng.random(shape) < 0.2] = np.nan
        with torch.no_grad():
            x.copy_(torch.tensor(values))
        y = F.max_pool2d(x, **settings)
    elif kind in ("max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d", "adaptive_avg_pool2d"):
        y = getattr(F, kind)(x, **settings)
    elif kind == "batch_norm2d":
        layer = torch.nn.BatchNorm2d(shape[1], **settings, dtype=torch.float64)
        with torch.no_grad():
            layer.weight.copy_(torch.tensor(rng.standard_normal(shape[1])))
            layer.bias.copy_(torch.tensor(rng.standard_normal(shape[1])))
        layer(torch.tensor(rng.standard_normal(shape)) * 2 + 1)   # a first step: running stats
        arrays["running_mean_before"] = layer.running_mean.clone()
        arrays["running_var_before"] = layer.running_var.clone()
        y = layer(x)
        arrays.update(w=layer.weight, b=layer.bias)
        layer.eval()
        arrays["eval_y"] = layer(x).detach()
        arrays["running_mean"] = layer.running_mean.clone()
        arrays["running_var"] = layer.running_var.clone()
    elif kind == "layer_norm":
        w = torch.tensor(rng.standard_normal(settings["normalized_shape"]), requires_grad=True)
        b = torch.tensor(rng.standard_normal(settings["normalized_shape"]), requires_grad=True)
        arrays.update(w=w, b=b)
        y = F.layer_norm(x, settings["normalized_shape"], w, b)
    elif kind == "embedding":
        index = torch.tensor(rng.integers(0, settings["num_embeddings"], shape))
        index[0, :2] = 3   # a repeated index
        index[1, 0] = settings["padding_idx"]
        w = torch.tensor(rng.standard_normal((settings["num_embeddings"], 4)),
                         requires_grad=True)
        arrays = {"index": index, "w": w}
        y = F.embedding(index, w, padding_idx=settings["padding_idx"])
    elif kind == "pad":
        y = F.pad(x, **settings)
    else:
        raise ValueError(kind)
    g = torch.tensor(rng.standard_normal(tuple(y.shape)))
    (y * g).sum().backward()
    result = {name: array.detach().numpy() for name, array in arrays.items()}
    result.update(y=y.detach().numpy(), g=g.numpy())
    for name, array in arrays.items():
        if array.requires_grad and array.grad is not None:
            result[f"grad_{name}"] = array.grad.numpy()
    if kind == "conv2d_mode":
        result.update(grad_w=layer_weight.grad.numpy(), grad_b=layer_bias.grad.numpy())
    return result


def main() -> None:
    rng = np.random.default_rng(0)
    out: dict[str, np.ndarray] = {}
    cases = []
    for number, (kind, settings, shape, *rest) in enumerate(CASES):
        weight_shape = rest[0] if rest else None
        extra = rest[1] if len(rest) > 1 else {}
        for name, array in run(kind, settings, shape, rng, extra, weight_shape).items():
            out[f"{number}/{name}"] = array
        cases.append({"kind": kind, "settings": {**settings, **extra}, "shape": shape})
    out["cases"] = np.array(json.dumps(cases))
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT}: {len(cases)} cases, torch {torch.__version__}")


if __name__ == "__main__":
    main()
