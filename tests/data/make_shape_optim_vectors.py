"""Write tests/data/shape_optim_vectors.npz: PyTorch's Adafactor, Muon and LBFGS
trajectories, the oracle for tests/test_optim_shaped.py (which does not need torch).

Regenerate (needs torch; written with torch 2.13, CPU) from the repository root:

    python tests/data/make_shape_optim_vectors.py

Adafactor and Muon ("events" cases, as in make_torch_vectors.py): params of the
shapes ``SHAPES[optimizer]`` start from ``param0`` and see the gradients
``grads`` for ``STEPS`` steps, in float32 and float64; on some steps some
params have no grad (``skipped``), the group's lr is halved before step
``LR_CHANGE_STEP``, and the state dict after ``STATE_STEP`` steps is stored.
torch's Muon runs its Newton-Schulz iteration in bfloat16; minidl runs it in
the params' dtype, so the Muon cases patch torch's iteration to keep the
dtype (its code otherwise unchanged), and one case ``Muon_bfloat16`` keeps
torch's own bfloat16 iteration, to show how close the two are.

LBFGS: ``step(closure)`` on ``lbfgs_loss`` (a convex quadratic plus a quartic,
coupling all params), ``LBFGS_STEPS`` steps; param 2 is left out of the loss
(no grad) on the steps in ``LBFGS_SKIPPED``, the lr is halved before step
``LBFGS_LR_CHANGE``, and the state dict after ``LBFGS_STATE_STEP`` steps is
stored (its lists as ``<key>__<name>__<j>``).

Keys: ``<key>`` (steps + 1, size) the flat params before and after each step;
``<key>__groups`` the state dict's param groups (JSON); ``<key>__<i>__<name>``
its state entries; ``cases`` (JSON) lists every case.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.optim._muon as torch_muon

STEPS, LR_CHANGE_STEP, STATE_STEP = 30, 15, 20
SEED = 20261206
OUT = Path(__file__).with_name("shape_optim_vectors.npz")
SHAPES = {"Adafactor": [(4, 3), (5,), (2, 2, 3), ()], "Muon": [(4, 3), (3, 5), (2, 2)]}
CASES = {
    "Adafactor": [dict(), dict(lr=0.1, weight_decay=0.1, maximize=True),
                  dict(beta2_decay=-0.5, eps=[1e-30, 1e-2], d=2.0)],
    "Muon": [dict(lr=0.02), dict(lr=0.02, nesterov=False, weight_decay=0.0, momentum=0.9),
             dict(lr=0.02, adjust_lr_fn="match_rms_adamw", ns_steps=3)],
}
LBFGS_SHAPES = [(3, 2), (4,), (2,)]
LBFGS_STEPS, LBFGS_LR_CHANGE, LBFGS_STATE_STEP, LBFGS_SKIPPED = 6, 4, 3, (2, 5)
LBFGS_CASES = [dict(lr=0.5, max_iter=5, history_size=3),
               dict(lr=1.0, max_iter=4, history_size=3, line_search_fn="strong_wolfe")]


def skipped(step: int, index: int) -> bool:
    """Param 1 has no grad on steps 1, 2 and every 7th; param 0 on step 10."""
    return (index == 1 and (step <= 2 or step % 7 == 3)) or (index == 0 and step == 10)


def pieces(flat: np.ndarray, shapes: list[tuple]) -> list[np.ndarray]:
    bounds = np.cumsum([0] + [int(np.prod(shape)) for shape in shapes])
    return [flat[lo:hi].reshape(shape) for lo, hi, shape in zip(bounds[:-1], bounds[1:], shapes)]


def newton_schulz_in_dtype(grad, ns_coefficients, ns_steps, eps):
    """torch's _zeropower_via_newtonschulz without its bfloat16 cast."""
    a, b, c = ns_coefficients
    ortho_grad = grad.clone()
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    ortho_grad.div_(ortho_grad.norm().clamp(min=eps))
    for _ in range(ns_steps):
        gram_matrix = ortho_grad @ ortho_grad.T
        gram_update = torch.addmm(gram_matrix, gram_matrix, gram_matrix, beta=b, alpha=c)
        ortho_grad = torch.addmm(ortho_grad, gram_update, ortho_grad, beta=a)
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    return ortho_grad


def as_array(value):
    return np.array(value.detach().numpy() if torch.is_tensor(value) else value)


def save_state(state_dict: dict, saved: dict) -> None:
    saved["groups"] = json.dumps([{k: list(v) if isinstance(v, tuple) else v
                                   for k, v in group.items()}
                                  for group in state_dict["param_groups"]])
    for index, entry in state_dict["state"].items():
        for name, value in entry.items():
            if isinstance(value, list):
                for j, item in enumerate(value):
                    if item is not None:
                        saved[f"{index}__{name}__{j}"] = as_array(item)
                saved[f"{index}__{name}__len"] = np.array(len(value))
            elif value is not None:
                saved[f"{index}__{name}"] = as_array(value)


def events_trajectory(optimizer: str, options: dict, param0: np.ndarray, grads: np.ndarray,
                      dtype: torch.dtype) -> tuple[np.ndarray, dict]:
    shapes = SHAPES[optimizer]
    params = [torch.nn.Parameter(torch.tensor(piece, dtype=dtype))
              for piece in pieces(param0, shapes)]
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
    opt = getattr(torch.optim, optimizer)(params, **kwargs)
    flat = lambda: np.concatenate([p.detach().numpy().reshape(-1) for p in params])  # noqa
    out, saved = [flat()], {}
    for step, grad in enumerate(grads, start=1):
        if step == LR_CHANGE_STEP:
            opt.param_groups[0]["lr"] *= 0.5
        for index, (param, piece) in enumerate(zip(params, pieces(grad, shapes))):
            param.grad = None if skipped(step, index) else torch.tensor(piece, dtype=dtype)
        opt.step()
        out.append(flat())
        if step == STATE_STEP:
            save_state(opt.state_dict(), saved)
    return np.stack(out), saved


def lbfgs_loss(params: list, data: dict, step: int, xp):
    """sum_k c_k (x_k - a_k)^2 + sum x^4 / 4 + (w . x)^2 / 2 over the params in use."""
    used = [i for i in range(len(params)) if not (i == 2 and step in LBFGS_SKIPPED)]
    total, coupling = 0, 0
    for i in used:
        p, (a, c, w) = params[i], data[i]
        total = total + (xp(c) * (p - xp(a)) ** 2).sum() + (p ** 4).sum() * 0.25
        coupling = coupling + (p * xp(w)).sum()
    return total + coupling ** 2 * 0.5


def lbfgs_trajectory(options: dict, param0: np.ndarray, data: dict, dtype) -> tuple:
    params = [torch.nn.Parameter(torch.tensor(piece, dtype=dtype))
              for piece in pieces(param0, LBFGS_SHAPES)]
    opt = torch.optim.LBFGS(params, **options)
    xp = lambda array: torch.tensor(array, dtype=dtype)  # noqa
    flat = lambda: np.concatenate([p.detach().numpy().reshape(-1) for p in params])  # noqa
    out, saved = [flat()], {}
    for step in range(1, LBFGS_STEPS + 1):
        if step == LBFGS_LR_CHANGE:
            opt.param_groups[0]["lr"] *= 0.5

        def closure():
            opt.zero_grad()
            loss = lbfgs_loss(params, data, step, xp)
            loss.backward()
            return loss

        opt.step(closure)
        out.append(flat())
        if step == LBFGS_STATE_STEP:
            save_state(opt.state_dict(), saved)
    return np.stack(out), saved


def lbfgs_data(rng) -> dict:
    return {i: tuple(rng.uniform(0.5, 2.0, shape) if k == 1 else rng.standard_normal(shape)
                     for k in range(3)) for i, shape in enumerate(LBFGS_SHAPES)}


def main() -> None:
    rng = np.random.default_rng(SEED)
    size = max(sum(int(np.prod(s)) for s in shapes) for shapes in SHAPES.values())
    param0, grads = rng.standard_normal(size), rng.standard_normal((STEPS, size))
    data = lbfgs_data(rng)
    lbfgs_size = sum(int(np.prod(s)) for s in LBFGS_SHAPES)
    lbfgs_param0 = rng.standard_normal(lbfgs_size)
    arrays, cases = {}, []

    def store(key: str, path: np.ndarray, saved: dict, case: dict) -> None:
        assert np.isfinite(path).all(), key
        arrays[key] = path
        arrays[f"{key}__groups"] = np.array(saved.pop("groups"))
        arrays.update({f"{key}__{name}": value for name, value in saved.items()})
        cases.append(dict(key=key, **case))

    original = torch_muon._zeropower_via_newtonschulz
    for dtype_name, dtype in (("float64", torch.float64), ("float32", torch.float32)):
        torch.set_default_dtype(dtype)   # scalar state (step) in the params' dtype
        for optimizer, option_list in CASES.items():
            torch_muon._zeropower_via_newtonschulz = newton_schulz_in_dtype
            for index, options in enumerate(option_list):
                n = sum(int(np.prod(s)) for s in SHAPES[optimizer])
                path, saved = events_trajectory(optimizer, options, param0[:n], grads[:, :n],
                                                dtype)
                store(f"{optimizer}_{index}_{dtype_name}", path, saved,
                      dict(optimizer=optimizer, options=options, dtype=dtype_name))
            torch_muon._zeropower_via_newtonschulz = original
        n = sum(int(np.prod(s)) for s in SHAPES["Muon"])
        path, saved = events_trajectory("Muon", CASES["Muon"][0], param0[:n], grads[:, :n], dtype)
        store(f"Muon_bfloat16_{dtype_name}", path, saved,
              dict(optimizer="Muon", options=CASES["Muon"][0], dtype=dtype_name, bfloat16=True))
        for index, options in enumerate(LBFGS_CASES):
            path, saved = lbfgs_trajectory(options, lbfgs_param0, data, dtype)
            store(f"LBFGS_{index}_{dtype_name}", path, saved,
                  dict(optimizer="LBFGS", options=options, dtype=dtype_name))
        torch.set_default_dtype(torch.float32)
    for i, (a, c, w) in data.items():
        arrays.update({f"lbfgs_a{i}": a, f"lbfgs_c{i}": c, f"lbfgs_w{i}": w})
    np.savez_compressed(
        OUT, param0=param0, grads=grads, lbfgs_param0=lbfgs_param0,
        cases=np.array(json.dumps(cases)), torch_version=np.array(torch.__version__),
        shapes=np.array(json.dumps(SHAPES)), lbfgs_shapes=np.array(json.dumps(LBFGS_SHAPES)),
        lr_change_step=LR_CHANGE_STEP, state_step=STATE_STEP,
        lbfgs_lr_change=LBFGS_LR_CHANGE, lbfgs_state_step=LBFGS_STATE_STEP,
        lbfgs_skipped=np.array(LBFGS_SKIPPED), **arrays)
    print(f"wrote {len(cases)} cases to {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
