"""Write tests/data/opinfo_vectors.npz: PyTorch's own sample inputs (its OpInfo database,
``torch.testing._internal.common_methods_invocations.op_db``) for every op that minidl
names like PyTorch (``minidl.<name>`` or ``minidl.nn.functional.<name>``), with PyTorch's
outputs, gradients and refusals: the oracle of tests/test_opinfo_torch.py, which needs
no torch.

Regenerate (needs torch 2.13, CPU, and expecttest) from the repository root:

    python tests/data/make_opinfo_vectors.py

For each op and each of float32, float64, int64 and bool that the op supports, and for
the op's error inputs (the calls PyTorch's own tests expect it to refuse), the first
``PER_DTYPE`` samples of at most ``MAX_ELEMENTS`` elements are kept; a sample whose
arguments are not plain data (numbers, strings, None, dtypes, tensors, and lists, tuples
and dicts of them) or that writes to ``out=`` is left out. Each
kept sample is stored, with no pickled objects, as

    samples                 a JSON list of {"key", "op", "function", "call"}
    <key>/t<j>              the tensors of the call (floats as their own dtype)
    <key>/out<k>            PyTorch's output k (a tuple's elements in turn)
    <key>/cot<k>            the cotangent of float output k
    <key>/grad<j>           d sum(out * cot) / d tensor j, for the tensors requiring grad
    <key>/error             or: the built-in exception type PyTorch raised

"call" is the JSON of (input, args, kwargs) with each tensor replaced by
{"tensor": j, "grad": bool} and each dtype by {"dtype": name}.
"""
from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from torch_samples import decode
from torch.testing._internal.common_methods_invocations import op_db

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))   # this checkout's minidl
import minidl  # noqa: E402
import minidl.nn.functional as F  # noqa: E402

OUT = Path(__file__).with_name("opinfo_vectors.npz")
PER_DTYPE = 4
MAX_ELEMENTS = 64   # per sample, all its tensors together: keeps the file small
DTYPES = (torch.float32, torch.float64, torch.int64, torch.bool)
PREFIX = "nn.functional."
RANDOM = {"nn.functional.dropout"}   # no two generators draw the same mask


def minidl_name(op) -> str | None:
    """The minidl function of the same name as the OpInfo's, as ``minidl.x`` or ``F.x``."""
    if op.name.startswith(PREFIX):
        name = op.name[len(PREFIX):]
        return f"F.{name}" if hasattr(F, name) else None
    return op.name if op.name in minidl.ops.__all__ else None


class Unserialisable(Exception):
    pass


def encode(value, tensors: list) -> object:
    """``value`` as JSON, its tensors appended to ``tensors``."""
    if isinstance(value, torch.Tensor):
        if value.is_complex() or value.dtype not in (torch.float32, torch.float64, torch.int64,
                                                      torch.int32, torch.bool, torch.uint8):
            raise Unserialisable(value.dtype)
        tensors.append(value)
        return {"tensor": len(tensors) - 1, "grad": bool(value.requires_grad)}
    if isinstance(value, torch.dtype):
        return {"dtype": str(value).removeprefix("torch.")}
    if isinstance(value, torch.Size):
        return list(value)
    if isinstance(value, (list, tuple)):
        return {"tuple": [encode(v, tensors) for v in value]} if isinstance(value, tuple) \
            else [encode(v, tensors) for v in value]
    if isinstance(value, dict):
        return {"kwargs": {k: encode(v, tensors) for k, v in value.items()}}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not np.isfinite(value):
            return {"float": str(value)}
        return value
    raise Unserialisable(type(value).__name__)


def outputs(result) -> list:
    if isinstance(result, torch.Tensor):
        return [result]
    if isinstance(result, (tuple, list)) and all(isinstance(r, torch.Tensor) for r in result):
        return list(result)
    raise Unserialisable(type(result).__name__)


def store(arrays: dict, key: str, tensors: list, result: list | Exception, leaves: list,
          rng) -> None:
    """Store a sample's tensors under ``key`` and torch's answer: the built-in type of the
    exception it raised, or its outputs, a cotangent of each float output, and
    d sum(out * cot) / d leaf for the ``leaves`` (the tensors' copies it ran on) that
    require grad (the others given as None)."""
    if isinstance(result, Exception):
        builtin = next(c for c in type(result).__mro__ if c.__module__ == "builtins")
        arrays[f"{key}/error"] = np.array(builtin.__name__)
        result = []
    for j, t in enumerate(tensors):
        arrays[f"{key}/t{j}"] = t.detach().numpy()
    floats = []
    for k, o in enumerate(result):
        arrays[f"{key}/out{k}"] = o.detach().numpy()
        if o.dtype.is_floating_point and o.requires_grad:
            cot = rng.standard_normal(tuple(o.shape))
            arrays[f"{key}/cot{k}"] = cot
            floats.append((o * torch.tensor(cot, dtype=o.dtype)).sum())
    if floats:
        sum(floats).backward()
        for j, leaf in enumerate(leaves):
            if leaf is not None and leaf.requires_grad:
                g = leaf.grad if leaf.grad is not None else torch.zeros_like(leaf)
                arrays[f"{key}/grad{j}"] = g.numpy()


def record(op, function: str, key: str, sample, arrays: dict, rng) -> dict | None:
    """Run one sample in torch and store it under ``key``: its tensors, and PyTorch's
    outputs, cotangents and gradients, or its refusal. None if it cannot be stored."""
    tensors: list = []
    try:
        call = encode((sample.input, list(sample.args), dict(sample.kwargs)), tensors)
    except Unserialisable:
        return None
    if sum(t.numel() for t in tensors) > MAX_ELEMENTS or "out" in sample.kwargs or any(
            t.dim() > 32 for t in tensors):   # numpy's limit is 64 dimensions
        return None
    leaves = [t.detach().clone().requires_grad_(t.requires_grad) for t in tensors]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            args = decode(call, leaves, lambda name: getattr(torch, name))
            result = outputs(op.op(args[0], *args[1], **args[2]))
    except Unserialisable:
        return None
    except Exception as error:  # noqa: BLE001  (the refusal is the oracle)
        result = error
    store(arrays, key, tensors, result, leaves, rng)
    return {"key": key, "op": op.name, "function": function, "call": call}


def main() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(20261206)
    arrays: dict[str, np.ndarray] = {}
    samples = []
    for op in op_db:
        function = minidl_name(op)
        if function is None or op.name in RANDOM:
            continue
        samples += op_samples(op, function, arrays, rng)
    save(OUT, arrays, samples, "op")


def op_samples(op, function: str, arrays: dict, rng) -> list:
    """The first PER_DTYPE samples of ``op`` in each of DTYPES it supports, and of its error
    inputs, recorded into ``arrays`` as minidl's ``function``."""
    supported = op.supported_dtypes("cpu")
    batches = [(str(dtype)[6:], op.sample_inputs(
        "cpu", dtype, requires_grad=dtype.is_floating_point and op.supports_autograd))
        for dtype in DTYPES if dtype in supported]
    if op.error_inputs_func is not None:   # the calls PyTorch refuses, its own list
        batches.append(("error", (e.sample_input for e in op.error_inputs("cpu"))))
    samples = []
    for dtype, batch in batches:
        samples += keep_first(PER_DTYPE, batch, lambda n, sample: record(
            op, function, f"{op.name}.{op.variant_test_name}.{dtype}.{n}", sample, arrays, rng))
    return samples


def keep_first(limit: int, batch, record) -> list:
    """The first ``limit`` samples of ``batch`` that ``record(n, sample)`` could store."""
    kept = []
    for n, sample in enumerate(batch):
        stored = record(n, sample)
        if stored is not None:
            kept.append(stored)
        if len(kept) == limit:
            break
    return kept


def save(path: Path, arrays: dict, samples: list, what: str) -> None:
    arrays["samples"] = np.array(json.dumps(samples))
    np.savez_compressed(path, **arrays)
    print(f"wrote {len(samples)} samples of {len({s[what] for s in samples})} {what}s to {path}")


if __name__ == "__main__":
    main()
