"""What the generators and the tests of PyTorch's own samples share (OpInfo and ModuleInfo,
make_opinfo_vectors.py, make_module_vectors.py, tests/test_opinfo_torch.py,
tests/test_module_torch.py): the JSON form of a call read back, and minidl's answer
compared with PyTorch's stored one. Imports no torch; minidl only where it compares."""
from __future__ import annotations

import builtins
import json
import warnings
from typing import Any, Callable

import numpy as np

TOLERANCES = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-7, atol=1e-9)}


def decode(value: Any, tensors: list, dtype: Callable[[str], Any]) -> Any:
    """The call with each {"tensor": j} as ``tensors[j]`` and each {"dtype": name} as
    ``dtype(name)``; tuples, keyword dicts and non-finite floats restored."""
    if isinstance(value, dict):
        if "tensor" in value:
            return tensors[value["tensor"]]
        if "dtype" in value:
            return dtype(value["dtype"])
        if "float" in value:
            return float(value["float"])
        if "tuple" in value:
            return tuple(decode(v, tensors, dtype) for v in value["tuple"])
        return {k: decode(v, tensors, dtype) for k, v in value["kwargs"].items()}
    if isinstance(value, list):
        return [decode(v, tensors, dtype) for v in value]
    return value


def grad_flags(call: Any) -> list[bool]:
    """For each tensor j of the call, whether PyTorch's required grad."""
    flags: dict[int, bool] = {}

    def walk(value: Any) -> None:
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


def tensors_of(vectors: Any, key: str, call: Any) -> list:
    """The sample's tensors as minidl Tensors, the float ones requiring grad as PyTorch's."""
    from minidl import Tensor
    out = []
    for j, flag in enumerate(grad_flags(call)):
        array = vectors[f"{key}/t{j}"]
        out.append(Tensor(array, requires_grad=flag and array.dtype.kind == "f",
                          dtype=array.dtype))
    return out


def close(actual: np.ndarray, expected: np.ndarray) -> bool:
    """Equal shapes, and values within TOLERANCES of the dtype (ints and bools equal, NaN
    where PyTorch's NaN is)."""
    if actual.shape != expected.shape:
        return False
    if expected.dtype.kind != "f":
        return bool(np.array_equal(actual, expected))
    tolerance = TOLERANCES.get(expected.dtype.name, TOLERANCES["float32"])
    return bool(np.isclose(actual, expected, equal_nan=True, **tolerance).all())


def answer(vectors: Any, key: str, run: Callable[[], Any]) -> tuple[Any, str | None]:
    """(minidl's result of ``run()``, None), or (None, the difference) where minidl or
    PyTorch refused the call and the other did not, or with another exception type;
    (None, None) where both refused alike."""
    error = f"{key}/error" in vectors.files
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = run()
    except Exception as raised:  # noqa: BLE001  (compared with PyTorch's refusal)
        if error and isinstance(raised, getattr(builtins, str(vectors[f"{key}/error"]))):
            return None, None
        text = str(raised).split("\n")[0][:120]
        return None, f"raises {type(raised).__name__}: {text}" + (
            f" (PyTorch: {vectors[f'{key}/error']})" if error else " (PyTorch answers)")
    if error:
        return None, f"answers where PyTorch raises {vectors[f'{key}/error']}"
    return result, None


def compare(vectors: Any, key: str, result: Any, tensors: list,
            parameters: Any = ()) -> str | None:
    """The first difference between minidl's ``result`` and PyTorch's outputs, or between
    the gradients of d sum(out * cot) for ``tensors`` and the named ``parameters``; None."""
    from minidl import Tensor
    outs = [result] if isinstance(result, Tensor) else list(result)
    stored = sum(1 for k in range(len(outs) + 1) if f"{key}/out{k}" in vectors.files)
    if stored != len(outs):
        return f"{len(outs)} outputs, PyTorch {stored}"
    loss = None
    for k, out in enumerate(outs):
        want = vectors[f"{key}/out{k}"]
        if not isinstance(out, Tensor):
            return f"output {k} is a {type(out).__name__}, not a Tensor"
        if out.shape != want.shape or out.dtype != want.dtype:
            return f"output {k} is {out.dtype} {out.shape}, PyTorch's {want.dtype} {want.shape}"
        if not close(np.asarray(out), want):
            return f"output {k} differs in value"
        if f"{key}/cot{k}" in vectors.files and out.requires_grad:
            term = (out * Tensor(vectors[f"{key}/cot{k}"], dtype=out.dtype)).sum()
            loss = term if loss is None else loss + term
    if loss is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss.backward()
    named = [(f"grad{j}", f"tensor {j}", t) for j, t in enumerate(tensors)]
    named += [(f"pgrad/{name}", f"parameter {name}", p) for name, p in parameters]
    for stored_as, what, t in named:
        if f"{key}/{stored_as}" in vectors.files:
            grad = np.asarray(t.grad) if t.grad is not None else np.zeros(t.shape, t.dtype)
            if not close(grad, vectors[f"{key}/{stored_as}"]):
                return f"the gradient of {what} differs"
    return None


def expect(found: str | None, key: str, known: dict) -> None:
    """The test of one sample: no difference, unless the sample is listed as known (xfail)."""
    import pytest
    if key in known:
        pytest.xfail(known[key])
    assert found is None, found


def write_known(path: Any, samples: list, difference: Callable[[dict], str | None]) -> None:
    """List every sample that differs, with its difference, in the JSON file ``path``."""
    known = {s["key"]: d for s in samples if (d := difference(s)) is not None}
    path.write_text(json.dumps(known, indent=1) + "\n")
    print(f"{len(known)} of {len(samples)} samples differ from PyTorch")
