"""Write tests/data/torch_optim_vectors.npz: PyTorch optimizer trajectories, the oracle
for tests/test_kernels_vs_torch.py (which does not need torch).

Regenerate (needs torch; written with torch 2.13, CPU) from the repository root:

    python tests/data/make_torch_vectors.py

Every case starts from the same params and sees the same per-step gradients
(float64, so the oracle is clean); the optimizer (``torch.optim.SGD``,
``Adagrad``, ``RMSprop``, ``Adam`` or ``AdamW``, ``foreach=False``) runs
``STEPS`` steps over a grid of its options. The npz holds, with no pickled
objects (load it with ``allow_pickle=False``):

    param0        (SIZE,)               the initial params, shared by every case
    grads         (STEPS, SIZE)         the gradient of each step, shared
    cases         a JSON string: [{"key", "optimizer", "options"}, ...]
    <key>         (STEPS + 1, SIZE)     the params before the first and after each step

``options`` are the keyword arguments of the torch optimizer (``betas`` as a
list). Centered RMSprop is included only where torch stays finite (minidl
clamps the centered variance at 0, torch does not), and minidl's
``eps_in_sqrt`` has no torch counterpart: it is not in this file.
"""
from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import torch

STEPS = 50
SIZE = 16
SEED = 20240611
OUT = Path(__file__).with_name("torch_optim_vectors.npz")


def grid(**options: tuple) -> list[dict]:
    return [dict(zip(options, values)) for values in itertools.product(*options.values())]


def sgd_cases() -> list[dict]:
    return [dict(lr=0.05, **o) for o in grid(
        momentum=(0.0, 0.9), dampening=(0.0, 0.3), nesterov=(False, True),
        weight_decay=(0.0, 0.1), maximize=(False, True))
        if not (o["nesterov"] and (o["momentum"] == 0 or o["dampening"] != 0))]


def adagrad_cases() -> list[dict]:
    return [dict(lr=0.1, eps=1e-10, **o) for o in grid(
        lr_decay=(0.0, 0.05), weight_decay=(0.0, 0.1), maximize=(False, True),
        initial_accumulator_value=(0.0, 0.5))]


def rmsprop_cases() -> list[dict]:
    return [dict(lr=0.01, eps=1e-8, **o) for o in grid(
        alpha=(0.99, 0.3), momentum=(0.0, 0.9), centered=(False, True),
        weight_decay=(0.0, 0.1), maximize=(False, True))]


def adam_cases(decoupled: bool) -> list[dict]:
    decays = (0.01, 0.1) if decoupled else (0.0, 0.1)
    return [dict(lr=0.01, eps=1e-8, betas=[beta1, 0.999], **o)
            for beta1 in (0.9, 0.3)
            for o in grid(amsgrad=(False, True), weight_decay=decays, maximize=(False, True))]


OPTIMIZERS = {"SGD": sgd_cases, "Adagrad": adagrad_cases, "RMSprop": rmsprop_cases,
              "Adam": lambda: adam_cases(False), "AdamW": lambda: adam_cases(True)}


def trajectory(optimizer: str, options: dict, param0: np.ndarray, grads: np.ndarray) -> np.ndarray:
    param = torch.nn.Parameter(torch.tensor(param0, dtype=torch.float64))
    kwargs = dict(options, betas=tuple(options["betas"])) if "betas" in options else options
    opt = getattr(torch.optim, optimizer)([param], foreach=False, **kwargs)
    out = [param.detach().numpy().copy()]
    for grad in grads:
        param.grad = torch.tensor(grad, dtype=torch.float64)
        opt.step()
        out.append(param.detach().numpy().copy())
    return np.stack(out)


def main() -> None:
    rng = np.random.default_rng(SEED)
    param0 = rng.standard_normal(SIZE)
    grads = rng.standard_normal((STEPS, SIZE))
    arrays, cases = {}, []
    for optimizer, make_cases in OPTIMIZERS.items():
        for index, options in enumerate(make_cases()):
            path = trajectory(optimizer, options, param0, grads)
            if not np.isfinite(path).all():
                continue
            key = f"{optimizer}_{index}"
            arrays[key] = path
            cases.append(dict(key=key, optimizer=optimizer, options=options))
    np.savez_compressed(OUT, param0=param0, grads=grads, cases=np.array(json.dumps(cases)),
                        torch_version=np.array(torch.__version__), **arrays)
    print(f"wrote {len(cases)} cases to {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
