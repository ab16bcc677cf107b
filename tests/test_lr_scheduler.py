"""LR schedulers: closed forms, and the sequences PyTorch 2.13 produces.

The hard-coded sequences were computed once, offline, with torch.optim and
torch.optim.lr_scheduler on SGD with two param groups (lr 0.1 and 0.5),
calling ``optimizer.step(); scheduler.step()`` per epoch and recording
``get_last_lr()``.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import minidl
from minidl.optim import SGD
from minidl.optim.lr_scheduler import (CosineAnnealingLR, ExponentialLR, ReduceLROnPlateau,
                                       StepLR)

TORCH_STEP_LR = [[0.1, 0.5], [0.1, 0.5], [0.05, 0.25], [0.05, 0.25], [0.05, 0.25],
                 [0.025, 0.125], [0.025, 0.125], [0.025, 0.125], [0.0125, 0.0625],
                 [0.0125, 0.0625]]
TORCH_EXPONENTIAL_LR = [[0.09000000000000001, 0.45], [0.08100000000000002, 0.405],
                        [0.07290000000000002, 0.36450000000000005],
                        [0.06561000000000002, 0.32805000000000006],
                        [0.05904900000000002, 0.2952450000000001],
                        [0.05314410000000002, 0.2657205000000001]]
TORCH_COSINE_LR = [[0.08681980515339464, 0.4282411613907041], [0.05500000000000001, 0.255],
                   [0.023180194846605363, 0.08175883860929586], [0.01, 0.01],
                   [0.023180194846605363, 0.08175883860929584], [0.05500000000000002, 0.255],
                   [0.08681980515339469, 0.42824116139070423],
                   [0.10000000000000006, 0.5000000000000001],
                   [0.0868198051533947, 0.4282411613907043],
                   [0.05500000000000005, 0.2550000000000001],
                   [0.023180194846605412, 0.08175883860929607], [0.01, 0.01]]


def two_group_sgd() -> SGD:
    first, second = minidl.zeros(3, requires_grad=True), minidl.zeros(2, requires_grad=True)
    return SGD([{"params": [first]}, {"params": [second], "lr": 0.5}], lr=0.1, device="cpu")


def run(scheduler_factory, epochs: int) -> tuple[SGD, list[list[float]]]:
    optimizer = two_group_sgd()
    scheduler = scheduler_factory(optimizer)
    lrs = []
    for _ in range(epochs):
        optimizer.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
    return optimizer, lrs


@pytest.mark.parametrize("factory, expected", [
    (lambda opt: StepLR(opt, step_size=3, gamma=0.5), TORCH_STEP_LR),
    (lambda opt: ExponentialLR(opt, gamma=0.9), TORCH_EXPONENTIAL_LR),
    (lambda opt: CosineAnnealingLR(opt, T_max=4, eta_min=0.01), TORCH_COSINE_LR),
], ids=["StepLR", "ExponentialLR", "CosineAnnealingLR"])
def test_sequences_match_pytorch(factory, expected):
    optimizer, lrs = run(factory, len(expected))
    np.testing.assert_allclose(lrs, expected, rtol=1e-14)
    assert [group["lr"] for group in optimizer.param_groups] == lrs[-1]


@pytest.mark.parametrize("factory, closed_form", [
    (lambda opt: StepLR(opt, step_size=4, gamma=0.3),
     lambda lr0, t: lr0 * 0.3 ** (t // 4)),
    (lambda opt: ExponentialLR(opt, gamma=0.97), lambda lr0, t: lr0 * 0.97 ** t),
    (lambda opt: CosineAnnealingLR(opt, T_max=7, eta_min=0.02),
     lambda lr0, t: 0.02 + (lr0 - 0.02) * (1 + math.cos(math.pi * t / 7)) / 2),
], ids=["StepLR", "ExponentialLR", "CosineAnnealingLR"])
def test_closed_forms(factory, closed_form):
    _, lrs = run(factory, 30)
    expected = [[closed_form(0.1, t), closed_form(0.5, t)] for t in range(1, 31)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12, atol=1e-15)


def test_construction_keeps_lr_and_records_initial_lr():
    optimizer = two_group_sgd()
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    assert scheduler.get_last_lr() == [0.1, 0.5]
    assert [group["initial_lr"] for group in optimizer.param_groups] == [0.1, 0.5]


def test_the_optimizer_uses_the_scheduled_lr():
    param = minidl.zeros(4, requires_grad=True)
    optimizer = SGD([param], lr=1.0, device="cpu")
    scheduler = ExponentialLR(optimizer, gamma=0.5)
    expected = 0.0
    for lr in (1.0, 0.5, 0.25):
        param.grad = np.ones(4, np.float32)
        optimizer.step()
        expected -= lr
        scheduler.step()
    np.testing.assert_allclose(param.numpy(), expected)


def test_plateau_min_rel_with_cooldown_and_min_lr_matches_pytorch():
    optimizer = SGD([minidl.zeros(1, requires_grad=True)], lr=1.0, device="cpu")
    scheduler = ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=2,
                                  threshold=0.1, cooldown=1, min_lr=0.1)
    metrics = [10, 9, 8.5, 8.4, 8.3, 8.2, 8.1, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5]
    lrs = []
    for metric in metrics:
        scheduler.step(metric)
        lrs.append(scheduler.get_last_lr()[0])
    assert lrs == [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25,
                   0.125, 0.125, 0.125, 0.125, 0.1, 0.1]


def test_plateau_max_abs_matches_pytorch():
    optimizer = SGD([minidl.zeros(1, requires_grad=True)], lr=1.0, device="cpu")
    scheduler = ReduceLROnPlateau(optimizer, mode="max", factor=0.1, patience=1,
                                  threshold=0.2, threshold_mode="abs")
    lrs = []
    for metric in [1, 2, 2.5, 2.6, 2.65, 2.7, 4, 4.05, 4.1, 4.1]:
        scheduler.step(metric)
        lrs.append(optimizer.param_groups[0]["lr"])
    np.testing.assert_allclose(lrs, [1.0, 1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1, 0.01, 0.01],
                               rtol=1e-15)


def test_plateau_per_group_min_lr():
    optimizer = two_group_sgd()
    scheduler = ReduceLROnPlateau(optimizer, factor=0.1, patience=0, min_lr=[0.05, 0.0])
    for _ in range(3):
        scheduler.step(1.0)
    np.testing.assert_allclose(scheduler.get_last_lr(), [0.05, 0.005])  # two reductions


def test_plateau_takes_a_loss_tensor_and_skips_reductions_within_eps():
    optimizer = two_group_sgd()
    scheduler = ReduceLROnPlateau(optimizer, factor=0.5, patience=0, min_lr=[0.1 - 1e-9, 0.0])
    scheduler.step(minidl.tensor(2.0))
    scheduler.step(minidl.tensor([3.0]))
    assert scheduler.best == 2.0
    # group 0 would drop to its min_lr, 1e-9 below 0.1: less than eps = 1e-8, so it stays
    assert scheduler.get_last_lr() == [0.1, 0.25]
    with pytest.raises(ValueError, match="one element"):
        scheduler.step(minidl.tensor([1.0, 2.0]))


@pytest.mark.parametrize("make", [
    lambda opt: StepLR(opt, step_size=2, gamma=0.7),
    lambda opt: CosineAnnealingLR(opt, T_max=5),
])
def test_state_dict_resumes_the_schedule(make):
    optimizer, reference = run(make, 9)
    resumed_optimizer = two_group_sgd()
    first = make(resumed_optimizer)
    for _ in range(4):
        first.step()
    saved_optimizer, saved_scheduler = resumed_optimizer.state_dict(), first.state_dict()
    restored_optimizer = two_group_sgd()
    restored_optimizer.load_state_dict(saved_optimizer)
    second = make(restored_optimizer)
    second.load_state_dict(saved_scheduler)
    lrs = [second.step() or second.get_last_lr() for _ in range(5)]
    np.testing.assert_allclose(lrs, reference[4:], rtol=1e-14)


def test_plateau_state_dict_round_trip():
    optimizer = SGD([minidl.zeros(1, requires_grad=True)], lr=1.0, device="cpu")
    scheduler = ReduceLROnPlateau(optimizer, patience=1)
    for metric in (3.0, 2.0, 2.5):
        scheduler.step(metric)
    other = ReduceLROnPlateau(optimizer, patience=5)
    other.load_state_dict(scheduler.state_dict())
    assert (other.best, other.num_bad_epochs, other.patience, other.last_epoch) == (2.0, 1, 1, 3)
    with pytest.raises(ValueError, match="unknown entries"):
        other.load_state_dict({"bogus": 1})


@pytest.mark.parametrize("make, message", [
    (lambda opt: StepLR(opt, step_size=0), "Invalid step_size value: 0"),
    (lambda opt: StepLR(opt, step_size=2, gamma=-0.1), "Invalid gamma value: -0.1"),
    (lambda opt: ExponentialLR(opt, gamma=float("nan")), "Invalid gamma value: nan"),
    (lambda opt: CosineAnnealingLR(opt, T_max=2.5), "Invalid T_max value: 2.5"),
    (lambda opt: CosineAnnealingLR(opt, T_max=3, eta_min=-1), "Invalid eta_min value: -1"),
    (lambda opt: ReduceLROnPlateau(opt, factor=1.0), "Invalid factor value: 1.0"),
    (lambda opt: ReduceLROnPlateau(opt, mode="up"), "Invalid mode value: 'up'"),
    (lambda opt: ReduceLROnPlateau(opt, threshold_mode="x"), "Invalid threshold_mode value"),
    (lambda opt: ReduceLROnPlateau(opt, patience=-1), "Invalid patience value: -1"),
    (lambda opt: ReduceLROnPlateau(opt, cooldown=1.5), "Invalid cooldown value: 1.5"),
    (lambda opt: ReduceLROnPlateau(opt, min_lr=[0.1]), r"Invalid min_lr value: \[0.1\]"),
    (lambda opt: ReduceLROnPlateau(opt, eps=-1e-8), "Invalid eps value: -1e-08"),
])
def test_invalid_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make(two_group_sgd())


def test_needs_an_optimizer():
    with pytest.raises(TypeError, match="not an Optimizer"):
        StepLR(object(), step_size=1)


@pytest.mark.parametrize("metric", [None, "0.5", True])
def test_plateau_step_names_a_metric_that_is_not_a_number(metric):
    scheduler = ReduceLROnPlateau(two_group_sgd())
    with pytest.raises(TypeError, match="metrics must be a number or a one-element Tensor"):
        scheduler.step(metric)
    assert scheduler.last_epoch == 0
