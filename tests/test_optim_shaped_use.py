"""Adafactor, Muon and LBFGS in use: fit (LBFGS through a closure per batch), the
CLI, the estimators, OptimizerStats' effective learning rates, copies."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import minidl
from minidl import nn
from minidl.checkpoint import load
from minidl.cli import main
from minidl.monitor import effective_lr
from minidl.optim import LBFGS, Adafactor, Muon
from minidl.tensor import Tensor
from minidl.train import OptimizerStats, fit

SMALL = ["train", "--dataset", "moons", "--hidden", "16", "--no-progress"]


def moons(n: int = 200):
    split = minidl.datasets.load("moons", n_samples=n, seed=0)
    return (split.X_train, split.y_train), (split.X_test, split.y_test)


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4), (6,)])
def test_adafactor_update_is_minus_effective_lr_times_g(shape):
    """Unclipped (d large), one step: p_new - p_old = -effective_lr(p_old) * g."""
    rng = np.random.default_rng(0)
    param = Tensor(rng.normal(size=shape), requires_grad=True, dtype=np.float64)
    opt = Adafactor([param], lr=0.05, d=1e6, device="reference")
    for _ in range(3):
        old = np.array(param)
        param.grad = rng.normal(size=shape) * np.logspace(-3, 1, shape[-1])
        opt.step()
    rate = opt.effective_lr(opt.param_groups[0], opt.state[param], Tensor(old, dtype=np.float64))
    np.testing.assert_allclose(np.asarray(param) - old, -rate * np.asarray(param.grad),
                               rtol=1e-9, atol=1e-15)
    assert effective_lr(opt, param).shape == shape


def test_optimizer_stats_knows_adafactors_rates_and_that_muon_and_lbfgs_have_none():
    train, _ = moons()
    for make, rates in ((lambda ps: Adafactor(ps), True),
                        (lambda ps: Muon([p for p in ps if p.ndim == 2]), False),
                        (lambda ps: LBFGS(ps, max_iter=2), False)):
        minidl.manual_seed(0)
        model = nn.mlp([2, 8, 2])
        stats = OptimizerStats(make(list(model.parameters())))
        fit(model, nn.CrossEntropyLoss(), stats.optimizer, train, epochs=1, batch_size=50,
            progress=False, callbacks=[stats])
        assert any(key.endswith(".lr_q50") for key in stats.history.keys()) is rates
        assert any(key.endswith(".grad_norm") for key in stats.history.keys())


def test_fit_runs_lbfgs_full_batch_through_a_closure():
    train, test = moons()
    minidl.manual_seed(0)
    model = nn.mlp([2, 16, 2])
    opt = LBFGS(model.parameters(), line_search_fn="strong_wolfe")
    history = fit(model, nn.CrossEntropyLoss(), opt, train, val_data=test, epochs=5,
                  batch_size=1000, progress=False)
    assert history.loss[-1] < 0.1 < history.loss[0]
    assert history.val_accuracy[-1] > 0.9
    assert opt.state_dict()["state"][0]["func_evals"] > 5 * 10   # many evaluations per step


@pytest.mark.parametrize("name", ["adafactor", "lbfgs"])
def test_cli_trains_and_resumes_bit_identically(name, capsys, tmp_path):
    straight, half = tmp_path / "straight.npz", tmp_path / "half.npz"
    argv = [*SMALL, "--optimizer", name, "--batch-size", "1000"]
    assert main([*argv, "--epochs", "3", "--save", str(straight)]) == 0
    assert main([*argv, "--epochs", "1", "--save", str(half)]) == 0
    assert main(["train", "--resume", str(half), "--epochs", "3", "--save", str(half),
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"{name} lr=" in out
    a, b = load(straight), load(half)
    assert a["history"] == b["history"]
    assert all(np.array_equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert a["history"]["loss"][-1] < a["history"]["loss"][0]


def test_a_deep_copy_of_lbfgs_steps_on_as_the_original():
    rng = np.random.default_rng(2)
    target = rng.normal(size=(3, 4))
    runs = []
    param = Tensor(rng.normal(size=(3, 4)), requires_grad=True, dtype=np.float64)
    opt = LBFGS([param], max_iter=3, history_size=2, line_search_fn="strong_wolfe")

    def closure_for(o):
        def closure():
            o.zero_grad()
            p = o.param_groups[0]["params"][0]
            loss = (((p - target) ** 2) * (1 + p ** 2)).sum()
            loss.backward()
            return loss
        return closure

    opt.step(closure_for(opt))
    twin = copy.deepcopy(opt)
    for o in (opt, twin):
        o.step(closure_for(o))
        runs.append(np.asarray(o.param_groups[0]["params"][0]).copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert twin.state_dict()["state"][0]["n_iter"] == opt.state_dict()["state"][0]["n_iter"]


def test_estimator_trains_with_adafactor():
    from minidl.sklearn import MLPClassifier

    (X, y), (X_test, y_test) = moons(400)
    model = MLPClassifier(hidden_layer_sizes=(16,), optimizer="adafactor", learning_rate=1e-2,
                          epochs=30, random_state=0).fit(X, y)
    assert type(model.optimizer_).__name__ == "Adafactor"
    assert model.score(X_test, y_test) > 0.85


def test_estimator_trains_full_batch_lbfgs_and_refuses_a_weight_decay():
    from minidl.sklearn import MLPClassifier

    (X, y), (X_test, y_test) = moons(400)
    model = MLPClassifier(hidden_layer_sizes=(16,), optimizer="lbfgs", learning_rate=1.0,
                          batch_size=1000, epochs=10, random_state=0).fit(X, y)
    assert type(model.optimizer_).__name__ == "LBFGS"
    assert model.loss_curve_[-1] < 0.1
    assert model.score(X_test, y_test) > 0.9
    with pytest.raises(ValueError, match="weight_decay=0.1 does not apply to optimizer='lbfgs'"):
        MLPClassifier(optimizer="lbfgs", weight_decay=0.1).fit(X, y)


@pytest.mark.parametrize("cls", [Adafactor, Muon])
def test_a_deep_copy_steps_on_as_the_original(cls):
    rng = np.random.default_rng(1)
    params = [Tensor(rng.normal(size=(3, 4)), requires_grad=True, dtype=np.float64)]
    opt = cls(params, device="cpu")
    params[0].grad = rng.normal(size=(3, 4))
    opt.step()
    twin = copy.deepcopy(opt)
    grad = rng.normal(size=(3, 4))
    for o in (opt, twin):
        o.param_groups[0]["params"][0].grad = grad
        o.step()
    np.testing.assert_array_equal(np.asarray(twin.param_groups[0]["params"][0]),
                                  np.asarray(params[0]))
