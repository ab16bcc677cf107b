"""RMSprop's descendants against their reference implementations' trajectories.

``tests/data/descendant_vectors.npz`` (written by
``tests/data/make_descendant_vectors.py``) holds trajectories made by
torch.optim.ASGD and the authors' packages of Lion (lion-pytorch), AdaBelief
(adabelief-pytorch) and schedule-free AdamW and SGD (schedulefree): a grid of
options in float64, and "events" cases in float32 and float64 where some params
have no grad on some steps, the lr is halved mid-run and the state dict is
saved. No torch and no package needed (one round trip through torch runs where
it is installed).
"""
from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from minidl import Tensor
from minidl.optim import ASGD, AdaBelief, AdamWScheduleFree, Lion, SGDScheduleFree

CLASSES = {"ASGD": ASGD, "Lion": Lion, "AdaBelief": AdaBelief,
           "AdamWScheduleFree": AdamWScheduleFree, "SGDScheduleFree": SGDScheduleFree}
SCHEDULE_FREE = ("AdamWScheduleFree", "SGDScheduleFree")

with np.load(Path(__file__).parent / "data" / "descendant_vectors.npz",
             allow_pickle=False) as stored:
    DATA = {key: stored[key] for key in stored.files}
ALL = json.loads(str(DATA["cases"]))
GRID = [case for case in ALL if not case["events"]]
EVENTS = [case for case in ALL if case["events"]]
SPLIT = [tuple(shape) for shape in json.loads(str(DATA["split"]))]
LR_CHANGE_STEP, STATE_STEP = int(DATA["lr_change_step"]), int(DATA["state_step"])
EVAL_STEP = int(DATA["eval_step"])
STEPS = len(DATA["grads"])
# float32: ~6e-8 relative rounding per operation, carried through 50 steps
TOLERANCE = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=2e-5, atol=2e-5)}


def skipped(step: int, index: int) -> bool:
    """make_descendant_vectors.skipped: param 1 misses steps 1, 2 and every 7th, param 0 step 10."""
    return (index == 1 and (step <= 2 or step % 7 == 3)) or (index == 0 and step == 10)


def split(flat: np.ndarray, events: bool) -> list[np.ndarray]:
    if not events:
        return [flat]
    bounds = np.cumsum([0] + [int(np.prod(shape)) for shape in SPLIT])
    return [flat[lo:hi].reshape(shape) for lo, hi, shape in zip(bounds[:-1], bounds[1:], SPLIT)]


def options_of(case: dict) -> dict:
    return {key: tuple(value) if isinstance(value, list) else value
            for key, value in case["options"].items()}


def make(case: dict, backend: str, flat_params: np.ndarray):
    params = [Tensor(piece, requires_grad=True, dtype=case["dtype"])
              for piece in split(flat_params, case["events"])]
    opt = CLASSES[case["optimizer"]](params, device=backend, **options_of(case))
    if case["optimizer"] in SCHEDULE_FREE:
        opt.train()
    return params, opt


def flat(params) -> np.ndarray:
    return np.concatenate([np.asarray(param).reshape(-1) for param in params])


def run(opt, params, case: dict, first: int, last: int, seen: dict | None = None) -> np.ndarray:
    """Steps first..last (1-based) with the vectors' grads and events; the flat params
    after each. A schedule-free optimizer goes to eval() and back after EVAL_STEP, its
    params then go to ``seen["x"]``."""
    out = []
    for step in range(first, last + 1):
        if case["events"] and step == LR_CHANGE_STEP:
            opt.param_groups[0]["lr"] *= 0.5
        pieces = split(DATA["grads"][step - 1].astype(case["dtype"]), case["events"])
        for index, (param, piece) in enumerate(zip(params, pieces)):
            param.grad = None if case["events"] and skipped(step, index) else piece
        opt.step()
        out.append(flat(params))
        if case["optimizer"] in SCHEDULE_FREE and step == EVAL_STEP:
            opt.eval()
            if seen is not None:
                seen["x"] = flat(params)
            opt.train()
    return np.stack(out)


def package_state_dict(case: dict) -> dict:
    """The reference's state dict after STATE_STEP steps, its tensors as numpy arrays."""
    key = case["key"]
    state: dict[int, dict] = {}
    prefix = f"{key}__"
    for name, value in DATA.items():
        if name.startswith(prefix) and name.count("__") == 2:
            index, entry = name[len(prefix):].split("__")
            state.setdefault(int(index), {})[entry] = value
    groups = json.loads(str(DATA[f"{key}__groups"]))
    for group in groups:
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
    return {"state": state, "param_groups": groups}


def test_cases_cover_every_optimizer_in_both_dtypes():
    assert {c["optimizer"] for c in GRID} == set(CLASSES)
    assert {(c["optimizer"], c["dtype"]) for c in EVENTS} == {
        (name, dtype) for name in CLASSES for dtype in ("float32", "float64")}


@pytest.mark.parametrize("backend", ["reference", "cpu"])
@pytest.mark.parametrize("case", GRID, ids=[case["key"] for case in GRID])
def test_trajectory_matches_the_reference_implementation(case, backend):
    expected = DATA[case["key"]]
    params, opt = make(case, backend, DATA["param0"])
    seen: dict = {}
    got = run(opt, params, case, 1, STEPS, seen)
    np.testing.assert_allclose(got, expected[1:], **TOLERANCE["float64"])
    if case["optimizer"] in SCHEDULE_FREE:
        np.testing.assert_allclose(seen["x"], DATA[f"{case['key']}__x"], **TOLERANCE["float64"])


@pytest.mark.parametrize("backend", ["reference", "cpu"])
@pytest.mark.parametrize("case", EVENTS, ids=[case["key"] for case in EVENTS])
def test_trajectory_with_skipped_grads_and_an_lr_change(case, backend):
    expected = DATA[case["key"]]
    params, opt = make(case, backend, DATA["param0"])
    seen: dict = {}
    got = run(opt, params, case, 1, STEPS, seen)
    assert got.dtype == np.dtype(case["dtype"])
    np.testing.assert_allclose(got, expected[1:], **TOLERANCE[case["dtype"]])
    if case["optimizer"] in SCHEDULE_FREE:
        np.testing.assert_allclose(seen["x"], DATA[f"{case['key']}__x"],
                                   **TOLERANCE[case["dtype"]])


@pytest.mark.parametrize("case", EVENTS, ids=[case["key"] for case in EVENTS])
def test_a_reference_state_dict_loads_and_continues_the_trajectory(case):
    expected = DATA[case["key"]]
    params, opt = make(case, "cpu", expected[STATE_STEP])
    opt.load_state_dict(package_state_dict(case))
    assert opt.param_groups[0]["lr"] == pytest.approx(case["options"]["lr"] * 0.5)
    assert "foreach" not in opt.param_groups[0]
    got = run(opt, params, case, STATE_STEP + 1, STEPS)
    np.testing.assert_allclose(got, expected[STATE_STEP + 1:], **TOLERANCE[case["dtype"]])


@pytest.mark.parametrize("case", EVENTS, ids=[case["key"] for case in EVENTS])
def test_state_dict_is_the_reference_implementations(case):
    """After the same steps minidl's state dict holds the reference's entries and values."""
    params, opt = make(case, "cpu", DATA["param0"])
    run(opt, params, case, 1, STATE_STEP)
    ours, theirs = opt.state_dict(), package_state_dict(case)
    assert set(ours["state"]) == set(theirs["state"])
    for index, entry in theirs["state"].items():
        assert set(ours["state"][index]) == set(entry), index
        for name, value in entry.items():
            np.testing.assert_allclose(np.asarray(ours["state"][index][name], np.float64),
                                       np.asarray(value, np.float64),
                                       **TOLERANCE[case["dtype"]], err_msg=f"{index} {name}")
    group, their_group = ours["param_groups"][0], theirs["param_groups"][0]
    assert set(their_group) - set(group) <= {"foreach", "differentiable", "capturable", "buffer"}
    for key, value in group.items():
        if key in their_group:
            assert value == pytest.approx(their_group[key]), key


def test_asgd_state_dict_round_trip_through_torch():
    """Where torch is installed: minidl -> torch -> minidl continues one trajectory."""
    torch = pytest.importorskip("torch")
    case = next(c for c in EVENTS if c["optimizer"] == "ASGD" and c["dtype"] == "float64")
    expected = DATA[case["key"]]
    params, opt = make(case, "cpu", DATA["param0"])
    run(opt, params, case, 1, STATE_STEP)
    state_dict = opt.state_dict()
    tensors = [torch.nn.Parameter(torch.tensor(np.array(p))) for p in params]
    theirs = torch.optim.ASGD(tensors, foreach=False, **options_of(case))
    theirs.load_state_dict({
        "state": {i: {k: torch.tensor(v) for k, v in entry.items()}
                  for i, entry in state_dict["state"].items()},
        "param_groups": state_dict["param_groups"]})
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)   # torch rounds a new eta to its default dtype
    try:
        for step in range(STATE_STEP + 1, STATE_STEP + 6):
            for index, (tensor, piece) in enumerate(zip(tensors, split(DATA["grads"][step - 1],
                                                                       True))):
                tensor.grad = None if skipped(step, index) else torch.tensor(piece)
            theirs.step()
    finally:
        torch.set_default_dtype(default_dtype)
    back = {"state": {i: {k: v.numpy() for k, v in entry.items()}
                      for i, entry in theirs.state_dict()["state"].items()},
            "param_groups": theirs.state_dict()["param_groups"]}
    params2, opt2 = make(case, "cpu", np.concatenate([t.detach().numpy().reshape(-1)
                                                       for t in tensors]))
    opt2.load_state_dict(back)
    got = run(opt2, params2, case, STATE_STEP + 6, STEPS)
    np.testing.assert_allclose(got, expected[STATE_STEP + 6:], **TOLERANCE["float64"])


@pytest.mark.parametrize("name", CLASSES)
def test_a_pickled_optimizer_steps_on_as_the_original(name):
    case = next(c for c in EVENTS if c["optimizer"] == name and c["dtype"] == "float64")
    params, opt = make(case, "cpu", DATA["param0"])
    run(opt, params, case, 1, 12)
    copied, (params2, opt2) = copy.deepcopy((params, opt)), pickle.loads(pickle.dumps(
        (params, opt)))
    expected = run(opt, params, case, 13, 20)
    np.testing.assert_array_equal(run(opt2, params2, case, 13, 20), expected)
    np.testing.assert_array_equal(run(copied[1], copied[0], case, 13, 20), expected)


# -- defaults and messages ---------------------------------------------------------

DEFAULTS = {
    ASGD: dict(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, maximize=False),
    Lion: dict(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, decoupled_weight_decay=False),
    AdaBelief: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-16, weight_decay=0, amsgrad=False,
                    weight_decouple=True, fixed_decay=False, rectify=True,
                    degenerated_to_sgd=True),
    AdamWScheduleFree: dict(lr=0.0025, betas=(0.9, 0.999), eps=1e-8, r=0.0, warmup_steps=0,
                            weight_lr_power=2.0, weight_decay=0, k=0, train_mode=False,
                            weight_sum=0.0, lr_max=-1.0, scheduled_lr=0.0),
    SGDScheduleFree: dict(lr=1.0, momentum=0.9, r=0.0, warmup_steps=0, weight_lr_power=2.0,
                          weight_decay=0, k=0, train_mode=False, weight_sum=0.0, lr_max=-1.0,
                          scheduled_lr=0.0),
}


@pytest.mark.parametrize("cls", DEFAULTS, ids=lambda c: c.__name__)
def test_defaults_are_the_reference_implementations(cls):
    assert cls([Tensor(np.ones(2), requires_grad=True)], device="cpu").defaults == DEFAULTS[cls]


@pytest.mark.parametrize("cls,options,message", [
    (ASGD, dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (ASGD, dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (ASGD, dict(t0=float("nan")), "Invalid t0 value: nan"),
    (Lion, dict(lr=0.0), "Invalid learning rate: 0"),
    (Lion, dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    (AdaBelief, dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    (AdaBelief, dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (AdaBelief, dict(rectify="yes"), "Invalid rectify value: 'yes'"),
    (SGDScheduleFree, dict(momentum=1.0), "Momentum must be between 0 and 1 exclusive: 1.0"),
    (SGDScheduleFree, dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (AdamWScheduleFree, dict(warmup_steps=2.5), "Invalid warmup_steps value: 2.5"),
    (AdamWScheduleFree, dict(betas=(0.0, 0.999)), "Invalid beta parameter at index 0: 0"),
])
def test_bad_hyperparameters_name_the_value(cls, options, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        cls([Tensor(np.ones(2), requires_grad=True)], device="cpu", **options)


@pytest.mark.parametrize("cls", [AdamWScheduleFree, SGDScheduleFree])
def test_schedule_free_steps_only_in_train_mode(cls):
    param = Tensor(np.ones(3), requires_grad=True)
    opt = cls([param], device="cpu")
    param.grad = np.ones(3)
    with pytest.raises(RuntimeError, match="not in train mode"):
        opt.step()
    assert opt.param_groups[0]["k"] == 0 and opt.state == {}
    opt.train()
    for _ in range(3):     # after one step x = y = z: the average of one point
        param.grad = np.ones(3)
        opt.step()
    y = np.asarray(param).copy()
    opt.eval()
    x = np.asarray(param).copy()
    opt.eval()                                    # a second eval() changes nothing
    np.testing.assert_array_equal(np.asarray(param), x)
    opt.train()
    np.testing.assert_allclose(np.asarray(param), y, rtol=1e-6)
    assert not np.allclose(x, y)


@pytest.mark.parametrize("cls", [AdamWScheduleFree, SGDScheduleFree])
def test_a_refused_step_moves_neither_the_schedule_nor_the_params(cls):
    param = Tensor(np.ones(3), requires_grad=True)
    opt = cls([param], device="cpu")
    opt.train()
    param.grad = np.ones(3)
    opt.step()
    group = dict(opt.param_groups[0])
    opt.param_groups[0]["lr"] = -1.0
    with pytest.raises(ValueError, match="Invalid learning rate: -1.0"):
        opt.step()
    assert {key: opt.param_groups[0][key] for key in ("k", "weight_sum", "lr_max")} == {
        key: group[key] for key in ("k", "weight_sum", "lr_max")}


def test_lion_moves_every_coordinate_by_lr():
    param = Tensor(np.zeros(5), requires_grad=True, dtype=np.float64)
    opt = Lion([param], lr=0.01, device="cpu")
    param.grad = np.array([1e-6, -3.0, 100.0, -1e-9, 0.0])
    opt.step()
    np.testing.assert_array_equal(np.asarray(param), [-0.01, 0.01, -0.01, 0.01, 0.0])


# -- where minidl uses optimizers: fit, the monitor, the CLI, the estimators ---------

def stepped(cls, steps: int = 8, **options):
    """A float64 parameter after ``steps`` steps on fixed gradients; the last update."""
    rng = np.random.default_rng(0)
    param = Tensor(rng.normal(size=(4, 5)), requires_grad=True, dtype=np.float64)
    optimizer = cls([param], device="reference", **options)
    if cls in (AdamWScheduleFree, SGDScheduleFree):
        optimizer.train()
    for _ in range(steps):
        param.grad = rng.normal(size=param.shape) * np.logspace(-3, 1, 5)
        before = np.asarray(param).copy()
        optimizer.step()
    return optimizer, param, np.asarray(param) - before


@pytest.mark.parametrize("options", [dict(rectify=False), dict(rectify=False, amsgrad=True),
                                     dict(rectify=True), dict(rectify=True, betas=(0.9, 0.9))])
def test_adabelief_update_is_minus_effective_lr_times_m(options):
    from minidl.monitor import effective_lr

    optimizer, param, update = stepped(AdaBelief, lr=0.01, weight_decay=0, **options)
    m = optimizer.state[param]["exp_avg"]
    np.testing.assert_allclose(update, -effective_lr(optimizer, param) * m, rtol=1e-9)


def test_asgd_effective_lr_is_eta_and_schedule_free_the_z_step():
    from minidl.monitor import effective_lr

    optimizer, param, update = stepped(ASGD, lr=0.05, lambd=0.5)
    eta = 0.05 / (1 + 0.5 * 0.05 * 8) ** 0.75        # set after the 8th step, for the 9th
    np.testing.assert_allclose(effective_lr(optimizer, param), eta)
    for cls in (AdamWScheduleFree, SGDScheduleFree):
        optimizer, param, _ = stepped(cls, lr=0.05)
        z_before = optimizer.state[param]["z"].copy()
        lr = effective_lr(optimizer, param)
        grad = np.asarray(param.grad)
        optimizer.step()
        np.testing.assert_allclose(optimizer.state[param]["z"] - z_before,
                                   -effective_lr(optimizer, param) * grad, rtol=1e-6)
        assert lr.shape == param.shape


@pytest.mark.parametrize("name", ["asgd", "lion", "adabelief", "adamw_schedulefree",
                                  "sgd_schedulefree"])
def test_fit_cli_and_estimator_train_with_each(name, tmp_path, capsys):
    import minidl
    from minidl import nn
    from minidl.cli import OPTIMIZERS, main
    from minidl.sklearn import MLPClassifier
    from minidl.train import OptimizerStats

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    lr = {"lion": 1e-3, "sgd_schedulefree": 0.5}.get(name, 0.02)
    minidl.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    optimizer = OPTIMIZERS[name][0](model.parameters(), lr=lr, device="cpu")
    stats = OptimizerStats(optimizer)
    history = minidl.fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), epochs=5,
                         progress=False, callbacks=[stats])
    assert history.loss[-1] < history.loss[0]
    assert np.isfinite(stats.history["0.lr_q50"]).all()
    assert optimizer.param_groups[0].get("train_mode", False) is False   # eval: x in params

    path = tmp_path / "run.npz"
    code = main(["train", "--dataset", "moons", "--hidden", "8", "--epochs", "2",
                 "--no-progress", "--optimizer", name, "--lr", str(lr), "--save", str(path)])
    assert code == 0, capsys.readouterr().err
    assert f"{name} lr={lr}" in capsys.readouterr().out
    assert main(["train", "--resume", str(path), "--epochs", "3", "--no-progress"]) == 0

    estimator = MLPClassifier(hidden_layer_sizes=(8,), optimizer=name, learning_rate=lr,
                              epochs=3, random_state=0).fit(X, y)
    copied = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(copied.predict_proba(X), estimator.predict_proba(X))
    assert type(copied.optimizer_) is OPTIMIZERS[name][0]
