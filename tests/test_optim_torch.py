"""The optimizers against PyTorch's: trajectories stored in tests/data.

``tests/data/torch_optim_vectors.npz`` (written by
``tests/data/make_torch_vectors.py`` with torch.optim, foreach=False, float64)
holds 50-step trajectories of one 16-element parameter over a grid of options
for SGD, Adagrad, RMSprop, Adam and AdamW. Here the same run goes through
minidl's Optimizer classes, with the 16 elements split into three parameters
of different shapes (so the flat buffer spans several tensors), in float64.
No torch needed.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from minidl import Tensor
from minidl.optim import (SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop,
                          Rprop)

VECTORS = Path(__file__).parent / "data" / "torch_optim_vectors.npz"
CLASSES = {"SGD": SGD, "Adagrad": Adagrad, "RMSprop": RMSprop, "Adam": Adam, "AdamW": AdamW,
           "Rprop": Rprop, "Adadelta": Adadelta, "Adamax": Adamax, "NAdam": NAdam,
           "RAdam": RAdam}
SPLIT = [(4, 2), (5,), (3,)]     # 8 + 5 + 3 = the 16 elements of the stored parameter

with np.load(VECTORS, allow_pickle=False) as stored:
    DATA = {key: stored[key] for key in stored.files}
CASES = [case for case in json.loads(str(DATA["cases"])) if not case["events"]]


def split(flat: np.ndarray) -> list[np.ndarray]:
    bounds = np.cumsum([0] + [int(np.prod(shape)) for shape in SPLIT])
    return [flat[lo:hi].reshape(shape) for lo, hi, shape in zip(bounds[:-1], bounds[1:], SPLIT)]


def test_every_optimizer_is_covered():
    assert {case["optimizer"] for case in CASES} == set(CLASSES)


@pytest.mark.parametrize("backend", ["reference", "cpu"])
@pytest.mark.parametrize("case", CASES, ids=[case["key"] for case in CASES])
def test_trajectory_matches_pytorch(case, backend):
    options = {key: tuple(value) if isinstance(value, list) else value
               for key, value in case["options"].items()}
    params = [Tensor(piece, requires_grad=True, dtype=np.float64)
              for piece in split(DATA["param0"])]
    opt = CLASSES[case["optimizer"]](params, device=backend, **options)
    expected = DATA[case["key"]]
    for step, grad in enumerate(DATA["grads"], start=1):
        for param, piece in zip(params, split(grad)):
            param.grad = piece
        opt.step()
        got = np.concatenate([param.numpy().reshape(-1) for param in params])
        np.testing.assert_allclose(got, expected[step], rtol=1e-10, atol=1e-12,
                                   err_msg=f"step {step}")
