"""Generate tests/data/torchns_vectors.npz with PyTorch (run by hand).

    python tests/data/make_torchns_vectors.py

What tests/test_torch_namespace.py, test_utils_data.py and test_init_torch.py
compare minidl's deterministic answers with, so CI needs no torch:

    init_eye_<r>x<c>, init_dirac_<shape>_g<groups>   nn.init.eye_ / dirac_ values
    gain_<name>                                      nn.init.calculate_gain
    split_<n>_<fractions>                            random_split lengths from fractions
    collate_<case>_dtype, collate_<case>_value       default_collate of Python values
    error_<case>                                     the text of PyTorch's errors
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset, default_collate, random_split

EYE_SHAPES = [(3, 5), (4, 2), (3, 3)]
DIRAC_CASES = [((4, 2, 3), 1), ((4, 4, 3, 3), 2), ((2, 3, 1, 3, 3), 1), ((6, 2, 2, 2), 3)]
GAINS = [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
         ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]
SPLITS = [(10, (0.7, 0.3)), (10, (0.33, 0.33, 0.34)), (7, (0.5, 0.5)), (11, (0.25,) * 4)]
COLLATE = {"floats": [0.5, 1.5], "ints": [1, 2], "bools": [True, False],
           "float32_arrays": [np.ones(2, np.float32), np.zeros(2, np.float32)],
           "int_arrays": [np.arange(2), np.arange(2)]}


def key(*parts: object) -> str:
    return "_".join(str(p) for p in parts).replace(" ", "").replace("(", "").replace(")", "") \
        .replace(",", "x").replace(".", "p")


def main() -> None:
    vectors: dict[str, np.ndarray] = {}
    for shape in EYE_SHAPES:
        vectors[key("init_eye", *shape)] = torch.nn.init.eye_(torch.empty(shape)).numpy()
    for shape, groups in DIRAC_CASES:
        weight = torch.nn.init.dirac_(torch.empty(shape), groups)
        vectors[key("init_dirac", *shape, "g", groups)] = weight.numpy()
    for name, param in GAINS:
        vectors[key("gain", name, param)] = np.array(torch.nn.init.calculate_gain(name, param))
    for n, fractions in SPLITS:
        parts = random_split(range(n), list(fractions))
        vectors[key("split", n, *fractions)] = np.array([len(p) for p in parts])
    for case, batch in COLLATE.items():
        out = default_collate(batch)
        vectors[f"collate_{case}_dtype"] = np.array(str(out.dtype).removeprefix("torch."))
        vectors[f"collate_{case}_value"] = out.numpy()
    dataset = TensorDataset(torch.zeros(4, 2))
    errors = {
        "sampler_shuffle": lambda: DataLoader(dataset, sampler=range(4), shuffle=True),
        "batch_sampler": lambda: DataLoader(dataset, batch_sampler=[[0]], batch_size=2),
        "batch_size_none": lambda: DataLoader(dataset, batch_size=None, drop_last=True),
        "split_sum": lambda: random_split(range(5), [2, 2]),
    }
    for case, call in errors.items():
        try:
            call()
        except ValueError as error:
            vectors[f"error_{case}"] = np.array(str(error))
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    state = model.state_dict()
    del state["2.bias"]
    state["3.weight"] = torch.zeros(1)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        vectors["error_load_state_dict"] = np.array(str(error))
    out = Path(__file__).with_name("torchns_vectors.npz")
    np.savez(out, **vectors)
    print(f"wrote {len(vectors)} arrays to {out}")


if __name__ == "__main__":
    main()
