"""Generate tests/data/torch_attention_vectors.npz: outputs and gradients of PyTorch's
scaled_dot_product_attention, MultiheadAttention, TransformerEncoderLayer,
TransformerEncoder, RMSNorm and GroupNorm, in float32 and float64.

Each case stores its inputs (``in/NAME``, passed positionally; a self-attention
case passes its one input as query, key and value), the mask arguments
(``arg/NAME``), the module's parameters (``p/NAME``, random so that no norm
weight is simply one), cotangents g (and gw for attention weights), torch's
outputs y (and w) and the gradients of sum(y * g) + sum(w * gw) for every input
(``grad_in/NAME``) and parameter (``grad_p/NAME``). The settings are in CASES
(JSON, key "cases"), so the test replays them without torch. Dropout is 0
throughout: torch's random masks cannot be replayed.

    python tests/data/make_attention_vectors.py      # needs torch (2.13.0, CPU)
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).parent / "torch_attention_vectors.npz"

LAYER = {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "dropout": 0.0}
CASES = [
    # kind, constructor settings, forward settings, input shapes, mask arguments
    ("sdpa", {}, {}, {"query": [2, 5, 4], "key": [2, 6, 4], "value": [2, 6, 3]}, {}),
    ("sdpa", {}, {}, {"query": [2, 3, 5, 4], "key": [2, 3, 6, 4], "value": [2, 3, 6, 4]},
     {"attn_mask": ("bool", [5, 6])}),
    ("sdpa", {}, {"scale": 0.3},
     {"query": [2, 3, 5, 4], "key": [2, 3, 6, 4], "value": [2, 3, 6, 2], "attn_mask": [3, 5, 6]},
     {}),
    ("sdpa", {}, {"is_causal": True}, {"query": [2, 5, 4], "key": [2, 7, 4], "value": [2, 7, 4]},
     {}),
    ("sdpa", {}, {}, {"query": [1, 4, 3], "key": [1, 4, 3], "value": [1, 4, 3]},
     {"attn_mask": ("bool_empty_row", [4, 4])}),
    ("mha", {"embed_dim": 8, "num_heads": 2}, {"self": True}, {"query": [5, 3, 8]}, {}),
    ("mha", {"embed_dim": 8, "num_heads": 4, "batch_first": True},
     {"self": True, "need_weights": False},
     {"query": [3, 5, 8]}, {"key_padding_mask": ("padding", [3, 5]),
                            "attn_mask": ("float", [5, 5])}),
    ("mha", {"embed_dim": 6, "num_heads": 3, "bias": False}, {"average_attn_weights": False},
     {"query": [4, 2, 6], "key": [5, 2, 6], "value": [5, 2, 6]},
     {"attn_mask": ("not_allowed", [6, 4, 5])}),
    ("mha", {"embed_dim": 8, "num_heads": 2}, {"self": True}, {"query": [5, 8]},
     {"key_padding_mask": ("padding", [5])}),
    ("mha", {"embed_dim": 8, "num_heads": 2, "batch_first": True},
     {"self": True, "need_weights": False, "is_causal": True}, {"query": [2, 5, 8]},
     {"attn_mask": ("causal_float", [5, 5])}),
    ("encoder_layer", LAYER, {}, {"src": [5, 3, 8]}, {}),
    ("encoder_layer", {**LAYER, "activation": "gelu", "norm_first": True, "batch_first": True},
     {}, {"src": [3, 5, 8]}, {"src_key_padding_mask": ("padding", [3, 5]),
                              "src_mask": ("causal_bool", [5, 5])}),
    ("encoder_layer", {**LAYER, "bias": False, "layer_norm_eps": 1e-3}, {}, {"src": [5, 8]},
     {"src_mask": ("float", [5, 5])}),
    ("encoder", {"layer": LAYER, "num_layers": 2, "norm": True}, {}, {"src": [6, 2, 8]},
     {"mask": ("causal_float", [6, 6])}),
    ("encoder", {"layer": {**LAYER, "batch_first": True, "norm_first": True,
                           "activation": "gelu"}, "num_layers": 3}, {}, {"src": [2, 6, 8]},
     {"src_key_padding_mask": ("padding", [2, 6])}),
    ("rms_norm", {"normalized_shape": [6]}, {}, {"input": [4, 6]}, {}),
    ("rms_norm", {"normalized_shape": [3, 4], "eps": 1e-3}, {}, {"input": [2, 5, 3, 4]}, {}),
    ("rms_norm", {"normalized_shape": 5, "elementwise_affine": False}, {}, {"input": [3, 5]}, {}),
    ("group_norm", {"num_groups": 2, "num_channels": 6}, {}, {"input": [3, 6, 5]}, {}),
    ("group_norm", {"num_groups": 3, "num_channels": 6, "eps": 1e-3}, {},
     {"input": [2, 6, 3, 4]}, {}),
    ("group_norm", {"num_groups": 1, "num_channels": 4, "affine": False}, {}, {"input": [3, 4]},
     {}),
    ("group_norm", {"num_groups": 4, "num_channels": 4}, {}, {"input": [2, 4, 7]}, {}),
]


def mask(kind: str, shape: list[int], rng: np.random.Generator) -> np.ndarray:
    """A mask argument: bool True where attention is allowed (scaled_dot_product_attention's
    convention) or not allowed (MultiheadAttention's), or float to add."""
    if kind == "bool":
        allowed = rng.random(shape) < 0.7
        allowed[..., 0] = True                   # every query sees a key
        return allowed
    if kind == "bool_empty_row":
        allowed = rng.random(shape) < 0.7
        allowed[..., 0] = True
        allowed[1] = False                       # query 1 sees no key: y = 0 there
        return allowed
    if kind == "float":
        return rng.standard_normal(shape)
    if kind == "not_allowed":
        blocked = rng.random(shape) < 0.3
        blocked[..., 0] = False
        return blocked
    if kind == "padding":
        blocked = np.zeros(shape, dtype=bool)
        blocked[..., -2:] = True                 # the last two keys of every sequence
        return blocked
    length = shape[0]
    above = ~np.tri(length, dtype=bool)
    if kind == "causal_bool":
        return above
    if kind == "causal_float":
        return np.where(above, -np.inf, 0.0)
    raise ValueError(kind)


def module(kind: str, settings: dict, dtype: torch.dtype) -> torch.nn.Module:
    if kind == "mha":
        return torch.nn.MultiheadAttention(**settings, dtype=dtype)
    if kind == "encoder_layer":
        return torch.nn.TransformerEncoderLayer(**settings, dtype=dtype)
    if kind == "encoder":
        layer = torch.nn.TransformerEncoderLayer(**settings["layer"], dtype=dtype)
        norm = torch.nn.LayerNorm(layer.linear1.in_features, dtype=dtype) \
            if settings.get("norm") else None
        return torch.nn.TransformerEncoder(layer, settings["num_layers"], norm=norm,
                                           enable_nested_tensor=False)
    if kind == "rms_norm":
        return torch.nn.RMSNorm(**settings, dtype=dtype)
    return torch.nn.GroupNorm(**settings, dtype=dtype)


def run(kind: str, settings: dict, forward: dict, shapes: dict, masks: dict,
        dtype: torch.dtype, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Inputs, parameters, cotangents, outputs and gradients of one case."""
    inputs = {name: torch.tensor(rng.standard_normal(shape), dtype=dtype, requires_grad=True)
              for name, shape in shapes.items()}
    args = {name: torch.tensor(mask(how, shape, rng)) for name, (how, shape) in masks.items()}
    args = {name: a.to(dtype) if a.is_floating_point() else a for name, a in args.items()}
    arrays: dict[str, np.ndarray] = {}
    if kind == "sdpa":
        params: dict[str, torch.Tensor] = {}
        out = torch.nn.functional.scaled_dot_product_attention(*inputs.values(), **args,
                                                               **forward)
    else:
        layer = module(kind, settings, dtype)
        with torch.no_grad():
            for p in layer.parameters():
                p.copy_(torch.tensor(rng.standard_normal(p.shape) * 0.5, dtype=dtype))
        params = dict(layer.named_parameters())
        call = {k: v for k, v in forward.items() if k != "self"}
        positional = list(inputs.values()) * (3 if forward.get("self") else 1)
        out = layer(*positional, **args, **call)
    outputs = {"y": out[0], "w": out[1]} if kind == "mha" else {"y": out}
    total = 0
    for name, y in outputs.items():
        if y is not None:
            g = torch.tensor(rng.standard_normal(y.shape), dtype=dtype)
            total = total + (y * g).sum()
            arrays[name], arrays["g" if name == "y" else "gw"] = y.detach().numpy(), g.numpy()
    total.backward()
    for group, tensors in (("in", inputs), ("p", params)):
        for name, t in tensors.items():
            arrays[f"{group}/{name}"] = t.detach().numpy()
            arrays[f"grad_{group}/{name}"] = t.grad.numpy()
    for name, a in args.items():
        arrays[f"arg/{name}"] = a.numpy()
    return arrays


def main() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    arrays: dict[str, np.ndarray] = {}
    cases = []
    for kind, settings, forward, shapes, masks in CASES:
        for dtype in (torch.float32, torch.float64):
            number = len(cases)
            cases.append({"kind": kind, "settings": settings, "forward": forward,
                          "dtype": str(dtype).removeprefix("torch.")})
            for key, value in run(kind, settings, forward, shapes, masks, dtype, rng).items():
                arrays[f"{number}/{key}"] = value
    np.savez_compressed(OUT, cases=json.dumps(cases), **arrays)
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
