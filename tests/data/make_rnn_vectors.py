"""Generate tests/data/torch_rnn_vectors.npz: outputs and gradients of PyTorch's RNN,
LSTM, GRU and their cells, in float32 and float64.

Each case builds the torch module (its own initialisation, seeded), draws the
input, the initial states (when the case passes hx) and cotangents for every
output, and stores the module's state_dict, the inputs, the outputs and the
gradients of sum(output * g) + sum(h_n * g_h) (+ sum(c_n * g_c)) with respect to
the input, the states and every parameter. Packed cases pack a padded batch
with pack_padded_sequence, run the layer and unpack its output with
pad_packed_sequence. The settings are in CASES (JSON, key "cases"), so the test
replays them without torch:

    python tests/data/make_rnn_vectors.py      # needs torch (2.13.0, CPU)
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

OUT = Path(__file__).parent / "torch_rnn_vectors.npz"

# module, its arguments, (T, B) of the input ((B, T) with batch_first; B None: unbatched),
# options: hx (pass initial states), lengths (pack a padded batch), enforce_sorted, eval
CASES = [
    ("RNN", {"input_size": 3, "hidden_size": 4}, (5, 2), {}),
    ("RNN", {"input_size": 3, "hidden_size": 4, "nonlinearity": "relu", "num_layers": 2,
             "bidirectional": True}, (4, 3), {"hx": True}),
    ("RNN", {"input_size": 2, "hidden_size": 3, "bias": False, "batch_first": True}, (2, 6), {}),
    ("RNN", {"input_size": 3, "hidden_size": 4}, (5, None), {"hx": True}),
    ("LSTM", {"input_size": 3, "hidden_size": 4}, (6, 2), {}),
    ("LSTM", {"input_size": 3, "hidden_size": 5, "num_layers": 2, "bidirectional": True,
              "batch_first": True}, (3, 4), {"hx": True}),
    ("LSTM", {"input_size": 4, "hidden_size": 3, "bias": False}, (4, 2), {"hx": True}),
    ("LSTM", {"input_size": 3, "hidden_size": 4, "num_layers": 2}, (5, None), {"hx": True}),
    ("LSTM", {"input_size": 3, "hidden_size": 4, "num_layers": 3, "dropout": 0.5}, (4, 2),
     {"eval": True}),
    ("GRU", {"input_size": 3, "hidden_size": 4}, (6, 3), {}),
    ("GRU", {"input_size": 2, "hidden_size": 5, "num_layers": 2, "bidirectional": True},
     (4, 2), {"hx": True}),
    ("GRU", {"input_size": 3, "hidden_size": 4, "bias": False, "batch_first": True}, (3, 5),
     {}),
    ("GRU", {"input_size": 3, "hidden_size": 4}, (5, None), {"hx": True}),
    # padded batches, packed
    ("LSTM", {"input_size": 3, "hidden_size": 4, "bidirectional": True, "num_layers": 2},
     (6, 4), {"hx": True, "lengths": [3, 6, 1, 4], "enforce_sorted": False}),
    ("GRU", {"input_size": 3, "hidden_size": 4, "bidirectional": True, "batch_first": True},
     (5, 3), {"lengths": [5, 3, 2]}),
    ("RNN", {"input_size": 2, "hidden_size": 3}, (4, 3), {"hx": True, "lengths": [4, 4, 2],
                                                          "enforce_sorted": True}),
    # cells: (T, B) = (1, B), T unused
    ("RNNCell", {"input_size": 3, "hidden_size": 4}, (1, 2), {"hx": True}),
    ("RNNCell", {"input_size": 3, "hidden_size": 4, "nonlinearity": "relu", "bias": False},
     (1, None), {}),
    ("LSTMCell", {"input_size": 3, "hidden_size": 4}, (1, 3), {"hx": True}),
    ("LSTMCell", {"input_size": 3, "hidden_size": 4}, (1, None), {}),
    ("GRUCell", {"input_size": 3, "hidden_size": 4}, (1, 2), {"hx": True}),
    ("GRUCell", {"input_size": 3, "hidden_size": 4, "bias": False}, (1, None), {"hx": True}),
]

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def input_shape(kind: str, settings: dict, size: tuple) -> tuple[int, ...]:
    steps, batch = size
    if kind.endswith("Cell"):
        return (settings["input_size"],) if batch is None else (batch, settings["input_size"])
    if batch is None:
        return (steps, settings["input_size"])
    return ((batch, steps) if settings.get("batch_first") else (steps, batch)) + (
        settings["input_size"],)


def state_shape(kind: str, settings: dict, size: tuple) -> tuple[int, ...]:
    batch = size[1]
    hidden = settings["hidden_size"]
    if kind.endswith("Cell"):
        return (hidden,) if batch is None else (batch, hidden)
    count = settings.get("num_layers", 1) * (2 if settings.get("bidirectional") else 1)
    return (count, hidden) if batch is None else (count, batch, hidden)


def run(kind: str, settings: dict, size: tuple, options: dict, dtype: str,
        rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Inputs, state_dict, cotangents, outputs and gradients of one case."""
    torch.manual_seed(int(rng.integers(2**31)))
    module = getattr(torch.nn, kind)(**settings, dtype=DTYPES[dtype])
    if options.get("eval"):
        module.eval()
    lstm = kind.startswith("LSTM")
    arrays = {"x": torch.tensor(rng.standard_normal(input_shape(kind, settings, size)),
                                dtype=DTYPES[dtype], requires_grad=True)}
    hx = None
    if options.get("hx"):
        names = ("h0", "c0") if lstm else ("h0",)
        for name in names:
            arrays[name] = torch.tensor(rng.standard_normal(state_shape(kind, settings, size)),
                                        dtype=DTYPES[dtype], requires_grad=True)
        hx = tuple(arrays[n] for n in names) if lstm else arrays["h0"]
    batch_first = settings.get("batch_first", False)
    if "lengths" in options:
        packed = pack_padded_sequence(arrays["x"], options["lengths"], batch_first=batch_first,
                                      enforce_sorted=options.get("enforce_sorted", True))
        output, states = module(packed, hx)
        output = pad_packed_sequence(output, batch_first=batch_first)[0]
    elif kind.endswith("Cell"):
        output, states = None, module(arrays["x"], hx)
    else:
        output, states = module(arrays["x"], hx)
    outputs = {} if output is None else {"y": output}
    outputs.update({"h": states[0], "c": states[1]} if lstm else {"h": states})
    loss = 0
    result = {}
    for name, value in outputs.items():
        g = torch.tensor(rng.standard_normal(tuple(value.shape)), dtype=DTYPES[dtype])
        loss = loss + (value * g).sum()
        result[f"out_{name}"] = value.detach().numpy()
        result[f"g_{name}"] = g.numpy()
    loss.backward()
    for name, value in arrays.items():
        result[name] = value.detach().numpy()
        result[f"grad_{name}"] = value.grad.numpy()
    for name, value in module.named_parameters():
        result[f"param_{name}"] = value.detach().numpy()
        result[f"grad_param_{name}"] = value.grad.numpy()
    return result


def main() -> None:
    rng = np.random.default_rng(0)
    out: dict[str, np.ndarray] = {}
    cases = []
    for kind, settings, size, options in CASES:
        for dtype in DTYPES:
            number = len(cases)
            cases.append({"kind": kind, "settings": settings, "size": size, "options": options,
                          "dtype": dtype})
            for name, array in run(kind, settings, size, options, dtype, rng).items():
                out[f"{number}/{name}"] = array
    out["cases"] = np.array(json.dumps(cases))
    out["torch_version"] = np.array(torch.__version__)
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({len(cases)} cases, torch {torch.__version__})")


if __name__ == "__main__":
    main()
