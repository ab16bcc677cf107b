"""Parity with PyTorch for the pooling options, unpooling, adaptive pooling, transposed
convolutions, F.pad's cropping, resampling, instance and local response norm, the
activations with parameters and the losses: outputs, gradients and module state match
vectors that tests/data/make_layers_vectors.py generated with torch 2.13.0, in float32
and float64 (the suite does not need torch); every float64 functional case also passes
a gradcheck.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F

VECTORS = np.load(Path(__file__).parent / "data" / "layers_vectors.npz")
CASES = json.loads(str(VECTORS["cases"]))
TOLERANCE = {"float64": {"rtol": 1e-10, "atol": 1e-12}, "float32": {"rtol": 2e-5, "atol": 2e-6}}
FLOAT_KINDS = ("x", "pos", "prob")


def stored(number: int) -> dict[str, np.ndarray]:
    prefix = f"{number}/"
    return {key[len(prefix):]: VECTORS[key] for key in VECTORS.files if key.startswith(prefix)}


def call_arguments(case: dict, v: dict[str, np.ndarray]) -> list:
    """The call's arguments: float Tensors requiring grad for the float kinds (and a max
    pooling's values), the other arrays as Tensors of their dtype, numbers as they are."""
    values, k = [], 0
    for spec in case["args"]:
        if spec[0] == "const":
            values.append(spec[1])
            k += 1
            continue
        for _ in range(2 if spec[0].startswith("pool") else 1):
            array = v[f"arg{k}"]
            grad = (spec[0] in FLOAT_KINDS or (spec[0].startswith("pool") and array.dtype.kind
                                               == "f"))
            values.append(minidl.Tensor(array.copy(), requires_grad=grad, dtype=array.dtype))
            k += 1
    return values


def with_dtype(settings: dict, dtype: str) -> dict:
    """Settings with a listed ``weight`` as an array of the case's dtype."""
    settings = dict(settings)
    if isinstance(settings.get("weight"), list):
        settings["weight"] = np.array(settings["weight"], dtype=dtype)
    return settings


def build(case: dict, v: dict[str, np.ndarray]):
    """(the function to call on the arguments, the module or None)."""
    space, name = case["call"].split(".")
    kwargs = with_dtype(case["kwargs"], case["dtype"])
    if space == "F":
        function = getattr(F, name)
        return (lambda *args: function(*args, **kwargs)), None
    init = with_dtype(case["init"], case["dtype"])
    module = getattr(nn, name)(**init).to(np.dtype(case["dtype"]))
    module.load_state_dict({key[len("before:"):]: value.copy() for key, value in v.items()
                            if key.startswith("before:")})
    module.train(case["train"])
    return (lambda *args: module(*args, **kwargs)), module


def first(output):
    return output[0] if isinstance(output, tuple) else output


@pytest.mark.parametrize("number", range(len(CASES)),
                         ids=lambda i: f"{CASES[i]['call']}-{CASES[i]['dtype']}-{i}")
def test_matches_torch(number):
    check_case(CASES[number], stored(number))


def check_case(case: dict, v: dict[str, np.ndarray]) -> None:
    """The case's outputs, gradients and module state against torch's in ``v``."""
    tolerance = TOLERANCE[case["dtype"]]
    function, module = build(case, v)
    args = call_arguments(case, v)
    outputs = function(*args)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    for k, y in enumerate(outputs):
        assert y.shape == v[f"y{k}"].shape
        assert y.dtype == v[f"y{k}"].dtype, f"output {k}: {y.dtype} vs {v[f'y{k}'].dtype}"
        np.testing.assert_allclose(y.numpy(), v[f"y{k}"], **tolerance, err_msg=f"output {k}")
    outputs[0].backward(v["g"])
    tensors = [a for a in args if isinstance(a, minidl.Tensor)]
    for k, tensor in enumerate(tensors):
        if f"grad{k}" in v:
            np.testing.assert_allclose(np.asarray(tensor.grad), v[f"grad{k}"], **tolerance,
                                       err_msg=f"gradient of argument {k}")
    if module is not None:
        for name, parameter in module.named_parameters():
            np.testing.assert_allclose(np.asarray(parameter.grad), v[f"grad:{name}"],
                                       **tolerance, err_msg=f"gradient of {name}")
        state = module.state_dict()
        for key in (key for key in v if key.startswith("after:")):
            np.testing.assert_allclose(np.asarray(state[key[len("after:"):]]), v[key],
                                       **tolerance, err_msg=key)


def overlapping_unpool(case: dict) -> bool:
    """max_unpool after a pooling whose windows overlap: two inputs may share an index,
    only one value lands there, yet each gets its gradient (as in PyTorch), so central
    differences see the other's as 0."""
    pool = case["args"][0]
    return pool[0].startswith("pool") and pool[2].get("stride", pool[2]["kernel_size"]) < \
        pool[2]["kernel_size"]


@pytest.mark.parametrize("number", [i for i, c in enumerate(CASES)
                                    if c["dtype"] == "float64" and c["call"].startswith("F.")
                                    and not overlapping_unpool(c)],
                         ids=lambda i: f"{CASES[i]['call']}-{i}")
def test_gradcheck(number):
    case, v = CASES[number], stored(number)
    function, _ = build(case, v)
    args = call_arguments(case, v)
    assert minidl.gradcheck(lambda *a: first(function(*a)), *args)
