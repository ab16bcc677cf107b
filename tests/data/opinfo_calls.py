"""The JSON form of an OpInfo sample's call, read back: shared by make_opinfo_vectors.py
(which builds torch's call) and tests/test_opinfo_torch.py (which builds minidl's)."""
from __future__ import annotations

from typing import Any, Callable


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
