"""Generate tests/data/scheduler_vectors.npz with torch.optim.lr_scheduler (run by hand).

    python tests/data/make_scheduler_vectors.py

Every case of CASES is built the same way on torch and on minidl (``build``
takes the lr_scheduler module and the optimizer), so tests/test_schedulers_torch.py
imports CASES and ``record`` from here and replays them on minidl without torch.
For each case the npz holds ``<case>_lr`` and ``<case>_momentum``: one row per
point in time (after the schedulers are built, then after each step), one
column per param group (lr 0.1 and 0.5), momentum being SGD's momentum or
Adam's beta1.
"""
from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any, Callable, NamedTuple

import numpy as np


class Case(NamedTuple):
    optimizer: str                                   # "sgd" (momentum 0.9) or "adam"
    steps: int
    build: Callable[[ModuleType, Any], Any]          # (lr_scheduler, optimizer) -> scheduler(s)
    epochs: tuple[float, ...] | None = None          # step(epoch) with these, if given


def warmup(epoch: int) -> float:
    return min(1.0, (epoch + 1) / 4)


def inverse(epoch: int) -> float:
    return 1.0 / (epoch + 1)


CASES: dict[str, Case] = {
    "lambda_one": Case("sgd", 8, lambda S, o: S.LambdaLR(o, lambda e: 0.95 ** e)),
    "lambda_per_group": Case("sgd", 8, lambda S, o: S.LambdaLR(o, [warmup, inverse])),
    "linear_default": Case("sgd", 8, lambda S, o: S.LinearLR(o)),
    "linear_warmup": Case("sgd", 7, lambda S, o: S.LinearLR(o, start_factor=0.25,
                                                             total_iters=4)),
    "linear_decay": Case("sgd", 9, lambda S, o: S.LinearLR(o, start_factor=1.0,
                                                            end_factor=0.1, total_iters=6)),
    "linear_then_exponential_chained": Case(
        "sgd", 8, lambda S, o: [S.LinearLR(o, start_factor=0.5, total_iters=3),
                                S.ExponentialLR(o, gamma=0.9)]),
    "onecycle_cos_sgd": Case("sgd", 20, lambda S, o: S.OneCycleLR(o, max_lr=[1.0, 2.0],
                                                                   total_steps=20)),
    "onecycle_linear_three_phase_adam": Case(
        "adam", 20, lambda S, o: S.OneCycleLR(o, max_lr=0.5, epochs=4, steps_per_epoch=5,
                                              anneal_strategy="linear", three_phase=True,
                                              base_momentum=0.8, max_momentum=0.9)),
    "onecycle_no_momentum": Case(
        "sgd", 15, lambda S, o: S.OneCycleLR(o, max_lr=0.3, total_steps=15, pct_start=0.25,
                                             cycle_momentum=False, div_factor=10.0,
                                             final_div_factor=100.0)),
    "warm_restarts": Case("sgd", 12, lambda S, o: S.CosineAnnealingWarmRestarts(
        o, T_0=4, eta_min=0.01)),
    "warm_restarts_mult": Case("sgd", 20, lambda S, o: S.CosineAnnealingWarmRestarts(
        o, T_0=2, T_mult=2, eta_min=0.001)),
    "warm_restarts_fractional": Case(
        "sgd", 20, lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=3),
        epochs=tuple(0.35 * i for i in range(1, 21))),
    "sequential_warmup_cosine": Case(
        "sgd", 12, lambda S, o: S.SequentialLR(
            o, [S.LinearLR(o, start_factor=0.1, total_iters=3),
                S.CosineAnnealingLR(o, T_max=5, eta_min=0.01)], milestones=[3])),
    "sequential_three": Case(
        "sgd", 12, lambda S, o: S.SequentialLR(
            o, [S.ExponentialLR(o, gamma=0.9), S.StepLR(o, step_size=2, gamma=0.5),
                S.LambdaLR(o, inverse)], milestones=[3, 7])),
    "sequential_warmup_restarts": Case(
        "sgd", 12, lambda S, o: S.SequentialLR(
            o, [S.LinearLR(o, start_factor=0.5, total_iters=2),
                S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2)], milestones=[2])),
    "multistep": Case("sgd", 8, lambda S, o: S.MultiStepLR(o, [2, 5, 5], gamma=0.5)),
    "constant_default": Case("sgd", 8, lambda S, o: S.ConstantLR(o)),
    "constant_half": Case("sgd", 6, lambda S, o: S.ConstantLR(o, factor=0.5, total_iters=3)),
    "multiplicative": Case("sgd", 6, lambda S, o: S.MultiplicativeLR(o, lambda e: 0.9)),
    "multiplicative_per_group": Case("sgd", 6, lambda S, o: S.MultiplicativeLR(
        o, [warmup, inverse])),
    "polynomial_default": Case("sgd", 8, lambda S, o: S.PolynomialLR(o)),
    "polynomial_square": Case("sgd", 9, lambda S, o: S.PolynomialLR(o, total_iters=6,
                                                                     power=2.0)),
    "cyclic_triangular_sgd": Case("sgd", 14, lambda S, o: S.CyclicLR(
        o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=3)),
    "cyclic_triangular2_adam": Case("adam", 16, lambda S, o: S.CyclicLR(
        o, 0.01, 0.1, step_size_up=2, step_size_down=3, mode="triangular2",
        base_momentum=0.85, max_momentum=0.95)),
    "cyclic_exp_range": Case("sgd", 14, lambda S, o: S.CyclicLR(
        o, [0.01, 0.02], 0.1, step_size_up=3, mode="exp_range", gamma=0.9,
        cycle_momentum=False)),
    "cyclic_scale_fn_iterations": Case("sgd", 12, lambda S, o: S.CyclicLR(
        o, 0.01, 0.1, step_size_up=2, scale_fn=inverse, scale_mode="iterations")),
    "chain_linear_exponential": Case("sgd", 8, lambda S, o: S.ChainedScheduler(
        [S.LinearLR(o, start_factor=0.5, total_iters=3), S.ExponentialLR(o, gamma=0.9)])),
    "chain_constant_multistep": Case("sgd", 8, lambda S, o: S.ChainedScheduler(
        [S.ConstantLR(o, factor=0.1, total_iters=2), S.MultiStepLR(o, [3, 6], gamma=0.5)],
        optimizer=o)),
    "sequential_constant_polynomial": Case(
        "sgd", 10, lambda S, o: S.SequentialLR(
            o, [S.ConstantLR(o, factor=0.5, total_iters=2),
                S.PolynomialLR(o, total_iters=5, power=2.0)], milestones=[3])),
}


def momentum(group: dict[str, Any]) -> float:
    return group["betas"][0] if "betas" in group else group["momentum"]


def record(case: Case, optim: ModuleType, lr_scheduler: ModuleType,
           param: Callable[[int], Any], **options: Any) -> tuple[np.ndarray, np.ndarray]:
    """Build the case's optimizer (two groups: lr 0.1 and 0.5) and schedulers, step
    them, and return the lrs and momenta (rows: built, then after each step)."""
    groups = [{"params": [param(3)]}, {"params": [param(2)], "lr": 0.5}]
    if case.optimizer == "adam":
        optimizer = optim.Adam(groups, lr=0.1, **options)
    else:
        optimizer = optim.SGD(groups, lr=0.1, momentum=0.9, **options)
    built = case.build(lr_scheduler, optimizer)
    schedulers = built if isinstance(built, list) else [built]
    lrs, momenta = [], []

    def note() -> None:
        lrs.append([group["lr"] for group in optimizer.param_groups])
        momenta.append([momentum(group) for group in optimizer.param_groups])

    note()
    for step in range(case.steps):
        optimizer.step()
        for scheduler in schedulers:
            if case.epochs is None:
                scheduler.step()
            else:
                scheduler.step(case.epochs[step])
        note()
    return np.array(lrs, np.float64), np.array(momenta, np.float64)


def main() -> None:
    import torch

    def param(size: int) -> torch.Tensor:
        p = torch.zeros(size, requires_grad=True)
        p.grad = torch.ones(size)
        return p

    out: dict[str, np.ndarray] = {}
    for name, case in CASES.items():
        out[f"{name}_lr"], out[f"{name}_momentum"] = record(
            case, torch.optim, torch.optim.lr_scheduler, param)
    assert all(np.isfinite(v).all() for v in out.values())
    path = Path(__file__).with_name("scheduler_vectors.npz")
    np.savez(path, **out)
    print(f"wrote {path} ({len(CASES)} cases) with torch {torch.__version__}")


if __name__ == "__main__":
    main()
