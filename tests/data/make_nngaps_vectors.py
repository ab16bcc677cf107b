"""Generate tests/data/nngaps_vectors.npz: outputs and gradients of PyTorch's distances,
bilinear, channel shuffle, power-average pooling, the ``*_with_indices`` aliases, the
padding Modules, Unflatten, channel and alpha dropout, gumbel_softmax and the Transformer
decoder, in float32 and float64.

Three kinds of case, each under its number ``k/`` with its spec in the JSON key "cases":

- "layers": ``F.<name>`` or ``nn.<Name>`` replayed exactly as tests/data/
  make_layers_vectors.py does (its ``run``: arguments, cotangent g, outputs, gradients,
  a Module's state).
- "random": a random function on x. Its draw is stored as "noise", in the shape and form
  minidl's generator hands it out: the keep bits of a dropout, read off torch's output,
  as 1 (kept) or 0 (dropped) where minidl draws uniforms compared with p; for
  gumbel_softmax the Exponential(1) draws that torch's ``exponential_`` made (drawn again
  from the same seed, and checked against torch's output).
- "transformer": a ``TransformerDecoderLayer``, ``TransformerDecoder`` or ``Transformer``
  without dropout, its state_dict ("state:" keys, in torch's order, "keys"), inputs,
  masks, output, and the gradients of sum(y * g) for the inputs and every parameter.

    python tests/data/make_nngaps_vectors.py      # needs torch (2.13.0, CPU)
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from make_layers_vectors import case, run, write  # noqa: E402

OUT = Path(__file__).parent / "nngaps_vectors.npz"
X, POS = "x", "pos"

LAYER_CASES = [
    case("F.cosine_similarity", [[X, [4, 5]], [X, [4, 5]]]),
    case("F.cosine_similarity", [[X, [4, 1, 5]], [X, [3, 5]]], {"dim": -1, "eps": 1e-3}),
    case("F.pairwise_distance", [[X, [4, 5]], [X, [4, 5]]]),
    case("F.pairwise_distance", [[X, [4, 5]], [X, [5]]], {"p": 1.0, "keepdim": True}),
    case("F.pairwise_distance", [[X, [3, 4]], [X, [3, 4]]], {"p": 3.0, "eps": 0.1}),
    case("F.pdist", [[X, [5, 3]]]),
    case("F.pdist", [[X, [4, 3]]], {"p": 1.0}),
    case("F.pdist", [[X, [4, 6]]], {"p": 3.0}),
    case("F.bilinear", [[X, [4, 3]], [X, [4, 2]], [X, [5, 3, 2]], [X, [5]]]),
    case("F.bilinear", [[X, [2, 3, 3]], [X, [2, 3, 2]], [X, [4, 3, 2]]]),
    case("F.bilinear", [[X, [3]], [X, [2]], [X, [4, 3, 2]]]),
    case("F.channel_shuffle", [[X, [2, 6, 3]], ["const", 3]]),
    case("F.channel_shuffle", [[X, [2, 4, 2, 3]], ["const", 2]]),
    case("F.lp_pool2d", [[X, [2, 3, 6, 7]], ["const", 2], ["const", 3]],
         {"stride": 2, "ceil_mode": True}),
    case("F.lp_pool2d", [[POS, [2, 2, 4, 6]], ["const", 3.0], ["const", [2, 3]]]),
    case("F.lp_pool1d", [[POS, [2, 3, 8]], ["const", 1.5], ["const", 3]], {"stride": 2}),
    case("F.lp_pool1d", [[X, [3, 7]], ["const", 2], ["const", 2]]),
    case("F.max_pool2d_with_indices", [[X, [2, 3, 6, 6]]], {"kernel_size": 2}),
    case("F.max_pool1d_with_indices", [[X, [2, 3, 7]]], {"kernel_size": 3, "stride": 2}),
    case("F.adaptive_max_pool2d_with_indices", [[X, [2, 3, 7, 5]]], {"output_size": [3, 2]}),
    case("F.adaptive_max_pool1d_with_indices", [[X, [2, 3, 7]]], {"output_size": 3}),
    case("nn.ZeroPad1d", [[X, [2, 3, 5]]], init={"padding": [2, -1]}),
    case("nn.ZeroPad2d", [[X, [2, 3, 4, 5]]], init={"padding": [1, 2, 0, 3]}),
    case("nn.ConstantPad1d", [[X, [3, 5]]], init={"padding": 2, "value": 0.5}),
    case("nn.ConstantPad2d", [[X, [2, 3, 4]]], init={"padding": [0, 1, 2, 1], "value": -1.5}),
    case("nn.ReflectionPad1d", [[X, [2, 3, 5]]], init={"padding": [2, 1]}),
    case("nn.ReflectionPad2d", [[X, [2, 3, 4, 5]]], init={"padding": 1}),
    case("nn.ReplicationPad1d", [[X, [3, 4]]], init={"padding": 3}),
    case("nn.ReplicationPad2d", [[X, [2, 3, 4, 5]]], init={"padding": [1, 0, 2, 1]}),
    case("nn.CircularPad1d", [[X, [2, 3, 5]]], init={"padding": [2, 1]}),
    case("nn.CircularPad2d", [[X, [3, 4, 5]]], init={"padding": 1}),
    case("nn.Unflatten", [[X, [4, 6, 2]]], init={"dim": 1, "unflattened_size": [2, 3]}),
    case("nn.Unflatten", [[X, [4, 6]]], init={"dim": -1, "unflattened_size": [-1, 2]}),
    case("nn.Bilinear", [[X, [5, 3]], [X, [5, 2]]],
         init={"in1_features": 3, "in2_features": 2, "out_features": 4}),
    case("nn.Bilinear", [[X, [5, 3]], [X, [5, 2]]],
         init={"in1_features": 3, "in2_features": 2, "out_features": 4, "bias": False}),
    case("nn.CosineSimilarity", [[X, [5, 3]], [X, [5, 3]]], init={"dim": 0}),
    case("nn.PairwiseDistance", [[X, [5, 3]], [X, [5, 3]]], init={"p": 1.0, "keepdim": True}),
    case("nn.ChannelShuffle", [[X, [2, 6, 2, 2]]], init={"groups": 2}),
    case("nn.LPPool2d", [[X, [2, 3, 6, 6]]], init={"norm_type": 2, "kernel_size": [2, 3]}),
    case("nn.LPPool1d", [[X, [2, 3, 8]]], init={"norm_type": 2, "kernel_size": 3,
                                                 "stride": 2}),
    case("nn.Dropout2d", [[X, [2, 3, 4, 4]]], init={"p": 0.5}, train=False),
    case("nn.AlphaDropout", [[X, [2, 3]]], init={"p": 0.5}, train=False),
]


def random_case(call: str, shape: list[int], kwargs: dict) -> dict:
    return {"kind": "random", "call": call, "shape": shape, "kwargs": kwargs}


RANDOM_CASES = [
    random_case("F.dropout1d", [3, 4, 5], {"p": 0.4}),
    random_case("F.dropout1d", [4, 5], {"p": 0.5}),
    random_case("F.dropout2d", [3, 4, 2, 3], {"p": 0.3}),
    random_case("F.dropout3d", [2, 4, 2, 2, 3], {"p": 0.5}),
    random_case("F.dropout3d", [4, 2, 2, 3], {"p": 0.5}),
    random_case("F.alpha_dropout", [5, 6], {"p": 0.3, "training": True}),
    random_case("F.feature_alpha_dropout", [3, 6, 5], {"p": 0.4, "training": True}),
    random_case("F.gumbel_softmax", [4, 5], {}),
    random_case("F.gumbel_softmax", [3, 4, 2], {"tau": 0.5, "dim": 1}),
    random_case("F.gumbel_softmax", [4, 5], {"tau": 2.0, "hard": True}),
]


def transformer_case(module: str, init: dict, inputs: dict, masks: dict | None = None,
                     kwargs: dict | None = None) -> dict:
    return {"kind": "transformer", "call": f"nn.{module}", "init": init, "inputs": inputs,
            "masks": masks or {}, "kwargs": kwargs or {}}


LAYER = {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "dropout": 0.0}
TRANSFORMER_CASES = [
    transformer_case("TransformerDecoderLayer", LAYER, {"tgt": [5, 3, 8], "memory": [4, 3, 8]},
                     {"tgt_mask": ["causal", 5], "tgt_key_padding_mask": ["padding", 3, 5]},
                     {"tgt_is_causal": True}),
    transformer_case("TransformerDecoderLayer",
                     {**LAYER, "norm_first": True, "batch_first": True, "activation": "gelu"},
                     {"tgt": [3, 5, 8], "memory": [3, 4, 8]},
                     {"memory_mask": ["float", 5, 4],
                      "memory_key_padding_mask": ["padding", 3, 4]}),
    transformer_case("TransformerDecoderLayer", {**LAYER, "bias": False},
                     {"tgt": [5, 8], "memory": [4, 8]}, {"tgt_mask": ["bool", 5, 5]}),
    transformer_case("TransformerDecoder", {"layer": LAYER, "num_layers": 2, "norm": True},
                     {"tgt": [5, 2, 8], "memory": [4, 2, 8]}, {"tgt_mask": ["causal", 5]}),
    transformer_case("Transformer", {**LAYER, "num_encoder_layers": 1, "num_decoder_layers": 2,
                                     "batch_first": True},
                     {"src": [2, 4, 8], "tgt": [2, 5, 8]},
                     {"tgt_mask": ["causal", 5], "src_key_padding_mask": ["padding", 2, 4],
                      "memory_key_padding_mask": ["padding", 2, 4]}),
    transformer_case("Transformer", {**LAYER, "num_encoder_layers": 2, "num_decoder_layers": 1,
                                     "norm_first": True},
                     {"src": [4, 2, 8], "tgt": [3, 2, 8]}, {"src_mask": ["float", 4, 4]}),
]


# -- random functions ------------------------------------------------------------------------
SELU_SATURATION = 1.7580993408473766


def keep_bits(name: str, x: np.ndarray, y: np.ndarray, p: float) -> np.ndarray:
    """1 where torch kept a value (or a channel), 0 where it dropped it, in the shape
    minidl draws: x's for alpha_dropout, (N, C, 1, ...) for channel dropout (an
    unbatched input given its batch axis)."""
    if name == "alpha_dropout":
        a = 1 / math.sqrt((SELU_SATURATION ** 2 * p + 1) * (1 - p))
        return np.isclose(y, a * x + SELU_SATURATION * a * p, rtol=1e-4, atol=1e-5) * 1.0
    if name == "feature_alpha_dropout":
        a = 1 / math.sqrt((SELU_SATURATION ** 2 * p + 1) * (1 - p))
        kept = np.isclose(y, a * x + SELU_SATURATION * a * p, rtol=1e-4, atol=1e-5)
    else:
        kept = y != 0
    batched = {"dropout1d": 3, "dropout3d": 5}.get(name, x.ndim)
    kept = kept if x.ndim == batched else kept[None]
    axes = tuple(range(2, kept.ndim))
    whole = kept.all(axis=axes, keepdims=True)
    assert np.array_equal(whole, kept.any(axis=axes, keepdims=True)), "a channel partly dropped"
    return whole * 1.0


def run_random(spec: dict, dtype: torch.dtype, rng: np.random.Generator) -> dict:
    name = spec["call"].removeprefix("F.")
    x = torch.tensor(rng.standard_normal(spec["shape"]), dtype=dtype, requires_grad=True)
    seed = int(rng.integers(2**31))
    torch.manual_seed(seed)
    exponentials = torch.empty_like(x).exponential_()
    torch.manual_seed(seed)
    y = getattr(F, name)(x, **spec["kwargs"])
    g = torch.tensor(rng.standard_normal(tuple(y.shape)), dtype=dtype)
    (y * g).sum().backward()
    x_np, y_np = x.detach().numpy(), y.detach().numpy()
    if name == "gumbel_softmax":
        noise = exponentials.numpy()
        soft = torch.softmax((x.detach() - exponentials.log()) / spec["kwargs"].get("tau", 1),
                             spec["kwargs"].get("dim", -1))
        expected = (F.one_hot(soft.argmax(-1), soft.shape[-1]).to(dtype)
                    if spec["kwargs"].get("hard") else soft)
        assert torch.allclose(y.detach(), expected, atol=1e-6), "gumbels not reproduced"
    else:
        noise = keep_bits(name, x_np, y_np, spec["kwargs"]["p"])
        assert 0 < noise.mean() < 1, "draw kept all or nothing: pick another shape"
    return {"arg0": x_np, "grad0": x.grad.numpy(), "y0": y_np, "g": g.numpy(), "noise": noise}


# -- the Transformer ---------------------------------------------------------------------------
def make_mask(spec: list, rng: np.random.Generator, dtype: torch.dtype) -> torch.Tensor:
    kind, *shape = spec
    if kind == "causal":
        return torch.nn.Transformer.generate_square_subsequent_mask(shape[0], dtype=dtype)
    if kind == "bool":       # True: not allowed; the diagonal always allowed
        mask = rng.random(shape) < 0.3
        np.fill_diagonal(mask, False)
        return torch.tensor(mask)
    if kind == "float":
        return torch.tensor(rng.standard_normal(shape), dtype=dtype)
    mask = np.zeros(shape, dtype=bool)     # "padding": each row loses a tail, keeps >= 1
    for row in mask:
        row[rng.integers(1, shape[1] + 1):] = True
    return torch.tensor(mask)


def build_transformer(spec: dict) -> torch.nn.Module:
    name, init = spec["call"].removeprefix("nn."), dict(spec["init"])
    if name == "TransformerDecoder":
        layer = torch.nn.TransformerDecoderLayer(**init["layer"])
        norm = torch.nn.LayerNorm(init["layer"]["d_model"]) if init["norm"] else None
        return torch.nn.TransformerDecoder(layer, init["num_layers"], norm)
    return getattr(torch.nn, name)(**init)


def run_transformer(spec: dict, dtype: torch.dtype, rng: np.random.Generator) -> dict:
    module = build_transformer(spec).to(dtype)
    with torch.no_grad():   # parameters away from their initial ones, ones and zeros
        for parameter in module.parameters():
            parameter.copy_(torch.tensor(rng.standard_normal(parameter.shape) * 0.5))
    inputs = {name: torch.tensor(rng.standard_normal(shape), dtype=dtype, requires_grad=True)
              for name, shape in spec["inputs"].items()}
    masks = {name: make_mask(mask, rng, dtype) for name, mask in spec["masks"].items()}
    y = module(**inputs, **masks, **spec["kwargs"])
    g = torch.tensor(rng.standard_normal(tuple(y.shape)), dtype=dtype)
    (y * g).sum().backward()
    result = {"y0": y.detach().numpy(), "g": g.numpy()}
    result.update({f"input:{name}": t.detach().numpy() for name, t in inputs.items()})
    result.update({f"grad:{name}": t.grad.numpy() for name, t in inputs.items()})
    result.update({f"mask:{name}": t.numpy() for name, t in masks.items()})
    result.update({f"state:{key}": value.numpy() for key, value in module.state_dict().items()})
    result.update({f"pgrad:{key}": p.grad.numpy() for key, p in module.named_parameters()})
    result["keys"] = np.array(json.dumps(list(module.state_dict())))
    return result


def main() -> None:
    write([(dict(spec, kind="layers"), run) for spec in LAYER_CASES]
          + [(spec, run_random) for spec in RANDOM_CASES]
          + [(spec, run_transformer) for spec in TRANSFORMER_CASES], OUT)


if __name__ == "__main__":
    main()
