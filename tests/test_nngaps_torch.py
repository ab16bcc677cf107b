"""Parity with PyTorch for the distances, bilinear, channel shuffle, power-average pooling,
the ``*_with_indices`` aliases, the padding Modules, Unflatten, channel and alpha dropout,
gumbel_softmax and the Transformer decoder: outputs, gradients and module state match
vectors that tests/data/make_nngaps_vectors.py generated with torch 2.13.0, in float32
and float64 (the suite does not need torch), and every float64 function passes a
gradcheck. A random function replays torch's draw: its noise is handed to it in place
of minidl's generator. The new Modules also run on PyTorch's own module inputs
(ModuleInfo, tests/data/make_nngaps_module_vectors.py), compared as
tests/test_module_torch.py compares the others.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F

DATA = Path(__file__).parent / "data"
VECTORS = np.load(DATA / "nngaps_vectors.npz")
CASES = json.loads(str(VECTORS["cases"]))
_spec = importlib.util.spec_from_file_location("layers_torch", Path(__file__).parent /
                                               "test_layers_torch.py")
layers_torch = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(layers_torch)
TOLERANCE = layers_torch.TOLERANCE
_spec = importlib.util.spec_from_file_location("module_torch", Path(__file__).parent /
                                               "test_module_torch.py")
module_torch = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(module_torch)
MODULE_VECTORS = np.load(DATA / "nngaps_module_vectors.npz", allow_pickle=False)
MODULE_SAMPLES = json.loads(str(MODULE_VECTORS["samples"]))


def stored(number: int) -> dict[str, np.ndarray]:
    prefix = f"{number}/"
    return {key[len(prefix):]: VECTORS[key] for key in VECTORS.files if key.startswith(prefix)}


def numbers(kind: str, dtype: str | None = None) -> list[int]:
    return [i for i, c in enumerate(CASES) if c["kind"] == kind and dtype in (None, c["dtype"])]


def case_id(number: int) -> str:
    return f"{CASES[number]['call']}-{CASES[number]['dtype']}-{number}"


@pytest.mark.parametrize("number", numbers("layers"), ids=case_id)
def test_layers_match_torch(number):
    layers_torch.check_case(CASES[number], stored(number))


@pytest.mark.parametrize("number", [i for i in numbers("layers", "float64")
                                    if CASES[i]["call"].startswith("F.")], ids=case_id)
def test_layers_gradcheck(number):
    case, v = CASES[number], stored(number)
    function, _ = layers_torch.build(case, v)
    args = layers_torch.call_arguments(case, v)
    assert minidl.gradcheck(lambda *a: layers_torch.first(function(*a)), *args)


class Replay:
    """Stands in for minidl's numpy generator: hands out torch's draw, checking that it is
    asked for the shape the draw has."""

    def __init__(self, noise: np.ndarray):
        self.noise = noise

    def _draw(self, size: tuple[int, ...]) -> np.ndarray:
        assert tuple(size) == self.noise.shape, f"drew {size}, torch drew {self.noise.shape}"
        return self.noise.copy()

    def random(self, size: tuple[int, ...]) -> np.ndarray:
        return self._draw(size)      # keep bits 1 / 0: kept where >= p, for 0 < p <= 1

    def exponential(self, size: tuple[int, ...]) -> np.ndarray:
        return self._draw(size)


def replayed(monkeypatch, case: dict, v: dict[str, np.ndarray]):
    """The case's function, drawing torch's noise."""
    modules = {"gumbel_softmax": "minidl.nn.functional"}
    name = case["call"].removeprefix("F.")
    monkeypatch.setattr(modules.get(name, "minidl.nn.dropout") + ".generator",
                        lambda: Replay(v["noise"]))
    return lambda x: getattr(F, name)(x, **case["kwargs"])


@pytest.mark.parametrize("number", numbers("random"), ids=case_id)
def test_random_functions_match_torch(number, monkeypatch):
    case, v = CASES[number], stored(number)
    tolerance = TOLERANCE[case["dtype"]]
    function = replayed(monkeypatch, case, v)
    x = minidl.tensor(v["arg0"], requires_grad=True, dtype=v["arg0"].dtype)
    y = function(x)
    assert y.dtype == v["y0"].dtype
    np.testing.assert_allclose(y.numpy(), v["y0"], **tolerance)
    y.backward(v["g"])
    np.testing.assert_allclose(np.asarray(x.grad), v["grad0"], **tolerance)


@pytest.mark.parametrize("number", [i for i in numbers("random", "float64")
                                    if not CASES[i]["kwargs"].get("hard")], ids=case_id)
def test_random_functions_gradcheck(number, monkeypatch):
    """(hard gumbel_softmax's straight-through gradient is the soft sample's, on purpose
    not the derivative of its one-hot value)"""
    case, v = CASES[number], stored(number)
    function = replayed(monkeypatch, case, v)
    x = minidl.tensor(v["arg0"], requires_grad=True, dtype=np.float64)
    assert minidl.gradcheck(function, x)


def build_transformer(case: dict) -> nn.Module:
    name, init = case["call"].removeprefix("nn."), dict(case["init"])
    if name == "TransformerDecoder":
        norm = nn.LayerNorm(init["layer"]["d_model"]) if init["norm"] else None
        return nn.TransformerDecoder(nn.TransformerDecoderLayer(**init["layer"]),
                                     init["num_layers"], norm)
    return getattr(nn, name)(**init)


@pytest.mark.parametrize("number", numbers("transformer"), ids=case_id)
def test_transformer_matches_torch(number):
    """torch's state_dict loads (same keys, same order), and the output and every gradient
    match."""
    case, v = CASES[number], stored(number)
    tolerance = {"float64": {"rtol": 1e-9, "atol": 1e-11},
                 "float32": {"rtol": 1e-4, "atol": 2e-5}}[case["dtype"]]
    module = build_transformer(case).to(np.dtype(case["dtype"]))
    assert list(module.state_dict()) == json.loads(str(v["keys"]))
    module.load_state_dict({key[6:]: value for key, value in v.items()
                            if key.startswith("state:")})
    inputs = {key[6:]: minidl.tensor(value, requires_grad=True, dtype=value.dtype)
              for key, value in v.items() if key.startswith("input:")}
    masks = {key[5:]: minidl.tensor(value, dtype=value.dtype)
             for key, value in v.items() if key.startswith("mask:")}
    y = module(**inputs, **masks, **case["kwargs"])
    np.testing.assert_allclose(y.numpy(), v["y0"], **tolerance)
    y.backward(v["g"])
    for name, tensor in inputs.items():
        np.testing.assert_allclose(np.asarray(tensor.grad), v[f"grad:{name}"], **tolerance,
                                   err_msg=f"gradient of {name}")
    for name, parameter in module.named_parameters():
        np.testing.assert_allclose(np.asarray(parameter.grad), v[f"pgrad:{name}"],
                                   **tolerance, err_msg=f"gradient of {name}")


@pytest.mark.parametrize("sample", MODULE_SAMPLES, ids=[s["key"] for s in MODULE_SAMPLES])
def test_pytorch_module_sample(sample, monkeypatch):
    monkeypatch.setattr(module_torch, "VECTORS", MODULE_VECTORS)
    assert module_torch.difference(sample) is None
