"""Every module that minidl names like PyTorch's, on PyTorch's own module inputs (its
ModuleInfo database): built with the same arguments, converted to the sample's dtype
and loaded with PyTorch's state_dict; its outputs, dtypes, shapes, the gradients of the
inputs and of the parameters, and its refusals against tests/data/module_vectors.npz
(written by tests/data/make_module_vectors.py with torch 2.13; this test needs no torch).

As in test_opinfo_torch.py (and with its tolerances), the samples where minidl still
differs are listed with the first difference in tests/data/module_known_differences.json
and expected to fail; regenerate that list with ``python tests/test_module_torch.py``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
sys.path[:0] = [str(DATA), str(DATA.parent.parent)]   # torch_samples; as a script: this checkout

import minidl.nn as nn  # noqa: E402
from torch_samples import (answer, compare, decode, expect, tensors_of,  # noqa: E402
                           write_known)

VECTORS = np.load(DATA / "module_vectors.npz", allow_pickle=False)
SAMPLES = json.loads(str(VECTORS["samples"]))
KNOWN_FILE = DATA / "module_known_differences.json"
KNOWN = json.loads(KNOWN_FILE.read_text()) if KNOWN_FILE.exists() else {}


def difference(sample: dict) -> str | None:
    """How minidl's module differs from PyTorch's on the sample, or None if it does not."""
    key = sample["key"]
    tensors = tensors_of(VECTORS, key, sample["call"])
    (ctor_args, ctor_kwargs), (args, kwargs) = decode(sample["call"], tensors, np.dtype)
    state = {name: VECTORS[f"{key}/state/{name}"] for name in sample["state"]}
    module = None

    def run():
        nonlocal module
        module = getattr(nn, sample["module"])(*ctor_args, **ctor_kwargs).to(sample["dtype"])
        module.load_state_dict(state)
        return module(*args, **kwargs)
    result, found = answer(VECTORS, key, run)
    if result is None:
        return found
    return compare(VECTORS, key, result, tensors, module.named_parameters())


@pytest.mark.parametrize("sample", SAMPLES, ids=[s["key"] for s in SAMPLES])
def test_pytorch_module_sample(sample: dict) -> None:
    expect(difference(sample), sample["key"], KNOWN)


if __name__ == "__main__":
    write_known(KNOWN_FILE, SAMPLES, difference)
