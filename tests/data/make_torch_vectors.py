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

``options`` are the keyword arguments of the torch optimizer (``betas``,
``etas`` and ``step_sizes`` as lists).

The optimizers added later (``Rprop``, ``Adadelta``, ``Adamax``, ``NAdam``,
``RAdam``) have cases of the same kind, and every optimizer also has "events"
cases (``"events": true``), run in float32 and float64 (``"dtype"``) on the
16 elements split into three params (``SPLIT``): on some steps some params
have no grad (``skipped(step, index)``), and the lr of the group is halved
before step ``LR_CHANGE_STEP``. Each events case also stores PyTorch's
``state_dict()`` after ``STATE_STEP`` steps, its tensors as arrays:

    <key>__groups     a JSON string: the state dict's "param_groups"
    <key>__<i>__<n>   state entry ``n`` of parameter ``i`` (``step`` included)

so that a test can load it into minidl at that step and compare the rest of
the trajectory with PyTorch's. Centered RMSprop is included only where torch stays finite (minidl
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


def rprop_cases() -> list[dict]:
    return [dict(lr=0.01, **o) for o in grid(
        etas=([0.5, 1.2], [0.3, 1.5]), step_sizes=([1e-6, 50.0], [1e-3, 0.02]),
        maximize=(False, True))]


def adadelta_cases() -> list[dict]:
    return [dict(lr=1.0, eps=1e-6, **o) for o in grid(
        rho=(0.9, 0.3), weight_decay=(0.0, 0.1), maximize=(False, True))]


def adamax_cases() -> list[dict]:
    return [dict(lr=0.01, eps=1e-8, betas=[beta1, 0.999], **o) for beta1 in (0.9, 0.3)
            for o in grid(weight_decay=(0.0, 0.1), maximize=(False, True))]


def nadam_cases() -> list[dict]:
    return [dict(lr=0.01, eps=1e-8, betas=[beta1, 0.999], **o) for beta1 in (0.9, 0.3)
            for o in grid(weight_decay=(0.0, 0.1), decoupled_weight_decay=(False, True),
                          momentum_decay=(4e-3, 0.1), maximize=(False, True))]


def radam_cases() -> list[dict]:
    return [dict(lr=0.01, eps=1e-8, betas=[beta1, beta2], **o) for beta1 in (0.9, 0.3)
            for beta2 in (0.999, 0.9)
            for o in grid(weight_decay=(0.0, 0.1), decoupled_weight_decay=(False, True),
                          maximize=(False, True))]


OPTIMIZERS = {"SGD": sgd_cases, "Adagrad": adagrad_cases, "RMSprop": rmsprop_cases,
              "Adam": lambda: adam_cases(False), "AdamW": lambda: adam_cases(True),
              "Rprop": rprop_cases, "Adadelta": adadelta_cases, "Adamax": adamax_cases,
              "NAdam": nadam_cases, "RAdam": radam_cases}

# The events cases: options of each optimizer, run on SPLIT with skipped grads and an lr change.
EVENTS = {
    "SGD": [dict(lr=0.05, momentum=0.9, weight_decay=0.1), dict(lr=0.05)],
    "Adagrad": [dict(lr=0.1, lr_decay=0.05, weight_decay=0.1)],
    "RMSprop": [dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1),
                dict(lr=0.01, alpha=0.9)],
    "Adam": [dict(lr=0.01, amsgrad=True, weight_decay=0.1)],
    "AdamW": [dict(lr=0.01, weight_decay=0.1)],
    "Rprop": [dict(lr=0.01, etas=[0.4, 1.3], maximize=True)],
    "Adadelta": [dict(lr=1.0, rho=0.8, weight_decay=0.1)],
    "Adamax": [dict(lr=0.01, weight_decay=0.1)],
    "NAdam": [dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
              dict(lr=0.01, momentum_decay=0.05)],
    "RAdam": [dict(lr=0.01, weight_decay=0.1, betas=[0.9, 0.99])],
}
SPLIT = [(4, 2), (5,), (3,)]        # 8 + 5 + 3 = the 16 elements
LR_CHANGE_STEP = 25                 # the group's lr is halved before this step
STATE_STEP = 30                     # the state dict saved after this many steps


def skipped(step: int, index: int) -> bool:
    """Whether param ``index`` has no grad at (1-based) ``step``: param 1 misses
    its first two steps and every 7th, param 0 misses step 10."""
    return (index == 1 and (step <= 2 or step % 7 == 3)) or (index == 0 and step == 10)


def torch_kwargs(options: dict) -> dict:
    return {key: tuple(value) if isinstance(value, list) else value
            for key, value in options.items()}


def trajectory(optimizer: str, options: dict, param0: np.ndarray, grads: np.ndarray) -> np.ndarray:
    param = torch.nn.Parameter(torch.tensor(param0, dtype=torch.float64))
    opt = getattr(torch.optim, optimizer)([param], foreach=False, **torch_kwargs(options))
    out = [param.detach().numpy().copy()]
    for grad in grads:
        param.grad = torch.tensor(grad, dtype=torch.float64)
        opt.step()
        out.append(param.detach().numpy().copy())
    return np.stack(out)


def split(flat: np.ndarray) -> list[np.ndarray]:
    bounds = np.cumsum([0] + [int(np.prod(shape)) for shape in SPLIT])
    return [flat[lo:hi].reshape(shape) for lo, hi, shape in zip(bounds[:-1], bounds[1:], SPLIT)]


def events_trajectory(optimizer: str, options: dict, param0: np.ndarray, grads: np.ndarray,
                      dtype: torch.dtype) -> tuple[np.ndarray, dict]:
    """The flat params before and after each step, and the state dict after STATE_STEP."""
    params = [torch.nn.Parameter(torch.tensor(piece, dtype=dtype)) for piece in split(param0)]
    opt = getattr(torch.optim, optimizer)(params, foreach=False, **torch_kwargs(options))
    flat = lambda: np.concatenate([p.detach().numpy().reshape(-1) for p in params])  # noqa
    out, saved = [flat()], {}
    for step, grad in enumerate(grads, start=1):
        if step == LR_CHANGE_STEP:
            opt.param_groups[0]["lr"] *= 0.5
        for index, (param, piece) in enumerate(zip(params, split(grad))):
            param.grad = None if skipped(step, index) else torch.tensor(piece, dtype=dtype)
        opt.step()
        out.append(flat())
        if step == STATE_STEP:
            state_dict = opt.state_dict()
            saved["groups"] = json.dumps([{k: list(v) if isinstance(v, tuple) else v
                                           for k, v in group.items()}
                                          for group in state_dict["param_groups"]])
            for index, entry in state_dict["state"].items():
                for name, value in entry.items():
                    saved[f"{index}__{name}"] = np.array(  # a copy: torch returns live state
                        value.detach().numpy() if torch.is_tensor(value) else value)
    return np.stack(out), saved


def events_cases(param0: np.ndarray, grads: np.ndarray) -> tuple[dict, list]:
    arrays, cases = {}, []
    for optimizer, option_list in EVENTS.items():
        for index, options in enumerate(option_list):
            for dtype_name, dtype in (("float64", torch.float64), ("float32", torch.float32)):
                # PyTorch keeps scalar state (step, NAdam's mu_product) in its default dtype
                torch.set_default_dtype(dtype)
                path, saved = events_trajectory(optimizer, options, param0, grads, dtype)
                torch.set_default_dtype(torch.float32)
                assert np.isfinite(path).all(), (optimizer, options)
                key = f"{optimizer}_events{index}_{dtype_name}"
                arrays[key] = path
                arrays[f"{key}__groups"] = np.array(saved.pop("groups"))
                arrays.update({f"{key}__{name}": value for name, value in saved.items()})
                cases.append(dict(key=key, optimizer=optimizer, options=options, events=True,
                                  dtype=dtype_name))
    return arrays, cases


def main() -> None:
    rng = np.random.default_rng(SEED)
    param0 = rng.standard_normal(SIZE)
    grads = rng.standard_normal((STEPS, SIZE))
    arrays, cases = {}, []
    torch.set_default_dtype(torch.float64)   # scalar state (NAdam's mu_product) in float64
    for optimizer, make_cases in OPTIMIZERS.items():
        for index, options in enumerate(make_cases()):
            path = trajectory(optimizer, options, param0, grads)
            if not np.isfinite(path).all():
                continue
            key = f"{optimizer}_{index}"
            arrays[key] = path
            cases.append(dict(key=key, optimizer=optimizer, options=options, events=False,
                              dtype="float64"))
    torch.set_default_dtype(torch.float32)
    events_arrays, events = events_cases(param0, grads)
    arrays.update(events_arrays)
    cases += events
    np.savez_compressed(OUT, param0=param0, grads=grads, cases=np.array(json.dumps(cases)),
                        torch_version=np.array(torch.__version__), split=np.array(json.dumps(SPLIT)),
                        lr_change_step=LR_CHANGE_STEP, state_step=STATE_STEP, **arrays)
    print(f"wrote {len(cases)} cases to {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
