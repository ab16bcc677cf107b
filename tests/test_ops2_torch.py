"""The reductions, scans, shape and indexing ops against PyTorch: values, dtypes and
gradients in float32 and float64, from tests/data/ops2_vectors.npz (written by
tests/data/make_ops2_vectors.py with torch 2.13; this test needs no torch), and the
same for issue 17's cases in ops3_vectors.npz (tests/data/make_ops3_vectors.py): the
places where minidl answered differently, integer dtypes, and the ops added then.

Each case is one expression that both frameworks evaluate as written; see the
generator for the inputs. Where PyTorch refuses the expression, minidl must raise
the same built-in exception type. Tolerances: float64 rtol 1e-10, atol 1e-12; float32
rtol 1e-5, atol 1e-6 (values that PyTorch and minidl both compute in float32,
by different summation orders), or else at least as close to PyTorch's float64
value as PyTorch's float32 value is; a float32 output (of integer inputs) at float32's
tolerance in either run. Integer outputs (indices) must be equal,
NaN must sit where PyTorch's NaN sits.
"""
from __future__ import annotations

import builtins
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.nn.functional as F
from minidl import Tensor

FILES = {name: np.load(Path(__file__).parent / "data" / f"{name}_vectors.npz",
                      allow_pickle=False) for name in ("ops2", "ops3", "ops4")}
CASES = [(vectors, case) for vectors in FILES.values()
         for case in json.loads(str(vectors["cases"]))]
TOLERANCES = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-10, atol=1e-12)}
# PyTorch's trigamma (digamma's derivative) is a short series, good to about 5e-10 relative;
# minidl's is scipy's polygamma(1, x), good to 1e-15: compared at 1e-8.
FLOAT64_TOLERANCES = {"digamma": dict(rtol=1e-8), "digamma_negative": dict(rtol=1e-8)}


def _assert_close(vectors, actual: np.ndarray, name: str, dtype: str, key: str,
                  what: str) -> None:
    """Within tolerance of PyTorch in this dtype; a float32 value also passes when it is at
    least as close to PyTorch's float64 value as PyTorch's float32 value is."""
    expected = vectors[f"{name}/{dtype}/{key}"]
    tolerance = TOLERANCES[expected.dtype.name] | FLOAT64_TOLERANCES.get(name, {})
    close = np.isclose(actual, expected, equal_nan=True, **tolerance)
    if dtype == "float32" and not close.all():
        exact = vectors[f"{name}/float64/{key}"]
        close |= np.abs(actual - exact) <= np.abs(expected - exact) + tolerance["atol"]
    if not close.all():
        np.testing.assert_allclose(actual, expected, **tolerance, err_msg=what)


def _outputs(result) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


@pytest.fixture
def gradient_dtypes(monkeypatch) -> list:
    """Every backward closure's gradients are checked to have their input's dtype (float32
    must stay float32); the mismatches are collected in the returned list."""
    mismatches = []
    make = Tensor._make

    def checked_make(data, parents, backward):
        def checked(g):
            grads = backward(g)
            mismatches.extend((p.dtype, np.asarray(d).dtype) for p, d in zip(parents, grads)
                              if d is not None and p.requires_grad and
                              np.asarray(d).dtype != p.dtype)
            return grads
        return make(data, parents, checked)
    monkeypatch.setattr(Tensor, "_make", staticmethod(checked_make))
    return mismatches


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("vectors, case", CASES, ids=[c["name"] for _, c in CASES])
def test_matches_pytorch(vectors, case: dict, dtype: str, gradient_dtypes: list) -> None:
    name = case["name"]
    arrays = [vectors[f"{name}/in{j}"] for j in range(len(case["inputs"]))]
    xs = [Tensor(a.astype(dtype), requires_grad=True, dtype=dtype) if a.dtype.kind == "f"
          else Tensor(a) for a in arrays]
    fn = eval(f"lambda lib, F, f64, i32, i64, {', '.join(f'x{j}' for j in range(len(xs)))}: "
              f"{case['expr']}")
    args = (minidl, F, np.float64, np.int32, np.int64, *xs)
    if f"{name}/error" in vectors.files:
        with pytest.raises(getattr(builtins, str(vectors[f"{name}/error"]))):
            fn(*args)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # no degrees of freedom, on purpose
        outs = _outputs(fn(*args))
    loss = None
    for k, out in enumerate(outs):
        expected = vectors[f"{name}/{dtype}/out{k}"]
        assert out.shape == expected.shape, f"output {k}"
        assert out.dtype == expected.dtype, f"output {k}"
        if expected.dtype.kind == "f":
            _assert_close(vectors, np.asarray(out), name, dtype, f"out{k}", f"output {k}")
        else:
            np.testing.assert_array_equal(np.asarray(out), expected, err_msg=f"output {k}")
        if out.requires_grad:
            with np.errstate(over="ignore"):   # nan_to_num's largest float times v: inf
                term = (out * Tensor(vectors[f"{name}/cot{k}"], dtype=out.dtype)).sum()
            loss = term if loss is None else loss + term
    if loss is not None:
        loss.backward()
    assert not gradient_dtypes, f"gradients of (input dtype, gradient dtype): {gradient_dtypes}"
    for j, x in enumerate(xs):
        key = f"{name}/{dtype}/grad{j}"
        if key in vectors.files:
            grad = np.asarray(x.grad) if x.grad is not None else np.zeros(x.shape, x.dtype)
            _assert_close(vectors, grad, name, dtype, f"grad{j}", f"grad {j}")
