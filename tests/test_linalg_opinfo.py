"""minidl.linalg on PyTorch's own sample inputs for torch.linalg (its OpInfo database and
error inputs): outputs, dtypes, shapes, gradients and refusals against
tests/data/linalg_opinfo_vectors.npz (written by tests/data/make_linalg_opinfo_vectors.py
with torch 2.13; this test needs no torch), with tests/test_opinfo_torch.py's tolerances.

The samples where minidl answers differently are listed with the first difference in
tests/data/linalg_opinfo_known_differences.json and expected to fail; regenerate that
list with ``python tests/test_linalg_opinfo.py`` from the repository root.
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
from torch_samples import answer, compare, decode, expect, tensors_of, write_known  # noqa: E402

VECTORS = np.load(DATA / "linalg_opinfo_vectors.npz", allow_pickle=False)
SAMPLES = json.loads(str(VECTORS["samples"]))
KNOWN_FILE = DATA / "linalg_opinfo_known_differences.json"
KNOWN = json.loads(KNOWN_FILE.read_text()) if KNOWN_FILE.exists() else {}
# The OpInfo variants whose op is a lambda around the function: the same around minidl's,
# by "<op>.<variant>"
ADAPTERS = {
    "linalg.pinv.singular": lambda f, a, args, kwargs: f(a @ args[0].swapaxes(-1, -2)),
    "linalg.lstsq.grad_oriented": lambda f, a, args, kwargs: f(a, *args, **kwargs)[:2],
}


def difference(sample: dict) -> str | None:
    """How minidl's answer to the sample differs from PyTorch's, or None if it does not."""
    key = sample["key"]
    function = getattr(minidl.linalg, sample["function"].removeprefix("linalg."))
    tensors = tensors_of(VECTORS, key, sample["call"])
    input, args, kwargs = decode(sample["call"], tensors, np.dtype)
    call = ADAPTERS.get(key.rsplit(".", 2)[0], lambda f, x, a, kw: f(x, *a, **kw))
    result, found = answer(VECTORS, key, lambda: call(function, input, args, kwargs))
    return found if result is None else compare(VECTORS, key, result, tensors)


@pytest.mark.parametrize("sample", SAMPLES, ids=[s["key"] for s in SAMPLES])
def test_pytorch_sample(sample: dict) -> None:
    expect(difference(sample), sample["key"], KNOWN)


if __name__ == "__main__":
    write_known(KNOWN_FILE, SAMPLES, difference)
