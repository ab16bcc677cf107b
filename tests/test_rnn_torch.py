"""Parity with PyTorch: RNN, LSTM, GRU (layers, directions, batch_first, no bias,
unbatched, initial states, dropout in eval, packed padded batches) and the cells,
in float32 and float64. Each case loads torch's state_dict into the minidl module and
compares the outputs and the gradients of the input, the initial states and every
parameter with vectors that tests/data/make_rnn_vectors.py generated with torch
2.13.0 (the suite does not need torch). Where torch is installed, state dicts
also go both ways between the two frameworks' modules.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

VECTORS = np.load(Path(__file__).parent / "data" / "torch_rnn_vectors.npz")
CASES = json.loads(str(VECTORS["cases"]))


def stored(number: int) -> dict[str, np.ndarray]:
    prefix = f"{number}/"
    return {key[len(prefix):]: VECTORS[key] for key in VECTORS.files if key.startswith(prefix)}


def case_id(number: int) -> str:
    case = CASES[number]
    extra = "-packed" if "lengths" in case["options"] else ""
    return f"{case['kind']}{extra}-{case['dtype']}-{number}"


def replay(case: dict, v: dict[str, np.ndarray]):
    """The minidl module with torch's weights, its outputs by name, and its leaves."""
    dtype = np.dtype(case["dtype"])
    kind, options = case["kind"], case["options"]
    module = getattr(nn, kind)(**case["settings"], dtype=dtype)
    module.load_state_dict({k[len("param_"):]: a for k, a in v.items()
                            if k.startswith("param_")})
    if options.get("eval"):
        module.eval()
    leaves = {name: minidl.Tensor(v[name].copy(), requires_grad=True, dtype=dtype)
              for name in ("x", "h0", "c0") if name in v}
    lstm = kind.startswith("LSTM")
    hx = (leaves["h0"], leaves["c0"]) if lstm and "h0" in leaves else leaves.get("h0")
    batch_first = case["settings"].get("batch_first", False)
    if "lengths" in options:
        packed = pack_padded_sequence(leaves["x"], options["lengths"], batch_first=batch_first,
                                      enforce_sorted=options.get("enforce_sorted", True))
        output, states = module(packed, hx)
        output = pad_packed_sequence(output, batch_first=batch_first)[0]
    elif kind.endswith("Cell"):
        output, states = None, module(leaves["x"], hx)
    else:
        output, states = module(leaves["x"], hx)
    outputs = {} if output is None else {"y": output}
    outputs.update({"h": states[0], "c": states[1]} if lstm else {"h": states})
    return module, outputs, leaves


@pytest.mark.parametrize("number", range(len(CASES)), ids=case_id)
def test_matches_torch(number):
    case, v = CASES[number], stored(number)
    module, outputs, leaves = replay(case, v)
    tolerance = ({"rtol": 1e-10, "atol": 1e-12} if case["dtype"] == "float64"
                 else {"rtol": 2e-5, "atol": 2e-6})
    loss = 0
    for name, value in outputs.items():
        assert value.dtype == np.dtype(case["dtype"])
        np.testing.assert_allclose(np.asarray(value), v[f"out_{name}"], **tolerance,
                                   err_msg=f"output {name}")
        loss = loss + (value * minidl.Tensor(v[f"g_{name}"], dtype=value.dtype)).sum()
    loss.backward()
    for name, leaf in leaves.items():
        np.testing.assert_allclose(np.asarray(leaf.grad), v[f"grad_{name}"], **tolerance,
                                   err_msg=f"gradient of {name}")
    names = [k[len("grad_param_"):] for k in v if k.startswith("grad_param_")]
    assert sorted(names) == sorted(name for name, _ in module.named_parameters())
    for name, parameter in module.named_parameters():
        np.testing.assert_allclose(np.asarray(parameter.grad), v[f"grad_param_{name}"],
                                   **tolerance, err_msg=f"gradient of {name}")


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_state_dict_round_trip_with_torch(kind):
    torch = pytest.importorskip("torch")
    settings = {"input_size": 3, "hidden_size": 4, "num_layers": 2, "bidirectional": True}
    theirs = getattr(torch.nn, kind)(**settings)
    mine = getattr(nn, kind)(**settings)
    # the same names, shapes and order in both
    assert [(k, tuple(t.shape)) for k, t in theirs.state_dict().items()] == \
        [(k, a.shape) for k, a in mine.state_dict().items()]
    mine.load_state_dict({k: t.numpy() for k, t in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(mine(x)[0]),
                               theirs(torch.from_numpy(x))[0].detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    fresh = getattr(nn, kind)(**settings)
    theirs.load_state_dict({k: torch.from_numpy(np.asarray(a)) for k, a in
                            fresh.state_dict().items()})
    np.testing.assert_allclose(theirs(torch.from_numpy(x))[0].detach().numpy(),
                               np.asarray(fresh(x)[0]), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_state_dict_round_trip_with_torch(kind):
    torch = pytest.importorskip("torch")
    theirs, mine = getattr(torch.nn, kind)(3, 4), getattr(nn, kind)(3, 4)
    assert [(k, tuple(t.shape)) for k, t in theirs.state_dict().items()] == \
        [(k, a.shape) for k, a in mine.state_dict().items()]
    mine.load_state_dict({k: t.numpy() for k, t in theirs.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32)
    out_mine, out_theirs = mine(x), theirs(torch.from_numpy(x))
    first = (lambda o: o[0]) if kind == "LSTMCell" else (lambda o: o)
    np.testing.assert_allclose(np.asarray(first(out_mine)),
                               first(out_theirs).detach().numpy(), rtol=1e-5, atol=1e-6)
