"""Write tests/data/descendant_vectors.npz: trajectories of RMSprop's descendants made by
their reference implementations, the oracle for tests/test_optim_descendants.py (which
needs neither torch nor the packages).

    ASGD                                  torch.optim (2.13, foreach=False)
    Lion                                  lion-pytorch (0.2.5)
    AdaBelief                             adabelief-pytorch (0.2.1, print_change_log=False)
    AdamWScheduleFree, SGDScheduleFree    schedulefree (1.4.1, foreach=False)

Regenerate from the repository root (needs torch and the three packages):

    pip install torch lion-pytorch adabelief-pytorch schedulefree
    python tests/data/make_descendant_vectors.py

The layout is that of make_torch_vectors.py: every case starts from ``param0``
and sees the gradients ``grads`` (float64). Grid cases (``"events": false``)
run STEPS steps in float64 on one 16-element parameter over a grid of options;
"events" cases run in float32 and float64 (``"dtype"``) on the 16 elements
split into three parameters (``SPLIT``), where some params have no grad on some
steps (``skipped``) and the lr is halved before step LR_CHANGE_STEP; their
``state_dict()`` after STATE_STEP steps is stored as in make_torch_vectors.py
(``<key>__groups``, ``<key>__<i>__<name>``). The schedule-free optimizers are
put in train mode before the first step; their evaluation point x (after
``eval()``, then ``train()`` again) is stored after EVAL_STEP steps as
``<key>__x``. Each run uses the params' dtype as torch's default dtype (ASGD
keeps eta and mu in it).
"""
from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import torch
from adabelief_pytorch import AdaBelief
from lion_pytorch import Lion
from schedulefree import AdamWScheduleFree, SGDScheduleFree

STEPS = 50
SIZE = 16
SEED = 20261206
OUT = Path(__file__).with_name("descendant_vectors.npz")
SPLIT = [(4, 2), (5,), (3,)]        # 8 + 5 + 3 = the 16 elements
LR_CHANGE_STEP = 25
STATE_STEP = 30
EVAL_STEP = 20


def grid(**options: tuple) -> list[dict]:
    return [dict(zip(options, values)) for values in itertools.product(*options.values())]


def adabelief_flags() -> list[dict]:
    decays = [dict(weight_decouple=False, fixed_decay=False),
              dict(weight_decouple=True, fixed_decay=False),
              dict(weight_decouple=True, fixed_decay=True)]
    rectifies = [dict(rectify=False, degenerated_to_sgd=True),
                 dict(rectify=True, degenerated_to_sgd=True),
                 dict(rectify=True, degenerated_to_sgd=False)]
    return [{**d, **r} for d in decays for r in rectifies]


CASES = {
    "ASGD": [dict(lr=0.05, **o) for o in grid(
        lambd=(1e-4, 0.1), alpha=(0.75, 0.5), t0=(1e6, 5.0), weight_decay=(0.0, 0.1),
        maximize=(False, True))],
    "Lion": [dict(lr=0.01, **o) for o in grid(
        betas=([0.9, 0.99], [0.5, 0.9]), weight_decay=(0.0, 0.1),
        decoupled_weight_decay=(False, True))],
    "AdaBelief": [dict(lr=0.01, **flags, **o) for flags in adabelief_flags() for o in grid(
        amsgrad=(False, True), weight_decay=(0.0, 0.1), betas=([0.9, 0.999], [0.5, 0.9]))],
    "AdamWScheduleFree": [dict(lr=0.05, **o) for o in grid(
        betas=([0.9, 0.999], [0.5, 0.9]), weight_decay=(0.0, 0.1), warmup_steps=(0, 10),
        r=(0.0, 1.0), weight_lr_power=(2.0, 0.0))],
    "SGDScheduleFree": [dict(lr=0.1, **o) for o in grid(
        momentum=(0.9, 0.5), weight_decay=(0.0, 0.1), warmup_steps=(0, 10), r=(0.0, 1.0),
        weight_lr_power=(2.0, 0.0))],
}
EVENTS = {
    "ASGD": [dict(lr=0.05, lambd=0.1, t0=5.0, weight_decay=0.1),
             dict(lr=0.05, alpha=0.5, t0=20.0, maximize=True)],
    "Lion": [dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)],
    "AdaBelief": [dict(lr=0.01, weight_decay=0.1, amsgrad=True),
                  dict(lr=0.01, weight_decay=0.1, weight_decouple=False, rectify=False,
                       eps=1e-8)],
    "AdamWScheduleFree": [dict(lr=0.05, weight_decay=0.1, warmup_steps=10, r=1.0)],
    "SGDScheduleFree": [dict(lr=0.1, weight_decay=0.1, warmup_steps=5)],
}
SCHEDULE_FREE = ("AdamWScheduleFree", "SGDScheduleFree")


def build(name: str, params: list, options: dict):
    kwargs = {key: tuple(value) if isinstance(value, list) else value
              for key, value in options.items()}
    if name == "ASGD":
        return torch.optim.ASGD(params, foreach=False, **kwargs)
    if name == "Lion":
        return Lion(params, **kwargs)
    if name == "AdaBelief":
        return AdaBelief(params, print_change_log=False, **kwargs)
    optimizer = {"AdamWScheduleFree": AdamWScheduleFree,
                 "SGDScheduleFree": SGDScheduleFree}[name](params, foreach=False, **kwargs)
    optimizer.train()
    return optimizer


def skipped(step: int, index: int) -> bool:
    """Param 1 misses its first two steps and every 7th, param 0 misses step 10."""
    return (index == 1 and (step <= 2 or step % 7 == 3)) or (index == 0 and step == 10)


def split(flat: np.ndarray) -> list[np.ndarray]:
    bounds = np.cumsum([0] + [int(np.prod(shape)) for shape in SPLIT])
    return [flat[lo:hi].reshape(shape) for lo, hi, shape in zip(bounds[:-1], bounds[1:], SPLIT)]


def run(name: str, options: dict, param0: np.ndarray, grads: np.ndarray, dtype: torch.dtype,
        events: bool) -> tuple[np.ndarray, dict]:
    """The flat params before and after each step; the state dict and x where recorded."""
    pieces = split(param0) if events else [param0]
    params = [torch.nn.Parameter(torch.tensor(piece, dtype=dtype)) for piece in pieces]
    opt = build(name, params, options)
    flat = lambda: np.concatenate([p.detach().numpy().reshape(-1) for p in params])  # noqa
    out, saved = [flat()], {}
    for step, grad in enumerate(grads, start=1):
        if events and step == LR_CHANGE_STEP:
            opt.param_groups[0]["lr"] *= 0.5
        grad_pieces = split(grad) if events else [grad]
        for index, (param, piece) in enumerate(zip(params, grad_pieces)):
            skip = events and skipped(step, index)
            param.grad = None if skip else torch.tensor(piece, dtype=dtype)
        opt.step()
        out.append(flat())
        if name in SCHEDULE_FREE and step == EVAL_STEP:
            opt.eval()
            saved["x"] = flat()
            opt.train()
        if events and step == STATE_STEP:
            state_dict = opt.state_dict()
            saved["groups"] = json.dumps([{k: list(v) if isinstance(v, tuple) else v
                                           for k, v in group.items()}
                                          for group in state_dict["param_groups"]])
            for index, entry in state_dict["state"].items():
                for key, value in entry.items():
                    saved[f"{index}__{key}"] = np.array(  # a copy: torch returns live state
                        value.detach().numpy() if torch.is_tensor(value) else value)
    return np.stack(out), saved


def main() -> None:
    rng = np.random.default_rng(SEED)
    param0 = rng.standard_normal(SIZE)
    grads = rng.standard_normal((STEPS, SIZE))
    arrays, cases = {}, []
    for events, table in ((False, CASES), (True, EVENTS)):
        for name, option_list in table.items():
            for index, options in enumerate(option_list):
                dtypes = ("float64", "float32") if events else ("float64",)
                for dtype_name in dtypes:
                    dtype = getattr(torch, dtype_name)
                    torch.set_default_dtype(dtype)
                    path, saved = run(name, options, param0, grads, dtype, events)
                    torch.set_default_dtype(torch.float32)
                    assert np.isfinite(path).all(), (name, options)
                    key = f"{name}_{'events' if events else ''}{index}_{dtype_name}"
                    arrays[key] = path
                    if "groups" in saved:
                        arrays[f"{key}__groups"] = np.array(saved.pop("groups"))
                    arrays.update({f"{key}__{k}": v for k, v in saved.items()})
                    cases.append(dict(key=key, optimizer=name, options=options, events=events,
                                      dtype=dtype_name))
    np.savez_compressed(OUT, param0=param0, grads=grads, cases=np.array(json.dumps(cases)),
                        versions=np.array(json.dumps(versions())),
                        split=np.array(json.dumps(SPLIT)), lr_change_step=LR_CHANGE_STEP,
                        state_step=STATE_STEP, eval_step=EVAL_STEP, **arrays)
    print(f"wrote {len(cases)} cases to {OUT} ({OUT.stat().st_size} bytes)")


def versions() -> dict:
    from importlib.metadata import version
    return {name: version(name) for name in
            ("torch", "lion-pytorch", "adabelief-pytorch", "schedulefree")}


if __name__ == "__main__":
    main()
