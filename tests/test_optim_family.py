"""The whole optimizer family against PyTorch's vectors with skipped grads, an lr
changed mid-run and state dicts moved both ways; PyTorch's defaults and errors;
hyperparameters that overflow the params' dtype; bad state dicts.

The "events" cases of ``tests/data/torch_optim_vectors.npz`` (written by
``tests/data/make_torch_vectors.py``) run each optimizer on three params of
16 elements in all, in float32 and float64: some params have no grad on some
steps (``skipped``), the group's lr is halved before step ``LR_CHANGE_STEP``,
and PyTorch's ``state_dict()`` after ``STATE_STEP`` steps is stored with its
tensors as arrays. No torch needed (one round trip through torch runs where
it is installed).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from minidl import Tensor
from minidl.optim import (SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop,
                          Rprop)

CLASSES = {"SGD": SGD, "Adagrad": Adagrad, "RMSprop": RMSprop, "Adam": Adam, "AdamW": AdamW,
           "Rprop": Rprop, "Adadelta": Adadelta, "Adamax": Adamax, "NAdam": NAdam,
           "RAdam": RAdam}

with np.load(Path(__file__).parent / "data" / "torch_optim_vectors.npz",
             allow_pickle=False) as stored:
    DATA = {key: stored[key] for key in stored.files}
EVENTS = [case for case in json.loads(str(DATA["cases"])) if case["events"]]
SPLIT = [tuple(shape) for shape in json.loads(str(DATA["split"]))]
LR_CHANGE_STEP, STATE_STEP = int(DATA["lr_change_step"]), int(DATA["state_step"])
STEPS = len(DATA["grads"])
# float32: ~6e-8 relative rounding per operation, carried through 50 steps
TOLERANCE = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=2e-5, atol=2e-5)}
IDS = [case["key"] for case in EVENTS]


def skipped(step: int, index: int) -> bool:
    """make_torch_vectors.skipped: param 1 misses steps 1, 2 and every 7th, param 0 step 10."""
    return (index == 1 and (step <= 2 or step % 7 == 3)) or (index == 0 and step == 10)


def split(flat: np.ndarray) -> list[np.ndarray]:
    bounds = np.cumsum([0] + [int(np.prod(shape)) for shape in SPLIT])
    return [flat[lo:hi].reshape(shape) for lo, hi, shape in zip(bounds[:-1], bounds[1:], SPLIT)]


def options_of(case: dict) -> dict:
    return {key: tuple(value) if isinstance(value, list) else value
            for key, value in case["options"].items()}


def make(case: dict, backend: str, flat_params: np.ndarray):
    params = [Tensor(piece, requires_grad=True, dtype=case["dtype"])
              for piece in split(flat_params)]
    return params, CLASSES[case["optimizer"]](params, device=backend, **options_of(case))


def run(opt, params, case: dict, first: int, last: int) -> np.ndarray:
    """Steps first..last (1-based) with the vectors' grads and events; the flat params after each."""
    out = []
    for step in range(first, last + 1):
        if step == LR_CHANGE_STEP:
            opt.param_groups[0]["lr"] *= 0.5
        pieces = split(DATA["grads"][step - 1].astype(case["dtype"]))
        for index, (param, piece) in enumerate(zip(params, pieces)):
            param.grad = None if skipped(step, index) else piece
        opt.step()
        out.append(np.concatenate([param.numpy().reshape(-1) for param in params]))
    return np.stack(out)


def torch_state_dict(case: dict) -> dict:
    """PyTorch's state dict after STATE_STEP steps, its tensors as numpy arrays."""
    key = case["key"]
    state: dict[int, dict] = {}
    prefix = f"{key}__"
    for name, value in DATA.items():
        if name.startswith(prefix) and name != f"{key}__groups":
            index, entry = name[len(prefix):].split("__")
            state.setdefault(int(index), {})[entry] = value
    groups = json.loads(str(DATA[f"{key}__groups"]))
    for group in groups:
        for option in ("betas", "etas", "step_sizes"):
            if option in group:
                group[option] = tuple(group[option])
    return {"state": state, "param_groups": groups}


def test_events_cover_every_optimizer_in_both_dtypes():
    assert {(c["optimizer"], c["dtype"]) for c in EVENTS} == {
        (name, dtype) for name in CLASSES for dtype in ("float32", "float64")}


@pytest.mark.parametrize("backend", ["reference", "cpu"])
@pytest.mark.parametrize("case", EVENTS, ids=IDS)
def test_trajectory_with_skipped_grads_and_an_lr_change_matches_pytorch(case, backend):
    expected = DATA[case["key"]]
    params, opt = make(case, backend, DATA["param0"])
    got = run(opt, params, case, 1, STEPS)
    assert got.dtype == np.dtype(case["dtype"])
    np.testing.assert_allclose(got, expected[1:], **TOLERANCE[case["dtype"]])


@pytest.mark.parametrize("case", EVENTS, ids=IDS)
def test_a_pytorch_state_dict_loads_and_continues_the_trajectory(case):
    expected = DATA[case["key"]]
    params, opt = make(case, "cpu", expected[STATE_STEP])
    opt.load_state_dict(torch_state_dict(case))
    assert opt.param_groups[0]["lr"] == pytest.approx(case["options"]["lr"] * 0.5)
    assert "foreach" not in opt.param_groups[0]
    got = run(opt, params, case, STATE_STEP + 1, STEPS)
    np.testing.assert_allclose(got, expected[STATE_STEP + 1:], **TOLERANCE[case["dtype"]])


@pytest.mark.parametrize("case", EVENTS, ids=IDS)
def test_state_dict_is_pytorchs(case):
    """After the same steps minidl's state dict holds PyTorch's entries, keys and
    values: what torch's load_state_dict needs to continue the same trajectory."""
    params, opt = make(case, "cpu", DATA["param0"])
    run(opt, params, case, 1, STATE_STEP)
    ours, theirs = opt.state_dict(), torch_state_dict(case)
    assert set(ours["state"]) == set(theirs["state"])
    for index, entry in theirs["state"].items():
        assert set(ours["state"][index]) == set(entry), index
        for name, value in entry.items():
            np.testing.assert_allclose(np.asarray(ours["state"][index][name], np.float64),
                                       np.asarray(value, np.float64),
                                       **TOLERANCE[case["dtype"]], err_msg=f"{index} {name}")
    group, torch_group = ours["param_groups"][0], theirs["param_groups"][0]
    for key, value in group.items():
        if key in torch_group:
            assert value == pytest.approx(torch_group[key]), key


def test_sgd_state_holds_only_the_momentum_buffer():
    param = Tensor(np.ones(3), requires_grad=True)
    plain, heavy = SGD([param], lr=0.1), None
    param.grad = np.ones(3)
    plain.step()
    assert plain.state == {} and plain.state_dict()["state"] == {}
    heavy = SGD([param], lr=0.1, momentum=0.9)
    heavy.step()
    assert set(heavy.state[param]) == {"momentum_buffer"}


@pytest.mark.parametrize("name", CLASSES)
def test_state_dict_round_trip_through_torch(name):
    """Where torch is installed: minidl -> torch -> minidl continues one trajectory."""
    torch = pytest.importorskip("torch")
    case = next(c for c in EVENTS if c["optimizer"] == name and c["dtype"] == "float64")
    expected = DATA[case["key"]]
    params, opt = make(case, "cpu", DATA["param0"])
    run(opt, params, case, 1, STATE_STEP)
    state_dict = opt.state_dict()
    tensors = [torch.nn.Parameter(torch.tensor(np.array(p.numpy()))) for p in params]
    theirs = getattr(torch.optim, name)(tensors, foreach=False, **options_of(case))
    theirs.load_state_dict({
        "state": {i: {k: torch.tensor(v) for k, v in entry.items()}
                  for i, entry in state_dict["state"].items()},
        "param_groups": state_dict["param_groups"]})
    for step in range(STATE_STEP + 1, STATE_STEP + 6):
        for index, (tensor, piece) in enumerate(zip(tensors, split(DATA["grads"][step - 1]))):
            tensor.grad = None if skipped(step, index) else torch.tensor(piece)
        theirs.step()
    back = {"state": {i: {k: v.numpy() for k, v in entry.items()}
                      for i, entry in theirs.state_dict()["state"].items()},
            "param_groups": theirs.state_dict()["param_groups"]}
    params2, opt2 = make(case, "cpu", np.concatenate([t.detach().numpy().reshape(-1)
                                                       for t in tensors]))
    opt2.load_state_dict(back)
    got = run(opt2, params2, case, STATE_STEP + 6, STEPS)
    np.testing.assert_allclose(got, expected[STATE_STEP + 6:], **TOLERANCE["float64"])


# -- PyTorch's defaults and messages -------------------------------------------------

DEFAULTS = {
    Rprop: dict(lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False),
    Adadelta: dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False),
    Adamax: dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, maximize=False),
    NAdam: dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                decoupled_weight_decay=False, maximize=False),
    RAdam: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                decoupled_weight_decay=False, maximize=False),
}


@pytest.mark.parametrize("cls", DEFAULTS, ids=lambda c: c.__name__)
def test_defaults_are_pytorchs(cls):
    assert cls([Tensor(np.ones(2), requires_grad=True)], device="cpu").defaults == DEFAULTS[cls]


@pytest.mark.parametrize("cls,options,message", [
    (Rprop, dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (Rprop, dict(etas=(1.2, 0.5)), "Invalid eta values: 1.2, 0.5"),
    (Rprop, dict(etas=(0.5, 1.0)), "Invalid eta values: 0.5, 1.0"),
    (Rprop, dict(step_sizes=(1.0, 0.1)), "Invalid step_sizes values: 1.0, 0.1"),
    (Adadelta, dict(rho=1.5), "Invalid rho value: 1.5"),
    (Adadelta, dict(eps=-1e-6), "Invalid epsilon value: -1e-06"),
    (Adadelta, dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (Adamax, dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (Adamax, dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    (NAdam, dict(momentum_decay=-1.0), "Invalid momentum_decay value: -1.0"),
    (NAdam, dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    (NAdam, dict(decoupled_weight_decay="yes"), "Invalid decoupled_weight_decay value"),
    (RAdam, dict(lr=float("nan")), "Invalid learning rate: nan"),
    (RAdam, dict(weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    (RMSprop, dict(lr_in_momentum=1), "Invalid lr_in_momentum value: 1"),
])
def test_invalid_hyperparameters_get_pytorchs_message(cls, options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        cls([Tensor(np.ones(2), requires_grad=True)], device="cpu", **options)


# -- hyperparameters that overflow the params' dtype ---------------------------------

@pytest.mark.parametrize("cls,options,message", [
    (SGD, dict(lr=1e39), "Invalid learning rate: 1e+39"),
    (SGD, dict(lr=0.1, momentum=1e39), "Invalid momentum value: 1e+39"),
    (SGD, dict(lr=0.1, weight_decay=1e39), "Invalid weight_decay value: 1e+39"),
    (RMSprop, dict(weight_decay=1e39), "Invalid weight_decay value: 1e+39"),
    (Adagrad, dict(lr_decay=1e39), "Invalid lr_decay value: 1e+39"),
    (Adam, dict(eps=1e39), "Invalid eps value: 1e+39"),
    (AdamW, dict(weight_decay=1e39), "Invalid weight_decay value: 1e+39"),
    (Rprop, dict(step_sizes=(1e-6, 1e39)), "Invalid step_sizes value: 1e+39"),
    (Adadelta, dict(lr=1e39), "Invalid learning rate: 1e+39"),
    (Adamax, dict(lr=1e39), "Invalid learning rate: 1e+39"),
    (NAdam, dict(momentum_decay=1e39), "Invalid momentum_decay value: 1e+39"),
    (RAdam, dict(eps=1e39), "Invalid eps value: 1e+39"),
])
def test_hyperparameters_overflowing_float32_are_rejected(cls, options, message):
    float32 = [Tensor(np.ones(2, np.float32), requires_grad=True)]
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        cls(float32, device="cpu", **options)
    assert "float32" in str(error.value)
    cls([Tensor(np.ones(2), requires_grad=True, dtype=np.float64)], device="cpu", **options)


def test_an_overflowing_lr_set_later_is_rejected_at_the_next_step():
    param = Tensor(np.ones(2, np.float32), requires_grad=True)
    opt = SGD([param], lr=0.1, device="cpu")
    opt.param_groups[0]["lr"] = 1e39
    param.grad = np.ones(2, np.float32)
    with pytest.raises(ValueError, match="Invalid learning rate: 1e\\+39"):
        opt.step()
    np.testing.assert_array_equal(param.numpy(), np.ones(2, np.float32))


# -- bad params and bad state dicts ------------------------------------------------------

@pytest.mark.parametrize("params,shown", [(None, "NoneType: None"), (5, "int: 5")])
def test_params_that_are_no_collection_get_a_clear_error(params, shown):
    with pytest.raises(TypeError, match=f"iterable of Tensors or dicts, but got {shown}"):
        SGD(params, lr=0.1)


def test_a_state_array_of_strings_is_refused_before_anything_changes():
    params = [Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(2), requires_grad=True)]
    opt = Adam(params, lr=0.01, device="cpu")
    for param in params:
        param.grad = np.ones(param.shape)
    opt.step()
    saved = opt.state_dict()
    bad = opt.state_dict()
    bad["param_groups"][0]["lr"] = 0.5
    bad["state"][1]["exp_avg_sq"] = np.array(["a", "b"])
    with pytest.raises(TypeError, match="state 'exp_avg_sq' of parameter 1 .* dtype <U1"):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert after["param_groups"][0]["lr"] == 0.01
    for index, entry in saved["state"].items():
        for name, value in entry.items():
            np.testing.assert_array_equal(after["state"][index][name], value)


# -- centered RMSprop on a constant gradient: what the clamp does, and what it does not -----

def test_centered_rmsprop_on_a_constant_gradient_steps_lr_g_over_eps():
    """On a constant gradient v - m^2 rounds to 0, which the clamp keeps at 0 (no NaN),
    and the step becomes lr * g / eps: huge. eps_in_sqrt with a larger eps bounds it."""
    lr, eps, g = 0.01, 1e-8, 0.5
    steps = {}
    for eps_in_sqrt, eps_value in ((False, eps), (True, 1e-4)):
        param = Tensor(np.zeros(4), requires_grad=True)
        opt = RMSprop([param], lr=lr, alpha=0.5, eps=eps_value, centered=True,
                      eps_in_sqrt=eps_in_sqrt, device="cpu")
        for _ in range(80):            # 0.5^80 < 1e-16: v and m^2 round to the same number
            before = param.numpy().copy()
            param.grad = np.full(4, g)
            opt.step()
        steps[eps_in_sqrt] = before - param.numpy()
        state = opt.state[param]
        assert (state["square_avg"] - state["grad_avg"] ** 2 <= 0).all()
        assert np.isfinite(param.numpy()).all()
    np.testing.assert_allclose(steps[False], lr * g / eps)          # 5e5 per step
    np.testing.assert_allclose(steps[True], lr * g / np.sqrt(1e-4))  # 0.5 per step


def test_rmsprop_lr_in_momentum_is_keras_form_through_the_optimizer():
    """b = momentum * b + lr * g / denom; p -= b: a halved lr halves only the new steps."""
    grads = DATA["grads"][:20, :4]
    results = {}
    for lr_in_momentum in (False, True):
        param = Tensor(np.zeros(4), requires_grad=True, dtype=np.float64)
        opt = RMSprop([param], lr=0.01, alpha=0.9, momentum=0.9, lr_in_momentum=lr_in_momentum,
                      device="cpu")
        for step, grad in enumerate(grads):
            if step == 10:
                opt.param_groups[0]["lr"] = 0.005
            param.grad = grad
            opt.step()
        results[lr_in_momentum] = param.numpy().copy()
        assert opt.state_dict()["param_groups"][0]["lr_in_momentum"] is lr_in_momentum
    v, b, p = np.zeros(4), np.zeros(4), np.zeros(4)
    for step, g in enumerate(grads):
        lr = 0.01 if step < 10 else 0.005
        v = 0.9 * v + 0.1 * g * g
        b = 0.9 * b + lr * g / (np.sqrt(v) + 1e-8)
        p = p - b
    np.testing.assert_allclose(results[True], p, rtol=1e-12)
    assert not np.allclose(results[False], p, rtol=1e-3)


def test_nadam_mu_products_stay_bounded_when_beta1_moves_every_step():
    from minidl.kernels import rules

    for step in range(1, 200):   # as OneCycleLR's cycle_momentum moves beta1
        rules.nadam_mu_product(0.9 - step * 1e-4, 4e-3, step)
    assert len(rules._MU_PRODUCTS) <= rules._MU_PRODUCT_KEYS
    expected = np.prod([rules.nadam_mu(0.9, 4e-3, t) for t in range(1, 51)])
    assert rules.nadam_mu_product(0.9, 4e-3, 50) == pytest.approx(expected, rel=1e-12)
