"""minidl.optim through the Optimizer API, on the reference and cpu backends.

The oracle is ``oracle_step``: a per-tensor numpy transcription of the update
equations (those of ``minidl.kernels.reference``, PyTorch's), run on each
parameter on its own, with its own state and step count. The optimizers run
the same updates on flat buffers, one kernel call per group.
"""
from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
import pytest

import minidl
import minidl.kernels.cpu as cpu_kernels
from minidl import Tensor, nn
from minidl.kernels import BackendUnavailable
from minidl.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from minidl.optim.lr_scheduler import StepLR

CLASSES = {"SGD": SGD, "Adagrad": Adagrad, "RMSprop": RMSprop, "Adam": Adam, "AdamW": AdamW}
SHAPES = [(3, 4), (5,), (), (2, 3, 2)]
BACKENDS = ["reference", "cpu"]


# -- the oracle: one tensor at a time ------------------------------------------------

def oracle_step(kind: str, p: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray],
                o: dict[str, Any], t: int) -> None:
    """Update p (in place) and state for step t (1-based), in p's dtype."""
    c = p.dtype.type
    g = -grad if o["maximize"] else grad.copy()
    decoupled = kind == "AdamW"
    if decoupled:
        p *= c(1 - o["lr"] * o["weight_decay"])
    elif o["weight_decay"] != 0:
        g = g + c(o["weight_decay"]) * p
    if kind == "SGD":
        if o["momentum"] != 0:
            b = state.setdefault("momentum_buffer", np.zeros_like(p))
            b[...] = g if t == 1 else c(o["momentum"]) * b + c(1 - o["dampening"]) * g
            g = g + c(o["momentum"]) * b if o["nesterov"] else b
        p -= c(o["lr"]) * g
    elif kind == "Adagrad":
        s = state.setdefault("sum", np.full_like(p, o["initial_accumulator_value"]))
        s += g * g
        p -= c(o["lr"] / (1 + (t - 1) * o["lr_decay"])) * g / (np.sqrt(s) + c(o["eps"]))
    elif kind == "RMSprop":
        a = c(o["alpha"])
        v = state.setdefault("square_avg", np.full_like(p, o["initial_accumulator_value"]))
        v[...] = a * v + c(1 - o["alpha"]) * g * g
        d = v
        if o["centered"]:
            m = state.setdefault("grad_avg", np.zeros_like(p))
            m += c(1 - o["alpha"]) * (g - m)
            d = np.maximum(v - m * m, c(0))
        denom = np.sqrt(d + c(o["eps"])) if o["eps_in_sqrt"] else np.sqrt(d) + c(o["eps"])
        if o["momentum"] > 0:
            b = state.setdefault("momentum_buffer", np.zeros_like(p))
            b[...] = c(o["momentum"]) * b + g / denom
            p -= c(o["lr"]) * b
        else:
            p -= c(o["lr"]) * g / denom
    else:
        beta1, beta2 = o["betas"]
        m = state.setdefault("exp_avg", np.zeros_like(p))
        v = state.setdefault("exp_avg_sq", np.zeros_like(p))
        m += c(1 - beta1) * (g - m)
        v[...] = c(beta2) * v + c(1 - beta2) * g * g
        if o["amsgrad"]:
            vmax = state.setdefault("max_exp_avg_sq", np.zeros_like(p))
            np.maximum(vmax, v, out=vmax)
            v = vmax
        denom = np.sqrt(v) / c(math.sqrt(1 - beta2 ** t)) + c(o["eps"])
        p -= c(o["lr"] / (1 - beta1 ** t)) * m / denom


class Oracle:
    """Per-tensor copies of the params, each with its own state and step count."""

    def __init__(self, kind: str, params: list[Tensor], groups: list[dict]):
        self.kind = kind
        self.params = [np.array(p.numpy()) for p in params]
        self.states: list[dict] = [{} for _ in params]
        self.steps = [0] * len(params)
        index = {id(p): i for i, p in enumerate(params)}
        self.options = [None] * len(params)
        for group in groups:
            for p in group["params"]:
                self.options[index[id(p)]] = group

    def step(self, grads: list[np.ndarray | None]) -> None:
        for i, grad in enumerate(grads):
            if grad is not None:
                self.steps[i] += 1
                oracle_step(self.kind, self.params[i], grad.astype(self.params[i].dtype),
                            self.states[i], self.options[i], self.steps[i])


def make_params(shapes=SHAPES, dtype=np.float32, seed=0) -> list[Tensor]:
    rng = np.random.default_rng(seed)
    return [Tensor(rng.standard_normal(shape), requires_grad=True, dtype=dtype)
            for shape in shapes]


def random_grads(rng: np.random.Generator, params: list[Tensor]) -> list[np.ndarray]:
    return [rng.standard_normal(p.shape).astype(p.dtype) for p in params]


def set_grads(params: list[Tensor], grads: list[np.ndarray | None]) -> None:
    for p, g in zip(params, grads):
        p.grad = g


BASE_LR = {"SGD": 0.05, "Adagrad": 0.1, "RMSprop": 0.01, "Adam": 0.01, "AdamW": 0.01}
OPTION_GRID = {
    "SGD": [{}, {"momentum": 0.9}, {"momentum": 0.9, "dampening": 0.2, "weight_decay": 0.01},
            {"momentum": 0.9, "nesterov": True, "maximize": True},
            {"weight_decay": 0.1, "maximize": True}],
    "Adagrad": [{}, {"lr_decay": 0.01, "weight_decay": 0.05},
                {"initial_accumulator_value": 0.3, "maximize": True, "eps": 1e-6}],
    "RMSprop": [{}, {"centered": True}, {"momentum": 0.9},
                {"centered": True, "momentum": 0.5, "weight_decay": 0.01},
                {"eps_in_sqrt": True, "initial_accumulator_value": 1.0, "alpha": 0.9},
                {"maximize": True, "alpha": 0.3, "centered": True, "eps_in_sqrt": True}],
    "Adam": [{}, {"amsgrad": True}, {"weight_decay": 0.05, "maximize": True},
             {"betas": (0.3, 0.9), "amsgrad": True, "weight_decay": 0.1}],
    "AdamW": [{}, {"amsgrad": True, "weight_decay": 0.1},
              {"maximize": True, "betas": (0.5, 0.99)}],
}
GRID = [(kind, options) for kind, grid in OPTION_GRID.items() for options in grid]


def two_groups(kind: str, params: list[Tensor]) -> list[dict]:
    return [{"params": params[:2]}, {"params": params[2:], "lr": 3 * BASE_LR[kind]}]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind, options", GRID, ids=[f"{k}-{o}" for k, o in GRID])
def test_matches_the_per_tensor_numpy_transcription(kind, options, backend):
    params = make_params()
    opt = CLASSES[kind](two_groups(kind, params), lr=BASE_LR[kind], device=backend,
                        **options)
    oracle = Oracle(kind, params, opt.param_groups)
    rng = np.random.default_rng(1)
    for _ in range(50):
        grads = random_grads(rng, params)
        set_grads(params, grads)
        opt.step()
        oracle.step(grads)
    for p, expected in zip(params, oracle.params):
        np.testing.assert_allclose(p.numpy(), expected, rtol=2e-5, atol=2e-6)
    state = opt.state
    for p, expected_state in zip(params, oracle.states):
        if kind == "SGD":       # PyTorch's SGD state: the momentum buffer alone, if any
            assert set(state.get(p, {})) == set(expected_state)
        else:
            assert set(state[p]) == {"step", *expected_state}
            assert state[p]["step"] == 50
        for name, value in expected_state.items():
            np.testing.assert_allclose(state[p][name], value, rtol=2e-5, atol=2e-6,
                                       err_msg=name)


def test_defaults_are_pytorchs():
    p = [minidl.zeros(2, requires_grad=True)]
    assert SGD(p, device="cpu").defaults == dict(
        lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False)
    assert Adagrad(p, device="cpu").defaults == dict(
        lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
        maximize=False)
    assert RMSprop(p, device="cpu").defaults == dict(
        lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
        maximize=False, eps_in_sqrt=False, initial_accumulator_value=0.0,
        lr_in_momentum=False)
    adam = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                maximize=False)
    assert Adam(p, device="cpu").defaults == adam
    assert AdamW(p, device="cpu").defaults == {**adam, "weight_decay": 1e-2}


def test_centered_rmsprop_stays_finite_on_near_constant_gradients():
    """g = 1 + tiny noise: v and m*m agree to float32 rounding, so v - m*m dips
    below 0 (PyTorch's sqrt of it is NaN); minidl clamps it at 0."""
    param = Tensor(np.zeros(64, np.float32), requires_grad=True)
    opt = RMSprop([param], lr=1e-3, centered=True, device="cpu")
    rng = np.random.default_rng(2)
    noise = (rng.standard_normal((20_000, 64)) * 1e-4).astype(np.float32)
    dipped = False
    for step in range(20_000):
        param.grad = np.float32(1) + noise[step]
        opt.step()
        if step % 100 == 99:
            state = opt.state[param]
            dipped |= bool((state["square_avg"] - state["grad_avg"] ** 2 < 0).any())
    assert dipped, "the test no longer produces a negative centered variance"
    assert np.isfinite(param.numpy()).all()
    assert np.isfinite(opt.state[param]["square_avg"]).all()


# -- state_dict ------------------------------------------------------------------------

STATEFUL = [("SGD", {"momentum": 0.9, "nesterov": True}), ("Adagrad", {"lr_decay": 0.01}),
            ("RMSprop", {"centered": True, "momentum": 0.9}), ("Adam", {"amsgrad": True}),
            ("AdamW", {})]


def train(opt: Optimizer, params: list[Tensor], grads: list[list[np.ndarray]]) -> None:
    for step_grads in grads:
        set_grads(params, step_grads)
        opt.step()


@pytest.mark.parametrize("kind, options", STATEFUL, ids=[k for k, _ in STATEFUL])
def test_state_dict_round_trip_continues_bit_identically_on_cpu(kind, options):
    rng = np.random.default_rng(3)
    grads = [random_grads(rng, make_params()) for _ in range(20)]

    params = make_params()
    opt = CLASSES[kind](two_groups(kind, params), lr=BASE_LR[kind], device="cpu", **options)
    train(opt, params, grads)

    first = make_params()
    first_opt = CLASSES[kind](two_groups(kind, first), lr=BASE_LR[kind], device="cpu",
                              **options)
    train(first_opt, first, grads[:10])
    saved_params = [np.array(p.numpy()) for p in first]
    saved = first_opt.state_dict()
    train(first_opt, first, grads[10:])   # the saved state must not change with it

    resumed = make_params(seed=99)
    resumed_opt = CLASSES[kind](two_groups(kind, resumed), lr=1.0, device="cpu")
    for p, value in zip(resumed, saved_params):
        p.data = value
    resumed_opt.load_state_dict(saved)
    assert resumed_opt.param_groups[1]["lr"] == 3 * BASE_LR[kind]
    train(resumed_opt, resumed, grads[10:])
    for p, q in zip(resumed, params):
        assert np.array_equal(p.numpy(), q.numpy())


def test_state_saved_from_cpu_continues_on_reference():
    rng = np.random.default_rng(4)
    grads = [random_grads(rng, make_params()) for _ in range(20)]
    params = make_params()
    opt = RMSprop(two_groups("RMSprop", params), lr=0.01, centered=True, momentum=0.9,
                  device="cpu")
    train(opt, params, grads[:10])
    saved, saved_params = opt.state_dict(), [np.array(p.numpy()) for p in params]
    train(opt, params, grads[10:])

    moved = make_params(seed=5)
    moved_opt = RMSprop(two_groups("RMSprop", moved), device="reference")
    for p, value in zip(moved, saved_params):
        p.data = value
    moved_opt.load_state_dict(saved)
    train(moved_opt, moved, grads[10:])
    for p, q in zip(moved, params):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-5, atol=1e-6)


def test_state_dict_layout_is_pytorchs():
    params = make_params()
    opt = Adam(two_groups("Adam", params), lr=0.01, amsgrad=True, device="cpu")
    assert opt.state_dict()["state"] == {}
    params[1].grad = np.ones(5, np.float32)
    params[3].grad = np.ones((2, 3, 2), np.float32)
    opt.step()
    saved = opt.state_dict()
    assert set(saved["state"]) == {1, 3}
    entry = saved["state"][3]
    assert set(entry) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert entry["step"] == 1 and isinstance(entry["step"], int)
    assert entry["exp_avg"].shape == (2, 3, 2) and isinstance(entry["exp_avg"], np.ndarray)
    np.testing.assert_allclose(entry["exp_avg"], 0.1)
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1], [2, 3]]
    assert saved["param_groups"][1]["lr"] == 0.03
    assert saved["param_groups"][0]["betas"] == (0.9, 0.999)


def test_load_state_dict_validates_and_changes_nothing_on_error():
    params = make_params()
    opt = RMSprop(two_groups("RMSprop", params), device="cpu")
    train(opt, params, [random_grads(np.random.default_rng(6), params)])
    good = opt.state_dict()
    before = [np.array(v["square_avg"]) for v in opt.state.values()]

    def broken(change) -> dict:
        saved = opt.state_dict()
        change(saved)
        return saved

    cases = [
        (lambda s: s["param_groups"].pop(), "1 parameter groups, this optimizer has 2"),
        (lambda s: s["param_groups"][1]["params"].pop(), "group 1 has 1 parameters"),
        (lambda s: s["state"][2].update(square_avg=np.zeros(3)),
         r"'square_avg' of parameter 2 \(group 1\) has shape \(3,\)"),
        (lambda s: s["state"][0].update(velocity=np.zeros((3, 4))),
         r"unknown entries \['velocity'\]"),
        (lambda s: s["state"][0].pop("step"), "has no 'step'"),
        (lambda s: s["state"].update({"0": s["state"].pop(0)}), r"parameters \['0'\]"),
        (lambda s: s["param_groups"][0].update(alpha=1.5), "Invalid alpha value: 1.5"),
    ]
    for change, message in cases:
        with pytest.raises(ValueError, match=message):
            opt.load_state_dict(broken(change))
    for value, current in zip(before, opt.state.values()):
        assert np.array_equal(value, current["square_avg"])
    assert opt.param_groups[0]["alpha"] == 0.99
    with pytest.raises(ValueError, match="exactly the keys"):
        opt.load_state_dict({"state": {}})
    opt.load_state_dict(good)


def test_load_state_dict_resets_params_without_saved_state():
    params = make_params()
    opt = Adagrad([params[0], params[1]], initial_accumulator_value=0.5, device="cpu")
    fresh = opt.state_dict()
    train(opt, params[:2], [random_grads(np.random.default_rng(7), params[:2])])
    opt.load_state_dict(fresh)
    assert opt.state == {}
    np.testing.assert_array_equal(opt._flat[0].state["sum"], 0.5)


# -- unused parameters, data and grad assignment ------------------------------------

class KernelSpy:
    """Wraps an optimizer's kernel, recording the size of each call."""

    def __init__(self, opt: Optimizer):
        self.kernel, self.sizes = opt._kernel, []
        opt._kernel = self

    def __call__(self, param, *args) -> None:
        self.sizes.append(param.size)
        self.kernel(param, *args)


@pytest.mark.parametrize("backend", BACKENDS)
def test_params_without_grad_are_skipped(backend):
    params = make_params([(4,), (3,), (2, 2), (5,)])
    opt = Adam(params, lr=0.01, weight_decay=0.1, device=backend)
    oracle = Oracle("Adam", params, opt.param_groups)
    spy = KernelSpy(opt)
    rng = np.random.default_rng(8)

    grads = random_grads(rng, params)
    grads[1] = None
    set_grads(params, grads)
    unused_before = np.array(params[1].numpy())
    opt.step()
    oracle.step(grads)
    assert spy.sizes == [4, 4 + 5]            # runs [p0] and [p2, p3]
    assert np.array_equal(params[1].numpy(), unused_before)
    assert params[1] not in opt.state
    assert [opt.state[params[i]]["step"] for i in (0, 2, 3)] == [1, 1, 1]
    assert not opt._flat[0].state["exp_avg"][4:7].any()

    spy.sizes.clear()
    grads = random_grads(rng, params)        # now all have grads, but unequal step counts
    set_grads(params, grads)
    opt.step()
    oracle.step(grads)
    assert spy.sizes == [4, 3, 4 + 5]
    assert [opt.state[p]["step"] for p in params] == [2, 1, 2, 2]
    for p, expected in zip(params, oracle.params):
        np.testing.assert_allclose(p.numpy(), expected, rtol=1e-6, atol=1e-7)


def test_one_kernel_call_per_group_when_every_param_has_a_grad():
    params = make_params()
    opt = RMSprop(two_groups("RMSprop", params), device="cpu")
    spy = KernelSpy(opt)
    rng = np.random.default_rng(9)
    for _ in range(3):
        set_grads(params, random_grads(rng, params))
        opt.step()
    assert spy.sizes == [12 + 5, 1 + 12] * 3


def test_grads_cleared_one_by_one_are_skipped():
    params = make_params([(3,), (3,)])
    opt = SGD(params, lr=0.1, device="cpu")
    for p in params:
        p.grad = np.ones(3, np.float32)
    params[0].grad = None
    before = np.array(params[0].numpy())
    opt.step()
    assert np.array_equal(params[0].numpy(), before)
    np.testing.assert_allclose(params[1].numpy(), make_params([(3,), (3,)])[1].numpy() - 0.1)


def test_assigning_data_and_grad_after_construction():
    params = make_params([(2, 3), (4,)])
    opt = SGD(params, lr=0.5, momentum=0.9, device="cpu")
    flat = opt._flat[0]
    params[0].data = np.full((2, 3), 7.0)
    params[1].data = minidl.ones(4)
    assert np.shares_memory(params[0].numpy(), flat.data)
    params[0].grad = np.full((2, 3), 2.0)
    params[1].grad = minidl.ones(4)
    assert np.shares_memory(params[1].grad, flat.grad)
    opt.step()
    np.testing.assert_allclose(params[0].numpy(), 7.0 - 0.5 * 2.0)
    np.testing.assert_allclose(params[1].numpy(), 1.0 - 0.5)
    with pytest.raises(ValueError, match="shape"):
        params[1].data = np.zeros(5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_in_place_edits_of_data_are_seen_on_host_backends(backend):
    param = minidl.zeros(3, requires_grad=True)
    opt = SGD([param], lr=0.5, device=backend)
    param.data[...] = 4.0
    param.data[1] += 1.0
    param.grad = np.ones(3, np.float32)
    opt.step()
    np.testing.assert_array_equal(param.numpy(), [3.5, 4.5, 3.5])


def test_backward_writes_grads_into_the_flat_buffer():
    w = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    opt = SGD([w], lr=0.1, device="cpu")
    for _ in range(2):
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        assert np.shares_memory(w.grad, opt._flat[0].grad)
        opt.step()
    np.testing.assert_allclose(w.numpy(), np.array([1.0, -2.0, 3.0]) * 0.8 ** 2, rtol=1e-6)


def test_module_load_state_dict_after_the_optimizer_keeps_training_those_params():
    minidl.manual_seed(0)
    model, source = nn.Linear(3, 2), nn.Linear(3, 2)
    opt = SGD(model.parameters(), lr=0.1, device="cpu")
    model.load_state_dict(source.state_dict())
    for p in model.parameters():
        assert np.shares_memory(p.numpy(), opt._flat[0].data)
    x = minidl.tensor(np.ones((4, 3)))
    model.zero_grad()
    model(x).sum().backward()
    opt.step()
    np.testing.assert_allclose(model.weight.numpy(), source.weight.numpy() - 0.1 * 4, rtol=1e-6)
    np.testing.assert_allclose(model.bias.numpy(), source.bias.numpy() - 0.1 * 4, rtol=1e-6)


def test_zero_grad_both_modes():
    params = make_params([(3,), (2,)])
    opt = SGD(params, lr=1.0, device="cpu")
    for p in params:
        p.grad = np.ones(p.shape, np.float32)
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any() for p in params)
    opt.zero_grad()
    assert all(p.grad is None for p in params)
    before = [np.array(p.numpy()) for p in params]
    opt.step()
    assert all(np.array_equal(p.numpy(), b) for p, b in zip(params, before))
    assert opt.state == {}


# -- hyperparameters -------------------------------------------------------------------

def signature_count() -> int:
    return sum(len(loop.serial.signatures) + len(loop.parallel.signatures)
               for loop in cpu_kernels.LOOPS.values())


@pytest.mark.needs_jit
def test_changing_lr_takes_effect_without_recompiling():
    param = Tensor(np.zeros(4, np.float32), requires_grad=True)
    opt = SGD([param], lr=0.1, device="cpu")
    scheduler = StepLR(opt, step_size=1, gamma=0.5)
    param.grad = np.ones(4, np.float32)
    opt.step()
    compiled = signature_count()
    deltas = []
    for lr in (1, 0.25, np.float32(2.0)):
        opt.param_groups[0]["lr"] = lr
        before = float(param.numpy()[0])
        opt.step()
        deltas.append(before - float(param.numpy()[0]))
    before = float(param.numpy()[0])
    scheduler.step()
    opt.step()
    deltas.append(before - float(param.numpy()[0]))
    np.testing.assert_allclose(deltas, [1, 0.25, 2.0, 1.0])
    assert signature_count() == compiled


INVALID = [
    (SGD, {"lr": -0.1}, "Invalid learning rate: -0.1"),
    (SGD, {"lr": float("nan")}, "Invalid learning rate: nan"),
    (SGD, {"lr": "0.1"}, "Invalid learning rate: '0.1'"),
    (SGD, {"momentum": -0.5}, "Invalid momentum value: -0.5"),
    (SGD, {"dampening": 1.5}, "Invalid dampening value: 1.5"),
    (SGD, {"weight_decay": -1e-4}, "Invalid weight_decay value: -0.0001"),
    (SGD, {"nesterov": True}, "Invalid nesterov value: True.*momentum=0"),
    (SGD, {"nesterov": True, "momentum": 0.9, "dampening": 0.1},
     "Invalid nesterov value: True.*dampening=0.1"),
    (SGD, {"maximize": "no"}, "Invalid maximize value: 'no'"),
    (Adagrad, {"lr_decay": -1}, "Invalid lr_decay value: -1"),
    (Adagrad, {"initial_accumulator_value": -0.1}, "Invalid initial_accumulator_value value: -0.1"),
    (Adagrad, {"eps": -1e-10}, "Invalid eps value: -1e-10"),
    (RMSprop, {"alpha": 1.5}, "Invalid alpha value: 1.5"),
    (RMSprop, {"alpha": 1.0}, "Invalid alpha value: 1.0"),
    (RMSprop, {"alpha": -0.1}, "Invalid alpha value: -0.1"),
    (RMSprop, {"eps": float("inf")}, "Invalid eps value: inf"),
    (RMSprop, {"momentum": -1}, "Invalid momentum value: -1"),
    (RMSprop, {"weight_decay": float("nan")}, "Invalid weight_decay value: nan"),
    (RMSprop, {"centered": 1}, "Invalid centered value: 1"),
    (RMSprop, {"eps_in_sqrt": None}, "Invalid eps_in_sqrt value: None"),
    (RMSprop, {"initial_accumulator_value": -1.0}, "Invalid initial_accumulator_value value: -1.0"),
    (Adam, {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
    (Adam, {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
    (Adam, {"betas": 0.9}, "Invalid betas value: 0.9"),
    (Adam, {"eps": -1.0}, "Invalid eps value: -1.0"),
    (Adam, {"amsgrad": "yes"}, "Invalid amsgrad value: 'yes'"),
    (AdamW, {"weight_decay": -0.01}, "Invalid weight_decay value: -0.01"),
    (AdamW, {"lr": True}, "Invalid learning rate: True"),
]


@pytest.mark.parametrize("cls, options, message", INVALID,
                         ids=[f"{c.__name__}-{o}" for c, o, _ in INVALID])
def test_invalid_hyperparameters_raise_naming_them(cls, options, message):
    with pytest.raises(ValueError, match=message):
        cls([minidl.zeros(2, requires_grad=True)], device="cpu", **options)
    with pytest.raises(ValueError, match=message):      # also as a param group's override
        cls([{"params": [minidl.zeros(2, requires_grad=True)], **options}], device="cpu")


def test_invalid_hyperparameter_set_in_param_groups_raises_at_the_next_step():
    param = minidl.zeros(2, requires_grad=True)
    opt = RMSprop([param], device="cpu")
    param.grad = np.ones(2, np.float32)
    opt.param_groups[0]["alpha"] = 2.0
    with pytest.raises(ValueError, match="Invalid alpha value: 2.0"):
        opt.step()
    assert not param.numpy().any()


def test_in_place_edit_of_a_betas_list_takes_effect():
    param = minidl.zeros(3, requires_grad=True)
    opt = Adam([param], betas=[0.9, 0.999], device="cpu")
    param.grad = np.ones(3, np.float32)
    opt.step()
    opt.param_groups[0]["betas"][0] = 0.0
    param.grad = np.full(3, 2.0, np.float32)
    opt.step()
    np.testing.assert_array_equal(opt.state[param]["exp_avg"], 2.0)   # m = g when beta1 = 0


def test_turning_options_on_mid_run_allocates_their_state():
    param = minidl.zeros(3, requires_grad=True)
    opt = RMSprop([param], device="cpu")
    param.grad = np.ones(3, np.float32)
    opt.step()
    assert set(opt.state[param]) == {"step", "square_avg"}
    opt.param_groups[0].update(momentum=0.9, centered=True)
    opt.step()
    assert set(opt.state[param]) == {"step", "square_avg", "grad_avg", "momentum_buffer"}
    assert opt.state[param]["momentum_buffer"].any()


# -- construction --------------------------------------------------------------------

def test_bad_params_raise():
    a, b = minidl.zeros(2, requires_grad=True), minidl.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="more than once"):
        SGD([{"params": [a]}, {"params": [b, a]}], device="cpu")
    with pytest.raises(ValueError, match="more than once"):
        SGD([a, a], device="cpu")
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], device="cpu")
    with pytest.raises(TypeError, match="only optimize Tensors"):
        SGD([np.zeros(2)], device="cpu")
    with pytest.raises(TypeError, match="got Tensor"):
        SGD(a, device="cpu")
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([a * 2], device="cpu")
    double = minidl.zeros(2, dtype=np.float64, requires_grad=True)
    with pytest.raises(ValueError, match=r"float32: params \[0\]; float64: params \[1\]"):
        SGD([a, double], device="cpu")
    SGD([{"params": [a]}, {"params": [double]}], device="cpu")    # one dtype per group
    half = minidl.zeros(2, dtype=np.float16, requires_grad=True)
    with pytest.raises(ValueError, match="float32 or float64 parameters, got dtype float16"):
        SGD([half], device="cpu")


def test_add_param_group_mid_training():
    a, b = make_params([(3,), (2,)])
    opt = SGD([a], lr=0.1, device="cpu")
    a.grad = np.ones(3, np.float32)
    opt.step()
    opt.add_param_group({"params": b, "lr": 1.0})
    assert opt.param_groups[1]["momentum"] == 0
    b_before = np.array(b.numpy())
    b.grad = np.ones(2, np.float32)
    opt.step()
    np.testing.assert_allclose(b.numpy(), b_before - 1.0)
    assert opt.state == {}      # PyTorch's SGD keeps no state without momentum
    assert list(opt._flat[0].step_counts()) == [2] and list(opt._flat[1].step_counts()) == [1]


def test_a_second_optimizer_on_the_same_params_takes_them_over():
    param = minidl.zeros(2, requires_grad=True)
    first = SGD([param], lr=1.0, device="cpu")
    second = SGD([param], lr=1.0, device="cpu")
    param.grad = np.ones(2, np.float32)
    second.step()
    np.testing.assert_allclose(param.numpy(), -1.0)
    with pytest.raises(RuntimeError, match="taken over by another optimizer"):
        first.step()


def test_step_returns_the_closures_loss():
    w = Tensor(np.array([3.0]), requires_grad=True)
    opt = SGD([w], lr=0.25, device="cpu")

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 9.0
    np.testing.assert_allclose(w.numpy(), [3.0 - 0.25 * 6.0])


def test_float64_params_stay_float64():
    params = make_params([(3,)], dtype=np.float64)
    opt = Adam(params, device="cpu")
    params[0].grad = np.ones(3)
    opt.step()
    assert params[0].dtype == np.float64 and opt.state[params[0]]["exp_avg"].dtype == np.float64


def test_state_views_are_live_on_host_backends():
    param = minidl.zeros(3, requires_grad=True)
    opt = SGD([param], momentum=0.9, device="cpu")
    param.grad = np.ones(3, np.float32)
    opt.step()
    buffer = opt.state[param]["momentum_buffer"]
    opt.step()
    np.testing.assert_allclose(buffer, 1.9)


def test_repr_lists_each_group_like_pytorch():
    opt = SGD([{"params": [minidl.zeros(1, requires_grad=True)]},
               {"params": [minidl.zeros(1, requires_grad=True)], "lr": 0.5}],
              lr=0.1, device="reference")
    text = repr(opt)
    assert text.startswith("SGD (\nDevice: reference\nParameter Group 0\n    dampening: 0\n")
    assert "Parameter Group 1\n" in text and "    lr: 0.5\n" in text and text.endswith("\n)")


# -- devices ---------------------------------------------------------------------------

def test_cuda_without_a_gpu_names_what_is_missing():
    problem = minidl.kernels.cuda_problem()
    if problem is None:
        pytest.skip("a CUDA GPU is usable here")
    with pytest.raises(BackendUnavailable, match="cuda backend is unavailable: " +
                       __import__("re").escape(problem)):
        SGD([minidl.zeros(2, requires_grad=True)], device="cuda")


def test_minidl_device_overrides_auto(monkeypatch):
    param = minidl.zeros(2, requires_grad=True)
    monkeypatch.setenv("MINIDL_DEVICE", "reference")
    assert RMSprop([param]).device == "reference"
    assert RMSprop([param], device="cpu").device == "cpu"
    monkeypatch.setenv("MINIDL_DEVICE", "tpu")
    with pytest.raises(ValueError, match="'tpu'.*MINIDL_DEVICE"):
        RMSprop([param])
    monkeypatch.delenv("MINIDL_DEVICE")
    expected = "cuda" if minidl.kernels.cuda_problem() is None else "cpu"
    assert RMSprop([param]).device == expected


def info_rows() -> dict[str, str]:
    """minidl.info() as {key: value}; its columns are separated by two spaces."""
    return dict(line.split("  ", 1) for line in minidl.info().splitlines())


def test_info_reports_versions_and_the_auto_backend(capsys, monkeypatch):
    monkeypatch.delenv("MINIDL_DEVICE", raising=False)
    rows = {key.strip(): value.strip() for key, value in info_rows().items()}
    assert capsys.readouterr().out.count("\n") == len(rows)
    assert list(rows) == ["minidl", "python", "numpy", "numba", "numba-cuda", "scikit-learn",
                          "gpu", 'device "auto"', "threading layer", "threads", "blas"]
    assert rows["minidl"] == minidl.__version__ and rows["numpy"] == np.__version__
    assert rows["numba"] == numba.__version__
    assert rows["threads"].startswith(f"{numba.get_num_threads()} (NUMBA_NUM_THREADS=")
    problem = minidl.kernels.cuda_problem()
    if problem is None:
        assert rows['device "auto"'].startswith("cuda (a CUDA GPU is usable")
    else:
        assert rows["gpu"] == f"none ({problem})"
        assert rows['device "auto"'] == f"cpu (cuda is unavailable: {problem})"


def test_info_reports_minidl_device_and_its_errors(monkeypatch):
    monkeypatch.setenv("MINIDL_DEVICE", "reference")
    assert info_rows()['device "auto"'].strip() == "reference (set by MINIDL_DEVICE=reference)"
    monkeypatch.setenv("MINIDL_DEVICE", "tpu")
    assert info_rows()['device "auto"'].strip().startswith("error: Invalid device: 'tpu'")
