"""Write tests/data/module_vectors.npz: PyTorch's own module inputs (its ModuleInfo
database, ``torch.testing._internal.common_modules.module_db``) for every module that
minidl names like PyTorch (``minidl.nn.<Name>``): the constructor's and forward's
arguments, the module's state_dict, and PyTorch's outputs and gradients (of the inputs
and of the parameters) or its refusal; the oracle of tests/test_module_torch.py.

Regenerate (needs torch 2.13, CPU, and expecttest) from the repository root:

    python tests/data/make_module_vectors.py

Up to ``PER_DTYPE`` samples per module in float32 and float64 (the module converted with
``.to(dtype)``, as PyTorch's module tests do), of at most
``MAX_ELEMENTS`` elements in their inputs and state, in training mode; the format is
that of make_opinfo_vectors.py, with "call" the JSON of
((constructor args, kwargs), (forward args, kwargs)), plus

    <key>/state/<name>      the module's state_dict entry <name> before the call
    <key>/pgrad/<name>      d sum(out * cot) / d parameter <name>
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from make_opinfo_vectors import Unserialisable, encode, keep_first, outputs, save, store
from torch_samples import decode
from torch.testing._internal.common_modules import module_db

OUT = Path(__file__).with_name("module_vectors.npz")
PER_DTYPE = 4
MAX_ELEMENTS = 400   # per sample, inputs and state together (convolutions need some)
RANDOM = {"Dropout"}   # no two generators draw the same mask
NAMES = {"AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "CELU",
         "Conv1d", "Conv2d", "ELU", "L1Loss", "Linear", "MaxPool1d", "MaxPool2d", "MSELoss",
         "NLLLoss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "GELU",
         "Hardswish", "Hardtanh", "LayerNorm", "Embedding", "ReLU", "LeakyReLU", "ReLU6",
         "Sigmoid", "LogSigmoid", "SiLU", "Softmax", "Softmin", "Softplus", "Softsign", "Tanh",
         "Mish", "SELU"}   # minidl.nn's modules that torch.nn has too


def record(info, key: str, dtype: torch.dtype, sample, arrays: dict, rng) -> dict | None:
    """Build the module in ``dtype``, run the sample's forward in torch and store it under
    ``key``."""
    tensors: list = []
    try:
        call = encode(((list(sample.constructor_input.args),
                        dict(sample.constructor_input.kwargs)),
                       (list(sample.forward_input.args), dict(sample.forward_input.kwargs))),
                      tensors)
    except Unserialisable:
        return None
    torch.manual_seed(0)
    decoded = [t.detach().clone().requires_grad_(t.requires_grad) for t in tensors]
    (ctor_args, ctor_kwargs), (args, kwargs) = decode(call, decoded,
                                                      lambda name: getattr(torch, name))
    try:
        module = info.module_cls(*ctor_args, **ctor_kwargs).to(dtype)
    except Exception:  # noqa: BLE001  (a constructor torch refuses is not compared)
        return None
    state = {name: value.detach().clone() for name, value in module.state_dict().items()}
    if sum(t.numel() for t in tensors) + sum(v.numel() for v in state.values()) > MAX_ELEMENTS:
        return None
    forward = {id(a) for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = outputs(module(*args, **kwargs))
    except Unserialisable:
        return None
    except Exception as error:  # noqa: BLE001  (the refusal is the oracle)
        result = error
    store(arrays, key, tensors, result, [t if id(t) in forward else None for t in decoded], rng)
    for name, value in state.items():
        arrays[f"{key}/state/{name}"] = value.numpy()
    if f"{key}/error" not in arrays and any(k.startswith(f"{key}/cot") for k in arrays):
        for name, p in module.named_parameters():
            arrays[f"{key}/pgrad/{name}"] = (p.grad if p.grad is not None
                                             else torch.zeros_like(p)).numpy()
    return {"key": key, "module": info.module_cls.__name__, "dtype": str(dtype)[6:],
            "call": call, "state": list(state)}


def main() -> None:
    rng = np.random.default_rng(20261206)
    arrays: dict[str, np.ndarray] = {}
    samples = []
    for info in module_db:
        name = info.module_cls.__name__
        if name not in NAMES or name in RANDOM:
            continue
        for dtype in (torch.float32, torch.float64):
            inputs = info.module_inputs_func(info, device="cpu", dtype=dtype,
                                             requires_grad=True, training=True)
            samples += keep_first(PER_DTYPE, inputs, lambda n, sample: record(
                info, f"{name}.{str(dtype)[6:]}.{n}", dtype, sample, arrays, rng))
    save(OUT, arrays, samples, "module")


if __name__ == "__main__":
    main()
