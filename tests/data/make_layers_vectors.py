"""Generate tests/data/layers_vectors.npz: outputs and gradients of PyTorch's pooling
options, unpooling, adaptive pooling, transposed convolutions, F.pad's cropping,
resampling, instance and local response norm, the activations with parameters and
the losses, in float32 and float64.

A case calls ``F.<name>(*args, **kwargs)`` or ``nn.<Name>(**init)(*args, **forward)``
the same way in torch and minidl (their arguments agree). Its ``args`` are drawn by
kind: "x" standard normal, "pos" in [0.2, 2], "prob" rows of probabilities (each of
these float and requiring grad), "sign" +-1, "binary" 0/1, "count" 0 to 4 (floats,
without grad; torch's Stirling term computes integer targets in float32), "label" classes below
``classes``, "multilabel" target lists ended by -1, "pool" the values and indices of
a max pooling (for max_unpool), "const" a number. The file stores each case's
arguments, a cotangent g of its first output, every output, the gradients of
sum(y * g) (arguments, parameters) and a module's state before and after the call; the
cases themselves are in the JSON key "cases", so the test replays them without torch:

    python tests/data/make_layers_vectors.py      # needs torch (2.13.0, CPU)
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

OUT = Path(__file__).parent / "layers_vectors.npz"


def case(call: str, args: list, kwargs: dict | None = None, *, init: dict | None = None,
         train: bool = True) -> dict:
    return {"call": call, "args": args, "kwargs": kwargs or {}, "init": init or {},
            "train": train}


X = "x"
CASES = [
    # pooling
    case("F.max_pool2d", [[X, [2, 3, 7, 8]]], {"kernel_size": 3, "stride": 2, "padding": 1,
                                               "dilation": 2, "ceil_mode": True,
                                               "return_indices": True}),
    case("F.max_pool2d", [[X, [2, 2, 6, 7]]], {"kernel_size": [2, 3], "ceil_mode": True}),
    case("F.max_pool2d", [[X, [3, 5, 5]]], {"kernel_size": 2, "stride": 1, "dilation": [2, 1],
                                            "return_indices": True}),
    case("F.max_pool1d", [[X, [2, 3, 9]]], {"kernel_size": 3, "stride": 2, "padding": 1,
                                            "dilation": 2, "ceil_mode": True,
                                            "return_indices": True}),
    case("F.avg_pool2d", [[X, [2, 3, 7, 8]]], {"kernel_size": 3, "stride": 2, "padding": 1,
                                               "ceil_mode": True}),
    case("F.avg_pool2d", [[X, [2, 3, 7, 8]]], {"kernel_size": 3, "stride": 2, "padding": 1,
                                               "ceil_mode": True, "count_include_pad": False}),
    case("F.avg_pool2d", [[X, [2, 2, 5, 6]]], {"kernel_size": [3, 2], "padding": 1,
                                               "divisor_override": 5}),
    case("F.avg_pool1d", [[X, [2, 3, 9]]], {"kernel_size": 4, "stride": 3, "padding": 2,
                                            "ceil_mode": True, "count_include_pad": False}),
    case("F.adaptive_avg_pool2d", [[X, [2, 3, 7, 8]]], {"output_size": [3, 5]}),
    case("F.adaptive_avg_pool2d", [[X, [2, 3, 4, 5]]], {"output_size": [10, None]}),
    case("F.adaptive_avg_pool1d", [[X, [2, 3, 7]]], {"output_size": 3}),
    case("F.adaptive_avg_pool1d", [[X, [3, 4]]], {"output_size": 9}),
    case("F.adaptive_max_pool2d", [[X, [2, 3, 7, 8]]], {"output_size": [3, 5],
                                                        "return_indices": True}),
    case("F.adaptive_max_pool2d", [[X, [3, 5, 6]]], {"output_size": [7, 9],
                                                     "return_indices": True}),
    case("F.adaptive_max_pool1d", [[X, [2, 3, 7]]], {"output_size": 3, "return_indices": True}),
    case("F.max_unpool2d", [["pool", [2, 3, 6, 7], {"kernel_size": 2}]],
         {"kernel_size": 2, "output_size": [6, 7]}),
    case("F.max_unpool2d", [["pool", [2, 2, 7, 7], {"kernel_size": 3, "stride": 2,
                                                    "padding": 1}]],
         {"kernel_size": 3, "stride": 2, "padding": 1}),
    case("F.max_unpool1d", [["pool1d", [2, 3, 9], {"kernel_size": 3, "stride": 2}]],
         {"kernel_size": 3, "stride": 2}),
    # transposed convolution
    case("F.conv_transpose2d", [[X, [2, 4, 5, 6]], [X, [4, 3, 3, 2]], [X, [3]]],
         {"stride": 2, "padding": 1, "output_padding": 1}),
    case("F.conv_transpose2d", [[X, [1, 4, 5, 5]], [X, [4, 1, 3, 3]], [X, [2]]],
         {"groups": 2, "dilation": 2, "output_padding": 1}),
    case("F.conv_transpose2d", [[X, [2, 6, 4, 4]], [X, [6, 2, 2, 3]], [X, [6]]],
         {"groups": 3, "stride": [2, 3], "padding": [1, 0], "output_padding": [1, 2],
          "dilation": [1, 2]}),
    case("F.conv_transpose2d", [[X, [4, 3, 3]], [X, [4, 2, 2, 2]]], {"stride": 2}),
    case("F.conv_transpose1d", [[X, [2, 3, 7]], [X, [3, 2, 3]], [X, [2]]],
         {"stride": 3, "padding": 1, "output_padding": 2}),
    case("nn.ConvTranspose2d", [[X, [2, 4, 3, 3]]], {"output_size": [8, 8]},
         init={"in_channels": 4, "out_channels": 6, "kernel_size": 3, "stride": 2,
               "groups": 2}),
    # F.pad with negative (cropping) pads and wide replicate padding
    case("F.pad", [[X, [2, 3, 5]]], {"pad": [-1, 2], "mode": "constant", "value": 0.5}),
    case("F.pad", [[X, [1, 2, 4, 5]]], {"pad": [-1, 2, 3, -2], "mode": "replicate"}),
    case("F.pad", [[X, [1, 2, 5]]], {"pad": [-1, 2], "mode": "reflect"}),
    case("F.pad", [[X, [1, 2, 5]]], {"pad": [2, -3], "mode": "circular"}),
    case("F.pad", [[X, [1, 2, 3]]], {"pad": [5, 6], "mode": "replicate"}),
    # resampling
    case("F.interpolate", [[X, [2, 3, 5, 7]]], {"scale_factor": 2.3}),
    case("F.interpolate", [[X, [2, 3, 5, 7]]], {"size": [3, 11], "mode": "nearest-exact"}),
    case("F.interpolate", [[X, [2, 3, 5, 7]]], {"size": [3, 11], "mode": "bilinear"}),
    case("F.interpolate", [[X, [2, 3, 5, 7]]], {"size": [8, 4], "mode": "bilinear",
                                                "align_corners": True}),
    case("F.interpolate", [[X, [2, 3, 5, 7]]], {"scale_factor": [1.7, 0.6],
                                                "mode": "bilinear"}),
    case("F.interpolate", [[X, [2, 3, 5, 7]]], {"scale_factor": [1.7, 0.6], "mode": "bilinear",
                                                "recompute_scale_factor": True}),
    case("F.interpolate", [[X, [2, 3, 7]]], {"scale_factor": 3, "mode": "linear"}),
    case("F.interpolate", [[X, [2, 3, 7]]], {"size": 4, "mode": "linear",
                                             "align_corners": True}),
    case("F.interpolate", [[X, [2, 3, 7]]], {"size": 4}),
    case("F.interpolate", [[X, [2, 3, 7, 5]]], {"size": [3, 4], "mode": "area"}),
    case("nn.Upsample", [[X, [1, 2, 3, 4]]], init={"scale_factor": 2, "mode": "bilinear"}),
    case("F.pixel_shuffle", [[X, [2, 12, 3, 4]], ["const", 2]]),
    case("F.pixel_unshuffle", [[X, [2, 3, 4, 6]], ["const", 2]]),
    case("F.unfold", [[X, [2, 3, 5, 6]]], {"kernel_size": [2, 3], "dilation": [1, 2],
                                           "padding": 1, "stride": [2, 1]}),
    case("F.unfold", [[X, [3, 5, 6]]], {"kernel_size": 2}),
    case("F.fold", [[X, [2, 12, 12]]], {"output_size": [4, 5], "kernel_size": 2}),
    case("F.fold", [[X, [18, 18]]], {"output_size": [5, 6], "kernel_size": [2, 3],
                                     "stride": [1, 2], "padding": 1}),
    # normalisation
    case("nn.InstanceNorm1d", [[X, [3, 4, 5]]], init={"num_features": 4, "affine": True}),
    case("nn.InstanceNorm2d", [[X, [3, 4, 5, 2]]], init={"num_features": 4,
                                                         "track_running_stats": True,
                                                         "momentum": 0.3}),
    case("nn.InstanceNorm2d", [[X, [4, 3, 3]]], init={"num_features": 4, "affine": True,
                                                      "track_running_stats": True},
         train=False),
    case("F.local_response_norm", [[X, [2, 5, 4]], ["const", 3]],
         {"alpha": 0.1, "beta": 0.6, "k": 2.0}),
    case("F.local_response_norm", [[X, [2, 6, 3, 3]], ["const", 4]]),
    # activations
    case("F.threshold", [[X, [3, 4, 2]], ["const", 0.1], ["const", -2.0]]),
    case("F.hardshrink", [[X, [3, 4, 2]]], {"lambd": 0.4}),
    case("F.softshrink", [[X, [3, 4, 2]]], {"lambd": 0.3}),
    case("F.tanhshrink", [[X, [3, 4, 2]]]),
    case("F.glu", [[X, [3, 4, 2]]], {"dim": 1}),
    case("F.rrelu", [[X, [3, 4, 2]]], {"lower": 0.1, "upper": 0.4}),
    case("F.prelu", [[X, [3, 4, 2]], [X, [4]]]),
    case("nn.PReLU", [[X, [3, 4]]], init={"num_parameters": 4, "init": 0.1}),
    case("nn.PReLU", [[X, [5]]]),
    case("nn.LogSoftmax", [[X, [3, 4]]], init={"dim": 1}),
    case("nn.Softmax2d", [[X, [2, 3, 2, 2]]]),
    case("nn.GLU", [[X, [2, 6]]]),
    case("nn.Tanhshrink", [[X, [5]]]),
    # losses
    case("F.smooth_l1_loss", [[X, [4, 3]], [X, [4, 3]]], {"beta": 0.5}),
    case("F.smooth_l1_loss", [[X, [4, 3]], [X, [4, 3]]], {"beta": 0.0, "reduction": "sum"}),
    case("F.kl_div", [[X, [4, 3]], ["prob", [4, 3]]], {"reduction": "batchmean"}),
    case("F.kl_div", [[X, [4, 3]], [X, [4, 3]]], {"reduction": "sum", "log_target": True}),
    case("F.kl_div", [[X, [4, 3]], ["prob", [4, 3]]], {"reduction": "none"}),
    case("F.poisson_nll_loss", [[X, [4, 3]], ["pos", [4, 3]]]),
    case("F.poisson_nll_loss", [["pos", [4, 3]], ["count", [4, 3]]],
         {"log_input": False, "full": True, "reduction": "sum"}),
    case("F.gaussian_nll_loss", [[X, [4, 3]], [X, [4, 3]], ["pos", [4, 3]]],
         {"full": True}),
    case("F.gaussian_nll_loss", [[X, [4, 3]], [X, [4, 3]], ["pos", [4]]],
         {"reduction": "none"}),
    case("F.gaussian_nll_loss", [[X, [4, 3]], [X, [4, 3]], ["pos", [4, 1]]],
         {"reduction": "sum", "eps": 0.5}),
    case("F.margin_ranking_loss", [[X, [6]], [X, [6]], ["sign", [6]]], {"margin": 0.3}),
    case("F.margin_ranking_loss", [[X, [6]], [X, [6]], ["sign", [6]]], {"reduction": "none"}),
    case("F.hinge_embedding_loss", [[X, [4, 3]], ["sign", [4, 3]]], {"margin": 0.7}),
    case("F.cosine_embedding_loss", [[X, [4, 5]], [X, [4, 5]], ["sign", [4]]],
         {"margin": 0.2}),
    case("F.cosine_embedding_loss", [[X, [4, 5]], [X, [4, 5]], ["sign", [4]]],
         {"reduction": "none"}),
    case("F.triplet_margin_loss", [[X, [4, 5]], [X, [4, 5]], [X, [4, 5]]], {"margin": 0.5}),
    case("F.triplet_margin_loss", [[X, [4, 5]], [X, [4, 5]], [X, [4, 5]]],
         {"p": 1, "swap": True, "reduction": "sum"}),
    case("F.multilabel_soft_margin_loss", [[X, [3, 4]], ["binary", [3, 4]], ["pos", [4]]]),
    case("F.multilabel_soft_margin_loss", [[X, [3, 4]], ["binary", [3, 4]]],
         {"reduction": "none"}),
    case("F.multilabel_margin_loss", [[X, [3, 5]], ["multilabel", [3, 5]]]),
    case("F.multilabel_margin_loss", [[X, [5]], ["multilabel", [5]]], {"reduction": "sum"}),
    case("F.multi_margin_loss", [[X, [4, 5]], ["label", [4], 5]]),
    # margin and weights exact in float32: torch's kernel reads them in float32
    case("F.multi_margin_loss", [[X, [4, 5]], ["label", [4], 5]],
         {"p": 2, "margin": 0.75, "weight": [0.5, 1.0, 2.0, 1.5, 0.25], "reduction": "none"}),
    case("F.soft_margin_loss", [[X, [4, 3]], ["sign", [4, 3]]]),
    case("nn.MultiMarginLoss", [[X, [4, 5]], ["label", [4], 5]],
         init={"weight": [0.5, 1.0, 2.0, 1.5, 0.25], "reduction": "sum"}),
    case("nn.KLDivLoss", [[X, [4, 3]], ["prob", [4, 3]]], init={"reduction": "batchmean"}),
    case("nn.TripletMarginLoss", [[X, [4, 5]], [X, [4, 5]], [X, [4, 5]]],
         init={"margin": 2.0, "swap": True}),
]

FLOAT_KINDS = ("x", "pos", "prob")


def draw(spec: list, rng: np.random.Generator) -> list[np.ndarray | float]:
    """The argument(s) of one spec, as numpy arrays (float64 for the float kinds)."""
    kind = spec[0]
    if kind == "const":
        return [spec[1]]
    shape = spec[1]
    if kind == "x":
        return [rng.standard_normal(shape)]
    if kind == "pos":
        return [rng.uniform(0.2, 2.0, shape)]
    if kind == "prob":
        e = np.exp(rng.standard_normal(shape))
        return [e / e.sum(axis=-1, keepdims=True)]
    if kind == "sign":
        return [rng.choice([-1.0, 1.0], shape)]
    if kind == "binary":
        return [rng.integers(0, 2, shape).astype(np.float64)]
    if kind == "count":
        return [rng.integers(0, 5, shape).astype(np.float64)]
    if kind == "label":
        return [rng.integers(0, spec[2], shape)]
    if kind == "multilabel":   # per row a few distinct classes, then -1 and anything
        labels = rng.integers(0, shape[-1], shape)
        rows = labels.reshape(-1, shape[-1])
        for row in rows:
            count = rng.integers(1, shape[-1])
            row[:count] = rng.permutation(shape[-1])[:count]
            row[count] = -1
        return [rows.reshape(shape)]
    if kind in ("pool", "pool1d"):
        pool = F.max_pool2d if kind == "pool" else F.max_pool1d
        values, indices = pool(torch.tensor(rng.standard_normal(shape)), **spec[2],
                               return_indices=True)
        return [values.numpy(), indices.numpy()]
    raise ValueError(kind)


def draw_count(spec: list) -> range:
    """How many arguments a spec draws: two for a pooling's values and indices."""
    return range(2 if spec[0].startswith("pool") else 1)


def run(spec: dict, dtype: torch.dtype, rng: np.random.Generator) -> dict[str, np.ndarray]:
    torch.manual_seed(int(rng.integers(2**31)))
    raw = [value for arg in spec["args"] for value in draw(arg, rng)]
    learned = [arg[0] in FLOAT_KINDS or k == 0 and arg[0].startswith("pool")
               for arg in spec["args"] for k, _ in enumerate(draw_count(arg))]
    args = []
    for value, grad in zip(raw, learned):
        if isinstance(value, np.ndarray) and value.dtype == np.float64:
            value = torch.tensor(value, dtype=dtype, requires_grad=grad)
        elif isinstance(value, np.ndarray):
            value = torch.tensor(value)
        args.append(value)
    kwargs = dict(spec["kwargs"])
    if isinstance(kwargs.get("weight"), list):
        kwargs["weight"] = torch.tensor(kwargs["weight"], dtype=dtype)
    space, name = spec["call"].split(".")
    module = None
    if space == "F":
        outputs = getattr(F, name)(*args, **kwargs)
    else:
        init = dict(spec["init"])
        if isinstance(init.get("weight"), list):
            init["weight"] = torch.tensor(init["weight"], dtype=dtype)
        module = getattr(torch.nn, name)(**init).to(dtype)
        with torch.no_grad():   # parameters away from their initial ones and zeros
            for parameter in module.parameters():
                parameter.copy_(torch.tensor(rng.standard_normal(parameter.shape)))
        module.train(spec["train"])
        if not spec["train"]:   # running statistics from one training step first
            module.train()
            module(torch.tensor(rng.standard_normal(raw[0].shape) * 2 + 1, dtype=dtype))
            module.eval()
        before = {key: value.clone() for key, value in module.state_dict().items()}
        outputs = module(*args, **kwargs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    g = torch.tensor(rng.standard_normal(tuple(outputs[0].shape)), dtype=dtype)
    (outputs[0] * g).sum().backward()
    result = {"g": g.numpy()}
    for k, value in enumerate(args):
        if isinstance(value, torch.Tensor):
            result[f"arg{k}"] = value.detach().numpy()
            if value.grad is not None:
                result[f"grad{k}"] = value.grad.numpy()
    for k, y in enumerate(outputs):
        result[f"y{k}"] = y.detach().numpy()
    if module is not None:
        for key, value in module.state_dict().items():
            result[f"before:{key}"] = before[key].numpy()
            result[f"after:{key}"] = value.numpy()
        for key, parameter in module.named_parameters():
            result[f"param:{key}"] = parameter.detach().numpy()
            result[f"grad:{key}"] = parameter.grad.numpy()
    return result


def write(runners: list, path: Path) -> None:
    """Run each (spec, runner) in float64 and float32 from one seeded stream, and save the
    results under the case numbers, with the specs as JSON in "cases"."""
    rng = np.random.default_rng(0)
    out: dict[str, np.ndarray] = {}
    cases = []
    for spec, runner in runners:
        for dtype in (torch.float64, torch.float32):
            number = len(cases)
            cases.append({**spec, "dtype": str(dtype).removeprefix("torch.")})
            for key, value in runner(spec, dtype, rng).items():
                out[f"{number}/{key}"] = value
    out["cases"] = np.array(json.dumps(cases))
    out["torch_version"] = np.array(torch.__version__)
    np.savez_compressed(path, **out)
    print(f"{len(cases)} cases written to {path}")


def main() -> None:
    write([(spec, run) for spec in CASES], OUT)


if __name__ == "__main__":
    main()
