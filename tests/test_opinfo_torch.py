"""Every op that minidl names like PyTorch's, on PyTorch's own sample inputs (its OpInfo
database, and the error inputs PyTorch's tests expect it to refuse): outputs, dtypes,
shapes, gradients and refusals against tests/data/opinfo_vectors.npz (written by
tests/data/make_opinfo_vectors.py with torch 2.13; this test needs no torch).

Where minidl still answers differently, the sample is listed with the first difference
in tests/data/opinfo_known_differences.json and expected to fail (xfail); every other
sample must match. After a fix, regenerate that list (``python tests/test_opinfo_torch.py``
from the repository root) and read its diff: it must only shrink.

Tolerances (tests/data/torch_samples.py): float32 rtol 1e-4, atol 1e-5 (other
summation orders and libm); float64 rtol 1e-7, atol 1e-9. Integer and bool outputs
must be equal, NaN where PyTorch's NaN is.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
sys.path[:0] = [str(DATA), str(DATA.parent.parent)]   # torch_samples; as a script: this checkout

import minidl  # noqa: E402
import minidl.nn.functional as F  # noqa: E402
from torch_samples import (answer, compare, decode, expect, tensors_of,  # noqa: E402
                           write_known)

VECTORS = np.load(DATA / "opinfo_vectors.npz", allow_pickle=False)
SAMPLES = json.loads(str(VECTORS["samples"]))
KNOWN_FILE = DATA / "opinfo_known_differences.json"
KNOWN = json.loads(KNOWN_FILE.read_text()) if KNOWN_FILE.exists() else {}
# The OpInfos whose op is a wrapper that takes the arguments in another order than
# PyTorch's function: how to call minidl's with them.
ADAPTERS = {
    "einsum": lambda f, tensors, args, kwargs: f(args[0], tensors, **kwargs),
    "where": lambda f, x, args, kwargs: f(args[0], x, *args[1:], **kwargs),
    "nn.functional.embedding": lambda f, weight, args, kwargs: f(args[0], weight, **kwargs),
}


def difference(sample: dict) -> str | None:
    """How minidl's answer to the sample differs from PyTorch's, or None if it does not."""
    key, name = sample["key"], sample["function"]
    function = getattr(F, name[2:]) if name.startswith("F.") else getattr(minidl, name)
    tensors = tensors_of(VECTORS, key, sample["call"])
    input, args, kwargs = decode(sample["call"], tensors, np.dtype)
    call = ADAPTERS.get(sample["op"], lambda f, x, a, kw: f(x, *a, **kw))
    result, found = answer(VECTORS, key, lambda: call(function, input, args, kwargs))
    return found if result is None else compare(VECTORS, key, result, tensors)


@pytest.mark.parametrize("sample", SAMPLES, ids=[s["key"] for s in SAMPLES])
def test_pytorch_sample(sample: dict) -> None:
    expect(difference(sample), sample["key"], KNOWN)


if __name__ == "__main__":
    write_known(KNOWN_FILE, SAMPLES, difference)
