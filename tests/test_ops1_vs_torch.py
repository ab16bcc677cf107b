"""ops1's part of issue 12 against PyTorch: values and gradients from
tests/data/ops1_vectors.npz (made by tests/data/make_ops1_vectors.py; no torch here).

Every case feeds minidl the same inputs as torch, in float32 or float64, and
compares the output, its dtype, and v^T J for torch's cotangent v. Tolerances:
float64 rtol 1e-9, atol 1e-12; float32 rtol 2e-5, atol 2e-6 (a few ulps: numpy's
and torch's float32 libm differ in the last bits). One exception: torch's float64
hardsigmoid backward multiplies by 1/6 rounded to float32 (relative error 3e-8),
so that gradient is compared at rtol 1e-7.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.nn.functional as F
from minidl import Tensor

VECTORS = Path(__file__).parent / "data" / "ops1_vectors.npz"
TOLERANCE = {np.dtype(np.float32): dict(rtol=2e-5, atol=2e-6),
             np.dtype(np.float64): dict(rtol=1e-9, atol=1e-12)}
GRAD_TOLERANCE = {("hardsigmoid", np.dtype(np.float64)): dict(rtol=1e-7, atol=1e-12)}


def _loss(fn):
    def call(x, t, **kwargs):
        kw = {k: np.asarray(v, dtype=x.dtype) if k in ("weight", "pos_weight") else v
              for k, v in kwargs.items()}
        return fn(x, t, **kw)
    return call


OPS = {  # the op names of the generator, as minidl calls
    **{name: getattr(minidl, name) for name in (
        "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
        "exp2", "log2", "log10", "log1p", "expm1", "erf", "rsqrt", "reciprocal", "square",
        "sign", "floor", "ceil", "trunc", "round", "elu", "celu", "selu", "silu", "mish",
        "softplus", "softsign", "hardtanh", "relu6", "hardsigmoid", "hardswish", "logsigmoid",
        "pow", "logaddexp", "copysign", "fmod", "remainder", "floor_divide",
        "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
        "isnan", "isinf", "isfinite", "logical_not", "bitwise_and", "bitwise_or",
        "bitwise_xor", "bitwise_not", "any", "all", "arange", "linspace", "eye", "full",
        "zeros_like", "ones_like", "full_like")},
    "elu_alpha": lambda x: F.elu(x, alpha=0.5),
    "celu": lambda x: F.celu(x, alpha=2.0),
    "softplus_beta": lambda x: F.softplus(x, beta=2.0, threshold=5.0),
    "hardtanh_bounds": lambda x: F.hardtanh(x, -2.0, 0.5),
    "softmin": lambda x: F.softmin(x, -1),
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "to_float64": lambda x: x.to(np.float64),
    "to_float32": lambda x: x.float(),
    "to_int64": lambda x: x.long(),
    "to_bool": lambda x: x.bool(),
    "rpow_scalar": lambda a, b: 2.5 ** b,
    "lerp": lambda a, b: a.lerp(b, 0.3),
    "lerp_tensor_weight": minidl.lerp,
    "div_floor": lambda a, b: minidl.div(a, b, rounding_mode="floor"),
    "div_trunc": lambda a, b: a.div(b, rounding_mode="trunc"),
    "isclose": lambda a, b: minidl.isclose(a, b, rtol=0.1),
    "cross_entropy": _loss(F.cross_entropy),
    "nll_loss": _loss(F.nll_loss),
    "binary_cross_entropy": _loss(F.binary_cross_entropy),
    "bce_with_logits": _loss(F.binary_cross_entropy_with_logits),
}


def _load():
    with np.load(VECTORS, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    return json.loads(str(arrays.pop("cases"))), arrays


CASES, ARRAYS = _load()


def test_every_generated_op_has_a_minidl_form_and_back():
    assert {case["op"] for case in CASES} == set(OPS)


@pytest.mark.parametrize("case", CASES, ids=[case["key"] for case in CASES])
def test_matches_torch(case):
    key = case["key"]
    inputs = []
    for i in range(case["n_inputs"]):
        x = ARRAYS[f"{key}/in{i}"]
        inputs.append(Tensor(x.copy(), requires_grad=i in case["grads"], dtype=x.dtype))
    out = OPS[case["op"]](*inputs, **case["kwargs"])
    expected = ARRAYS[f"{key}/out"]
    assert out.shape == expected.shape
    assert out.dtype == expected.dtype, f"dtype {out.dtype}, torch gives {expected.dtype}"
    tolerance = TOLERANCE.get(expected.dtype, dict(rtol=0, atol=0))
    np.testing.assert_allclose(out.numpy(), expected, **tolerance, err_msg="forward")
    if not case["grads"]:
        assert not out.requires_grad
        return
    out.backward(ARRAYS[f"{key}/cot"])
    tolerance = GRAD_TOLERANCE.get((case["op"], expected.dtype), tolerance)
    for i in case["grads"]:
        grad = inputs[i].grad if inputs[i].grad is not None else np.zeros(inputs[i].shape)
        np.testing.assert_allclose(grad, ARRAYS[f"{key}/grad{i}"], **tolerance,
                                   err_msg=f"gradient of input {i}")
