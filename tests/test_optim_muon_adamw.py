"""MuonWithAuxAdamW: Muon on the 2-D params and AdamW on the rest, as one optimizer.

Its steps are checked bit for bit against minidl.optim.Muon and minidl.optim.AdamW
run by hand on the same split (both are checked against torch.optim in
test_optim_shaped.py and test_optim_torch.py); then the Optimizer interface the rest
of minidl uses: state_dict round trips, copies, schedulers, fit, the CLI with
--save/--resume, the estimators, OptimizerStats and refused arguments."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.checkpoint import load
from minidl.cli import main
from minidl.optim import SGD, AdamW, Muon, MuonWithAuxAdamW
from minidl.optim.lr_scheduler import CyclicLR, OneCycleLR, StepLR
from minidl.tensor import Tensor
from minidl.train import OptimizerStats, fit

SHAPES = [(5, 3), (5,), (2, 5), (2,), (2, 2, 3)]     # matrices, biases, one 3-D param


def make_params(dtype, seed: int = 0) -> list[Tensor]:
    rng = np.random.default_rng(seed)
    return [Tensor(rng.normal(size=shape), requires_grad=True, dtype=dtype) for shape in SHAPES]


def set_grads(params: list[Tensor], rng: np.random.Generator, step: int) -> None:
    """Random grads; params 1 and 2 get none on step 2 (they must not move)."""
    for i, param in enumerate(params):
        param.grad = None if step == 2 and i in (1, 2) else rng.normal(size=param.shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_steps_are_muon_on_the_matrices_and_adamw_on_the_rest(dtype):
    pair_params, hand_params = make_params(dtype), make_params(dtype)
    pair = MuonWithAuxAdamW(pair_params, lr=0.03, weight_decay=0.1, adamw_lr=2e-3,
                            device="cpu")
    muon = Muon([p for p in hand_params if p.ndim == 2], lr=0.03, momentum=0.95,
                weight_decay=0.1, device="cpu")
    adamw = AdamW([p for p in hand_params if p.ndim != 2], lr=2e-3, betas=(0.9, 0.95),
                  eps=1e-10, weight_decay=0.1, device="cpu")
    rngs = np.random.default_rng(1), np.random.default_rng(1)
    for step in range(6):
        if step == 3:   # an lr changed mid-run, as a scheduler does: each group its own
            for group in pair.param_groups:
                group["lr"] *= 0.5
            for opt in (muon, adamw):
                opt.param_groups[0]["lr"] *= 0.5
        set_grads(pair_params, rngs[0], step)
        set_grads(hand_params, rngs[1], step)
        pair.step()
        muon.step()
        adamw.step()
    for ours, theirs in zip(pair_params, hand_params):
        assert ours.dtype == dtype
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    assert [g["use_muon"] for g in pair.param_groups] == [True, False]
    assert [len(g["params"]) for g in pair.param_groups] == [2, 3]


def test_dict_groups_keep_their_order_and_override_a_sides_defaults():
    w1, b1, w2, b2 = (Tensor(np.ones(shape), requires_grad=True) for shape in SHAPES[:4])
    pair = MuonWithAuxAdamW([{"params": [w2, b2], "use_muon": False, "lr": 1e-2},
                             {"params": [w1], "use_muon": True, "momentum": 0.9},
                             {"params": [b1], "use_muon": False}])
    groups = pair.param_groups
    assert [g["use_muon"] for g in groups] == [False, True, False]
    assert (groups[0]["lr"], groups[1]["lr"], groups[2]["lr"]) == (1e-2, 0.02, 3e-4)
    assert groups[1]["momentum"] == 0.9 and groups[2]["betas"] == (0.9, 0.95)
    assert [g["params"] for g in pair.state_dict()["param_groups"]] == [[0, 1], [2], [3]]
    extra = Tensor(np.ones((3, 3)), requires_grad=True)
    pair.add_param_group({"params": [extra], "use_muon": True})
    assert pair.param_groups[3]["params"][0] is extra and pair.param_groups[3]["lr"] == 0.02


def trained(dtype=np.float64, steps: int = 3) -> tuple[MuonWithAuxAdamW, list[Tensor]]:
    params = make_params(dtype)
    pair = MuonWithAuxAdamW(params, device="cpu")
    rng = np.random.default_rng(2)
    for step in range(steps):
        set_grads(params, rng, step)
        pair.step()
    return pair, params


def steps_on(pair: MuonWithAuxAdamW, params: list[Tensor], seed: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    for step in range(3):
        set_grads(params, rng, step)
        pair.step()
    return [np.asarray(p).copy() for p in params]


def test_state_dict_round_trip_continues_the_same_trajectory(tmp_path):
    pair, params = trained()
    minidl.save(pair.state_dict(), tmp_path / "opt.pt")   # as the CLI's checkpoints do
    copies = [Tensor(np.asarray(p).copy(), requires_grad=True, dtype=np.float64) for p in params]
    twin = MuonWithAuxAdamW(copies, device="cpu")
    twin.load_state_dict(minidl.load(tmp_path / "opt.pt"))
    state = pair.state_dict()
    assert sorted(state["state"]) == [0, 1, 2, 3, 4]
    assert set(state["state"][0]) == {"momentum_buffer"}
    assert set(state["state"][2]) == {"step", "exp_avg", "exp_avg_sq"}
    for ours, theirs in zip(steps_on(pair, params), steps_on(twin, copies)):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copy_steps_on_as_the_original(how):
    pair, params = trained()
    twin = copy.deepcopy(pair) if how == "deepcopy" else pickle.loads(pickle.dumps(pair))
    twin_params = [p for group in twin.param_groups for p in group["params"]]
    original = [p for group in pair.param_groups for p in group["params"]]
    assert all(a is not b for a, b in zip(twin_params, original))
    for ours, theirs in zip(steps_on(pair, original), steps_on(twin, twin_params)):
        np.testing.assert_array_equal(ours, theirs)


def test_a_refused_load_changes_nothing():
    pair, params = trained()
    before = pair.state_dict()
    bad = pair.state_dict()
    bad["param_groups"][0]["lr"] = 0.5                # the Muon side would take this ...
    bad["state"][4]["exp_avg"] = np.zeros((9, 9))     # ... the AdamW side refuses this
    with pytest.raises(ValueError, match="shape"):
        pair.load_state_dict(bad)
    flipped = pair.state_dict()
    flipped["param_groups"][1]["use_muon"] = True
    with pytest.raises(ValueError, match="use_muon"):
        pair.load_state_dict(flipped)
    after = pair.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for index, entry in before["state"].items():
        for key, value in entry.items():
            np.testing.assert_array_equal(after["state"][index][key], value)


def test_zero_grad_and_a_scheduler_reach_both_sides():
    pair, params = trained(steps=1)
    pair.zero_grad(set_to_none=False)
    assert all(np.all(np.asarray(p.grad) == 0) for p in params)
    pair.zero_grad()
    assert all(p.grad is None for p in params)
    scheduler = StepLR(pair, step_size=1, gamma=0.5)
    scheduler.step()
    assert [g["lr"] for g in pair.param_groups] == [0.01, 1.5e-4]   # the ratio stays


@pytest.mark.parametrize("build", [
    lambda pair: OneCycleLR(pair, max_lr=0.1, total_steps=6),
    lambda pair: CyclicLR(pair, 0.01, 0.1, step_size_up=2)], ids=["OneCycleLR", "CyclicLR"])
def test_a_momentum_schedule_moves_muons_momentum_and_adamws_beta1(build):
    """Each group's own kind: Muon's groups have a momentum, AdamW's betas (the pair's
    defaults hold a momentum only), so a scheduler that cycles the momentum moves each."""
    pair = MuonWithAuxAdamW(make_params(np.float32))
    scheduler = build(pair)
    for _ in range(2):
        scheduler.step()
    muon, adamw = pair.param_groups
    assert 0.8 <= muon["momentum"] < 0.95 and adamw["betas"][1] == 0.95
    assert adamw["betas"][0] == pytest.approx(muon["momentum"]) and "momentum" not in adamw


@pytest.mark.parametrize("kwargs, match", [
    ({"lr": -1.0}, r"^Muon \(the use_muon=True groups; lr,.*Learning rate"),
    ({"momentum": float("nan")}, "momentum"),
    ({"ns_steps": 1.5}, "ns_steps"),
    ({"adamw_lr": -1.0}, r"^AdamW \(the use_muon=False groups; adamw_lr.*learning rate"),
    ({"adamw_betas": (0.9, 1.0)}, r"adamw_betas.*beta parameter at index 1"),
    ({"adamw_eps": -1e-8}, "adamw_eps.*eps"),
    ({"weight_decay": -0.1}, "weight"),
])
def test_bad_arguments_are_refused_naming_them_and_leave_the_params_alone(kwargs, match):
    params = make_params(np.float32)
    holder = SGD(params, lr=1.0)
    with pytest.raises(ValueError, match=match):
        MuonWithAuxAdamW(params, **kwargs)
    for p in params:           # still bound to the optimizer that held them
        p.grad = np.ones(p.shape, np.float32)
    old = [np.asarray(p).copy() for p in params]
    holder.step()
    for p, o in zip(params, old):
        np.testing.assert_allclose(np.asarray(p), o - 1)


def test_bad_groups_are_refused():
    w, b = Tensor(np.ones((2, 2)), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="needs 'use_muon'"):
        MuonWithAuxAdamW([{"params": [w]}])
    with pytest.raises(ValueError, match="use_muon"):
        MuonWithAuxAdamW([{"params": [w], "use_muon": "yes"}])
    with pytest.raises(ValueError, match="only supports 2D"):
        MuonWithAuxAdamW([{"params": [w, b], "use_muon": True}])
    with pytest.raises(ValueError, match="more than once"):
        MuonWithAuxAdamW([{"params": [w], "use_muon": True}, {"params": [w], "use_muon": False}])
    with pytest.raises(ValueError, match="empty parameter list"):
        MuonWithAuxAdamW([])
    with pytest.raises(TypeError, match="iterable of Tensors"):
        MuonWithAuxAdamW(w)
    pair = MuonWithAuxAdamW([w])
    with pytest.raises(ValueError, match="use_muon"):
        pair.add_param_group({"params": [b]})
    assert len(pair.param_groups) == 1


def moons(n: int = 200):
    split = minidl.datasets.load("moons", n_samples=n, seed=0)
    return (split.X_train, split.y_train), (split.X_test, split.y_test)


def test_fit_trains_with_it_and_optimizer_stats_says_it_has_no_effective_lr():
    train, test = moons(400)
    minidl.manual_seed(0)
    model = nn.mlp([2, 16, 2])
    stats = OptimizerStats(MuonWithAuxAdamW(model.parameters(), adamw_lr=1e-3))
    history = fit(model, nn.CrossEntropyLoss(), stats.optimizer, train, val_data=test,
                  epochs=20, batch_size=32, progress=False, callbacks=[stats])
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert history.val_accuracy[-1] > 0.88
    assert any(key.endswith(".grad_norm") for key in stats.history.keys())
    assert not any(key.endswith(".lr_q50") for key in stats.history.keys())


def test_cli_trains_with_muon_and_resumes_bit_identically(capsys, tmp_path):
    straight, half = tmp_path / "straight.npz", tmp_path / "half.npz"
    argv = ["train", "--dataset", "moons", "--hidden", "16", "--no-progress",
            "--optimizer", "muon", "--weight-decay", "0.01"]
    assert main([*argv, "--epochs", "3", "--save", str(straight)]) == 0
    assert main([*argv, "--epochs", "1", "--save", str(half)]) == 0
    assert main(["train", "--resume", str(half), "--epochs", "3", "--save", str(half),
                 "--no-progress"]) == 0
    assert "muon lr=0.02 " in capsys.readouterr().out
    a, b = load(straight), load(half)
    assert a["args"]["lr"] == 0.02 and a["args"]["momentum"] == 0.95
    assert [g["use_muon"] for g in a["optimizer"]["param_groups"]] == [True, False]
    assert a["history"] == b["history"]
    assert all(np.array_equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert a["history"]["loss"][-1] < a["history"]["loss"][0]


def test_cli_refuses_a_bad_option_naming_its_flag(capsys):
    argv = ["train", "--dataset", "moons", "--optimizer", "muon", "--no-progress"]
    assert main([*argv, "--momentum", "-0.5"]) == 2
    assert "--momentum -0.5: Muon" in capsys.readouterr().err
    assert main([*argv, "--eps", "1e-3"]) == 2
    assert "--eps does not apply to --optimizer muon" in capsys.readouterr().err


def test_estimator_fits_digits_with_muon_and_pickles():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from minidl.sklearn import MLPClassifier

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    model = MLPClassifier(hidden_layer_sizes=(64,), optimizer="muon", learning_rate=0.02,
                          epochs=10, random_state=0).fit(X_train, y_train)
    assert type(model.optimizer_).__name__ == "MuonWithAuxAdamW"
    assert [g["lr"] for g in model.optimizer_.param_groups] == [0.02, 0.02]
    assert model.score(X_test, y_test) > 0.95
    twin = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(twin.predict_proba(X_test), model.predict_proba(X_test))
    model.partial_fit(X_train, y_train)
    twin.partial_fit(X_train, y_train)
    np.testing.assert_array_equal(twin.predict_proba(X_test), model.predict_proba(X_test))


def test_a_compiled_fit_follows_the_eager_one_and_optimizer_stats_sees_every_step():
    train, _ = moons()
    runs = []
    for compile in (False, True):
        minidl.manual_seed(0)
        model = nn.mlp([2, 16, 2])
        stats = OptimizerStats(MuonWithAuxAdamW(model.parameters()))
        fit(model, nn.CrossEntropyLoss(), stats.optimizer, train, epochs=2, batch_size=32,
            progress=False, seed=0, compile=compile, callbacks=[stats])
        runs.append((stats.history, [np.asarray(p).copy() for p in model.parameters()]))
    assert runs[0][0].history == runs[1][0].history
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))
    assert min(runs[1][0]["0.update_ratio"]) > 0


def test_matches_torch_muon_beside_torch_adamw_on_the_same_split(monkeypatch):
    """Where torch is installed: torch.optim.Muon on the matrices and torch.optim.AdamW
    on the rest, with the reference's settings, in float64 (torch's Newton-Schulz
    iteration run in the params' dtype, as minidl's, instead of in bfloat16)."""
    torch = pytest.importorskip("torch")
    import importlib.util
    from pathlib import Path

    import torch.optim._muon as torch_muon

    path = Path(__file__).parent / "data" / "make_shape_optim_vectors.py"
    spec = importlib.util.spec_from_file_location("make_shape_optim_vectors", path)
    vectors = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vectors)
    monkeypatch.setattr(torch_muon, "_zeropower_via_newtonschulz",
                        vectors.newton_schulz_in_dtype)
    params = make_params(np.float64)
    tensors = [torch.nn.Parameter(torch.tensor(np.array(p))) for p in params]
    pair = MuonWithAuxAdamW(params, weight_decay=0.01, device="cpu")
    theirs = [torch.optim.Muon([t for t in tensors if t.ndim == 2], lr=0.02, momentum=0.95,
                               weight_decay=0.01),
              torch.optim.AdamW([t for t in tensors if t.ndim != 2], lr=3e-4,
                                betas=(0.9, 0.95), eps=1e-10, weight_decay=0.01)]
    rng = np.random.default_rng(4)
    for step in range(5):
        set_grads(params, rng, step)
        for param, tensor in zip(params, tensors):
            tensor.grad = None if param.grad is None else torch.tensor(np.asarray(param.grad))
        pair.step()
        for opt in theirs:
            opt.step()
    for param, tensor in zip(params, tensors):
        np.testing.assert_allclose(np.asarray(param), tensor.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
