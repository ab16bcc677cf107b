"""Every op that minidl names like PyTorch, on PyTorch's own sample inputs (its OpInfo
database): outputs, dtypes, shapes, gradients and refusals against
tests/data/opinfo_vectors.npz (written by tests/data/make_opinfo_vectors.py with
torch 2.13; this test needs no torch).

Where minidl still answers differently, the sample is listed with the first difference
in tests/data/opinfo_known_differences.json and expected to fail (xfail); every other
sample must match. After a fix, regenerate that list (``python tests/test_opinfo_torch.py``
from the repository root) and read its diff: it must only shrink.

Tolerances: float32 rtol 1e-4, atol 1e-5 (other summation orders and libm); float64
rtol 1e-7, atol 1e-9. Integer and bool outputs must be equal, NaN where PyTorch's NaN is.
"""
from __future__ import annotations

import builtins
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
sys.path[:0] = [str(DATA), str(DATA.parent.parent)]   # opinfo_calls; as a script: this checkout

import minidl  # noqa: E402
import minidl.nn.functional as F  # noqa: E402
from minidl import Tensor  # noqa: E402
from opinfo_calls import decode  # noqa: E402

VECTORS = np.load(DATA / "opinfo_vectors.npz", allow_pickle=False)
SAMPLES = json.loads(str(VECTORS["samples"]))
KNOWN = json.loads((DATA / "opinfo_known_differences.json").read_text()) \
    if (DATA / "opinfo_known_differences.json").exists() else {}
TOLERANCES = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-7, atol=1e-9)}
# The OpInfos whose op is a wrapper that takes the arguments in another order than
# PyTorch's function: how to call minidl's with them.
ADAPTERS = {
    "einsum": lambda f, tensors, args, kwargs: f(args[0], tensors, **kwargs),
    "where": lambda f, x, args, kwargs: f(args[0], x, *args[1:], **kwargs),
    "nn.functional.embedding": lambda f, weight, args, kwargs: f(args[0], weight, **kwargs),
}


def _tensors(sample: dict) -> list:
    key, tensors = sample["key"], []
    for j, flag in enumerate(_grad_flags(sample["call"])):
        array = VECTORS[f"{key}/t{j}"]
        tensors.append(Tensor(array, requires_grad=flag and array.dtype.kind == "f",
                              dtype=array.dtype))
    return tensors


def _grad_flags(call) -> list:
    flags: dict[int, bool] = {}

    def walk(value):
        if isinstance(value, dict):
            if "tensor" in value:
                flags[value["tensor"]] = value["grad"]
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
    walk(call)
    return [flags[j] for j in range(len(flags))]


def _close(actual: np.ndarray, expected: np.ndarray) -> bool:
    if actual.shape != expected.shape:
        return False
    if expected.dtype.kind != "f":
        return bool(np.array_equal(actual, expected))
    tolerance = TOLERANCES.get(expected.dtype.name, TOLERANCES["float32"])
    return bool(np.isclose(actual, expected, equal_nan=True, **tolerance).all())


def difference(sample: dict) -> str | None:
    """How minidl's answer to the sample differs from PyTorch's, or None if it does not."""
    key = sample["key"]
    name = sample["function"]
    function = getattr(F, name[2:]) if name.startswith("F.") else getattr(minidl, name)
    tensors = _tensors(sample)
    input, args, kwargs = decode(sample["call"], tensors, np.dtype)
    error = f"{key}/error" in VECTORS.files
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call = ADAPTERS.get(sample["op"], lambda f, x, a, kw: f(x, *a, **kw))
            result = call(function, input, args, kwargs)
    except Exception as raised:  # noqa: BLE001  (compared with PyTorch's refusal)
        if error and isinstance(raised, getattr(builtins, str(VECTORS[f"{key}/error"]))):
            return None
        text = str(raised).split("\n")[0][:120]
        return f"raises {type(raised).__name__}: {text}" + (
            f" (PyTorch: {VECTORS[f'{key}/error']})" if error else " (PyTorch answers)")
    if error:
        return f"answers where PyTorch raises {VECTORS[f'{key}/error']}"
    outs = [result] if isinstance(result, Tensor) else list(result)
    expected = [VECTORS[f"{key}/out{k}"] for k in range(len(outs)) if f"{key}/out{k}"
                in VECTORS.files]
    if len(expected) != len(outs) or f"{key}/out{len(outs)}" in VECTORS.files:
        return f"{len(outs)} outputs, PyTorch {len(expected) + (f'{key}/out{len(outs)}' in VECTORS.files)}"
    loss = None
    for k, (out, want) in enumerate(zip(outs, expected)):
        if not isinstance(out, Tensor):
            return f"output {k} is a {type(out).__name__}, not a Tensor"
        if out.shape != want.shape:
            return f"output {k} has shape {out.shape}, PyTorch {want.shape}"
        if out.dtype != want.dtype:
            return f"output {k} has dtype {out.dtype}, PyTorch {want.dtype}"
        if not _close(np.asarray(out), want):
            return f"output {k} differs in value"
        if f"{key}/cot{k}" in VECTORS.files and out.requires_grad:
            term = (out * Tensor(VECTORS[f"{key}/cot{k}"], dtype=out.dtype)).sum()
            loss = term if loss is None else loss + term
    if loss is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss.backward()
    for j, t in enumerate(tensors):
        if f"{key}/grad{j}" in VECTORS.files:
            grad = np.asarray(t.grad) if t.grad is not None else np.zeros(t.shape, t.dtype)
            if not _close(grad, VECTORS[f"{key}/grad{j}"]):
                return f"the gradient of tensor {j} differs"
    return None


@pytest.mark.parametrize("sample", SAMPLES, ids=[s["key"] for s in SAMPLES])
def test_pytorch_sample(sample: dict) -> None:
    found = difference(sample)
    if sample["key"] in KNOWN:
        pytest.xfail(KNOWN[sample["key"]])
    assert found is None, found


if __name__ == "__main__":
    known = {s["key"]: d for s in SAMPLES if (d := difference(s)) is not None}
    (DATA / "opinfo_known_differences.json").write_text(json.dumps(known, indent=1) + "\n")
    print(f"{len(known)} of {len(SAMPLES)} samples differ from PyTorch")
