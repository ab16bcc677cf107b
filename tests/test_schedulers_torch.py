"""LambdaLR, LinearLR, OneCycleLR, CosineAnnealingWarmRestarts, SequentialLR, MultiStepLR,
ConstantLR, MultiplicativeLR, PolynomialLR, CyclicLR and ChainedScheduler:
the lr (and momentum) sequences PyTorch gives, replayed from
tests/data/scheduler_vectors.npz (made by make_scheduler_vectors.py), plus the
closed forms, state dicts, fit and bad input."""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl import optim
from minidl.optim import SGD, Adagrad
from minidl.optim import lr_scheduler as S

DATA = Path(__file__).parent / "data"
_spec = importlib.util.spec_from_file_location("make_sched", DATA / "make_scheduler_vectors.py")
make_sched = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_sched)
VECTORS = np.load(DATA / "scheduler_vectors.npz")


def param(size: int) -> minidl.Tensor:
    p = minidl.zeros(size, requires_grad=True)
    p.grad = np.ones(size, np.float32)
    return p


@pytest.mark.parametrize("name", list(make_sched.CASES))
def test_sequence_matches_pytorch(name):
    lrs, momenta = make_sched.record(make_sched.CASES[name], optim, S, param, device="cpu")
    np.testing.assert_allclose(lrs, VECTORS[f"{name}_lr"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(momenta, VECTORS[f"{name}_momentum"], rtol=1e-12, atol=1e-15)


def sgd(lr: float = 0.1, **options) -> SGD:
    return SGD([param(3)], lr=lr, device="cpu", **options)


def lrs_of(scheduler, steps: int) -> list[float]:
    values = [scheduler.get_last_lr()[0]]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        values.append(scheduler.get_last_lr()[0])
    return values


def test_linear_lr_follows_its_closed_form():
    scheduler = S.LinearLR(sgd(), start_factor=0.2, end_factor=0.9, total_iters=7)
    expected = [0.1 * (0.2 + 0.7 * min(t, 7) / 7) for t in range(12)]
    np.testing.assert_allclose(lrs_of(scheduler, 11), expected, rtol=1e-12)


def test_warm_restarts_follow_their_closed_form():
    scheduler = S.CosineAnnealingWarmRestarts(sgd(), T_0=3, T_mult=2, eta_min=0.02)
    starts = [0, 3, 9, 21]              # cycles of 3, 6, 12 epochs
    expected = []
    for t in range(21):
        cycle = max(i for i, start in enumerate(starts) if start <= t)
        t_cur, t_i = t - starts[cycle], 3 * 2 ** cycle
        expected.append(0.02 + 0.08 * (1 + math.cos(math.pi * t_cur / t_i)) / 2)
    np.testing.assert_allclose(lrs_of(scheduler, 20), expected, rtol=1e-12)


def test_one_cycle_peaks_at_max_lr_and_ends_at_min_lr():
    optimizer = sgd(momentum=0.9)
    scheduler = S.OneCycleLR(optimizer, max_lr=1.0, total_steps=10, cycle_momentum=False)
    values = lrs_of(scheduler, 10)
    assert values[0] == pytest.approx(1.0 / 25) and max(values) == pytest.approx(1.0)
    assert values[9] == pytest.approx(1.0 / 25 / 1e4)
    assert optimizer.param_groups[0]["momentum"] == 0.9      # left alone
    with pytest.raises(ValueError, match="stepped 11 times, more than its total_steps 10"):
        scheduler.step()


def test_scheduled_momentum_reaches_the_optimizer():
    p = minidl.zeros(1, requires_grad=True)
    optimizer = SGD([p], lr=0.1, momentum=0.9, device="cpu")
    scheduler = S.OneCycleLR(optimizer, max_lr=1.0, total_steps=4)
    velocity, expected = 0.0, 0.0
    for _ in range(4):
        group = optimizer.param_groups[0]
        lr, momentum = group["lr"], group["momentum"]
        p.grad = np.ones(1, np.float32)
        optimizer.step()
        velocity = 1.0 if velocity == 0.0 else momentum * velocity + 1.0
        expected -= lr * velocity
        scheduler.step()
    np.testing.assert_allclose(p.numpy(), [expected], rtol=1e-6)


def test_lambda_lr_overwrites_and_its_state_dict_leaves_the_functions_out():
    optimizer = sgd()
    scheduler = S.LambdaLR(optimizer, lambda epoch: 0.5 ** epoch)
    lrs_of(scheduler, 3)
    state = scheduler.state_dict()
    assert "lr_lambdas" not in state and state["last_epoch"] == 3
    fresh = S.LambdaLR(sgd(), lambda epoch: 0.5 ** epoch)
    fresh.load_state_dict(state)
    fresh.optimizer.step()
    fresh.step()
    assert fresh.get_last_lr() == [pytest.approx(0.1 * 0.5 ** 4)]


def test_sequential_state_dict_round_trip_continues_the_sequence():
    def build(optimizer):
        return S.SequentialLR(optimizer, [S.LinearLR(optimizer, 0.1, total_iters=3),
                                          S.CosineAnnealingLR(optimizer, T_max=5)], [3])
    first = build(sgd())
    expected = lrs_of(first, 9)
    second = build(sgd())
    lrs_of(second, 4)
    state = second.state_dict()
    third_optimizer = sgd()
    third = build(third_optimizer)
    third.load_state_dict(state)
    third_optimizer.param_groups[0]["lr"] = second.get_last_lr()[0]
    np.testing.assert_allclose(lrs_of(third, 5), expected[4:], rtol=1e-12)


@pytest.mark.parametrize("build, message", [
    (lambda o: S.LambdaLR(o, [lambda e: 1.0, lambda e: 1.0]), "expected 1 functions"),
    (lambda o: S.LinearLR(o, start_factor=0), "start_factor value: 0"),
    (lambda o: S.LinearLR(o, start_factor=1.5),
     r"start_factor value: 1.5 \(expected a number in \(0, 1\]"),
    (lambda o: S.LinearLR(o, end_factor=-0.1), "end_factor value: -0.1"),
    (lambda o: S.LinearLR(o, total_iters=0), "total_iters value: 0"),
    (lambda o: S.OneCycleLR(o, max_lr=1.0), "needs total_steps, or epochs and steps_per"),
    (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=2.5), "total_steps value: 2.5"),
    (lambda o: S.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=5), "max_lr value: \\[1.0"),
    (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=5, pct_start=1.2), "pct_start"),
    (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=5, anneal_strategy="exp"),
     "anneal_strategy value: 'exp'"),
    (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=5, div_factor=0), "div_factor"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=0), "T_0 value: 0"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5), "T_mult value: 1.5"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2).step(-1), "epoch value: -1"),
    (lambda o: S.SequentialLR(o, [], []), "at least one scheduler"),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 2)], [3]), "1 schedulers need 0 milestones"),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(sgd(), 2)], [3]),
     "schedulers\\[1\\] \\(StepLR\\) belongs to another optimizer"),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o, 2), S.StepLR(o, 2)], [4, 2]),
     "expected increasing"),
])
def test_bad_arguments_are_named(build, message):
    with pytest.raises(ValueError, match=message):
        build(sgd())


def test_bad_types_are_refused():
    with pytest.raises(TypeError, match="not callable"):
        S.LambdaLR(sgd(), "x")
    with pytest.raises(TypeError, match="not an Optimizer"):
        S.LinearLR("sgd")
    optimizer = sgd()
    with pytest.raises(TypeError, match="ReduceLROnPlateau"):
        S.SequentialLR(optimizer, [S.ReduceLROnPlateau(optimizer)], [])
    adagrad = Adagrad([param(2)], lr=0.1, device="cpu")
    with pytest.raises(ValueError, match="Adagrad has neither"):
        S.OneCycleLR(adagrad, max_lr=1.0, total_steps=5)
    S.OneCycleLR(adagrad, max_lr=1.0, total_steps=5, cycle_momentum=False)


# -- schedulers as fit callbacks (issue 9) ------------------------------------------------
def small_problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    minidl.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    return model, X, y


def test_fit_steps_a_scheduler_once_per_epoch():
    model, X, y = small_problem()
    optimizer = SGD(model.parameters(), lr=0.1, device="cpu")
    scheduler = S.StepLR(optimizer, step_size=1, gamma=0.5)
    seen = []

    class Spy:
        def on_epoch_end(self, epoch, logs):
            seen.append(optimizer.param_groups[0]["lr"])

    minidl.fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), epochs=3, batch_size=16,
               progress=False, callbacks=[scheduler, Spy()])
    assert scheduler.last_epoch == 3 and seen == [0.05, 0.025, 0.0125]


@pytest.mark.parametrize("with_val", [True, False], ids=["val_loss", "loss"])
def test_fit_gives_plateau_the_validation_loss_else_the_training_loss(with_val):
    model, X, y = small_problem()
    optimizer = SGD(model.parameters(), lr=0.1, device="cpu")
    scheduler = S.ReduceLROnPlateau(optimizer, patience=100)
    val = (X[:16], y[:16]) if with_val else None
    history = minidl.fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), val_data=val,
                         epochs=3, batch_size=16, progress=False, callbacks=[scheduler])
    key = "val_loss" if with_val else "loss"
    assert scheduler.last_epoch == 3 and scheduler.best == min(history[key])


RESUMABLE = [name for name, case in make_sched.CASES.items()
             if case.epochs is None and "chained" not in name]


@pytest.mark.parametrize("name", RESUMABLE)
def test_a_checkpoint_resumes_the_same_sequence(name, tmp_path):
    case = make_sched.CASES[name]
    expected = VECTORS[f"{name}_lr"]

    def build():
        groups = [{"params": [param(3)]}, {"params": [param(2)], "lr": 0.5}]
        optimizer = (optim.Adam(groups, lr=0.1, device="cpu") if case.optimizer == "adam"
                     else SGD(groups, lr=0.1, momentum=0.9, device="cpu"))
        return optimizer, case.build(S, optimizer)

    def advance(optimizer, scheduler, steps):
        for _ in range(steps):
            optimizer.step()
            scheduler.step()

    optimizer, scheduler = build()
    half = case.steps // 2
    advance(optimizer, scheduler, half)
    minidl.save(tmp_path / "run.npz", optimizer=optimizer, scheduler=scheduler.state_dict())
    checkpoint = minidl.load(tmp_path / "run.npz")
    optimizer, scheduler = build()
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    lrs = []
    for _ in range(case.steps - half):
        advance(optimizer, scheduler, 1)
        lrs.append([group["lr"] for group in optimizer.param_groups])
    np.testing.assert_allclose(lrs, expected[half + 1:], rtol=1e-12, atol=1e-15)


# -- MultiStepLR, ConstantLR, MultiplicativeLR, PolynomialLR, CyclicLR, ChainedScheduler ----
def test_polynomial_and_multistep_follow_their_closed_forms():
    scheduler = S.PolynomialLR(sgd(), total_iters=4, power=3.0)
    expected = [0.1 * (1 - min(t, 4) / 4) ** 3 for t in range(7)]
    np.testing.assert_allclose(lrs_of(scheduler, 6), expected, rtol=1e-12, atol=1e-18)
    scheduler = S.MultiStepLR(sgd(), milestones=[4, 1, 4], gamma=0.5)
    expected = [0.1 * 0.5 ** sum(m <= t for m in (1, 4, 4)) for t in range(6)]
    np.testing.assert_allclose(lrs_of(scheduler, 5), expected, rtol=1e-12)


def test_multistep_milestone_at_epoch_0_applies_when_built():
    """PyTorch multiplies by gamma at t = 0 when 0 is a milestone (the closed form's
    count of milestones <= t), and so does a SequentialLR restart at its milestone."""
    scheduler = S.MultiStepLR(sgd(), milestones=[0, 0, 2], gamma=0.5)
    expected = [0.1 * 0.5 ** sum(m <= t for m in (0, 0, 2)) for t in range(4)]
    np.testing.assert_allclose(lrs_of(scheduler, 3), expected, rtol=1e-12)
    optimizer = sgd()
    sequential = S.SequentialLR(optimizer, [S.ConstantLR(optimizer, 0.5, 5),
                                            S.MultiStepLR(optimizer, [0], gamma=0.2)], [2])
    np.testing.assert_allclose(lrs_of(sequential, 3), [0.05, 0.05, 0.02, 0.02], rtol=1e-12)


def test_multiplicative_lr_restarted_by_sequential_lr_goes_on_from_the_current_lr():
    """It has no closed form to restart from: PyTorch's SequentialLR multiplies the lr it
    finds at the milestone by lr_lambda(0) (values from torch 2.13)."""
    optimizer = sgd()
    sequential = S.SequentialLR(optimizer, [S.ExponentialLR(optimizer, 0.5),
                                            S.MultiplicativeLR(optimizer, lambda t: 0.9)], [3])
    np.testing.assert_allclose(lrs_of(sequential, 5),
                               [0.1, 0.05, 0.025, 0.0225, 0.02025, 0.018225], rtol=1e-12)


def test_constant_factor_zero_restores_lr_0_where_pytorch_divides_by_zero():
    assert lrs_of(S.ConstantLR(sgd(), factor=0.0, total_iters=2), 3) == [0.0, 0.0, 0.1, 0.1]


def test_cyclic_lr_cycles_rmsprop_momentum_and_leaves_scale_fn_out_of_its_state():
    optimizer = optim.RMSprop([param(2)], lr=0.1, momentum=0.5, device="cpu")
    scheduler = S.CyclicLR(optimizer, 0.1, 1.0, step_size_up=2, scale_fn=lambda c: 1.0)
    group = optimizer.param_groups[0]
    assert (group["lr"], group["momentum"]) == (0.1, 0.9)
    assert (group["base_momentum"], group["max_momentum"]) == (0.8, 0.9)
    lrs_of(scheduler, 2)
    assert group["lr"] == pytest.approx(1.0) and group["momentum"] == pytest.approx(0.8)
    state = scheduler.state_dict()
    assert "_scale_fn_custom" not in state and state["last_epoch"] == 2
    fresh = S.CyclicLR(optim.RMSprop([param(2)], lr=0.1, momentum=0.5, device="cpu"), 0.1,
                       1.0, step_size_up=2, scale_fn=lambda c: 1.0)
    fresh.load_state_dict(state)
    fresh.step()
    assert fresh.get_last_lr() == [pytest.approx(0.55)]


def test_multistep_state_dict_keeps_repeated_milestones():
    scheduler = S.MultiStepLR(sgd(), [3, 3, 5])
    state = scheduler.state_dict()
    assert state["milestones"] == {3: 2, 5: 1}
    fresh = S.MultiStepLR(sgd(), [1])
    fresh.load_state_dict({**state, "milestones": {"3": 2, "5": 1}})   # keys read back as str
    assert fresh.milestones == {3: 2, 5: 1}


def test_chained_scheduler_state_dict_round_trip():
    first_optimizer = sgd()
    first = S.ChainedScheduler([S.ConstantLR(first_optimizer, 0.5, 2),
                                S.ExponentialLR(first_optimizer, 0.9)])
    lrs_of(first, 3)
    state = first.state_dict()
    assert [entry["last_epoch"] for entry in state["_schedulers"]] == [3, 3]
    second_optimizer = sgd()
    second = S.ChainedScheduler([S.ConstantLR(second_optimizer, 0.5, 2),
                                 S.ExponentialLR(second_optimizer, 0.9)])
    second.load_state_dict(state)
    second_optimizer.param_groups[0]["lr"] = first.get_last_lr()[0]
    assert lrs_of(second, 2) == pytest.approx(lrs_of(first, 2))


@pytest.mark.parametrize("build, error, message", [
    (lambda o: S.MultiStepLR(o, [2, -1]), ValueError, "milestones value: -1"),
    (lambda o: S.MultiStepLR(o, [2], gamma="x"), ValueError, "gamma value: 'x'"),
    (lambda o: S.ConstantLR(o, factor=1.5), ValueError, "factor value: 1.5"),
    (lambda o: S.ConstantLR(o, total_iters=-1), ValueError, "total_iters value: -1"),
    (lambda o: S.MultiplicativeLR(o, [abs, abs]), ValueError, "expected 1 functions"),
    (lambda o: S.MultiplicativeLR(o, 0.9), TypeError, "0.9 is not callable"),
    (lambda o: S.PolynomialLR(o, total_iters=0), ValueError, "total_iters value: 0"),
    (lambda o: S.PolynomialLR(o, power=-1), ValueError, "power value: -1"),
    (lambda o: S.CyclicLR(o, 0.1, [1.0, 2.0]), ValueError, r"max_lr value: \[1.0"),
    (lambda o: S.CyclicLR(o, 0.1, 1.0, mode="sine"), ValueError, "mode value: 'sine'"),
    (lambda o: S.CyclicLR(o, 0.1, 1.0, step_size_up=0), ValueError, "step_size_up value: 0"),
    (lambda o: S.CyclicLR(o, 0.1, 1.0, step_size_down=1.5), ValueError,
     "step_size_down value: 1.5"),
    (lambda o: S.CyclicLR(o, 0.1, 1.0, scale_fn=abs, scale_mode="epoch"), ValueError,
     "scale_mode value: 'epoch'"),
    (lambda o: S.ChainedScheduler([]), ValueError, "at least one scheduler"),
    (lambda o: S.ChainedScheduler([S.StepLR(o, 2), S.StepLR(sgd(), 2)]), ValueError,
     r"schedulers\[1\] \(StepLR\) belongs to another optimizer"),
    (lambda o: S.ChainedScheduler([S.ReduceLROnPlateau(o)]), ValueError,
     "ReduceLROnPlateau, whose step needs a metric"),
    (lambda o: S.ChainedScheduler([S.StepLR(o, 2), "x"]), TypeError, "str, not a scheduler"),
    (lambda o: S.SequentialLR(o, [S.ChainedScheduler([S.StepLR(o, 2)])], []), TypeError,
     "ChainedScheduler"),
])
def test_new_schedulers_name_bad_arguments(build, error, message):
    with pytest.raises(error, match=message):
        build(sgd())


def test_a_refused_cyclic_lr_leaves_the_groups_alone():
    optimizer = sgd(momentum=0.5)
    before = [dict(group) for group in optimizer.param_groups]
    with pytest.raises(ValueError, match="max_momentum value: 'x'"):
        S.CyclicLR(optimizer, 0.01, 0.1, max_momentum="x")
    assert optimizer.param_groups == before


def test_cyclic_momentum_needs_an_optimizer_with_one():
    adagrad = Adagrad([param(2)], lr=0.1, device="cpu")
    with pytest.raises(ValueError, match="Adagrad has neither"):
        S.CyclicLR(adagrad, 0.01, 0.1)
    assert adagrad.param_groups[0]["lr"] == 0.1
    S.CyclicLR(adagrad, 0.01, 0.1, cycle_momentum=False)
    assert adagrad.param_groups[0]["lr"] == 0.01
