"""Every update through the cuda backend against the numpy reference.

Run under numba's CUDA simulator by tests/test_kernels_cudasim.py
(``NUMBA_ENABLE_CUDASIM=1``: tiny grids, so n=37 exercises the grid-stride
tail) and imported by tests/test_kernels_gpu.py on a real GPU; its option grid
and ``run_case`` also drive the cpu tests (tests/test_kernels.py). As a script
it prints one line per mismatch and exits 1 if there is any:

    NUMBA_ENABLE_CUDASIM=1 python tests/cudasim/kernels_check.py [--steps 8]
"""
from __future__ import annotations

import argparse
import itertools
import sys

import numpy as np

import minidl.kernels as kernels
from minidl.kernels import reference

# Rounding differences only: a GPU contracts a * b + c into one fma (no fastmath needed).
TOLERANCE = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


def grid(**options: tuple) -> list[dict]:
    return [dict(zip(options, values)) for values in itertools.product(*options.values())]


CASES = (
    [("sgd", o) for o in grid(momentum=(0.0, 0.9), dampening=(0.0, 0.5), nesterov=(False, True),
                              weight_decay=(0.0, 0.01), maximize=(False, True))
     if not (o["nesterov"] and (o["momentum"] == 0 or o["dampening"] != 0))]
    + [("adagrad", o) for o in grid(lr_decay=(0.0, 0.1), weight_decay=(0.0, 0.01),
                                    maximize=(False, True))]
    + [("rmsprop", o) for o in grid(alpha=(0.99, 0.3), momentum=(0.0, 0.9),
                                    centered=(False, True), eps_in_sqrt=(False, True),
                                    weight_decay=(0.0, 0.01), maximize=(False, True))]
    + [("adam", o) for o in grid(beta1=(0.9, 0.3), amsgrad=(False, True),
                                 decoupled_weight_decay=(False, True), weight_decay=(0.0, 0.01),
                                 maximize=(False, True))]
    + [("rmsprop", dict(o, lr_in_momentum=True)) for o in grid(
        alpha=(0.9,), momentum=(0.9,), centered=(False, True), eps_in_sqrt=(True,),
        weight_decay=(0.0,), maximize=(False,))]
    + [("rprop", o) for o in grid(etas=((0.5, 1.2), (0.3, 1.5)), maximize=(False, True))]
    + [("adadelta", o) for o in grid(rho=(0.9, 0.3), weight_decay=(0.0, 0.01),
                                     maximize=(False, True))]
    + [("adamax", o) for o in grid(beta1=(0.9, 0.3), weight_decay=(0.0, 0.01),
                                   maximize=(False, True))]
    + [("nadam", o) for o in grid(beta1=(0.9, 0.3), decoupled_weight_decay=(False, True),
                                  weight_decay=(0.0, 0.01), maximize=(False, True))]
    + [("radam", o) for o in grid(beta1=(0.9, 0.3), decoupled_weight_decay=(False, True),
                                  weight_decay=(0.0, 0.01), maximize=(False, True))]
    + [("asgd", o) for o in grid(lambd=(1e-4, 0.1), t0=(1e6, 3.0), weight_decay=(0.0, 0.01),
                                 maximize=(False, True))]
    + [("lion", o) for o in grid(beta1=(0.9, 0.3), weight_decay=(0.0, 0.1))]
    + [("adabelief", o) for o in grid(amsgrad=(False, True), rectify=(False, True),
                                      weight_decouple=(False, True), fixed_decay=(False, True),
                                      degenerated_to_sgd=(False, True))
       if o["weight_decouple"] or not o["fixed_decay"]]
    + [("schedule_free", o) for o in grid(adaptive=(False, True), weight_decay=(0.0, 0.01),
                                          ckp1_power=(0.0, 2.0))]
    + [("interpolate", o) for o in grid(weight=(0.1, -0.111, 0.7))])


def state_sizes(update: str, o: dict, n: int) -> list[int]:
    used = {"sgd": [o.get("momentum", 0) != 0], "adagrad": [True],
            "rmsprop": [True, o.get("centered"), o.get("momentum", 0) > 0],
            "adam": [True, True, o.get("amsgrad")], "rprop": [True, True],
            "adadelta": [True, True], "adamax": [True, True], "nadam": [True, True],
            "radam": [True, True], "asgd": [True], "lion": [True],
            "adabelief": [True, True, o.get("amsgrad")],
            "schedule_free": [True, o.get("adaptive")], "interpolate": [True]}[update]
    return [n if flag else 0 for flag in used]


def call(backend, update: str, o: dict, param, grad, states, step: int) -> None:
    if update == "sgd":
        backend.sgd(param, grad, *states, 0.05, o["momentum"], o["dampening"], o["weight_decay"],
                    o["nesterov"], o["maximize"], step)
    elif update == "adagrad":
        backend.adagrad(param, grad, *states, 0.05, o["lr_decay"], o["weight_decay"], 1e-10,
                        o["maximize"], step)
    elif update == "rmsprop":
        backend.rmsprop(param, grad, *states, 0.01, o["alpha"], 1e-8, o["weight_decay"],
                        o["momentum"], o["centered"], o["maximize"], o["eps_in_sqrt"],
                        o.get("lr_in_momentum", False))
    elif update == "adam":
        backend.adam(param, grad, *states, 0.01, o["beta1"], 0.999, 1e-8, o["weight_decay"],
                     o["decoupled_weight_decay"], o["amsgrad"], o["maximize"], step)
    elif update == "rprop":
        backend.rprop(param, grad, *states, 0.01, *o["etas"], 1e-6, 50.0, o["maximize"], step)
    elif update == "adadelta":
        backend.adadelta(param, grad, *states, 1.0, o["rho"], 1e-6, o["weight_decay"],
                         o["maximize"])
    elif update == "adamax":
        backend.adamax(param, grad, *states, 0.01, o["beta1"], 0.999, 1e-8, o["weight_decay"],
                       o["maximize"], step)
    elif update == "nadam":
        backend.nadam(param, grad, *states, 0.01, o["beta1"], 0.999, 1e-8, o["weight_decay"],
                      4e-3, o["decoupled_weight_decay"], o["maximize"], step)
    elif update == "radam":
        backend.radam(param, grad, *states, 0.01, o["beta1"], 0.999, 1e-8, o["weight_decay"],
                      o["decoupled_weight_decay"], o["maximize"], step)
    elif update == "asgd":   # eta and mu as torch.optim.ASGD sets them after step - 1
        eta = 0.05 / (1 + o["lambd"] * 0.05 * (step - 1)) ** 0.75
        backend.asgd(param, grad, *states, o["lambd"], o["weight_decay"], o["maximize"], eta,
                     1 / max(1, step - 1 - o["t0"]))
    elif update == "lion":
        backend.lion(param, grad, *states, 0.01, o["beta1"], 0.99, o["weight_decay"])
    elif update == "adabelief":
        backend.adabelief(param, grad, *states, 0.01, 0.9, 0.999, 1e-8, 0.01, o["amsgrad"],
                          o["weight_decouple"], o["fixed_decay"], o["rectify"],
                          o["degenerated_to_sgd"], step)
    elif update == "schedule_free":   # ckp1 = step^p / sum_k k^p, the average's weight (r = p)
        ckp1 = step ** o["ckp1_power"] / sum(k ** o["ckp1_power"] for k in range(1, step + 1))
        backend.schedule_free(param, grad, *states, 0.05, 0.9, 0.999, 1e-8, o["weight_decay"],
                              ckp1, step, step)
    else:   # interpolate: the grad is the end point
        backend.interpolate(param, grad, o["weight"])


def run_case(backend, update: str, o: dict, n: int, dtype, steps: int) -> list[np.ndarray]:
    """Param and state, as host arrays, after ``steps`` updates on seeded gradients."""
    rng = np.random.default_rng(0)
    host_param = rng.standard_normal(n).astype(dtype)
    host_states = [np.full(size, 0.1 if update == "adagrad" else 0.0, dtype)
                   for size in state_sizes(update, o, n)]
    param = backend.to_device(host_param)
    states = [backend.to_device(s) for s in host_states]
    grad = backend.zeros(n, dtype)
    for step in range(1, steps + 1):
        backend.copy_from_host(grad, rng.standard_normal(n).astype(dtype))
        call(backend, update, o, param, grad, states, step)
    backend.synchronize()
    out = [host_param, *host_states]
    for host, device in zip(out, [param, *states]):
        backend.copy_to_host(device, host)
    return out


def mismatches(backend, n: int = 37, steps: int = 8) -> list[str]:
    """One line per case and dtype where ``backend`` disagrees with ``reference``."""
    failures = []
    for dtype in (np.float32, np.float64):
        for update, o in CASES:
            expected = run_case(reference, update, o, n, dtype, steps)
            got = run_case(backend, update, o, n, dtype, steps)
            for index, (e, g) in enumerate(zip(expected, got)):
                if g.dtype != dtype or not np.allclose(g, e, **TOLERANCE[dtype]):
                    error = np.max(np.abs(g.astype(np.float64) - e)) if g.size else 0.0
                    failures.append(f"{update} {o} {dtype.__name__} array {index}: "
                                    f"max abs error {error:.3g}")
            if np.array_equal(got[0], run_case(reference, update, o, n, dtype, 0)[0]):
                failures.append(f"{update} {o} {dtype.__name__}: param did not move")
    return failures


def api_problems(backend) -> list[str]:
    """Check the array API and the argument checks of the cuda backend."""
    problems = []
    if backend.name != "cuda" or backend.on_host:
        problems.append(f"name/on_host: {backend.name}/{backend.on_host}")
    host = np.arange(5, dtype=np.float32)
    device = backend.full(5, 2.0, np.float32)
    out = np.empty(5, np.float32)
    backend.copy_to_host(device, out)
    if not (out == 2).all():
        problems.append(f"full: {out}")
    backend.copy_from_host(device, host)
    backend.copy_to_host(device, out)
    if not (out == host).all():
        problems.append(f"copy_from_host/copy_to_host: {out}")
    out64 = np.ones(5)
    backend.copy_to_host(backend.zeros(5, np.float64), out64)
    if out64.any():
        problems.append(f"zeros: {out64}")
    try:
        backend.adagrad(backend.zeros(5, np.float32), backend.zeros(4, np.float32),
                        backend.zeros(5, np.float32), 0.1, 0.0, 0.0, 1e-10, False, 1)
        problems.append("a grad of the wrong size was accepted")
    except ValueError as error:
        if "shape" not in str(error):
            problems.append(f"size error message: {error}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=37)
    parser.add_argument("--steps", type=int, default=8)
    args = parser.parse_args()
    if kernels.resolve("auto") != "cuda":
        print(f"cuda is not chosen by resolve('auto'): {kernels.cuda_problem()}")
        return 1
    backend = kernels.load("cuda")
    failures = api_problems(backend) + mismatches(backend, args.n, args.steps)
    for line in failures:
        print(line)
    launches = backend._launcher.cache_info()
    print(f"{len(CASES)} cases x 2 dtypes, n={args.n}, {args.steps} steps: "
          f"{len(failures)} failures; launcher cache: {launches.hits} hits, "
          f"{launches.misses} misses")
    return 1 if failures or launches.misses > len(backend.UPDATES) * 2 else 0


if __name__ == "__main__":
    sys.exit(main())
