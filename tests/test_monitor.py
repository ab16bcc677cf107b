"""OptimizerStats and effective_lr: the numbers are the optimizers' own arithmetic."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import minidl
from minidl import nn, optim
from minidl.monitor import EFFECTIVE_LR, effective_lr
from minidl.tensor import Tensor
from minidl.train import OptimizerStats, fit


def stepped(optimizer_cls, steps=3, **options):
    """A float64 parameter after ``steps`` steps on fixed gradients; the last update."""
    rng = np.random.default_rng(0)
    param = Tensor(rng.normal(size=(4, 5)), requires_grad=True, dtype=np.float64)
    optimizer = optimizer_cls([param], device="reference", **options)
    for _ in range(steps):
        param.grad = rng.normal(size=param.shape) * np.logspace(-3, 1, 5)
        before = param.numpy().copy()
        optimizer.step()
    return optimizer, param, param.numpy() - before


@pytest.mark.parametrize("options", [{}, {"centered": True}, {"eps_in_sqrt": True},
                                     {"alpha": 0.9, "eps": 1e-3}])
def test_rmsprop_update_is_minus_effective_lr_times_g(options):
    optimizer, param, update = stepped(optim.RMSprop, lr=0.01, **options)
    np.testing.assert_allclose(update, -effective_lr(optimizer, param) * param.grad,
                               rtol=1e-9, atol=1e-15)


def test_adagrad_with_lr_decay():
    optimizer, param, update = stepped(optim.Adagrad, lr=0.1, lr_decay=0.5)
    lr = effective_lr(optimizer, param)
    np.testing.assert_allclose(update, -lr * param.grad, rtol=1e-9, atol=1e-15)
    s = optimizer.state[param]["sum"]
    np.testing.assert_allclose(lr, 0.1 / (1 + 2 * 0.5) / (np.sqrt(s) + 1e-10))


@pytest.mark.parametrize("cls, options", [(optim.Adam, {}), (optim.Adam, {"amsgrad": True}),
                                          (optim.AdamW, {"weight_decay": 0})])
def test_adam_update_is_minus_effective_lr_times_m(cls, options):
    optimizer, param, update = stepped(cls, lr=0.01, **options)
    m = optimizer.state[param]["exp_avg"]
    np.testing.assert_allclose(update, -effective_lr(optimizer, param) * m, rtol=1e-10)


def test_sgd_has_one_learning_rate():
    optimizer, param, update = stepped(optim.SGD, lr=0.05)
    assert np.all(effective_lr(optimizer, param) == 0.05)
    np.testing.assert_allclose(update, -0.05 * param.grad, rtol=1e-9, atol=1e-15)


def test_no_effective_lr_before_the_first_step_or_without_a_rule():
    param = Tensor(np.ones(3), requires_grad=True)
    assert effective_lr(optim.RMSprop([param]), param) is None

    class Subclass(optim.RMSprop):    # found through the class's bases
        pass
    optimizer, stepped_param, update = stepped(Subclass, lr=0.01)
    np.testing.assert_allclose(update, -effective_lr(optimizer, stepped_param)
                               * stepped_param.grad, rtol=1e-9)

    class Custom:
        param_groups = [{"params": [param], "lr": 2.0}]
        state = {param: {"step": 1}}

        def step(self):
            pass
    assert effective_lr(Custom(), param) is None
    Custom.effective_lr = lambda self, group, state: np.asarray(group["lr"] * 3)
    np.testing.assert_array_equal(effective_lr(Custom(), param), [6.0, 6.0, 6.0])


def data(n=64):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int64)


def model_and(optimizer_cls, **options):
    minidl.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 2))
    return model, optimizer_cls(model.parameters(), **options)


def test_stats_of_one_full_batch_epoch_are_that_steps_numbers():
    model, optimizer = model_and(optim.RMSprop, lr=0.01)
    X, y = data()
    first = model[0]
    before = first.weight.numpy().copy(), first.bias.numpy().copy()
    stats = OptimizerStats(optimizer, quantiles=(0, 0.5, 1))
    fit(model, nn.CrossEntropyLoss(), optimizer, (X, y), epochs=1, batch_size=len(X),
        progress=False, callbacks=[stats])
    history = stats.history
    assert history.keys() == ["loss", "0.grad_norm", "0.update_ratio", "2.grad_norm",
                              "2.update_ratio", "0.lr_q0", "0.lr_q50", "0.lr_q100",
                              "2.lr_q0", "2.lr_q50", "2.lr_q100"]
    grad = np.sqrt(np.sum(np.asarray(first.weight.grad, np.float64) ** 2)
                   + np.sum(np.asarray(first.bias.grad, np.float64) ** 2))
    moved = np.sqrt(np.sum((first.weight.numpy() - before[0]) ** 2.0)
                    + np.sum((first.bias.numpy() - before[1]) ** 2.0))
    size = np.sqrt(np.sum(before[0] ** 2.0) + np.sum(before[1] ** 2.0))
    assert history["0.grad_norm"] == [pytest.approx(grad, rel=1e-5)]
    assert history["0.update_ratio"] == [pytest.approx(moved / size, rel=1e-4)]
    rates = np.concatenate([effective_lr(optimizer, p).ravel() for p in first.parameters()])
    assert history["0.lr_q0"] == [pytest.approx(rates.min())]
    assert history["0.lr_q100"] == [pytest.approx(rates.max())]
    assert "step" not in optimizer.__dict__        # unwrapped after training


def test_adagrads_effective_learning_rates_only_fall():
    """Adagrad's sum of squares only grows, so every quantile falls epoch after epoch."""
    model, optimizer = model_and(optim.Adagrad, lr=0.01)
    stats = OptimizerStats(optimizer)
    fit(model, nn.CrossEntropyLoss(), optimizer, data(256), epochs=4, batch_size=32,
        progress=False, callbacks=[stats])
    for key in ("0.lr_q10", "0.lr_q50", "2.lr_q90"):
        assert np.all(np.diff(stats.history[key]) < 0), key
    assert len(stats.history["loss"]) == 4


def test_unknown_optimizer_is_recorded_without_learning_rates(monkeypatch):
    monkeypatch.delitem(EFFECTIVE_LR, "RMSprop")
    model, optimizer = model_and(optim.RMSprop)
    stats = OptimizerStats(optimizer)
    fit(model, nn.CrossEntropyLoss(), optimizer, data(), epochs=2, progress=False,
        callbacks=[stats])
    assert not any(".lr_q" in key for key in stats.history.keys())
    assert len(stats.history["2.grad_norm"]) == 2


@pytest.mark.parametrize("quantiles", [(), (1.5,), ("a",), (True,)])
def test_bad_quantiles_are_refused(quantiles):
    with pytest.raises(ValueError, match="Invalid quantiles"):
        OptimizerStats(model_and(optim.SGD)[1], quantiles=quantiles)


def test_a_non_optimizer_is_refused():
    with pytest.raises(TypeError, match="needs an optimizer"):
        OptimizerStats(object())


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                    reason="the --plot panels need matplotlib")
def test_cli_plot_draws_the_optimizer_panels(tmp_path, capsys):
    from minidl.cli import main
    path = tmp_path / "curves.png"
    assert main(["train", "--dataset", "moons", "--epochs", "2", "--hidden", "8",
                 "--no-progress", "--plot", str(path)]) == 0
    assert path.read_bytes()[:4] == b"\x89PNG"
    from matplotlib.image import imread
    assert imread(path).shape[1] >= 1400       # the wide layout with the per-layer panels


def fake_optimizer(class_name, group, state):
    """An object that looks like an optimizer of ``class_name`` after some steps."""
    param = Tensor(np.ones((2, 2)), requires_grad=True)
    cls = type(class_name, (), {"step": lambda self: None})
    optimizer = cls()
    optimizer.param_groups = [{"params": [param], **group}]
    optimizer.state = {param: state}
    return optimizer, param


def test_rules_for_the_rest_of_the_family_follow_their_update_equations():
    """Adamax, RAdam, Adadelta and Rprop, whose classes live in minidl.optim's own files:
    each rule is the factor in that optimizer's documented update."""
    u, v, m = np.full((2, 2), 0.5), np.full((2, 2), 0.04), np.full((2, 2), 0.1)
    optimizer, param = fake_optimizer("Adamax", {"lr": 0.002, "betas": (0.9, 0.999)},
                                      {"step": 3, "exp_avg": m, "exp_inf": u})
    np.testing.assert_allclose(effective_lr(optimizer, param), 0.002 / (1 - 0.9**3) / 0.5)

    group = {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8}
    optimizer, param = fake_optimizer("RAdam", group, {"step": 5, "exp_avg_sq": v})
    np.testing.assert_allclose(effective_lr(optimizer, param), 0.001 / (1 - 0.9**5))  # rho_5 < 5
    optimizer, param = fake_optimizer("RAdam", group, {"step": 100, "exp_avg_sq": v})
    rho_inf = 2 / 0.001 - 1
    rho = rho_inf - 2 * 100 * 0.999**100 / (1 - 0.999**100)
    r = np.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    expected = 0.001 / (1 - 0.9**100) * np.sqrt(1 - 0.999**100) / (0.2 + 1e-8) * r
    np.testing.assert_allclose(effective_lr(optimizer, param), expected)

    optimizer, param = fake_optimizer("Adadelta", {"lr": 1.0, "eps": 1e-6},
                                      {"step": 2, "square_avg": v, "acc_delta": u})
    np.testing.assert_allclose(effective_lr(optimizer, param),
                               np.sqrt(0.5 + 1e-6) / np.sqrt(0.04 + 1e-6))
    sizes = np.array([[0.1, 0.2], [0.3, 0.4]])
    optimizer, param = fake_optimizer("Rprop", {"lr": 0.01},
                                      {"step": 2, "prev": m, "step_size": sizes})
    np.testing.assert_array_equal(effective_lr(optimizer, param), sizes)
    optimizer, param = fake_optimizer("NAdam", {"lr": 0.01}, {"step": 2})
    assert effective_lr(optimizer, param) is None


def test_a_watched_optimizer_still_pickles_and_steps():
    import pickle

    model, optimizer = model_and(optim.RMSprop, lr=0.01)
    try:
        pickle.dumps(optimizer)
    except TypeError as error:
        pytest.skip(f"optimizers do not pickle here at all: {error}")
    stats = OptimizerStats(optimizer)
    stats.on_train_begin(model)
    copy = pickle.loads(pickle.dumps(optimizer))
    for param in copy.param_groups[0]["params"]:
        param.grad = np.ones_like(param.numpy())
    before = copy.param_groups[0]["params"][0].numpy().copy()
    copy.step()
    assert not np.array_equal(before, copy.param_groups[0]["params"][0].numpy())
    stats.on_train_end(model)
    assert "step" not in optimizer.__dict__
